//! Phone numbers: parsed once at the edge into [`PhoneNumber`], shown masked everywhere.
//!
//! A `PhoneNumber` is always valid E.164 (`+`, then 8 to 15 digits, no leading zero). Its
//! `Display` and `Debug` are masked, so a number cannot reach a log by accident; only
//! [`PhoneNumber::e164`] gives the whole number, for the SMS provider.

use std::fmt;

use crate::Error;
use crate::env::Environment;
use crate::secret::SecretSource;

/// How many `*` stand for the hidden digits. Fixed, so the mask does not reveal the number's length.
const MASK: &str = "+*******";

/// A valid E.164 phone number.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

/// Why a phone number was refused (never repeats the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidPhoneNumber {
    /// It does not start with `+`.
    MissingPlus,
    /// Something other than a digit after the `+`.
    NotDigits,
    /// Fewer than 8 or more than 15 digits.
    BadLength,
    /// The country code starts with 0.
    LeadingZero,
}

impl fmt::Display for InvalidPhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingPlus => "not in E.164 form (no leading +)",
            Self::NotDigits => "not in E.164 form (non-digits)",
            Self::BadLength => "not in E.164 form (length)",
            Self::LeadingZero => "not in E.164 form (leading zero)",
        })
    }
}

impl PhoneNumber {
    /// Parses an E.164 number as Cognito stores `phone_number`.
    pub fn parse(value: &str) -> Result<Self, InvalidPhoneNumber> {
        let digits = value
            .strip_prefix('+')
            .ok_or(InvalidPhoneNumber::MissingPlus)?;
        if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(InvalidPhoneNumber::NotDigits);
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(InvalidPhoneNumber::BadLength);
        }
        if digits.starts_with('0') {
            return Err(InvalidPhoneNumber::LeadingZero);
        }
        Ok(Self(value.to_owned()))
    }

    /// The whole number, for the SMS provider only. Never log it.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The last four digits.
    pub fn last_four(&self) -> &str {
        self.0.get(self.0.len().saturating_sub(4)..).unwrap_or("")
    }

    /// `+*******0100`: a fixed-width mask and the last four digits.
    pub fn masked(&self) -> String {
        format!("{MASK}{}", self.last_four())
    }
}

/// A mask for four given digits, shaped like [`PhoneNumber::masked`].
pub fn mask_with_digits(last_four: &str) -> String {
    format!("{MASK}{last_four}")
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// Whether and how the challenge shows which phone the code went to (`PHONE_HINT`).
#[derive(Clone, PartialEq, Eq)]
pub enum PhoneHint {
    /// No `maskedPhone` parameter (the default): nothing to tell known and unknown users apart.
    None,
    /// `maskedPhone` = `+*******` and the last four digits of the user's `phone_number` (verified
    /// or not). For unknown users and users without any phone number, the digits come from a
    /// keyed hash of the user name with this secret (`PHONE_HINT_SECRET` or
    /// `PHONE_HINT_SECRET_ARN`), stable across attempts and unguessable without the secret.
    LastFour {
        /// The key for the stand-in digits.
        secret: SecretSource,
    },
}

impl std::fmt::Debug for PhoneHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::LastFour { .. } => f.write_str("LastFour { secret: <redacted> }"),
        }
    }
}

impl PhoneHint {
    /// `PHONE_HINT` (`none`, the default, or `last4`) with `PHONE_HINT_SECRET` or
    /// `PHONE_HINT_SECRET_ARN` (a plain secret of at least 32 characters).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        match env.get("PHONE_HINT").as_deref() {
            None | Some("none") => Ok(Self::None),
            Some("last4") => match env.secret("PHONE_HINT_SECRET", "PHONE_HINT_SECRET_ARN")? {
                Some(SecretSource::Value(secret)) if secret.expose().len() < 32 => Err(
                    Error::config("PHONE_HINT_SECRET", "must be at least 32 characters"),
                ),
                Some(secret) => Ok(Self::LastFour { secret }),
                None => Err(Error::config(
                    "PHONE_HINT_SECRET",
                    "is required when PHONE_HINT=last4 (or PHONE_HINT_SECRET_ARN; without it, unknown users could be told apart)",
                )),
            },
            Some(_) => Err(Error::config("PHONE_HINT", "must be none or last4")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164() {
        let phone = PhoneNumber::parse("+12065550100").unwrap();
        assert_eq!(phone.e164(), "+12065550100");
        assert_eq!(phone.masked(), "+*******0100");
        assert_eq!(
            PhoneNumber::parse("+447700900123").unwrap().masked(),
            "+*******0123"
        );
    }

    #[test]
    fn refuses_what_is_not_e164() {
        for (input, why) in [
            ("12065550100", InvalidPhoneNumber::MissingPlus),
            ("+1 206 555 0100", InvalidPhoneNumber::NotDigits),
            ("+1206555010a", InvalidPhoneNumber::NotDigits),
            ("+", InvalidPhoneNumber::BadLength),
            ("+1234567", InvalidPhoneNumber::BadLength),
            ("+1234567890123456", InvalidPhoneNumber::BadLength),
            ("+01234567890", InvalidPhoneNumber::LeadingZero),
            ("+١٢٠٦٥٥٥٠١٠٠", InvalidPhoneNumber::NotDigits),
        ] {
            assert_eq!(PhoneNumber::parse(input), Err(why), "{input}");
        }
    }

    #[test]
    fn display_and_debug_never_show_the_whole_number() {
        let phone = PhoneNumber::parse("+12065550100").unwrap();
        assert!(!format!("{phone}").contains("206555"));
        assert!(!format!("{phone:?}").contains("206555"));
    }
}
