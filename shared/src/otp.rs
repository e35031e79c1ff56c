//! One-time codes.
//!
//! - [`OtpCode::generate`] draws every digit uniformly from the operating system's CSPRNG
//!   (rejection sampling, no modulo bias).
//! - The plain code goes into the SMS body and nowhere else. What Cognito carries between rounds
//!   (`challengeMetadata`, `privateChallengeParameters`) is an [`OtpSeal`]: the issue time, a random
//!   salt and a digest over both, the step, the pool, the user and the code (see [`crate::seal`]).
//! - [`OtpSeal::check`] parses the untrusted answer strictly, compares digests in constant time and
//!   refuses expired seals.
//!
//! A 6-digit code has 20 bits: whoever can read a seal could search all codes offline. Seals
//! therefore live only where Cognito keeps them (server side, passed to this project's functions
//! only) and are never logged; the digest keeps the plain code out of those places.

use std::fmt;

use crate::Error;
use crate::env::Environment;
use crate::random::random_bytes;
use crate::seal::{Seal, SealBinding, SealKey};

/// Answers longer than this are refused before any work is done on them.
pub const MAX_ANSWER_BYTES: usize = 64;

/// Shortest and longest code length `OTP_LENGTH` allows.
pub const LENGTH_RANGE: std::ops::RangeInclusive<u8> = 6..=10;

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
            for digit in buffer.iter().filter_map(|&byte| digit_for_byte(byte)) {
                if code.len() == length {
                    break;
                }
                code.push(char::from(b'0' + digit));
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

/// The digit a random byte stands for, or `None` for a byte that must be drawn again: 250 is the
/// largest multiple of 10 below 256, so bytes from 250 up are dropped and every digit comes from
/// exactly 25 byte values (no modulo bias).
fn digit_for_byte(byte: u8) -> Option<u8> {
    (byte < 250).then_some(byte % 10)
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

impl OtpPolicy {
    /// `OTP_LENGTH` (default 6, 6 to 10) and `OTP_TTL_SECONDS` (default 300, 30 to 900).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        Ok(Self {
            length: env.number("OTP_LENGTH", 6, LENGTH_RANGE)?,
            ttl_seconds: env.number("OTP_TTL_SECONDS", 300, 30..=900)?,
        })
    }
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

/// The seal domain of SMS codes: the step they belong to.
const DOMAIN: &[u8] = b"cognito-step/SMS_OTP/v2\0";

impl OtpSeal {
    /// Seals `code` for `binding` (pool and user), issued at `issued_at` (Unix seconds).
    pub fn new(
        key: &SealKey,
        code: &OtpCode,
        issued_at: u64,
        binding: SealBinding<'_>,
    ) -> Result<Self, Error> {
        Seal::new(key, DOMAIN, binding, code.expose().as_bytes(), issued_at).map(Self)
    }

    /// Whether the seal was made with a key.
    pub fn is_keyed(&self) -> bool {
        self.0.is_keyed()
    }

    /// A short stable name of the code for state keys ([`Seal::id`]).
    pub fn id(&self) -> String {
        self.0.id()
    }

    /// When the code was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.0.issued_at()
    }

    /// Text form for Cognito: `v2.<issued_at>.<salt>.<digest>` (base64url; `v2k` when keyed).
    pub fn encode(&self) -> String {
        self.0.encode()
    }

    /// Reads [`OtpSeal::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        Seal::decode(text).map(Self)
    }

    /// Checks an untrusted answer at time `now` (Unix seconds), for `binding` (the pool and user
    /// of the event being answered: a code sealed for anyone else is wrong).
    pub fn check(
        &self,
        key: &SealKey,
        answer: &str,
        policy: OtpPolicy,
        now: u64,
        binding: SealBinding<'_>,
    ) -> OtpCheck {
        if !self.is_fresh(policy.ttl_seconds, now) {
            return OtpCheck::Expired;
        }
        let Some(answer) = normalize_answer(answer, policy.length) else {
            return OtpCheck::Malformed;
        };
        if self.0.matches(key, DOMAIN, binding, answer.as_bytes()) {
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
    const ALICE: SealBinding<'static> = SealBinding {
        pool_id: "us-east-1_Example",
        user: "name:alice",
    };

    #[test]
    fn codes_have_the_requested_length_and_only_digits() {
        for length in LENGTH_RANGE {
            let code = OtpCode::generate(length).unwrap();
            assert_eq!(code.expose().len(), usize::from(length));
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn every_digit_comes_from_exactly_25_byte_values() {
        // The whole mapping, not a sample: plain `byte % 10` would give 0..=5 from 26 values.
        let mut sources = [0u32; 10];
        for byte in 0..=u8::MAX {
            match digit_for_byte(byte) {
                Some(digit) => sources[usize::from(digit)] += 1,
                None => assert!(byte >= 250, "byte {byte} dropped"),
            }
        }
        assert_eq!(sources, [25; 10]);
        assert_eq!((250..=u8::MAX).filter_map(digit_for_byte).count(), 0);
    }

    #[test]
    fn every_digit_is_equally_likely() {
        // 600,000 digits: each of the ten should appear 60,000 times. A chi-square statistic
        // above 40 (9 degrees of freedom) has probability below 1e-5 for a uniform source, while
        // the bias of plain `byte % 10` (26/256 against 25/256) gives about 220 at this size: the
        // test has the power to see it.
        let mut counts = [0u32; 10];
        for _ in 0..60_000 {
            for digit in OtpCode::generate(10).unwrap().expose().bytes() {
                counts[usize::from(digit - b'0')] += 1;
            }
        }
        let expected = 60_000.0;
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
        let seal = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
        assert_eq!(
            seal.check(&SealKey::none(), code.expose(), POLICY, 1_000, ALICE),
            OtpCheck::Correct
        );
        assert_eq!(
            seal.check(&SealKey::none(), code.expose(), POLICY, 1_300, ALICE),
            OtpCheck::Correct
        );
        let padded = format!("  {}\n", code.expose());
        assert_eq!(
            seal.check(&SealKey::none(), &padded, POLICY, 1_001, ALICE),
            OtpCheck::Correct
        );
    }

    #[test]
    fn a_wrong_code_fails() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
        assert_eq!(
            seal.check(
                &SealKey::none(),
                code.different().expose(),
                POLICY,
                1_000,
                ALICE
            ),
            OtpCheck::Wrong
        );
        // The same code for another pool, another user or under a key does not pass.
        let other_pool = SealBinding {
            pool_id: "us-east-1_Other",
            ..ALICE
        };
        let capital = SealBinding {
            user: "name:Alice",
            ..ALICE
        };
        for (key, binding) in [
            (SealKey::none(), other_pool),
            (SealKey::none(), capital),
            (SealKey::new(&"k".repeat(32)).unwrap(), ALICE),
        ] {
            assert_eq!(
                seal.check(&key, code.expose(), POLICY, 1_000, binding),
                OtpCheck::Wrong
            );
        }
    }

    #[test]
    fn an_old_code_expires() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
        assert_eq!(
            seal.check(&SealKey::none(), code.expose(), POLICY, 1_301, ALICE),
            OtpCheck::Expired
        );
        // Issued far in the future: a forged or skewed seal is not honoured.
        assert_eq!(
            seal.check(&SealKey::none(), code.expose(), POLICY, 900, ALICE),
            OtpCheck::Expired
        );
    }

    #[test]
    fn odd_answers_are_malformed_not_panics() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
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
                seal.check(&SealKey::none(), answer, POLICY, 1_000, ALICE),
                OtpCheck::Malformed,
                "{answer:.20}"
            );
        }
    }

    #[test]
    fn seals_round_trip_and_reject_garbage() {
        let seal = OtpSeal::new(
            &SealKey::none(),
            &OtpCode::generate(6).unwrap(),
            1_732_233_600,
            ALICE,
        )
        .unwrap();
        let text = seal.encode();
        assert_eq!(OtpSeal::decode(&text), Some(seal));
        for garbage in [
            "",
            "v1",
            "v2.1.AAAA.AAAA",
            "v1.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "v1.x.AAAAAAAAAAAAAAAAAAAAAA.AAAA",
            &format!("{text}.extra"),
        ] {
            assert_eq!(OtpSeal::decode(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn seals_and_debug_output_never_contain_the_code() {
        let code = OtpCode::generate(10).unwrap();
        let seal = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
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

    #[test]
    fn a_wrong_answer_differs_from_the_code_in_every_digit() {
        for digit in b'0'..=b'9' {
            let code = String::from_utf8(vec![digit; 6]).unwrap();
            let wrong = wrong_answer_for(&code);
            assert_eq!(wrong.len(), 6);
            assert!(
                wrong
                    .bytes()
                    .zip(code.bytes())
                    .all(|(w, c)| w != c && w.is_ascii_digit()),
                "{code} -> {wrong}"
            );
        }
    }

    #[test]
    fn answers_up_to_the_byte_limit_are_read_and_longer_ones_refused_unread() {
        let code = OtpCode::generate(6).unwrap();
        let seal = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
        let padded = |total: usize| format!("{}{}", code.expose(), " ".repeat(total - 6));
        assert_eq!(
            seal.check(
                &SealKey::none(),
                &padded(MAX_ANSWER_BYTES),
                POLICY,
                1_000,
                ALICE
            ),
            OtpCheck::Correct
        );
        assert_eq!(
            seal.check(
                &SealKey::none(),
                &padded(MAX_ANSWER_BYTES + 1),
                POLICY,
                1_000,
                ALICE
            ),
            OtpCheck::Malformed
        );
    }

    #[test]
    fn seals_name_their_code_and_their_keying_and_print_nothing_secret() {
        let code = OtpCode::generate(6).unwrap();
        let plain = OtpSeal::new(&SealKey::none(), &code, 1_000, ALICE).unwrap();
        let keyed =
            OtpSeal::new(&SealKey::new(&"k".repeat(32)).unwrap(), &code, 1_000, ALICE).unwrap();
        assert!(!plain.is_keyed() && keyed.is_keyed());
        assert_eq!(plain.issued_at(), 1_000);
        // The id is stable for a seal and differs between seals (each has its own salt).
        assert_eq!(OtpSeal::decode(&plain.encode()).unwrap().id(), plain.id());
        assert_ne!(plain.id(), keyed.id());
        assert_eq!(plain.id().len(), 32);
        assert_eq!(format!("{code:?}"), "OtpCode(6 digits)");
        assert_eq!(format!("{plain:?}"), "OtpSeal(issued_at: 1000, ..)");
    }
}
