//! "A verified hash verifies": hashes of arbitrary passwords made by implementations independent
//! of the product (the `pwhash` crate for the crypt family and bcrypt; phpass `$P$`/`$H$`,
//! Drupal 7, WordPress 6.8, Django's and passlib's PBKDF2 transcribed here from their PHP and
//! Python sources) must verify with their password and with no other. (Argon2 and scrypt have
//! no independent Rust implementation to draw on; their fixtures come from argon2-cffi and
//! passlib, tests/fixtures/.)
#![no_main]
// MD5-crypt and SHA-256-crypt are what the legacy stores hold, not a choice made here.
#![allow(deprecated)]

use arbitrary::Arbitrary;
use cognito_passwordless::legacy::password_hash::verify;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use md5::Md5;
use sha2::{Digest, Sha256, Sha384, Sha512};

const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Debug, Arbitrary)]
enum Format {
    Md5Crypt,
    Sha256Crypt,
    Sha512Crypt,
    Bcrypt,
    Phpass,
    PhpassH,
    Drupal7,
    PasslibPbkdf2,
    WordPressBcrypt,
    DjangoPbkdf2,
}

#[derive(Debug, Arbitrary)]
struct Input {
    format: Format,
    password: String,
    salt: [u8; 16],
    salt_length: u8,
    cost: u8,
}

fn salt_text(bytes: &[u8], length: usize) -> String {
    bytes
        .iter()
        .take(length)
        .map(|byte| char::from(CRYPT64[usize::from(byte % 64)]))
        .collect()
}

/// phpass's encode64 (PasswordHash.php): little-endian groups of three bytes, six bits at a time.
fn encode64(input: &[u8], count: usize) -> String {
    let mut output = String::new();
    let mut i = 0;
    while i < count {
        let mut value = u32::from(input[i]);
        i += 1;
        output.push(char::from(CRYPT64[(value & 0x3f) as usize]));
        if i < count {
            value |= u32::from(input[i]) << 8;
        }
        output.push(char::from(CRYPT64[((value >> 6) & 0x3f) as usize]));
        if i >= count {
            break;
        }
        i += 1;
        if i < count {
            value |= u32::from(input[i]) << 16;
        }
        output.push(char::from(CRYPT64[((value >> 12) & 0x3f) as usize]));
        if i >= count {
            break;
        }
        i += 1;
        output.push(char::from(CRYPT64[((value >> 18) & 0x3f) as usize]));
    }
    output
}

/// phpass's crypt_private / Drupal 7's _password_crypt: the hash of salt and password, then
/// `2^log2` times the hash of the previous hash and the password.
fn portable<D: Digest>(
    prefix: &str,
    log2: usize,
    salt: &str,
    password: &str,
    length: usize,
) -> String {
    let mut hash = D::new()
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    for _ in 0..(1u64 << log2) {
        hash = D::new()
            .chain_update(&hash)
            .chain_update(password)
            .finalize();
    }
    let setting = format!("{prefix}{}{salt}", char::from(CRYPT64[log2]));
    let full = format!("{setting}{}", encode64(&hash, hash.len()));
    full[..length].to_owned()
}

/// Django's PBKDF2-HMAC-SHA256 (one block: 32 bytes).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let prf = |data: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(password).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes()
    };
    let mut u = prf(&[salt, &1u32.to_be_bytes()].concat());
    let mut t: [u8; 32] = u.into();
    for _ in 1..iterations {
        u = prf(&u);
        t.iter_mut().zip(u.iter()).for_each(|(t, u)| *t ^= u);
    }
    t
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn bcrypt(password: &[u8], salt: &[u8; 16], variant: pwhash::bcrypt::BcryptVariant) -> String {
    let salt = salt_text(salt, 22);
    // The last salt character carries only two bits: bcrypt's alphabet order.
    let setup = pwhash::bcrypt::BcryptSetup {
        salt: Some(&salt),
        cost: Some(4),
        variant: Some(variant),
    };
    pwhash::bcrypt::hash_with(setup, password).expect("pwhash bcrypt")
}

fuzz_target!(|input: Input| {
    let password = input.password.as_str();
    // Cognito's passwords: 1 to 256 characters; bcrypt refuses NUL bytes.
    if password.is_empty() || password.chars().count() > 256 {
        return;
    }
    let salt_length = 1 + usize::from(input.salt_length % 8);
    let rounds = 1000 + u32::from(input.cost) * 4;
    let log2 = 7 + usize::from(input.cost % 3);
    let stored = match input.format {
        Format::Md5Crypt => pwhash::md5_crypt::hash_with(
            format!("$1${}$", salt_text(&input.salt, salt_length)).as_str(),
            password,
        )
        .expect("pwhash md5-crypt"),
        Format::Sha256Crypt => pwhash::sha256_crypt::hash_with(
            format!("$5$rounds={rounds}${}$", salt_text(&input.salt, 16)).as_str(),
            password,
        )
        .expect("pwhash sha256-crypt"),
        Format::Sha512Crypt => pwhash::sha512_crypt::hash_with(
            format!("$6$rounds={rounds}${}$", salt_text(&input.salt, 16)).as_str(),
            password,
        )
        .expect("pwhash sha512-crypt"),
        Format::Bcrypt => {
            if password.contains('\0') {
                return;
            }
            bcrypt(
                password.as_bytes(),
                &input.salt,
                pwhash::bcrypt::BcryptVariant::V2y,
            )
        }
        Format::Phpass => portable::<Md5>("$P$", log2, &salt_text(&input.salt, 8), password, 34),
        Format::PhpassH => portable::<Md5>("$H$", log2, &salt_text(&input.salt, 8), password, 34),
        Format::Drupal7 => {
            portable::<Sha512>("$S$", log2, &salt_text(&input.salt, 8), password, 55)
        }
        Format::PasslibPbkdf2 => {
            // passlib's pbkdf2_sha256: "adapted base64" (no padding, `.` for `+`) of salt and
            // digest.
            let ab64 = |bytes: &[u8]| base64(bytes).trim_end_matches('=').replace('+', ".");
            let salt = &input.salt[..salt_length + 8];
            let digest = pbkdf2_sha256(password.as_bytes(), salt, rounds);
            format!("$pbkdf2-sha256${rounds}${}${}", ab64(salt), ab64(&digest))
        }
        Format::WordPressBcrypt => {
            // wp_hash_password (WordPress 6.8): bcrypt of the base64 HMAC-SHA-384 keyed "wp-sha384".
            let mut mac = Hmac::<Sha384>::new_from_slice(b"wp-sha384").expect("key");
            mac.update(password.as_bytes());
            let prehash = base64(&mac.finalize().into_bytes());
            format!(
                "$wp{}",
                bcrypt(
                    prehash.as_bytes(),
                    &input.salt,
                    pwhash::bcrypt::BcryptVariant::V2y
                )
            )
        }
        Format::DjangoPbkdf2 => {
            let salt = salt_text(&input.salt, 12);
            let digest = pbkdf2_sha256(password.as_bytes(), salt.as_bytes(), rounds);
            format!("pbkdf2_sha256${rounds}${salt}${}", base64(&digest))
        }
    };
    assert_eq!(verify(password, &stored), Ok(true), "{stored}");
    let mut chars = password.chars();
    let other = match chars.next() {
        Some('a') => format!("b{}", chars.as_str()),
        _ => format!("a{}", chars.as_str()),
    };
    assert_eq!(verify(&other, &stored), Ok(false), "{stored}");
});
