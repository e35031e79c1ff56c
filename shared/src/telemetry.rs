//! Logging: `tracing` events as JSON lines on standard error, one object per event, for CloudWatch.
//!
//! `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`) sets the level (default `info`); `AWS_LAMBDA_LOG_FORMAT=Text`
//! switches to plain text. Whatever the level, the AWS SDK, HTTP and runtime crates are capped at
//! `warn`: at trace level they could print request bodies, and a request body holds the code.

use tracing_subscriber::EnvFilter;

/// Targets that never log below `warn` (a target directive matches every target it prefixes:
/// `aws` covers `aws_config`, `aws_sigv4`, `aws_smithy_*`, `aws_sdk_*`, …).
const CAPPED_TARGETS: &[&str] = &[
    "aws",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "lambda_runtime",
    "lambda_runtime_api_client",
];

/// The filter the functions log with, from a level directive such as `info` or `debug`.
pub fn filter(level: &str) -> EnvFilter {
    let mut directives = if level.trim().is_empty() {
        "info".to_owned()
    } else {
        level.to_owned()
    };
    for target in CAPPED_TARGETS {
        directives.push_str(&format!(",{target}=warn"));
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default()
        .to_lowercase();
    let text = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&level))
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // `try_init` fails only if a subscriber is already installed, which is fine.
    let _ = if text {
        builder.with_target(false).try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_targets_stay_capped_at_any_level() {
        let filter = filter("trace").to_string();
        assert!(filter.contains("aws=warn"), "{filter}");
        assert!(filter.contains("lambda_runtime=warn"), "{filter}");
    }
}
