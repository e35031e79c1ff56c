//! Secret values and where they come from. A [`Secret`] never shows in `Debug` output and has no
//! `Display`; a [`SecretSource`] is either the value itself (a variable, for local runs) or a
//! Secrets Manager secret read once at cold start (the `…_ARN` variable: what deployments use).

use std::fmt;

/// A secret value (`CAPTCHA_SECRET`, `SEAL_KEY`, a database URL, …): `Debug` never shows it, and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a secret comes from: the variable itself, or an AWS Secrets Manager secret read once at
/// cold start (the `…_ARN` variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Given directly in the environment.
    Value(Secret),
    /// The ARN (or name) of a Secrets Manager secret, with the variable that named it.
    SecretsManager {
        /// The variable holding the ARN, for error messages.
        variable: &'static str,
        /// The secret's ARN or name.
        arn: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let source = SecretSource::Value(Secret::new("0x4AAAA-very-secret"));
        assert!(!format!("{source:?}").contains("very-secret"));
        assert_eq!(format!("{source:?}"), "Value(Secret(<redacted>))");
    }
}
