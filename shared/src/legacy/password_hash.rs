//! Verifying a password against the hash a legacy user store kept for it, for the
//! user-migration trigger.
//!
//! Formats ([`HashFormat`]):
//!
//! | stored value | format |
//! | --- | --- |
//! | `$2a$`, `$2b$`, `$2y$` + cost + 53 characters | [`HashFormat::Bcrypt`] |
//! | `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (PHC); Django's `argon2$argon2id$…` | [`HashFormat::Argon2id`] |
//! | `$argon2i$v=19$m=…,t=…,p=…$salt$hash` (PHC); Django's `argon2$argon2i$…` | [`HashFormat::Argon2i`] |
//! | `$scrypt$ln=…,r=…,p=…$salt$hash` (PHC, as passlib writes it) | [`HashFormat::Scrypt`] |
//! | `$pbkdf2-sha256$i=…,l=32$salt$hash` (PHC) and passlib's `$pbkdf2-sha256$29000$salt$hash` | [`HashFormat::Pbkdf2Sha256`] |
//! | Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` | [`HashFormat::DjangoPbkdf2Sha256`] |
//! | `$6$[rounds=N$]salt$hash` (glibc SHA-512 crypt) | [`HashFormat::Sha512Crypt`] |
//! | `$5$[rounds=N$]salt$hash` (glibc SHA-256 crypt) | [`HashFormat::Sha256Crypt`] |
//! | `$1$salt$hash` (MD5 crypt, FreeBSD/glibc) | [`HashFormat::Md5Crypt`] |
//! | `$P$` / `$H$` + count + 8 salt + 22 hash (phpass portable: WordPress before 6.8, phpBB) | [`HashFormat::Phpass`] |
//! | `$S$` + count + 8 salt + 43 hash (Drupal 7, SHA-512) | [`HashFormat::Drupal7`] |
//! | `$wp$2y$…` (WordPress 6.8: bcrypt of the base64 HMAC-SHA-384 of the password) | [`HashFormat::WordPressBcrypt`] |
//!
//! PHP's `password_hash` writes bcrypt (`$2y$`) and Argon2 (`$argon2i$`, `$argon2id$`): the
//! rows above. Anything else (MD5 hex, `$2x$`, `$argon2d$`, `pbkdf2_sha1$`, LDAP `{SSHA}`,
//! Drupal's `U$` …) is [`HashError::UnknownFormat`]: the caller logs the reason and fails the
//! sign-in.
//!
//! The stored value comes from another system's database, so it is not trusted: a cost that
//! would take more memory or time than a Lambda invocation can spend (a 5 s budget) is refused
//! with [`HashError::CostTooHigh`] *before* any work is done. The limits are the `MAX_*`
//! constants below. Passwords themselves are bounded by Cognito (at most 256 characters).
//!
//! Digests are compared in constant time: by the crates for bcrypt, Argon2, scrypt, PHC PBKDF2
//! and SHA-512 crypt, and with [`subtle::ConstantTimeEq`] for the passlib and Django PBKDF2 forms
//! decoded here. Neither errors nor their messages ever contain the stored hash or the password.
//!
//! A caller that finds no user should still spend about the same time, by verifying the
//! password against [`DUMMY_HASH`] and ignoring the result.

use std::fmt;

use ::password_hash::PasswordVerifier;
use ::password_hash::phc::PasswordHash;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq;

/// A fixed bcrypt hash (cost 10, `$2b$`) of a random string that was thrown away: verified
/// against for unknown users so that they take about as long as known ones. No password
/// matches it.
pub const DUMMY_HASH: &str = "$2b$10$qxrlBgp1CNsWY.YbbuaaDuTe1FoH69XXoUzN.QXE4dQvYPAd33uu6";

/// The highest bcrypt cost accepted (2^14 rounds, about a second).
pub const MAX_BCRYPT_COST: u64 = 14;
/// The most memory, in bytes, an Argon2 or scrypt hash may ask for (256 MiB).
pub const MAX_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// The highest Argon2 memory cost accepted, in KiB (`m`; 256 MiB).
pub const MAX_ARGON2_M_KIB: u64 = MAX_MEMORY_BYTES / 1024;
/// The highest Argon2 time cost accepted (`t`, passes over memory).
pub const MAX_ARGON2_T: u64 = 10;
/// The most Argon2 work accepted, `m × t` in KiB: 1 GiB of memory passes (e.g. 256 MiB × 4,
/// 64 MiB × 10). `m` and `t` each within their own limit can still multiply beyond it.
pub const MAX_ARGON2_WORK_KIB: u64 = 1024 * 1024;
/// The highest scrypt `ln` (log2 of the cost `N`) accepted.
pub const MAX_SCRYPT_LOG_N: u64 = 20;
/// The most scrypt work accepted, `128 × r × N × p` bytes of mixing (512 MiB): memory for one
/// lane is also held to [`MAX_MEMORY_BYTES`].
pub const MAX_SCRYPT_WORK_BYTES: u64 = 512 * 1024 * 1024;
/// The most PBKDF2 iterations accepted (PHC, passlib and Django forms).
pub const MAX_PBKDF2_ITERATIONS: u64 = 2_000_000;
/// The most SHA-512 crypt rounds accepted.
pub const MAX_SHA512_CRYPT_ROUNDS: u64 = 2_000_000;
/// The most SHA-256 crypt rounds accepted (each round is cheaper than SHA-512's).
pub const MAX_SHA256_CRYPT_ROUNDS: u64 = 2_000_000;
/// The highest log2 of the rounds a phpass or Drupal 7 hash may ask for (2^18 MD5 or SHA-512
/// rounds, each over the password again: with Cognito's longest password, about 2 million
/// SHA-512 blocks. WordPress writes 13, Drupal 7 15; the formats allow up to 30).
pub const MAX_PORTABLE_LOG2_ROUNDS: u32 = 18;

/// The fewest SHA-512 crypt rounds the `sha-crypt` crate accepts (glibc clamps lower values up
/// to this; such hashes are reported as malformed).
const MIN_SHA512_CRYPT_ROUNDS: u64 = 1_000;
/// The length of a SHA-512 crypt hash field: 64 bytes in crypt's base64.
const SHA512_CRYPT_HASH_CHARS: usize = 86;
/// The PBKDF2-HMAC-SHA256 digest length of the passlib and Django forms.
const PBKDF2_SHA256_LEN: usize = 32;

/// Standard base64 as Python's `base64.b64decode` reads it: padding optional, trailing bits
/// ignored. For Django's hash and (after mapping `.` to `+`) passlib's "ab64".
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A recognised stored password hash format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFormat {
    /// bcrypt, `$2a$`, `$2b$` or `$2y$`.
    Bcrypt,
    /// Argon2id in PHC form (also Django's `argon2$` prefix).
    Argon2id,
    /// Argon2i in PHC form (also Django's `argon2$` prefix).
    Argon2i,
    /// scrypt in PHC form (`$scrypt$ln=…,r=…,p=…$…`).
    Scrypt,
    /// PBKDF2-HMAC-SHA256, PHC (`$pbkdf2-sha256$i=…`) or passlib (`$pbkdf2-sha256$29000$…`).
    Pbkdf2Sha256,
    /// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
    DjangoPbkdf2Sha256,
    /// glibc SHA-512 crypt, `$6$[rounds=N$]salt$hash`.
    Sha512Crypt,
    /// glibc SHA-256 crypt, `$5$[rounds=N$]salt$hash`.
    Sha256Crypt,
    /// MD5 crypt, `$1$salt$hash` (1000 fixed rounds).
    Md5Crypt,
    /// phpass portable hashes, `$P$` (WordPress before 6.8) or `$H$` (phpBB): iterated MD5.
    Phpass,
    /// Drupal 7's `$S$`: phpass's scheme with SHA-512, the encoding cut to 55 characters.
    Drupal7,
    /// WordPress 6.8's `$wp$2y$…`: bcrypt over the base64 of HMAC-SHA-384 (key `wp-sha384`)
    /// of the password.
    WordPressBcrypt,
}

impl HashFormat {
    /// A short name for logs, e.g. `bcrypt`, `argon2id`, `django-pbkdf2-sha256`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bcrypt => "bcrypt",
            Self::Argon2id => "argon2id",
            Self::Argon2i => "argon2i",
            Self::Scrypt => "scrypt",
            Self::Pbkdf2Sha256 => "pbkdf2-sha256",
            Self::DjangoPbkdf2Sha256 => "django-pbkdf2-sha256",
            Self::Sha512Crypt => "sha512-crypt",
            Self::Sha256Crypt => "sha256-crypt",
            Self::Md5Crypt => "md5-crypt",
            Self::Phpass => "phpass",
            Self::Drupal7 => "drupal7",
            Self::WordPressBcrypt => "wordpress-bcrypt",
        }
    }
}

impl fmt::Display for HashFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a password could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    /// The stored value is in none of the [`HashFormat`]s.
    UnknownFormat,
    /// The stored value looks like this format but cannot be parsed or used.
    Malformed(HashFormat),
    /// The stored value asks for more work or memory than the limits allow (see the `MAX_*`
    /// constants of this module).
    CostTooHigh(HashFormat),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFormat => {
                f.write_str("the stored password hash is in an unsupported format")
            }
            Self::Malformed(format) => write!(f, "the stored {format} password hash is malformed"),
            Self::CostTooHigh(format) => write!(
                f,
                "the stored {format} password hash asks for a cost above the allowed maximum"
            ),
        }
    }
}

impl std::error::Error for HashError {}

/// Recognises the format of a stored hash from its prefix (leading and trailing whitespace, as a
/// padded `char(n)` column leaves it, is ignored). It does not check the rest: [`verify`] does.
pub fn detect(stored: &str) -> Result<HashFormat, HashError> {
    let stored = stored.trim();
    let format = if ["$2a$", "$2b$", "$2y$"]
        .into_iter()
        .any(|prefix| stored.starts_with(prefix))
    {
        HashFormat::Bcrypt
    } else if stored.starts_with("$argon2id$") || stored.starts_with("argon2$argon2id$") {
        HashFormat::Argon2id
    } else if stored.starts_with("$argon2i$") || stored.starts_with("argon2$argon2i$") {
        HashFormat::Argon2i
    } else if stored.starts_with("$scrypt$") {
        HashFormat::Scrypt
    } else if stored.starts_with("$pbkdf2-sha256$") {
        HashFormat::Pbkdf2Sha256
    } else if stored.starts_with("pbkdf2_sha256$") {
        HashFormat::DjangoPbkdf2Sha256
    } else if stored.starts_with("$6$") {
        HashFormat::Sha512Crypt
    } else if stored.starts_with("$5$") {
        HashFormat::Sha256Crypt
    } else if stored.starts_with("$1$") {
        HashFormat::Md5Crypt
    } else if stored.starts_with("$P$") || stored.starts_with("$H$") {
        HashFormat::Phpass
    } else if stored.starts_with("$S$") {
        HashFormat::Drupal7
    } else if stored.starts_with("$wp$2y$") || stored.starts_with("$wp$2b$") {
        HashFormat::WordPressBcrypt
    } else {
        return Err(HashError::UnknownFormat);
    };
    Ok(format)
}

/// Checks `password` against `stored`: `Ok(true)` when it matches, `Ok(false)` when it does not.
/// An unknown, malformed or too costly stored value is an error, never `Ok(false)`, so that the
/// caller can tell a wrong password from a hash it cannot check. Digests are compared in
/// constant time.
pub fn verify(password: &str, stored: &str) -> Result<bool, HashError> {
    let stored = stored.trim();
    let format = detect(stored)?;
    match format {
        HashFormat::Bcrypt => verify_bcrypt(password, stored),
        HashFormat::Argon2id | HashFormat::Argon2i => {
            // Django stores "argon2" followed by argon2-cffi's PHC string.
            let phc = stored.strip_prefix("argon2").unwrap_or(stored);
            verify_argon2(password, phc, format)
        }
        HashFormat::Scrypt => verify_scrypt(password, stored),
        HashFormat::Pbkdf2Sha256 => verify_pbkdf2(password, stored),
        HashFormat::DjangoPbkdf2Sha256 => verify_django_pbkdf2(password, stored),
        HashFormat::Sha512Crypt => verify_sha512_crypt(password, stored),
        HashFormat::Sha256Crypt => verify_sha256_crypt(password, stored),
        HashFormat::Md5Crypt => verify_md5_crypt(password, stored),
        HashFormat::Phpass | HashFormat::Drupal7 => verify_portable(password, stored, format),
        HashFormat::WordPressBcrypt => verify_wordpress_bcrypt(password, stored),
    }
}

/// A decimal count from a stored hash: not all digits is malformed, too large for `u64` is too
/// costly.
fn parse_count(text: &str, format: HashFormat) -> Result<u64, HashError> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(HashError::Malformed(format));
    }
    text.parse::<u64>()
        .map_err(|_| HashError::CostTooHigh(format))
}

/// A PHC parameter as a count, or `default` (the crate's own default) when it is absent.
fn phc_count(
    parsed: &PasswordHash,
    name: &str,
    default: u64,
    format: HashFormat,
) -> Result<u64, HashError> {
    match parsed.params.get(name) {
        None => Ok(default),
        Some(value) => parse_count(value.as_str(), format),
    }
}

/// Parses a PHC string, then checks that it has both a salt and a hash: without them the crates'
/// verifiers report a plain mismatch, which would hide the broken value.
fn parse_phc(stored: &str, format: HashFormat) -> Result<PasswordHash, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|_| HashError::Malformed(format))?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(HashError::Malformed(format));
    }
    Ok(parsed)
}

/// Runs a `password-hash` verifier: a mismatch is `Ok(false)`, any other failure is malformed.
fn run_verifier<V>(
    verifier: &V,
    password: &str,
    parsed: &PasswordHash,
    format: HashFormat,
) -> Result<bool, HashError>
where
    V: PasswordVerifier<PasswordHash>,
{
    match verifier.verify_password(password.as_bytes(), parsed) {
        Ok(()) => Ok(true),
        Err(::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(_) => Err(HashError::Malformed(format)),
    }
}

/// Whether a cost parameter is within its limit (the limit itself allowed). Every limit is
/// checked here, before any work, so its boundary is tested once.
fn within(value: u64, limit: u64) -> bool {
    value <= limit
}

fn verify_bcrypt(password: &str, stored: &str) -> Result<bool, HashError> {
    const FORMAT: HashFormat = HashFormat::Bcrypt;
    // "$2b$" + two-digit cost + "$" + 22 characters of salt + 31 of hash.
    if stored.len() != 60 || !stored.is_ascii() || stored.get(6..7) != Some("$") {
        return Err(HashError::Malformed(FORMAT));
    }
    let cost = parse_count(stored.get(4..6).unwrap_or_default(), FORMAT)?;
    if !within(cost, MAX_BCRYPT_COST) {
        return Err(HashError::CostTooHigh(FORMAT));
    }
    bcrypt::verify(password.as_bytes(), stored).map_err(|_| HashError::Malformed(FORMAT))
}

fn verify_argon2(password: &str, phc: &str, format: HashFormat) -> Result<bool, HashError> {
    let parsed = parse_phc(phc, format)?;
    let expected_algorithm = match format {
        HashFormat::Argon2i => "argon2i",
        _ => "argon2id",
    };
    if parsed.algorithm.as_str() != expected_algorithm {
        return Err(HashError::Malformed(format));
    }
    let m = phc_count(
        &parsed,
        "m",
        u64::from(argon2::Params::DEFAULT_M_COST),
        format,
    )?;
    let t = phc_count(
        &parsed,
        "t",
        u64::from(argon2::Params::DEFAULT_T_COST),
        format,
    )?;
    // `p` (lanes) does not add work: the lanes share the `m` KiB. The crate checks its range.
    phc_count(
        &parsed,
        "p",
        u64::from(argon2::Params::DEFAULT_P_COST),
        format,
    )?;
    if !within(m, MAX_ARGON2_M_KIB)
        || !within(t, MAX_ARGON2_T)
        || !within(m.saturating_mul(t), MAX_ARGON2_WORK_KIB)
    {
        return Err(HashError::CostTooHigh(format));
    }
    run_verifier(&argon2::Argon2::default(), password, &parsed, format)
}

fn verify_scrypt(password: &str, stored: &str) -> Result<bool, HashError> {
    const FORMAT: HashFormat = HashFormat::Scrypt;
    let parsed = parse_phc(stored, FORMAT)?;
    let log_n = phc_count(
        &parsed,
        "ln",
        u64::from(scrypt::Params::RECOMMENDED_LOG_N),
        FORMAT,
    )?;
    let r = phc_count(
        &parsed,
        "r",
        u64::from(scrypt::Params::RECOMMENDED_R),
        FORMAT,
    )?;
    let p = phc_count(
        &parsed,
        "p",
        u64::from(scrypt::Params::RECOMMENDED_P),
        FORMAT,
    )?;
    if !within(log_n, MAX_SCRYPT_LOG_N) {
        return Err(HashError::CostTooHigh(FORMAT));
    }
    // log_n <= 20, so the shift cannot overflow.
    let memory = 128u64.saturating_mul(r).saturating_mul(1u64 << log_n);
    if !within(memory, MAX_MEMORY_BYTES) || !within(memory.saturating_mul(p), MAX_SCRYPT_WORK_BYTES)
    {
        return Err(HashError::CostTooHigh(FORMAT));
    }
    run_verifier(&scrypt::Scrypt::new(), password, &parsed, FORMAT)
}

fn verify_pbkdf2(password: &str, stored: &str) -> Result<bool, HashError> {
    const FORMAT: HashFormat = HashFormat::Pbkdf2Sha256;
    let rest = stored
        .strip_prefix("$pbkdf2-sha256$")
        .ok_or(HashError::Malformed(FORMAT))?;
    let first_field = rest.split('$').next().unwrap_or_default();
    if !first_field.is_empty() && first_field.bytes().all(|byte| byte.is_ascii_digit()) {
        return verify_passlib_pbkdf2(password, rest);
    }
    let parsed = parse_phc(stored, FORMAT)?;
    let iterations = phc_count(
        &parsed,
        "i",
        u64::from(pbkdf2::Params::RECOMMENDED_ROUNDS),
        FORMAT,
    )?;
    if !within(iterations, MAX_PBKDF2_ITERATIONS) {
        return Err(HashError::CostTooHigh(FORMAT));
    }
    run_verifier(&pbkdf2::Pbkdf2::SHA256, password, &parsed, FORMAT)
}

/// passlib's `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>` (`rest` is what follows the
/// identifier). "ab64" is standard base64 with `.` for `+` and no padding; the salt is used as
/// the decoded bytes.
fn verify_passlib_pbkdf2(password: &str, rest: &str) -> Result<bool, HashError> {
    const FORMAT: HashFormat = HashFormat::Pbkdf2Sha256;
    let mut fields = rest.split('$');
    let (Some(rounds), Some(salt), Some(hash), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(HashError::Malformed(FORMAT));
    };
    let salt = decode_ab64(salt).ok_or(HashError::Malformed(FORMAT))?;
    let expected = decode_ab64(hash).ok_or(HashError::Malformed(FORMAT))?;
    pbkdf2_sha256_matches(password, &salt, rounds, &expected, FORMAT)
}

/// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`: the salt is used as its UTF-8
/// text, the hash is padded standard base64 of the 32-byte digest.
fn verify_django_pbkdf2(password: &str, stored: &str) -> Result<bool, HashError> {
    const FORMAT: HashFormat = HashFormat::DjangoPbkdf2Sha256;
    let rest = stored
        .strip_prefix("pbkdf2_sha256$")
        .ok_or(HashError::Malformed(FORMAT))?;
    let mut fields = rest.split('$');
    let (Some(iterations), Some(salt), Some(hash), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(HashError::Malformed(FORMAT));
    };
    let expected = LENIENT_BASE64
        .decode(hash)
        .map_err(|_| HashError::Malformed(FORMAT))?;
    pbkdf2_sha256_matches(password, salt.as_bytes(), iterations, &expected, FORMAT)
}

/// Decodes passlib's "ab64".
fn decode_ab64(text: &str) -> Option<Vec<u8>> {
    LENIENT_BASE64.decode(text.replace('.', "+")).ok()
}

/// Whether PBKDF2-HMAC-SHA256 of `password` with `salt` and `iterations` (still text, checked
/// here) is `expected`, compared in constant time.
fn pbkdf2_sha256_matches(
    password: &str,
    salt: &[u8],
    iterations: &str,
    expected: &[u8],
    format: HashFormat,
) -> Result<bool, HashError> {
    let iterations = parse_count(iterations, format)?;
    if iterations == 0 || expected.len() != PBKDF2_SHA256_LEN {
        return Err(HashError::Malformed(format));
    }
    if !within(iterations, MAX_PBKDF2_ITERATIONS) {
        return Err(HashError::CostTooHigh(format));
    }
    let iterations = u32::try_from(iterations).map_err(|_| HashError::CostTooHigh(format))?;
    let mut computed = [0u8; PBKDF2_SHA256_LEN];
    pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(
        password.as_bytes(),
        salt,
        iterations,
        &mut computed,
    );
    Ok(computed.as_slice().ct_eq(expected).into())
}

fn verify_sha512_crypt(password: &str, stored: &str) -> Result<bool, HashError> {
    verify_sha_crypt(password, stored, HashFormat::Sha512Crypt)
}

fn verify_sha256_crypt(password: &str, stored: &str) -> Result<bool, HashError> {
    verify_sha_crypt(password, stored, HashFormat::Sha256Crypt)
}

/// glibc's SHA-crypt, `$6$` (SHA-512) or `$5$` (SHA-256): `[rounds=N$]salt$hash`, the rounds
/// within their limit, the hash field a whole digest.
fn verify_sha_crypt(password: &str, stored: &str, format: HashFormat) -> Result<bool, HashError> {
    // The identifier, the most rounds, the hash field's length (the digest in crypt's base64:
    // 64 bytes in 86 characters, 32 in 43), and the crate's verifier.
    let (prefix, max_rounds, hash_chars, verifier) = match format {
        HashFormat::Sha256Crypt => (
            "$5$",
            MAX_SHA256_CRYPT_ROUNDS,
            43,
            sha_crypt::ShaCrypt::SHA256,
        ),
        _ => (
            "$6$",
            MAX_SHA512_CRYPT_ROUNDS,
            SHA512_CRYPT_HASH_CHARS,
            sha_crypt::ShaCrypt::SHA512,
        ),
    };
    let rest = stored
        .strip_prefix(prefix)
        .ok_or(HashError::Malformed(format))?;
    if let Some(after) = rest.strip_prefix("rounds=") {
        let (rounds, _) = after.split_once('$').ok_or(HashError::Malformed(format))?;
        let rounds = parse_count(rounds, format)?;
        if !within(rounds, max_rounds) {
            return Err(HashError::CostTooHigh(format));
        }
        if rounds < MIN_SHA512_CRYPT_ROUNDS {
            return Err(HashError::Malformed(format));
        }
    }
    // The crate compares whatever the last field decodes to, so a short one would be a mere
    // mismatch: check it is a whole digest.
    if rest.rsplit('$').next().map(str::len) != Some(hash_chars) {
        return Err(HashError::Malformed(format));
    }
    match verifier.verify_password(password.as_bytes(), stored) {
        Ok(()) => Ok(true),
        Err(::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(_) => Err(HashError::Malformed(format)),
    }
}

/// crypt's and phpass's base64 alphabet.
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether every byte of `text` is in [`ITOA64`].
fn is_itoa64(text: &str) -> bool {
    text.bytes().all(|byte| ITOA64.contains(&byte))
}

/// phpass's `encode64`: little-endian groups of three bytes, six bits at a time.
fn encode64_phpass(input: &[u8]) -> String {
    let char_of =
        |value: u32| char::from(ITOA64.get((value & 0x3f) as usize).copied().unwrap_or(b'.'));
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |value, (index, byte)| {
            value | (u32::from(*byte) << (8 * index))
        });
        out.push(char_of(value));
        out.push(char_of(value >> 6));
        if chunk.len() > 1 {
            out.push(char_of(value >> 12));
        }
        if chunk.len() > 2 {
            out.push(char_of(value >> 18));
        }
    }
    out
}

/// phpass portable (`$P$`, `$H$`: MD5, 34 characters) and Drupal 7 (`$S$`: SHA-512, 55):
/// `hash = H(salt ‖ password)`, then `2^count` times `hash = H(hash ‖ password)`, encoded after
/// the 12-character setting (identifier, count character, 8 salt characters).
fn verify_portable(password: &str, stored: &str, format: HashFormat) -> Result<bool, HashError> {
    let expected_len = if format == HashFormat::Drupal7 {
        55
    } else {
        34
    };
    if stored.len() != expected_len
        || !stored.is_ascii()
        || !is_itoa64(stored.get(3..).unwrap_or(""))
    {
        return Err(HashError::Malformed(format));
    }
    let count_char = stored.as_bytes().get(3).copied().unwrap_or(b'.');
    let log2 = ITOA64
        .iter()
        .position(|byte| *byte == count_char)
        .and_then(|position| u32::try_from(position).ok())
        .ok_or(HashError::Malformed(format))?;
    // The formats' own range is 7 to 30.
    if !(7..=30).contains(&log2) {
        return Err(HashError::Malformed(format));
    }
    if log2 > MAX_PORTABLE_LOG2_ROUNDS {
        return Err(HashError::CostTooHigh(format));
    }
    let setting = stored.get(..12).ok_or(HashError::Malformed(format))?;
    let salt = stored.get(4..12).ok_or(HashError::Malformed(format))?;
    let rounds = 1u64 << log2;
    let encoded = if format == HashFormat::Drupal7 {
        encode64_phpass(&portable_digest::<sha2::Sha512>(salt, password, rounds))
    } else {
        encode64_phpass(&portable_digest::<md5::Md5>(salt, password, rounds))
    };
    let computed = format!("{setting}{encoded}");
    let computed = computed.get(..expected_len).unwrap_or(&computed);
    Ok(computed.as_bytes().ct_eq(stored.as_bytes()).into())
}

/// The portable hashes' loop (phpass with MD5, Drupal 7 with SHA-512): the digest of the salt and
/// the password, then `rounds` times the digest of the previous digest and the password.
fn portable_digest<D: sha2::Digest>(salt: &str, password: &str, rounds: u64) -> Vec<u8> {
    let mut hash = D::new()
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    for _ in 0..rounds {
        hash = D::new()
            .chain_update(&hash)
            .chain_update(password)
            .finalize();
    }
    hash.to_vec()
}

/// MD5 crypt (`$1$salt$hash`, salt up to 8 characters, 1000 rounds), as FreeBSD defined it and
/// glibc implements it.
fn verify_md5_crypt(password: &str, stored: &str) -> Result<bool, HashError> {
    use md5::{Digest as _, Md5};
    const FORMAT: HashFormat = HashFormat::Md5Crypt;
    let rest = stored
        .strip_prefix("$1$")
        .ok_or(HashError::Malformed(FORMAT))?;
    let (salt, hash) = rest.split_once('$').ok_or(HashError::Malformed(FORMAT))?;
    if salt.is_empty() || salt.len() > 8 || !is_itoa64(salt) || hash.len() != 22 || !is_itoa64(hash)
    {
        return Err(HashError::Malformed(FORMAT));
    }
    let pw = password.as_bytes();
    let alternate = Md5::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize();
    let mut context = Md5::new()
        .chain_update(pw)
        .chain_update(b"$1$")
        .chain_update(salt);
    let mut left = pw.len();
    while left > 0 {
        let take = left.min(16);
        context.update(alternate.get(..take).unwrap_or(&[]));
        left -= take;
    }
    let mut bits = pw.len();
    while bits > 0 {
        if bits & 1 == 1 {
            context.update([0u8]);
        } else {
            context.update(pw.get(..1).unwrap_or(&[]));
        }
        bits >>= 1;
    }
    let mut digest = context.finalize();
    for round in 0..1000 {
        let mut next = Md5::new();
        if round & 1 == 1 {
            next.update(pw);
        } else {
            next.update(digest);
        }
        if round % 3 != 0 {
            next.update(salt);
        }
        if round % 7 != 0 {
            next.update(pw);
        }
        if round & 1 == 1 {
            next.update(digest);
        } else {
            next.update(pw);
        }
        digest = next.finalize();
    }
    // Bytes in crypt's order: (0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5), 11.
    let byte = |index: usize| u32::from(digest.get(index).copied().unwrap_or(0));
    let mut encoded = String::with_capacity(22);
    let mut put = |value: u32, count: usize| {
        let mut value = value;
        for _ in 0..count {
            encoded.push(char::from(
                ITOA64.get((value & 0x3f) as usize).copied().unwrap_or(b'.'),
            ));
            value >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put((byte(a) << 16) | (byte(b) << 8) | byte(c), 4);
    }
    put(byte(11), 2);
    Ok(encoded.as_bytes().ct_eq(hash.as_bytes()).into())
}

/// WordPress 6.8: `$wp` and a bcrypt hash of `base64(HMAC-SHA-384(key "wp-sha384", password))`.
fn verify_wordpress_bcrypt(password: &str, stored: &str) -> Result<bool, HashError> {
    use hmac::Mac as _;
    const FORMAT: HashFormat = HashFormat::WordPressBcrypt;
    let bcrypt_part = stored
        .strip_prefix("$wp")
        .ok_or(HashError::Malformed(FORMAT))?;
    let mut mac = hmac::Hmac::<sha2::Sha384>::new_from_slice(b"wp-sha384")
        .map_err(|_| HashError::Malformed(FORMAT))?;
    mac.update(password.as_bytes());
    let prehashed = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    verify_bcrypt(&prehashed, bcrypt_part).map_err(|error| match error {
        HashError::CostTooHigh(_) => HashError::CostTooHigh(FORMAT),
        _ => HashError::Malformed(FORMAT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by `tests/fixtures/make_legacy_hashes.py --rust` with passlib, bcrypt, argon2-cffi
    /// and hashlib, each verified in Python (and with crypt(3) for bcrypt and SHA-512 crypt); the
    /// same users are in `tests/fixtures/legacy_users.sql`. (username, password, hash, format).
    const FIXTURES: &[(&str, &str, &str, HashFormat)] = &[
        (
            "bcrypt2a",
            "legacy-bcrypt2a-pw",
            "$2a$10$VPfdVf.C/eqx.1g37bZiTeo4UIiK6PVCbqkmTkAJoZOlnVJ1ngtPy",
            HashFormat::Bcrypt,
        ),
        (
            "bcrypt2b",
            "legacy-bcrypt2b-pw",
            "$2b$10$XUy/8V2m/HM6oX0ifZWU/OL1av0sKEDaeEBZgP4btvTwGO4NLYaUm",
            HashFormat::Bcrypt,
        ),
        (
            "bcrypt2y",
            "legacy-bcrypt2y-pw",
            "$2y$10$gMCwgf1OyPOgqDjRgzE71eTGRoCtxoseTutlCKPZwD2poziHAWYGG",
            HashFormat::Bcrypt,
        ),
        (
            "argon2id",
            "legacy-argon2id-pw",
            "$argon2id$v=19$m=19456,t=2,p=1$kcxb9Ws6eXxLwFQHXM+AVA$9k9r4duQq4rcFnQVytS2D3tBSr93kLsKxzbJ2yeAjf8",
            HashFormat::Argon2id,
        ),
        (
            "argon2i",
            "legacy-argon2i-pw",
            "$argon2i$v=19$m=19456,t=2,p=1$wBAS6CttlnIOLRn5KCS22g$0J6QdTWxO/il3pqmE5aVJ3Xk7Ag9GRvl/4c4bILNH1Q",
            HashFormat::Argon2i,
        ),
        (
            "scrypt",
            "legacy-scrypt-pw",
            "$scrypt$ln=14,r=8,p=1$LpCEO2m1TuvotWCtO3w+9g$68N0d1OQ0cwn4GYKDIOQJosc73b9P32DyzuGK/6dsqc",
            HashFormat::Scrypt,
        ),
        (
            "pbkdf2",
            "legacy-pbkdf2-pw",
            "$pbkdf2-sha256$i=29000,l=32$pRQCgNAaQ8iZUyqlNMZYqw$HQ/x2CHNg7iteVWvw552/zHZcO59LcBIcGAdczhG4WE",
            HashFormat::Pbkdf2Sha256,
        ),
        (
            "pbkdf2passlib",
            "legacy-pbkdf2passlib-pw",
            "$pbkdf2-sha256$29000$pfS.N2YMIQRA6L231lrLWQ$PfFfc.KJ8s4DaDrXmT/0UslfCn/Almc57gOqkDVy4rs",
            HashFormat::Pbkdf2Sha256,
        ),
        (
            "django",
            "legacy-django-pw",
            "pbkdf2_sha256$30000$JYzS6h770Ra7DzpgjtNPeX$yjV3mdX1iYMIjm1OO6bgQ81qE7MFdGkni1cWGp+HlBM=",
            HashFormat::DjangoPbkdf2Sha256,
        ),
        (
            "djangoargon2",
            "legacy-djangoargon2-pw",
            "argon2$argon2id$v=19$m=19456,t=2,p=1$MpYGfL6Vx7y1t9MUhTZ3tQ$MtmJhFU1JLMIotL0sbEtHEIYSZtgG3OiWvpdXZo3duQ",
            HashFormat::Argon2id,
        ),
        (
            "sha512",
            "legacy-sha512-pw",
            "$6$ZqFor02rGiMdTm1C$mlhgNd65xdvbLNtDEbbvhYZDWrwiL1nlhKllaP8mgGsPlls1XLVjJS7C8HoUZnbtXXKGpNcT42RsPCSBn1xKs0",
            HashFormat::Sha512Crypt,
        ),
        (
            "sha512rounds",
            "legacy-sha512rounds-pw",
            "$6$rounds=6000$KVn9VeQLTmFGv0mK$G1YVJqFx20PUTPl13BbdjAVWxg76dEuDwXPwATh5LBcxMLep64t3aHsbg1zp7i31C31kzHOuPUWaDk62b8RjH.",
            HashFormat::Sha512Crypt,
        ),
    ];

    /// The unknown-format user of `legacy_users.sql`: MD5 of `legacy-unknownfmt-pw`.
    const UNKNOWN_MD5: &str = "e539613b4cbc9f55bf80030fb88367c7";

    fn fixture(username: &str) -> (&'static str, &'static str, HashFormat) {
        let &(_, password, hash, format) = FIXTURES
            .iter()
            .find(|(name, ..)| *name == username)
            .unwrap_or_else(|| panic!("no fixture {username}"));
        (password, hash, format)
    }

    /// The right password verifies; a wrong one (a character added) does not.
    fn check_fixture(username: &str) {
        let (password, hash, format) = fixture(username);
        assert_eq!(detect(hash), Ok(format), "{username}");
        assert_eq!(
            verify(password, hash),
            Ok(true),
            "{username}: right password"
        );
        assert_eq!(
            verify(&format!("{password}x"), hash),
            Ok(false),
            "{username}: wrong password"
        );
    }

    #[test]
    fn bcrypt_2a_fixture() {
        check_fixture("bcrypt2a");
    }

    #[test]
    fn bcrypt_2b_fixture() {
        check_fixture("bcrypt2b");
    }

    #[test]
    fn bcrypt_2y_fixture() {
        check_fixture("bcrypt2y");
    }

    #[test]
    fn argon2id_fixture() {
        check_fixture("argon2id");
    }

    #[test]
    fn argon2i_fixture() {
        check_fixture("argon2i");
    }

    #[test]
    fn django_argon2_fixture() {
        check_fixture("djangoargon2");
    }

    #[test]
    fn scrypt_fixture() {
        check_fixture("scrypt");
    }

    #[test]
    fn pbkdf2_phc_fixture() {
        check_fixture("pbkdf2");
    }

    #[test]
    fn pbkdf2_passlib_fixture() {
        check_fixture("pbkdf2passlib");
    }

    #[test]
    fn django_pbkdf2_fixture() {
        check_fixture("django");
        // An empty password is just another wrong one.
        let (_, hash, _) = fixture("django");
        assert_eq!(verify("", hash), Ok(false));
    }

    #[test]
    fn sha512_crypt_fixture() {
        check_fixture("sha512");
    }

    #[test]
    fn sha512_crypt_explicit_rounds_fixture() {
        check_fixture("sha512rounds");
    }

    #[test]
    fn another_users_password_does_not_verify() {
        let (_, hash, _) = fixture("sha512");
        let (other_password, ..) = fixture("django");
        assert_eq!(verify(other_password, hash), Ok(false));
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let (password, hash, format) = fixture("sha512");
        let padded = format!("  {hash}\n");
        assert_eq!(detect(&padded), Ok(format));
        assert_eq!(verify(password, &padded), Ok(true));
    }

    #[test]
    fn dummy_hash_is_bcrypt_cost_10_and_matches_nothing() {
        assert_eq!(detect(DUMMY_HASH), Ok(HashFormat::Bcrypt));
        assert!(DUMMY_HASH.starts_with("$2b$10$"));
        assert_eq!(verify("a-random-password-8c1f0e2b", DUMMY_HASH), Ok(false));
    }

    #[test]
    fn detection_by_prefix() {
        let cases = [
            ("$2a$10$x", HashFormat::Bcrypt),
            ("$2b$12$x", HashFormat::Bcrypt),
            ("$2y$04$x", HashFormat::Bcrypt),
            ("$argon2id$v=19$m=1,t=1,p=1$a$b", HashFormat::Argon2id),
            ("$argon2i$v=19$m=1,t=1,p=1$a$b", HashFormat::Argon2i),
            ("argon2$argon2id$v=19$x", HashFormat::Argon2id),
            ("argon2$argon2i$v=19$x", HashFormat::Argon2i),
            ("$scrypt$ln=14,r=8,p=1$a$b", HashFormat::Scrypt),
            ("$pbkdf2-sha256$i=1000$a$b", HashFormat::Pbkdf2Sha256),
            ("$pbkdf2-sha256$29000$a$b", HashFormat::Pbkdf2Sha256),
            ("pbkdf2_sha256$1000$a$b", HashFormat::DjangoPbkdf2Sha256),
            ("$6$salt$hash", HashFormat::Sha512Crypt),
            ("$6$rounds=5000$salt$hash", HashFormat::Sha512Crypt),
        ];
        for (stored, format) in cases {
            assert_eq!(detect(stored), Ok(format), "{stored}");
        }
    }

    #[test]
    fn unknown_formats() {
        let cases = [
            UNKNOWN_MD5,
            "",
            "   ",
            "plaintext-password",
            "$7$CU..../....saltsalt$hash", // yescrypt-era scrypt-crypt
            "U$S$9abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", // Drupal's upgraded MD5
            "$wp$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzabcde",
            "$2x$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzabcde", // crypt_blowfish bug flag
            "$2$10$abcdefghijklmnopqrstuu",
            "$argon2d$v=19$m=19456,t=2,p=1$a$b",
            "$pbkdf2-sha512$i=1000$a$b",
            "$pbkdf2$29000$a$b",
            "pbkdf2_sha1$1000$a$b",
            "bcrypt_sha256$$2b$12$x",
            "{SSHA}abcdef",
            "sha1$salt$hash",
        ];
        for stored in cases {
            assert_eq!(detect(stored), Err(HashError::UnknownFormat), "{stored:?}");
            assert_eq!(
                verify("legacy-unknownfmt-pw", stored),
                Err(HashError::UnknownFormat)
            );
        }
    }

    #[test]
    fn malformed_values() {
        let (_, argon, _) = fixture("argon2id");
        let argon_no_hash = argon.rsplit_once('$').unwrap().0;
        let (_, scrypt_hash, _) = fixture("scrypt");
        let scrypt_no_hash = scrypt_hash.rsplit_once('$').unwrap().0;
        let cases: &[(String, HashFormat)] = &[
            ("$2b$10$short".into(), HashFormat::Bcrypt),
            (
                "$2b$1x$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzabcde".into(),
                HashFormat::Bcrypt,
            ),
            (
                "$2b$10$abcdefghijklmnopqrstu!abcdefghijklmnopqrstuvwxyzabcde".into(),
                HashFormat::Bcrypt,
            ),
            (
                "$2b$10$abcdefghijklmnopqrstuuécdefghijklmnopqrstuvwxyzabcde".into(),
                HashFormat::Bcrypt,
            ),
            (argon_no_hash.into(), HashFormat::Argon2id),
            (argon.replace("m=19456", "m=abc"), HashFormat::Argon2id),
            (argon.replace("t=2", "t=-2"), HashFormat::Argon2id),
            (argon.replace("p=1", "q=1"), HashFormat::Argon2id),
            (format!("{argon}$extra"), HashFormat::Argon2id),
            ("$argon2id$v=19$m=19456,t=2,p=1$!!!!!!!!!!!!$abc".into(), HashFormat::Argon2id),
            (scrypt_no_hash.into(), HashFormat::Scrypt),
            (scrypt_hash.replace("ln=14", "ln=x"), HashFormat::Scrypt),
            (scrypt_hash.replace("r=8", "r=0"), HashFormat::Scrypt),
            ("$pbkdf2-sha256$i=29000,l=32$c2FsdHNhbHQ".into(), HashFormat::Pbkdf2Sha256),
            ("$pbkdf2-sha256$i=999,l=32$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA".into(), HashFormat::Pbkdf2Sha256),
            ("$pbkdf2-sha256$29000$onlysalt".into(), HashFormat::Pbkdf2Sha256),
            ("$pbkdf2-sha256$29000$salt$hash$extra".into(), HashFormat::Pbkdf2Sha256),
            ("$pbkdf2-sha256$29000$c2FsdA$dG9vc2hvcnQ".into(), HashFormat::Pbkdf2Sha256),
            ("$pbkdf2-sha256$0$c2FsdA$PfFfc.KJ8s4DaDrXmT/0UslfCn/Almc57gOqkDVy4rs".into(), HashFormat::Pbkdf2Sha256),
            ("pbkdf2_sha256$abc$salt$yjV3mdX1iYMIjm1OO6bgQ81qE7MFdGkni1cWGp+HlBM=".into(), HashFormat::DjangoPbkdf2Sha256),
            ("pbkdf2_sha256$30000$salt$not*base64".into(), HashFormat::DjangoPbkdf2Sha256),
            ("pbkdf2_sha256$30000$salt$c2hvcnQ=".into(), HashFormat::DjangoPbkdf2Sha256),
            ("pbkdf2_sha256$30000$salt".into(), HashFormat::DjangoPbkdf2Sha256),
            ("pbkdf2_sha256$-5$salt$yjV3mdX1iYMIjm1OO6bgQ81qE7MFdGkni1cWGp+HlBM=".into(), HashFormat::DjangoPbkdf2Sha256),
            ("$6$onlysalt".into(), HashFormat::Sha512Crypt),
            ("$6$rounds=abc$salt$hash".into(), HashFormat::Sha512Crypt),
            ("$6$rounds=999$saltsalt$mlhgNd65xdvbLNtDEbbvhYZDWrwiL1nlhKllaP8mgGsPlls1XLVjJS7C8HoUZnbtXXKGpNcT42RsPCSBn1xKs0".into(), HashFormat::Sha512Crypt),
            ("$6$rounds=5000".into(), HashFormat::Sha512Crypt),
            ("$6$salt$hash with spaces".into(), HashFormat::Sha512Crypt),
            ("$6$saltsalt$tooshort".into(), HashFormat::Sha512Crypt),
            ("$6$saltsalt$mlhgNd65xdvbLNtDEbbvhYZDWrwiL1nlhKllaP8mgGsPlls1XLVjJS7C8HoUZnbtXXKGpNcT42RsPCSBn1xKs!".into(), HashFormat::Sha512Crypt),
        ];
        for (stored, format) in cases {
            assert_eq!(detect(stored), Ok(*format), "{stored}");
            assert_eq!(
                verify("password", stored),
                Err(HashError::Malformed(*format)),
                "{stored}"
            );
        }
    }

    #[test]
    fn a_limit_itself_is_allowed_and_one_more_is_not() {
        for limit in [0, 14, MAX_PBKDF2_ITERATIONS, u64::MAX - 1] {
            assert!(within(limit, limit), "{limit}");
            assert!(within(limit.saturating_sub(1), limit), "{limit}");
            assert!(!within(limit + 1, limit), "{limit}");
        }
    }

    #[test]
    fn sha512_crypt_rounds_below_the_minimum_are_malformed() {
        let (password, hash, _) = fixture("sha512rounds");
        for (rounds, malformed) in [("999", true), ("1", true), ("1000", false), ("1001", false)] {
            let changed = hash.replacen("rounds=6000", &format!("rounds={rounds}"), 1);
            let answer = verify(password, &changed);
            assert_eq!(
                answer == Err(HashError::Malformed(HashFormat::Sha512Crypt)),
                malformed,
                "rounds={rounds}: {answer:?}"
            );
        }
    }

    #[test]
    fn a_bcrypt_hash_with_anything_after_it_is_malformed() {
        let (password, hash, _) = fixture("bcrypt2b");
        for tampered in [
            format!("{hash}x"),
            format!("{hash}\u{e9}"),
            hash[..59].to_owned(),
        ] {
            assert_eq!(
                verify(password, &tampered),
                Err(HashError::Malformed(HashFormat::Bcrypt)),
                "{tampered}"
            );
        }
    }

    #[test]
    fn costs_above_the_limits_are_refused_before_any_work() {
        let (_, bcrypt_hash, _) = fixture("bcrypt2b");
        let (_, argon, _) = fixture("argon2id");
        let (_, scrypt_hash, _) = fixture("scrypt");
        let (_, pbkdf2_hash, _) = fixture("pbkdf2");
        let (_, passlib_hash, _) = fixture("pbkdf2passlib");
        let (_, django_hash, _) = fixture("django");
        let (_, sha512_hash, _) = fixture("sha512rounds");
        let cases: &[(String, HashFormat)] = &[
            (bcrypt_hash.replacen("$10$", "$15$", 1), HashFormat::Bcrypt),
            (bcrypt_hash.replacen("$10$", "$31$", 1), HashFormat::Bcrypt),
            (bcrypt_hash.replacen("$10$", "$99$", 1), HashFormat::Bcrypt),
            (argon.replace("m=19456", "m=262145"), HashFormat::Argon2id),
            (
                argon.replace("m=19456", "m=4294967295"),
                HashFormat::Argon2id,
            ),
            (
                argon.replace("m=19456", "m=99999999999999999999999"),
                HashFormat::Argon2id,
            ),
            (argon.replace("t=2", "t=11"), HashFormat::Argon2id),
            // Each within its own limit, but 256 MiB × 10 passes is too much work.
            (
                argon.replace("m=19456", "m=262144").replace("t=2", "t=10"),
                HashFormat::Argon2id,
            ),
            (
                format!("argon2{}", argon.replace("t=2", "t=4000")),
                HashFormat::Argon2id,
            ),
            (scrypt_hash.replace("ln=14", "ln=21"), HashFormat::Scrypt),
            (scrypt_hash.replace("ln=14", "ln=63"), HashFormat::Scrypt),
            // 128 × 8 × 2^20 = 1 GiB of memory.
            (scrypt_hash.replace("ln=14", "ln=20"), HashFormat::Scrypt),
            (scrypt_hash.replace("r=8", "r=100000"), HashFormat::Scrypt),
            // 16 MiB of memory, but 64 lanes of it.
            (scrypt_hash.replace("p=1", "p=64"), HashFormat::Scrypt),
            (
                pbkdf2_hash.replace("i=29000", "i=2000001"),
                HashFormat::Pbkdf2Sha256,
            ),
            (
                pbkdf2_hash.replace("i=29000", "i=4294967295"),
                HashFormat::Pbkdf2Sha256,
            ),
            (
                passlib_hash.replace("$29000$", "$2000001$"),
                HashFormat::Pbkdf2Sha256,
            ),
            (
                django_hash.replace("$30000$", "$2000001$"),
                HashFormat::DjangoPbkdf2Sha256,
            ),
            (
                django_hash.replace("$30000$", "$99999999999999999999999$"),
                HashFormat::DjangoPbkdf2Sha256,
            ),
            (
                sha512_hash.replace("rounds=6000", "rounds=2000001"),
                HashFormat::Sha512Crypt,
            ),
            (
                sha512_hash.replace("rounds=6000", "rounds=999999999"),
                HashFormat::Sha512Crypt,
            ),
            (
                sha512_hash.replace("rounds=6000", "rounds=99999999999999999999999"),
                HashFormat::Sha512Crypt,
            ),
        ];
        for (stored, format) in cases {
            assert_eq!(detect(stored), Ok(*format), "{stored}");
            assert_eq!(
                verify("password", stored),
                Err(HashError::CostTooHigh(*format)),
                "{stored}"
            );
        }
    }

    #[test]
    fn messages_name_the_format_but_not_the_hash() {
        let (password, hash, _) = fixture("bcrypt2b");
        let too_costly = hash.replacen("$10$", "$20$", 1);
        let error = verify(password, &too_costly).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("bcrypt"), "{message}");
        assert!(
            !message.contains('$') && !message.contains(password),
            "{message}"
        );
        assert!(!format!("{error:?}").contains('$'));
        for error in [
            HashError::UnknownFormat,
            HashError::Malformed(HashFormat::DjangoPbkdf2Sha256),
            HashError::CostTooHigh(HashFormat::Sha512Crypt),
        ] {
            assert!(!error.to_string().is_empty());
        }
        assert_eq!(HashFormat::Sha512Crypt.to_string(), "sha512-crypt");
    }

    #[test]
    fn format_names_are_distinct() {
        let all = [
            HashFormat::Bcrypt,
            HashFormat::Argon2id,
            HashFormat::Argon2i,
            HashFormat::Scrypt,
            HashFormat::Pbkdf2Sha256,
            HashFormat::DjangoPbkdf2Sha256,
            HashFormat::Sha512Crypt,
            HashFormat::Sha256Crypt,
            HashFormat::Md5Crypt,
            HashFormat::Phpass,
            HashFormat::Drupal7,
            HashFormat::WordPressBcrypt,
        ];
        let names: std::collections::HashSet<_> = all.iter().map(|format| format.name()).collect();
        assert_eq!(names.len(), all.len());
    }

    /// The formats of PHP applications' MySQL tables, made by `tests/fixtures/make_mysql_hashes.py`
    /// (passlib, the `bcrypt` package over WordPress's pre-hash, hashlib after Drupal's
    /// password.inc checked against hashcat's example, PHP's own `password_hash`): the same rows
    /// as `tests/fixtures/legacy_users_mysql.sql`.
    const PHP_FIXTURES: &[(&str, &str, &str, HashFormat)] = &[
        (
            "wordpress",
            "legacy-wordpress-pw",
            "$P$6cxZaybwXcW8T6mTZL1hbTqYdoL./31",
            HashFormat::Phpass,
        ),
        (
            "phpbb",
            "legacy-phpbb-pw",
            "$H$6XP94mRxIG140s3VRTi5Y/2jmZ/ABw0",
            HashFormat::Phpass,
        ),
        (
            "wordpress68",
            "legacy-wordpress68-pw",
            "$wp$2y$10$I3Ij0r5zgl3tBD7pJEi6GuAnpSFltgLn4ENjgk5fXp0y0CB9k00ba",
            HashFormat::WordPressBcrypt,
        ),
        (
            "drupal7",
            "legacy-drupal7-pw",
            "$S$D/mgVQZYM/LnAsYGOn/R/zjwx1vIVhTXRVUgsHGz8/JB23dnGP0i",
            HashFormat::Drupal7,
        ),
        (
            "md5crypt",
            "legacy-md5crypt-pw",
            "$1$lPNDPl.T$7.Ss8cjdheC7euaB7IfQs0",
            HashFormat::Md5Crypt,
        ),
        (
            "sha256crypt",
            "legacy-sha256crypt-pw",
            "$5$OC82Z9vsOjxOm1xk$6l0mUZoKlQfrim0BdhRlvOVMyEuaifaEogvnBXJYY1.",
            HashFormat::Sha256Crypt,
        ),
        (
            "sha256rounds",
            "legacy-sha256rounds-pw",
            "$5$rounds=10000$xOT11t80eKP9d7Pr$MIstcweg7dmpV38mkv4HGmmKRs0mX3UHp7hlBs.j.H5",
            HashFormat::Sha256Crypt,
        ),
        (
            "phpbcrypt",
            "legacy-phpbcrypt-pw",
            "$2y$10$Amn3LpFeGxJYOUotjs7YLuEfUuc1rqJVk7HzJMN6EcMSGrn1SjFIe",
            HashFormat::Bcrypt,
        ),
        (
            "phpargon2id",
            "legacy-phpargon2id-pw",
            "$argon2id$v=19$m=65536,t=4,p=1$UXB1R09RcEdPYWtUL3Y2Vw$SJDbJa2CSn1AfKvfPl9rTQ81YmzI/wZiAtDqiyTldUw",
            HashFormat::Argon2id,
        ),
    ];

    #[test]
    fn every_php_application_format_verifies_its_own_password_only() {
        for &(username, password, hash, format) in PHP_FIXTURES {
            assert_eq!(detect(hash), Ok(format), "{username}");
            assert_eq!(
                verify(password, hash),
                Ok(true),
                "{username}: right password"
            );
            assert_eq!(
                verify(&format!("{password}x"), hash),
                Ok(false),
                "{username}: wrong password"
            );
            assert_eq!(verify("", hash), Ok(false), "{username}: empty password");
            // Another user's password, the same length.
            let other = PHP_FIXTURES
                .iter()
                .find(|(name, ..)| *name != username)
                .map(|(_, other, ..)| *other)
                .unwrap_or("x");
            assert_eq!(
                verify(other, hash),
                Ok(false),
                "{username}: another's password"
            );
        }
    }

    #[test]
    fn published_example_hashes_verify() {
        // hashcat's example hashes (password "hashcat"): modes 400 (phpass), 500 (md5crypt),
        // 7900 (Drupal 7), independent of this project's fixtures.
        for (hash, format) in [
            ("$P$984478476IagS59wHZvyQMArzfx58u.", HashFormat::Phpass),
            ("$1$28772684$iEwNOgGugqO9.bIz5sk8k/", HashFormat::Md5Crypt),
            (
                "$S$C33783772bRXEx1aCsvY.dqgaaSu76XmVlKrW9Qu8IQlvxHlmzLf",
                HashFormat::Drupal7,
            ),
        ] {
            assert_eq!(detect(hash), Ok(format), "{hash}");
            assert_eq!(verify("hashcat", hash), Ok(true), "{hash}");
            assert_eq!(verify("hashcaT", hash), Ok(false), "{hash}");
        }
    }

    #[test]
    fn long_non_ascii_passwords_verify_as_the_reference_implementations_hash_them() {
        // 140 bytes of UTF-8 (past bcrypt's 72, which WordPress's pre-hash sidesteps), made by
        // passlib, hashlib and the `bcrypt` package (tests/fixtures/make_mysql_hashes.py's
        // makers).
        let password = "Pässwörd ünïcødé 密码 🔑 ".repeat(4);
        for (hash, format) in [
            ("$P$6d20FQQhi.As9bDO9MACoZ9nmUlwJE.", HashFormat::Phpass),
            (
                "$S$DDQYF72ZHO748yiyd5JWp6Hc7EwFTy5Nb3Wk4Dl8OOBSSxZXnIcp",
                HashFormat::Drupal7,
            ),
            ("$1$btZKhIVw$QmUQYl5pBMBu1SG/Fsaop/", HashFormat::Md5Crypt),
            (
                "$5$e1Xar7RlyjPc5rKJ$.4wzj1BV5EVQQ9H04ryDCbF/Lwfph3i1MAXWwhlWw13",
                HashFormat::Sha256Crypt,
            ),
            (
                "$wp$2y$10$MIVjtM0ZBIgiQPEHnYq2FuXN8OwqkJDFniLSyG1cTLENfqoA6cjiS",
                HashFormat::WordPressBcrypt,
            ),
        ] {
            assert_eq!(verify(&password, hash), Ok(true), "{format}");
            // One byte different, past the 72nd.
            let mut other = password.clone();
            other.push('x');
            assert_eq!(verify(&other, hash), Ok(false), "{format}");
        }
    }

    #[test]
    fn malformed_php_application_hashes_are_refused() {
        let (_, _, wordpress, _) = PHP_FIXTURES[0];
        let cases: Vec<(String, HashFormat)> = vec![
            // Wrong length, a character outside the alphabet, a count outside 7..=30.
            (wordpress[..33].to_owned(), HashFormat::Phpass),
            (format!("{}!", &wordpress[..33]), HashFormat::Phpass),
            (format!("$P$4{}", &wordpress[4..]), HashFormat::Phpass),
            (format!("$P$U{}", &wordpress[4..]), HashFormat::Phpass),
            ("$S$Dshort".to_owned(), HashFormat::Drupal7),
            (
                "$1$$7.Ss8cjdheC7euaB7IfQs0".to_owned(),
                HashFormat::Md5Crypt,
            ),
            (
                "$1$toolongsalt$7.Ss8cjdheC7euaB7IfQs0".to_owned(),
                HashFormat::Md5Crypt,
            ),
            (
                "$1$lPNDPl.T$7.Ss8cjdheC7euaB7IfQs".to_owned(),
                HashFormat::Md5Crypt,
            ),
            ("$1$lPNDPl.T".to_owned(), HashFormat::Md5Crypt),
            ("$5$salt$short".to_owned(), HashFormat::Sha256Crypt),
            (
                "$5$rounds=999$xOT11t80eKP9d7Pr$MIstcweg7dmpV38mkv4HGmmKRs0mX3UHp7hlBs.j.H5"
                    .to_owned(),
                HashFormat::Sha256Crypt,
            ),
            ("$wp$2y$10$short".to_owned(), HashFormat::WordPressBcrypt),
        ];
        for (stored, format) in cases {
            assert_eq!(
                verify("legacy-wordpress-pw", &stored),
                Err(HashError::Malformed(format)),
                "{stored}"
            );
        }
    }

    #[test]
    fn php_application_costs_above_the_limits_are_refused_before_any_work() {
        // 2^19 rounds (count character `H`), and the formats' own top, 2^30 (`S`).
        for count in ['H', 'S'] {
            let phpass = format!("$P${count}12345678abcdefghijklmnopqrstuv");
            assert_eq!(
                verify("x", &phpass),
                Err(HashError::CostTooHigh(HashFormat::Phpass))
            );
            let drupal = format!("$S${count}12345678{}", "a".repeat(43));
            assert_eq!(
                verify("x", &drupal),
                Err(HashError::CostTooHigh(HashFormat::Drupal7))
            );
        }
        // 2^18 (`G`) is allowed: a mere mismatch.
        assert_eq!(verify("x", "$P$G12345678abcdefghijklmnopqrstuv"), Ok(false));
        assert_eq!(
            verify(
                "x",
                "$5$rounds=2000001$xOT11t80eKP9d7Pr$MIstcweg7dmpV38mkv4HGmmKRs0mX3UHp7hlBs.j.H5"
            ),
            Err(HashError::CostTooHigh(HashFormat::Sha256Crypt))
        );
        assert_eq!(
            verify(
                "x",
                "$wp$2y$15$I3Ij0r5zgl3tBD7pJEi6GuAnpSFltgLn4ENjgk5fXp0y0CB9k00ba"
            ),
            Err(HashError::CostTooHigh(HashFormat::WordPressBcrypt))
        );
    }
}
