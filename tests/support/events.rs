//! The sample events of `events/`, read by every test crate: the integration tests (through this
//! crate) and the library's (`shared/`) own tests and benchmarks (which include this file by path, as
//! they cannot depend on this crate). One copy, so a sample is read the same way everywhere.

use std::path::PathBuf;

use serde_json::Value;

/// The `events/` directory.
pub fn events_dir() -> PathBuf {
    // Both crates that read this file sit one level below the workspace root.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// A sample event, e.g. `define-auth-challenge/first-call.json`.
pub fn fixture(path: &str) -> Value {
    let file = events_dir().join(path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", file.display()))
}
