//! The crate's one error type.
//!
//! Cognito shows a trigger's error message to the end user (`<Trigger> failed with error
//! <message>.`), so [`Error::user_message`] is what leaves the function; the `Display` text, which
//! may carry details for operators, only goes to the logs. No variant ever carries a code, an answer,
//! a digest, a secret or a whole phone number.

use lambda_runtime::Diagnostic;

/// Why an SMS could not be sent, as far as the caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsFailure {
    /// The provider throttled the request (rate or spend limits).
    Throttled,
    /// The provider did not answer within the configured time.
    Timeout,
    /// The provider refused this message for good (bad number, blocked, policy, bad request).
    Rejected,
    /// The recipient opted out of messages from this sender.
    OptedOut,
    /// The provider failed or could not be reached; trying again later may work.
    Unavailable,
}

impl std::fmt::Display for SmsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Throttled => "throttled",
            Self::Timeout => "timed out",
            Self::Rejected => "rejected",
            Self::OptedOut => "recipient opted out",
            Self::Unavailable => "unavailable",
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An environment variable is missing or has a bad value. Raised at cold start only.
    #[error("invalid configuration: {variable}: {reason}")]
    Config {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with it (never the value of a secret).
        reason: String,
    },
    /// The event is not a well-formed event of the trigger this function serves.
    #[error("malformed {trigger} event: {detail}")]
    MalformedEvent {
        /// The trigger this function serves.
        trigger: &'static str,
        /// What is wrong, without any of the event's values.
        detail: String,
    },
    /// The event belongs to another trigger: the function is wired to the wrong slot of the pool.
    #[error("{trigger} function received a {trigger_source} event: check the pool's LambdaConfig")]
    WrongTrigger {
        /// The trigger this function serves.
        trigger: &'static str,
        /// The `triggerSource` it received.
        trigger_source: String,
    },
    /// Cognito asked CreateAuthChallenge for something the configured flow cannot create.
    #[error("cannot create a challenge: {0}")]
    UnexpectedChallenge(String),
    /// The SMS provider did not take the message.
    #[error("SMS via {provider} failed ({failure}): {detail}")]
    Sms {
        /// Which provider was used.
        provider: &'static str,
        /// The kind of failure.
        failure: SmsFailure,
        /// The provider's words (error code and message), never the message body.
        detail: String,
    },
    /// The e-mail provider did not take the message.
    #[error("e-mail via {provider} failed ({failure}): {detail}")]
    Email {
        /// Which provider was used.
        provider: &'static str,
        /// The kind of failure.
        failure: SmsFailure,
        /// The provider's words (address masked), never the message.
        detail: String,
    },
    /// An HTTP client could not be set up.
    #[error("HTTP client: {0}")]
    Http(String),
    /// A CAPTCHA could not be made.
    #[error("cannot create a CAPTCHA: {0}")]
    Captcha(String),
    /// A pre-authentication policy denied the sign-in.
    #[error("sign-in denied: {reason}")]
    Denied {
        /// What the user sees (`PREAUTH_DENY_MESSAGE`).
        message: String,
        /// Why, for the logs.
        reason: String,
    },
    /// The legacy user store does not vouch for this user: unknown, wrong password, or a stored
    /// hash that cannot be checked. One kind, one message: the caller cannot tell them apart.
    #[error("legacy user not migrated: {0}")]
    NotMigrated(String),
    /// The legacy user store could not be asked (down, slow, a bad answer).
    #[error("legacy user store failed: {0}")]
    LegacySource(String),
    /// A send limit (`SMS_MIN_INTERVAL_SECONDS`, `SMS_MAX_PER_HOUR`, `SMS_MAX_PER_DAY`) was reached.
    #[error("send limit reached: {0}")]
    TooManyCodes(SendLimit),
    /// The client asked for the code again more often than `OTP_MAX_RESENDS` allows.
    #[error("no more codes may be sent again in this sign-in (OTP_MAX_RESENDS={limit})")]
    TooManyResends {
        /// `OTP_MAX_RESENDS`.
        limit: u8,
    },
    /// The account is locked after too many failed sign-ins.
    #[error("locked out until {until}")]
    LockedOut {
        /// Unix seconds.
        until: u64,
    },
    /// The abuse-protection state could not be read or written, and `STATE_FAILURE_MODE=closed`.
    #[error("state unavailable: {0}")]
    StateUnavailable(String),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Randomness(String),
}

impl Error {
    /// The text end users may see. Deliberately vague: details are in the logs.
    pub fn user_message(&self) -> &str {
        match self {
            Self::Denied { message, .. } => message,
            Self::NotMigrated(_) => "Incorrect username or password",
            Self::Sms {
                failure: SmsFailure::Throttled,
                ..
            }
            | Self::Email {
                failure: SmsFailure::Throttled,
                ..
            }
            | Self::TooManyCodes(_) => "Too many codes requested. Try again later",
            Self::LockedOut { .. } => "Too many failed sign-ins. Try again later",
            Self::TooManyResends { .. } => "No more codes can be sent for this sign-in",
            Self::Sms { .. } | Self::Email { .. } => {
                "We could not send a sign-in code. Try again later"
            }
            Self::MalformedEvent { .. } | Self::UnexpectedChallenge(_) => {
                "The sign-in request was not valid"
            }
            Self::Config { .. }
            | Self::WrongTrigger { .. }
            | Self::Randomness(_)
            | Self::Captcha(_)
            | Self::Http(_)
            | Self::LegacySource(_)
            | Self::StateUnavailable(_) => "Sign-in is temporarily unavailable",
        }
    }

    /// A stable name for the kind of error, used as the Lambda `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Config { .. } => "ConfigurationError",
            Self::MalformedEvent { .. } => "MalformedEvent",
            Self::WrongTrigger { .. } => "WrongTrigger",
            Self::UnexpectedChallenge(_) => "UnexpectedChallenge",
            Self::Sms { .. } => "SmsDeliveryError",
            Self::Email { .. } => "EmailDeliveryError",
            Self::Randomness(_) => "RandomnessError",
            Self::Captcha(_) => "CaptchaError",
            Self::Http(_) => "HttpClientError",
            Self::Denied { .. } => "SignInDenied",
            Self::NotMigrated(_) => "NotMigrated",
            Self::LegacySource(_) => "LegacySourceError",
            Self::StateUnavailable(_) => "StateUnavailable",
            Self::TooManyCodes(_) => "TooManyCodes",
            Self::LockedOut { .. } => "LockedOut",
            Self::TooManyResends { .. } => "TooManyResends",
        }
    }

    pub(crate) fn config(variable: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            variable,
            reason: reason.into(),
        }
    }
}

/// An error and its sources in one line, at most 300 characters (top-level texts of hyper,
/// rustls or tokio-postgres say little; their sources say what happened). For logs only.
pub fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(300).collect()
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.user_message().to_owned(),
        }
    }
}

/// Which send limit (`SMS_MIN_INTERVAL_SECONDS`, `SMS_MAX_PER_HOUR`, `SMS_MAX_PER_DAY`) a send would
/// break: decided in [`crate::abuse`], carried by [`Error::TooManyCodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendLimit {
    /// Too soon after the last code.
    MinInterval,
    /// The hourly allowance is used up.
    PerHour,
    /// The daily allowance is used up.
    PerDay,
}

impl SendLimit {
    /// A short stable name for logs.
    pub fn kind(self) -> &'static str {
        match self {
            Self::MinInterval => "min_interval",
            Self::PerHour => "per_hour",
            Self::PerDay => "per_day",
        }
    }
}

impl std::fmt::Display for SendLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_only_the_user_message() {
        let error = Error::Sms {
            provider: "end-user-messaging",
            failure: SmsFailure::Rejected,
            detail: "ValidationException: destination +12065550100 is invalid".into(),
        };
        let diagnostic = Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "SmsDeliveryError");
        assert!(!diagnostic.error_message.contains("+1206"));
        assert_eq!(
            diagnostic.error_message,
            "We could not send a sign-in code. Try again later"
        );
    }

    #[test]
    fn no_user_message_ends_with_a_full_stop() {
        // Cognito shows `<Trigger> failed with error <message>.`: its own full stop ends it.
        let sms = |failure| Error::Sms {
            provider: "pinpoint",
            failure,
            detail: "x.".into(),
        };
        let every_kind = [
            Error::config("X", "bad."),
            Error::MalformedEvent {
                trigger: "T",
                detail: "x.".into(),
            },
            Error::WrongTrigger {
                trigger: "T",
                trigger_source: "x.".into(),
            },
            Error::UnexpectedChallenge("x.".into()),
            sms(SmsFailure::Throttled),
            sms(SmsFailure::Timeout),
            sms(SmsFailure::Rejected),
            sms(SmsFailure::OptedOut),
            sms(SmsFailure::Unavailable),
            Error::Email {
                provider: "ses",
                failure: SmsFailure::Rejected,
                detail: "x.".into(),
            },
            Error::Http("x.".into()),
            Error::Captcha("x.".into()),
            Error::Denied {
                message: crate::preauth::DEFAULT_DENY_MESSAGE.into(),
                reason: "x.".into(),
            },
            Error::NotMigrated("x.".into()),
            Error::LegacySource("x.".into()),
            Error::TooManyCodes(SendLimit::MinInterval),
            Error::LockedOut { until: 1 },
            Error::TooManyResends { limit: 2 },
            Error::StateUnavailable("x.".into()),
            Error::Randomness("x.".into()),
        ];
        for error in every_kind {
            let message = error.user_message();
            assert!(
                !message.is_empty() && !message.ends_with('.'),
                "{error:?}: {message}"
            );
        }
        assert!(!crate::triggers::MIGRATION_CLIENT_REFUSAL.ends_with('.'));
    }

    #[test]
    fn throttling_tells_the_user_to_wait() {
        let error = Error::Sms {
            provider: "pinpoint",
            failure: SmsFailure::Throttled,
            detail: String::new(),
        };
        assert_eq!(
            error.user_message(),
            "Too many codes requested. Try again later"
        );
    }
}
