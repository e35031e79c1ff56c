//! Helpers shared by the library's (`cognito-passwordless`, in `shared/`) integration tests and benchmarks.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic
)]

use cognito_passwordless::config::Config;

#[path = "../../../tests/support/events.rs"]
mod events;
pub use events::{events_dir, fixture};

/// The default configuration with the console SMS sender.
pub fn console_config() -> Config {
    Config::from_pairs(&[("SMS_PROVIDER", "console")]).unwrap()
}
