//! Helpers shared by the `shared` crate's integration tests and benchmarks.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::Value;
use shared::config::Config;

/// The `events/` directory.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// A sample event, e.g. `define-auth-challenge/first-call.json`.
pub fn fixture(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(events_dir().join(path)).unwrap()).unwrap()
}

/// The default configuration with the console SMS sender.
pub fn console_config() -> Config {
    Config::from_lookup(|name| (name == "SMS_PROVIDER").then(|| "console".to_owned())).unwrap()
}
