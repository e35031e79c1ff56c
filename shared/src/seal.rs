//! Seals: what Cognito carries between rounds instead of a secret (an SMS code, a CAPTCHA text).
//!
//! A seal is the issue time, a random salt and a digest over the domain (the step the secret
//! belongs to, so a seal made for one kind of secret never checks against another), the
//! [`SealBinding`] (the pool and the user the secret was issued to), the issue time, the salt and
//! the secret. A seal therefore only ever checks for the pool, the user and the step it was made
//! for: a code sealed for `alice` never verifies for `Alice`, whichever way it travels.
//!
//! The digest is HMAC-SHA-256 under the [`SealKey`] when one is configured (`SEAL_KEY` /
//! `SEAL_KEY_ARN`): then whoever reads a seal (in the state table, say) cannot search the few
//! million possible codes offline. Without a key it is plain SHA-256, and a reader of a seal can
//! recover its code by trying them all (docs/security.md says so).
//!
//! Text form: `v2.<issued_at>.<salt>.<digest>` unkeyed, `v2k.…` keyed (base64url). A seal made
//! with a key never checks without one and the other way round, so a function deployed without
//! the key that its peer has fails closed (and says so in its log) instead of silently checking
//! something else.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;
use crate::random::random_bytes;

const UNKEYED: &str = "v2";
const KEYED: &str = "v2k";

/// The shortest key `SEAL_KEY` accepts, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The key seals and phone digests are made with (`SEAL_KEY` / `SEAL_KEY_ARN`), or none.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SealKey(Option<Vec<u8>>);

impl SealKey {
    /// No key: plain SHA-256 digests.
    pub fn none() -> Self {
        Self(None)
    }

    /// A key from its configured text (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: &str) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!("must be at least {MIN_KEY_BYTES} characters"));
        }
        Ok(Self(Some(key.as_bytes().to_vec())))
    }

    /// Whether a key is set.
    pub fn is_keyed(&self) -> bool {
        self.0.is_some()
    }

    /// The digest of `parts`, each length-prefixed: HMAC-SHA-256 under the key, or SHA-256.
    pub fn digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        match &self.0 {
            Some(key) => {
                // HMAC accepts keys of any length; the error arm cannot happen.
                let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
                    return [0; 32];
                };
                for part in parts {
                    mac.update(&(part.len() as u64).to_be_bytes());
                    mac.update(part);
                }
                mac.finalize().into_bytes().into()
            }
            None => {
                let mut hasher = Sha256::new();
                for part in parts {
                    hasher.update((part.len() as u64).to_be_bytes());
                    hasher.update(part);
                }
                hasher.finalize().into()
            }
        }
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_keyed() {
            "SealKey(<redacted>)"
        } else {
            "SealKey(none)"
        })
    }
}

/// Whom a seal belongs to: the pool and the user exactly as the state keys name them (see
/// [`crate::state::UserRef`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealBinding<'a> {
    /// The user pool id.
    pub pool_id: &'a str,
    /// The user (`sub:<sub>` or `name:<userName>`).
    pub user: &'a str,
}

/// The digest of a secret with its issue time and salt.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    issued_at: u64,
    salt: [u8; 16],
    digest: [u8; 32],
    keyed: bool,
}

impl Seal {
    /// Seals `secret` of kind `domain` for `binding`, issued at `issued_at` (Unix seconds), with a
    /// fresh random salt.
    pub fn new(
        key: &SealKey,
        domain: &[u8],
        binding: SealBinding<'_>,
        secret: &[u8],
        issued_at: u64,
    ) -> Result<Self, Error> {
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        Ok(Self {
            issued_at,
            salt,
            digest: digest(key, domain, binding, issued_at, &salt, secret),
            keyed: key.is_keyed(),
        })
    }

    /// When the secret was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// Whether the seal was made with a key.
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// Text form: `v2.<issued_at>.<salt>.<digest>` (base64url), `v2k.…` when keyed.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            if self.keyed { KEYED } else { UNKEYED },
            self.issued_at,
            URL_SAFE_NO_PAD.encode(self.salt),
            URL_SAFE_NO_PAD.encode(self.digest)
        )
    }

    /// Reads [`Seal::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let (version, issued_at, salt, digest) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let keyed = match version {
            UNKEYED => false,
            KEYED => true,
            _ => return None,
        };
        if parts.next().is_some() || !issued_at.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            issued_at: issued_at.parse().ok()?,
            salt: URL_SAFE_NO_PAD.decode(salt).ok()?.try_into().ok()?,
            digest: URL_SAFE_NO_PAD.decode(digest).ok()?.try_into().ok()?,
            keyed,
        })
    }

    /// Whether `candidate` is the sealed secret of kind `domain` for `binding` (constant-time
    /// comparison of digests). A seal made with a key never matches without one, and the other
    /// way round.
    pub fn matches(
        &self,
        key: &SealKey,
        domain: &[u8],
        binding: SealBinding<'_>,
        candidate: &[u8],
    ) -> bool {
        let digest = digest(key, domain, binding, self.issued_at, &self.salt, candidate);
        bool::from(digest.ct_eq(&self.digest)) && self.keyed == key.is_keyed()
    }

    /// Whether the secret is still valid at `now`: not older than `ttl_seconds`, and not issued
    /// more than a minute in the future (clock skew between functions).
    pub fn is_fresh(&self, ttl_seconds: u64, now: u64) -> bool {
        now.saturating_add(60) >= self.issued_at
            && now <= self.issued_at.saturating_add(ttl_seconds)
    }

    /// A short, stable name of this seal for state keys (the first 16 bytes of a SHA-256 over
    /// its digest, hex): it names the code without revealing anything that helps to find it.
    pub fn id(&self) -> String {
        Sha256::digest(self.digest)
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl fmt::Debug for Seal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Seal(issued_at: {}, keyed: {}, ..)",
            self.issued_at, self.keyed
        )
    }
}

fn digest(
    key: &SealKey,
    domain: &[u8],
    binding: SealBinding<'_>,
    issued_at: u64,
    salt: &[u8; 16],
    secret: &[u8],
) -> [u8; 32] {
    key.digest(&[
        domain,
        binding.pool_id.as_bytes(),
        binding.user.as_bytes(),
        &issued_at.to_be_bytes(),
        salt,
        secret,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: SealBinding<'static> = SealBinding {
        pool_id: "pool",
        user: "name:alice",
    };

    #[test]
    fn a_seal_matches_its_secret_only_in_its_domain_pool_and_user() {
        let key = SealKey::none();
        let seal = Seal::new(&key, b"a\0", ALICE, b"secret", 100).unwrap();
        let decoded = Seal::decode(&seal.encode()).unwrap();
        assert_eq!(decoded, seal);
        assert!(decoded.matches(&key, b"a\0", ALICE, b"secret"));
        assert!(!decoded.matches(&key, b"b\0", ALICE, b"secret"));
        let other_pool = SealBinding {
            pool_id: "other",
            ..ALICE
        };
        assert!(!decoded.matches(&key, b"a\0", other_pool, b"secret"));
        // A user whose name differs only in case is another user on a case-sensitive pool.
        let capital = SealBinding {
            user: "name:Alice",
            ..ALICE
        };
        assert!(!decoded.matches(&key, b"a\0", capital, b"secret"));
        assert!(!decoded.matches(&key, b"a\0", ALICE, b"secreT"));
    }

    #[test]
    fn keyed_seals_need_the_same_key_and_never_check_unkeyed() {
        let key = SealKey::new(&"k".repeat(32)).unwrap();
        let seal = Seal::new(&key, b"a\0", ALICE, b"123456", 1).unwrap();
        assert!(seal.encode().starts_with("v2k."));
        let decoded = Seal::decode(&seal.encode()).unwrap();
        assert!(decoded.is_keyed());
        assert!(decoded.matches(&key, b"a\0", ALICE, b"123456"));
        let other = SealKey::new(&"j".repeat(32)).unwrap();
        assert!(!decoded.matches(&other, b"a\0", ALICE, b"123456"));
        assert!(!decoded.matches(&SealKey::none(), b"a\0", ALICE, b"123456"));
        // And an unkeyed seal does not check under a key.
        let plain = Seal::new(&SealKey::none(), b"a\0", ALICE, b"123456", 1).unwrap();
        assert!(!plain.matches(&key, b"a\0", ALICE, b"123456"));
        // Whoever reads an unkeyed seal can check guesses against it with no secret at all; a
        // keyed one checks only with the key.
        assert!(plain.matches(&SealKey::none(), b"a\0", ALICE, b"123456"));
        assert!(SealKey::new("short").is_err());
        assert!(!format!("{key:?}").contains("kkkk"));
    }

    #[test]
    fn only_the_encoded_form_decodes() {
        let text = Seal::new(&SealKey::none(), b"a\0", ALICE, b"x", 1)
            .unwrap()
            .encode();
        assert!(Seal::decode(&text.replacen("v2", "v1", 1)).is_none());
        assert!(Seal::decode(&format!("{text}.x")).is_none());
        assert!(Seal::decode(&text.replacen(".1.", ".+1.", 1)).is_none());
        assert!(Seal::decode("v2.1.AAAA.BBBB").is_none());
        assert!(Seal::decode("").is_none());
    }

    #[test]
    fn ids_are_stable_short_and_differ_per_seal() {
        let key = SealKey::none();
        let seal = Seal::new(&key, b"a\0", ALICE, b"x", 1).unwrap();
        let again = Seal::decode(&seal.encode()).unwrap();
        assert_eq!(seal.id(), again.id());
        assert_eq!(seal.id().len(), 32);
        let other = Seal::new(&key, b"a\0", ALICE, b"x", 1).unwrap();
        assert_ne!(seal.id(), other.id());
    }

    #[test]
    fn debug_output_names_the_keying_and_the_time_only() {
        let key = SealKey::new(&"k".repeat(32)).unwrap();
        assert_eq!(format!("{key:?}"), "SealKey(<redacted>)");
        assert_eq!(format!("{:?}", SealKey::none()), "SealKey(none)");
        assert_eq!(SealKey::none(), SealKey::default());
        let seal = Seal::new(&key, b"a\0", ALICE, b"123456", 42).unwrap();
        assert_eq!(seal.issued_at(), 42);
        assert!(seal.is_keyed());
        assert_eq!(format!("{seal:?}"), "Seal(issued_at: 42, keyed: true, ..)");
    }
}
