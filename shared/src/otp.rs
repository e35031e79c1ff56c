//! One-time codes.
//!
//! - [`OtpCode::generate`] draws every digit uniformly from the operating system's CSPRNG
//!   (rejection sampling, no modulo bias).
//! - The plain code goes into the SMS body and nowhere else. What Cognito carries between rounds
//!   (`challengeMetadata`, `privateChallengeParameters`) is an [`OtpSeal`]: the issue time, a random
//!   salt and a SHA-256 digest over both, the pool id and the code.
//! - [`OtpSeal::check`] parses the untrusted answer strictly, compares digests in constant time and
//!   refuses expired seals.
//!
//! A 6-digit code has 20 bits: whoever can read a seal could search all codes offline. Seals
//! therefore live only where Cognito keeps them (server side, passed to this project's functions
//! only) and are never logged; the digest keeps the plain code out of those places.

use std::fmt;

use crate::Error;
use crate::seal::Seal;

/// Answers longer than this are refused before any work is done on them.
pub const MAX_ANSWER_BYTES: usize = 64;

/// Shortest and longest code length `OTP_LENGTH` allows.
pub const LENGTH_RANGE: std::ops::RangeInclusive<u8> = 6..=10;

/// Fills `buffer` from the operating system's CSPRNG.
pub fn random_bytes(buffer: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buffer).map_err(|error| Error::Randomness(error.to_string()))
}

/// A one-time code. `Debug` never shows it; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    /// Draws a code of `length` digits, each uniformly from the CSPRNG.
    pub fn generate(length: u8) -> Result<Self, Error> {
        let length = usize::from(length);
        let mut code = String::with_capacity(length);
        let mut buffer = [0u8; 16];
        while code.len() < length {
            random_bytes(&mut buffer)?;
            // 250 is the largest multiple of 10 below 256: bytes from 250 up are dropped.
            for byte in buffer.iter().copied().filter(|&byte| byte < 250) {
                if code.len() == length {
                    break;
                }
                code.push(char::from(b'0' + byte % 10));
            }
        }
        Ok(Self(code))
    }

    /// The digits, for the SMS body only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A code of the same length that is certainly not this one (for tools and tests that need a
    /// wrong answer).
    pub fn different(&self) -> Self {
        Self(wrong_answer_for(&self.0))
    }
}

/// A well-formed answer that differs from `code` in every digit (each digit plus one, modulo
/// ten). For the local tool and tests, which know the code from the console SMS.
pub fn wrong_answer_for(code: &str) -> String {
    code.bytes()
        .map(|digit| char::from(b'0' + (digit.wrapping_sub(b'0') + 1) % 10))
        .collect()
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OtpCode({} digits)", self.0.len())
    }
}

/// How long codes live and how long they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpPolicy {
    /// Number of digits (6 to 10).
    pub length: u8,
    /// Lifetime in seconds (at most 900).
    pub ttl_seconds: u64,
}

/// What Verify concluded about an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpCheck {
    /// The answer is the code, in time.
    Correct,
    /// The answer is well-formed but not the code.
    Wrong,
    /// The code's lifetime is over (whatever the answer).
    Expired,
    /// The answer is not a code of the right length.
    Malformed,
}

/// The digest of a code with its issue time and salt: what Cognito carries instead of the code.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpSeal(Seal);

/// The seal domain of SMS codes.
const DOMAIN: &[u8] = b"cognito-sms-otp/v1\0";

impl OtpSeal {
    /// Seals `code`, issued at `issued_at` (Unix seconds) for the pool `pool_id`.
    pub fn new(code: &OtpCode, issued_at: u64, pool_id: &str) -> Result<Self, Error> {
        Seal::new(DOMAIN, code.expose().as_bytes(), issued_at, pool_id).map(Self)
    }

    /// When the code was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.0.issued_at()
    }

    /// Text form for Cognito: `v1.<issued_at>.<salt>.<digest>` (base64url).
    pub fn encode(&self) -> String {
        self.0.encode()
    }

    /// Reads [`OtpSeal::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        Seal::decode(text).map(Self)
    }

    /// Checks an untrusted answer at time `now` (Unix seconds).
    pub fn check(&self, answer: &str, policy: OtpPolicy, now: u64, pool_id: &str) -> OtpCheck {
        if !self.is_fresh(policy.ttl_seconds, now) {
            return OtpCheck::Expired;
        }
        let Some(answer) = normalize_answer(answer, policy.length) else {
            return OtpCheck::Malformed;
        };
        if self.0.matches(DOMAIN, answer.as_bytes(), pool_id) {
            OtpCheck::Correct
        } else {
            OtpCheck::Wrong
        }
    }

    /// Whether the code is still valid at `now`: not older than `ttl_seconds`, and not issued more
    /// than a minute in the future (clock skew between functions).
    pub fn is_fresh(&self, ttl_seconds: u64, now: u64) -> bool {
        self.0.is_fresh(ttl_seconds, now)
    }
}

impl fmt::Debug for OtpSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OtpSeal(issued_at: {}, ..)", self.issued_at())
    }
}

/// The answer as a code: surrounding ASCII whitespace removed, exactly `length` ASCII digits.
fn normalize_answer(answer: &str, length: u8) -> Option<&str> {
    if answer.len() > MAX_ANSWER_BYTES {
        return None;
    }
    let trimmed = answer.trim_matches(|c: char| c.is_ascii_whitespace());
    (trimmed.len() == usize::from(length) && trimmed.bytes().all(|byte| byte.is_ascii_digit()))
        .then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: OtpPolicy = OtpPolicy {
        length: 6,
        ttl_seconds: 300,
    };
    const POOL: &str = "us-east-1_Example";

    #[test]
    fn codes_have_the_requested_length_and_only_digits() {
        for length in LENGTH_RANGE {
            let code = OtpCode::generate(length).unwrap();
            assert_eq!(code.expose().len(), usize::from(length));
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn every_digit_is_equally_likely() {
        // 60,000 digits: each of the ten should appear 6,000 times. A chi-square statistic above
        // 40 (9 degrees of freedom) has probability below 1e-5 for a uniform source.
        let mut counts = [0u32; 10];
        for _ in 0..6_000 {
            for digit in OtpCode::generate(10).unwrap().expose().bytes() {
                counts[usize::from(digit - b'0')] += 1;
            }
        }
        let expected = 6_000.0;
        let chi_square: f64 = counts
            .iter()
            .map(|&count| (f64::from(count) - expected).powi(2) / expected)
            .sum();
        assert!(
            chi_square < 40.0,
            "chi-square {chi_square}, counts {counts:?}"
        );
    }

    #[test]
    fn the_right_code_passes_in_time() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&code, 1_000, POOL).unwrap();
        assert_eq!(
            seal.check(code.expose(), POLICY, 1_000, POOL),
            OtpCheck::Correct
        );
        assert_eq!(
            seal.check(code.expose(), POLICY, 1_300, POOL),
            OtpCheck::Correct
        );
        let padded = format!("  {}\n", code.expose());
        assert_eq!(seal.check(&padded, POLICY, 1_001, POOL), OtpCheck::Correct);
    }

    #[test]
    fn a_wrong_code_fails() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&code, 1_000, POOL).unwrap();
        assert_eq!(
            seal.check(code.different().expose(), POLICY, 1_000, POOL),
            OtpCheck::Wrong
        );
        // The same code for another pool does not pass.
        assert_eq!(
            seal.check(code.expose(), POLICY, 1_000, "us-east-1_Other"),
            OtpCheck::Wrong
        );
    }

    #[test]
    fn an_old_code_expires() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&code, 1_000, POOL).unwrap();
        assert_eq!(
            seal.check(code.expose(), POLICY, 1_301, POOL),
            OtpCheck::Expired
        );
        // Issued far in the future: a forged or skewed seal is not honoured.
        assert_eq!(
            seal.check(code.expose(), POLICY, 900, POOL),
            OtpCheck::Expired
        );
    }

    #[test]
    fn odd_answers_are_malformed_not_panics() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&code, 1_000, POOL).unwrap();
        let huge = "9".repeat(1 << 20);
        let long_code = format!("{}0", code.expose());
        for answer in [
            "",
            "12345",
            long_code.as_str(),
            "12 456",
            "１２３４５６",
            "12345é",
            "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}",
            huge.as_str(),
        ] {
            assert_eq!(
                seal.check(answer, POLICY, 1_000, POOL),
                OtpCheck::Malformed,
                "{answer:.20}"
            );
        }
    }

    #[test]
    fn seals_round_trip_and_reject_garbage() {
        let seal = OtpSeal::new(&OtpCode::generate(6).unwrap(), 1_732_233_600, POOL).unwrap();
        let text = seal.encode();
        assert_eq!(OtpSeal::decode(&text), Some(seal));
        for garbage in [
            "",
            "v1",
            "v2.1.AAAA.AAAA",
            "v1.x.AAAAAAAAAAAAAAAAAAAAAA.AAAA",
            &format!("{text}.extra"),
        ] {
            assert_eq!(OtpSeal::decode(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn seals_and_debug_output_never_contain_the_code() {
        let code = OtpCode::generate(10).unwrap();
        let seal = OtpSeal::new(&code, 1_000, POOL).unwrap();
        assert!(!seal.encode().contains(code.expose()));
        assert!(!format!("{seal:?}{code:?}").contains(code.expose()));
    }

    #[test]
    fn different_is_always_different() {
        for _ in 0..100 {
            let code = OtpCode::generate(6).unwrap();
            let other = code.different();
            assert_ne!(code, other);
            assert!(other.expose().bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
