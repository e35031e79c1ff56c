//! Phone numbers: parsed once at the edge into [`PhoneNumber`], shown masked everywhere.
//!
//! A `PhoneNumber` is always valid E.164 (`+`, then 8 to 15 digits, no leading zero). Its
//! `Display` and `Debug` are masked, so a number cannot reach a log by accident; only
//! [`PhoneNumber::e164`] gives the whole number, for the SMS provider.

use std::fmt;

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
