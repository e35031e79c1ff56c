//! Seals: what Cognito carries between rounds instead of a secret (an SMS code, a CAPTCHA text).
//!
//! A seal is the issue time, a random salt and a SHA-256 digest over a domain string (so a seal
//! made for one kind of secret never checks against another), the pool id, the issue time, the salt
//! and the secret. Its text form is `v1.<issued_at>.<salt>.<digest>` (base64url). Checking compares
//! digests in constant time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;
use crate::otp::random_bytes;

const SEAL_VERSION: &str = "v1";

/// The digest of a secret with its issue time and salt.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    issued_at: u64,
    salt: [u8; 16],
    digest: [u8; 32],
}

impl Seal {
    /// Seals `secret` of kind `domain`, issued at `issued_at` (Unix seconds) for the pool
    /// `pool_id`, with a fresh random salt.
    pub fn new(domain: &[u8], secret: &[u8], issued_at: u64, pool_id: &str) -> Result<Self, Error> {
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        Ok(Self {
            issued_at,
            salt,
            digest: digest(domain, pool_id, issued_at, &salt, secret),
        })
    }

    /// When the secret was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// Text form: `v1.<issued_at>.<salt>.<digest>` (base64url).
    pub fn encode(&self) -> String {
        format!(
            "{SEAL_VERSION}.{}.{}.{}",
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
        if version != SEAL_VERSION || parts.next().is_some() {
            return None;
        }
        Some(Self {
            issued_at: issued_at.parse().ok()?,
            salt: URL_SAFE_NO_PAD.decode(salt).ok()?.try_into().ok()?,
            digest: URL_SAFE_NO_PAD.decode(digest).ok()?.try_into().ok()?,
        })
    }

    /// Whether `candidate` is the sealed secret (constant-time comparison of digests).
    pub fn matches(&self, domain: &[u8], candidate: &[u8], pool_id: &str) -> bool {
        let digest = digest(domain, pool_id, self.issued_at, &self.salt, candidate);
        bool::from(digest.ct_eq(&self.digest))
    }

    /// Whether the secret is still valid at `now`: not older than `ttl_seconds`, and not issued
    /// more than a minute in the future (clock skew between functions).
    pub fn is_fresh(&self, ttl_seconds: u64, now: u64) -> bool {
        now.saturating_add(60) >= self.issued_at
            && now <= self.issued_at.saturating_add(ttl_seconds)
    }
}

impl fmt::Debug for Seal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seal(issued_at: {}, ..)", self.issued_at)
    }
}

fn digest(
    domain: &[u8],
    pool_id: &str,
    issued_at: u64,
    salt: &[u8; 16],
    secret: &[u8],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(domain);
    hasher.update((pool_id.len() as u64).to_be_bytes());
    hasher.update(pool_id.as_bytes());
    hasher.update(issued_at.to_be_bytes());
    hasher.update(salt);
    hasher.update(secret);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_matches_its_secret_only_in_its_domain_and_pool() {
        let seal = Seal::new(b"a\0", b"secret", 100, "pool").unwrap();
        let decoded = Seal::decode(&seal.encode()).unwrap();
        assert_eq!(decoded, seal);
        assert!(decoded.matches(b"a\0", b"secret", "pool"));
        assert!(!decoded.matches(b"b\0", b"secret", "pool"));
        assert!(!decoded.matches(b"a\0", b"secret", "other"));
        assert!(!decoded.matches(b"a\0", b"secreT", "pool"));
    }

    #[test]
    fn only_the_encoded_form_decodes() {
        let text = Seal::new(b"a\0", b"x", 1, "p").unwrap().encode();
        assert!(Seal::decode(&text.replacen("v1", "v2", 1)).is_none());
        assert!(Seal::decode(&format!("{text}.x")).is_none());
        assert!(Seal::decode("v1.1.AAAA.BBBB").is_none());
        assert!(Seal::decode("").is_none());
    }
}
