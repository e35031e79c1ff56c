//! The server side of Amazon Cognito's SRP variant, as its client libraries speak it
//! (amazon-cognito-identity-js `AuthenticationHelper`, pycognito `aws_srp`): the RFC 5054
//! 3072-bit group with g = 2, SHA-256 over big-endian bytes padded as the clients pad them
//! ([`pad`]), k = H(PAD(N) ‖ PAD(g)), x = H(PAD(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password)),
//! u = H(PAD(A) ‖ PAD(B)), the key HKDF-SHA-256 of PAD(S) with salt PAD(u) and info
//! "Caldera Derived Key" (16 bytes), and the client's proof
//! Base64(HMAC-SHA-256(key, poolName ‖ USER_ID_FOR_SRP ‖ SECRET_BLOCK ‖ TIMESTAMP)).
//!
//! `serve` holds the password (the local users file), so it computes the verifier itself; for a
//! user it does not have (or one without a password) it uses a random one, so the challenge
//! looks the same and no proof ever passes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// The RFC 5054 3072-bit prime.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// The longest `SRP_A` accepted, in hex digits (a padded 3072-bit number, with room to spare).
const MAX_A_HEX: usize = 1_024;

/// Why an SRP exchange cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrpError {
    /// `SRP_A` is not a hexadecimal number, or is 0 mod N (which would make the key known).
    #[error("SRP_A is not a valid SRP value")]
    InvalidA,
    /// The system's random number generator failed.
    #[error("the random number generator failed")]
    Random,
}

/// The group's constants.
struct Group {
    n: BigUint,
    g: BigUint,
    k: BigUint,
}

impl Group {
    fn get() -> &'static Group {
        static GROUP: std::sync::OnceLock<Group> = std::sync::OnceLock::new();
        GROUP.get_or_init(|| {
            let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap_or_default();
            let g = BigUint::from(2u8);
            let k = hash_numbers(&[&n, &g]);
            Group { n, g, k }
        })
    }
}

/// A number as the clients hash it: big-endian bytes, with a leading zero byte when the top bit
/// is set (`padHex` of amazon-cognito-identity-js); zero is one zero byte.
pub fn pad(number: &BigUint) -> Vec<u8> {
    let mut bytes = number.to_bytes_be();
    if bytes.first().is_some_and(|first| first & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    bytes
}

/// The lower-case hex the clients read numbers from (`toString(16)`, no padding).
pub fn hex(number: &BigUint) -> String {
    number.to_str_radix(16)
}

/// SHA-256 over the padded numbers, as a number.
fn hash_numbers(numbers: &[&BigUint]) -> BigUint {
    let mut hasher = Sha256::new();
    for number in numbers {
        hasher.update(pad(number));
    }
    BigUint::from_bytes_be(&hasher.finalize())
}

/// x = H(PAD(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password)), the second hash as the lower-case
/// hex of its 32 bytes (the clients concatenate hex strings before hashing the bytes they
/// spell).
fn private_key(pool_name: &str, user_id: &str, password: &str, salt: &BigUint) -> BigUint {
    let inner = Sha256::digest(format!("{pool_name}{user_id}:{password}").as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(pad(salt));
    hasher.update(inner);
    BigUint::from_bytes_be(&hasher.finalize())
}

/// The 16-byte key both sides derive from S and u.
fn derive_key(s: &BigUint, u: &BigUint) -> [u8; 16] {
    // HKDF-SHA-256, one block: PRK = HMAC(salt = PAD(u), PAD(S)); OKM = HMAC(PRK, info ‖ 0x01).
    let mut key = [0u8; 16];
    let Ok(mut extract) = Hmac::<Sha256>::new_from_slice(&pad(u)) else {
        return key;
    };
    extract.update(&pad(s));
    let prk = extract.finalize().into_bytes();
    let Ok(mut expand) = Hmac::<Sha256>::new_from_slice(&prk) else {
        return key;
    };
    expand.update(b"Caldera Derived Key\x01");
    let okm = expand.finalize().into_bytes();
    key.copy_from_slice(okm.get(..16).unwrap_or(&[0; 16]));
    key
}

fn random_bytes(count: usize) -> Result<Vec<u8>, SrpError> {
    let mut bytes = vec![0u8; count];
    getrandom::fill(&mut bytes).map_err(|_| SrpError::Random)?;
    Ok(bytes)
}

/// `SRP_A` as a number: hexadecimal, at most [`MAX_A_HEX`] digits, and not 0 mod N (which would
/// make the key known to anyone).
fn parse_a(srp_a: &str) -> Result<BigUint, SrpError> {
    if srp_a.is_empty()
        || srp_a.len() > MAX_A_HEX
        || !srp_a.bytes().all(|byte| byte.is_ascii_hexdigit())
    {
        return Err(SrpError::InvalidA);
    }
    let a = BigUint::parse_bytes(srp_a.as_bytes(), 16).ok_or(SrpError::InvalidA)?;
    if (&a % &Group::get().n) == BigUint::default() {
        return Err(SrpError::InvalidA);
    }
    Ok(a)
}

/// Checks a client's `SRP_A` before anything else happens (request decoding).
pub fn check_a(srp_a: &str) -> Result<(), SrpError> {
    parse_a(srp_a).map(drop)
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The Unix time of a `TIMESTAMP` as Cognito requires it: `EEE MMM d HH:mm:ss UTC yyyy` in
/// English, the day without a leading zero, the weekday the date's own (`Tue Dec 8 01:02:03
/// UTC 2026`); `None` for anything else.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split(' ').collect();
    let [weekday, month, day, time, zone, year] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|name| name == month)? as i64 + 1;
    if day.starts_with('0') || day.is_empty() || day.len() > 2 || *zone != "UTC" {
        return None;
    }
    let digits = |text: &str, length: usize| {
        (text.len() == length && text.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| text.parse::<i64>().ok())
            .flatten()
    };
    let day = digits(day, day.len())?;
    let year = digits(year, 4)?;
    let clock: Vec<&str> = time.split(':').collect();
    let [hours, minutes, seconds] = clock.as_slice() else {
        return None;
    };
    let (hours, minutes, seconds) = (digits(hours, 2)?, digits(minutes, 2)?, digits(seconds, 2)?);
    let month_days = match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=month_days).contains(&day) || hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let weekday_index = (days + 4).rem_euclid(7) as usize;
    if WEEKDAYS.get(weekday_index) != Some(weekday) {
        return None;
    }
    u64::try_from(days * 86_400 + hours * 3_600 + minutes * 60 + seconds).ok()
}

/// How far a claim's `TIMESTAMP` may be from the server's clock, in seconds.
pub const TIMESTAMP_SKEW_SECONDS: u64 = 300;

/// What the server keeps between `PASSWORD_VERIFIER` and the client's answer.
#[derive(Clone)]
pub struct SrpExchange {
    pool_name: String,
    user_id: String,
    a: BigUint,
    b: BigUint,
    big_b: BigUint,
    verifier: BigUint,
    salt: BigUint,
    secret_block: Vec<u8>,
}

impl std::fmt::Debug for SrpExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrpExchange")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// What the client's answer to `PASSWORD_VERIFIER` holds.
#[derive(Debug, Clone, Copy)]
pub struct PasswordClaim<'a> {
    /// `PASSWORD_CLAIM_SECRET_BLOCK`: the secret block given back (Base64).
    pub secret_block: &'a str,
    /// `TIMESTAMP`, as the client signed it.
    pub timestamp: &'a str,
    /// `PASSWORD_CLAIM_SIGNATURE` (Base64).
    pub signature: &'a str,
}

impl SrpExchange {
    /// Starts an exchange for `user_id` of the pool whose id ends in `_<pool_name>`, given the
    /// client's `SRP_A` (hex). With `password` `None` (no such user, or no password) the
    /// verifier is random: the challenge looks the same, and no claim passes.
    pub fn start(
        pool_name: &str,
        user_id: &str,
        password: Option<&str>,
        srp_a: &str,
    ) -> Result<Self, SrpError> {
        let group = Group::get();
        let a = parse_a(srp_a)?;
        let salt = BigUint::from_bytes_be(&random_bytes(16)?);
        // Without a password, g^r for a random r: the same work as a real verifier, so the time
        // to answer tells nothing about the user.
        let x = match password {
            Some(password) => private_key(pool_name, user_id, password, &salt),
            None => BigUint::from_bytes_be(&random_bytes(32)?),
        };
        let verifier = group.g.modpow(&x, &group.n);
        let b = BigUint::from_bytes_be(&random_bytes(128)?) % &group.n;
        // B = k·v + g^b mod N
        let big_b = (&group.k * &verifier + group.g.modpow(&b, &group.n)) % &group.n;
        Ok(Self {
            pool_name: pool_name.to_owned(),
            user_id: user_id.to_owned(),
            a,
            b,
            big_b,
            verifier,
            salt,
            secret_block: random_bytes(64)?,
        })
    }

    /// The `PASSWORD_VERIFIER` challenge parameters: `SALT` and `SRP_B` (hex), `SECRET_BLOCK`
    /// (Base64), `USER_ID_FOR_SRP`.
    pub fn parameters(&self) -> [(&'static str, String); 4] {
        [
            ("SALT", hex(&self.salt)),
            ("SRP_B", hex(&self.big_b)),
            ("SECRET_BLOCK", STANDARD.encode(&self.secret_block)),
            ("USER_ID_FOR_SRP", self.user_id.clone()),
        ]
    }

    /// Whether `secret_block` (Base64) is this exchange's: `USER_SRP_AUTH` clients may answer
    /// without the `Session`, as Cognito's secret block carries its state (pycognito does).
    pub fn holds_secret_block(&self, secret_block: &str) -> bool {
        STANDARD
            .decode(secret_block)
            .is_ok_and(|block| bool::from(block.ct_eq(&self.secret_block)))
    }

    /// Whether the claim proves the password: the secret block is the one given, and the
    /// signature is the one the key made from the password would give (compared in constant
    /// time).
    pub fn verify(&self, claim: PasswordClaim<'_>) -> bool {
        self.verify_at(claim, cognito_passwordless::triggers::unix_now())
    }

    /// [`SrpExchange::verify`] with the server's clock at `now` (Unix seconds): the claim's
    /// `TIMESTAMP` must be well-formed and within [`TIMESTAMP_SKEW_SECONDS`] of it.
    pub fn verify_at(&self, claim: PasswordClaim<'_>, now: u64) -> bool {
        let group = Group::get();
        let on_time = parse_timestamp(claim.timestamp)
            .is_some_and(|at| at.abs_diff(now) <= TIMESTAMP_SKEW_SECONDS);
        let Ok(block) = STANDARD.decode(claim.secret_block) else {
            return false;
        };
        if !bool::from(block.ct_eq(&self.secret_block)) {
            return false;
        }
        let Ok(signature) = STANDARD.decode(claim.signature) else {
            return false;
        };
        let u = hash_numbers(&[&self.a, &self.big_b]);
        if u == BigUint::default() {
            return false;
        }
        // S = (A · v^u)^b mod N
        let s = (&self.a * self.verifier.modpow(&u, &group.n)).modpow(&self.b, &group.n);
        let key = derive_key(&s, &u);
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
            return false;
        };
        mac.update(self.pool_name.as_bytes());
        mac.update(self.user_id.as_bytes());
        mac.update(&self.secret_block);
        mac.update(claim.timestamp.as_bytes());
        mac.verify_slice(&signature).is_ok() && on_time
    }
}

/// The client side, written from the same description, for tests (the tests of `serve` also run
/// amazon-cognito-identity-js and a Python client from PyPI against it).
#[cfg(test)]
pub(crate) mod client {
    use super::*;

    /// `a` and `A = g^a`.
    pub(crate) fn ephemeral() -> (BigUint, BigUint) {
        let group = Group::get();
        let a = BigUint::from_bytes_be(&random_bytes(128).unwrap()) % &group.n;
        let big_a = group.g.modpow(&a, &group.n);
        (a, big_a)
    }

    /// The claim's signature for the challenge `parameters` and `password`.
    pub(crate) fn sign(
        pool_name: &str,
        password: &str,
        (a, big_a): &(BigUint, BigUint),
        parameters: &[(&'static str, String); 4],
        timestamp: &str,
    ) -> String {
        let group = Group::get();
        let get = |name: &str| {
            parameters
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
                .unwrap()
        };
        let salt = BigUint::parse_bytes(get("SALT").as_bytes(), 16).unwrap();
        let big_b = BigUint::parse_bytes(get("SRP_B").as_bytes(), 16).unwrap();
        let user_id = get("USER_ID_FOR_SRP");
        let u = hash_numbers(&[big_a, &big_b]);
        let x = private_key(pool_name, &user_id, password, &salt);
        // S = (B − k·g^x)^(a + u·x) mod N, kept non-negative.
        let kgx = (&group.k * group.g.modpow(&x, &group.n)) % &group.n;
        let base = (&big_b + &group.n - kgx) % &group.n;
        let s = base.modpow(&(a + &u * &x), &group.n);
        let key = derive_key(&s, &u);
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(pool_name.as_bytes());
        mac.update(user_id.as_bytes());
        mac.update(&STANDARD.decode(get("SECRET_BLOCK")).unwrap());
        mac.update(timestamp.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMESTAMP: &str = "Tue Dec 8 01:02:03 UTC 2026";

    /// The server's clock when the claims are checked: their timestamp.
    fn now() -> u64 {
        parse_timestamp(TIMESTAMP).unwrap()
    }

    fn exchange(password: Option<&str>) -> (SrpExchange, (BigUint, BigUint)) {
        let client = client::ephemeral();
        let server = SrpExchange::start("local", "alice", password, &hex(&client.1)).unwrap();
        (server, client)
    }

    #[test]
    fn the_right_password_passes_and_nothing_else_does() {
        let (server, ephemeral) = exchange(Some("alice-local-password"));
        let parameters = server.parameters();
        let block = parameters[2].1.clone();
        let claim = |password: &str, pool: &str, timestamp: &str| {
            client::sign(pool, password, &ephemeral, &parameters, timestamp)
        };
        let right = claim("alice-local-password", "local", TIMESTAMP);
        assert!(server.verify_at(
            PasswordClaim {
                secret_block: &block,
                timestamp: TIMESTAMP,
                signature: &right,
            },
            now()
        ));
        for (signature, timestamp, secret_block) in [
            (
                claim("alice-local-passwore", "local", TIMESTAMP),
                TIMESTAMP,
                block.as_str(),
            ),
            (
                claim("alice-local-password", "other", TIMESTAMP),
                TIMESTAMP,
                block.as_str(),
            ),
            // A signature for another timestamp, or another block given back.
            (right.clone(), "Tue Dec 8 01:02:04 UTC 2026", block.as_str()),
            // A right signature over a timestamp Cognito refuses, or one too far from the clock.
            (
                claim(
                    "alice-local-password",
                    "local",
                    "Tue Dec 08 01:02:03 UTC 2026",
                ),
                "Tue Dec 08 01:02:03 UTC 2026",
                block.as_str(),
            ),
            (
                claim(
                    "alice-local-password",
                    "local",
                    "Tue Dec 8 01:12:03 UTC 2026",
                ),
                "Tue Dec 8 01:12:03 UTC 2026",
                block.as_str(),
            ),
            (right.clone(), TIMESTAMP, "AAAA"),
            (right.clone(), TIMESTAMP, "not base64!"),
            ("not base64!".to_owned(), TIMESTAMP, block.as_str()),
            (String::new(), TIMESTAMP, block.as_str()),
        ] {
            assert!(!server.verify_at(
                PasswordClaim {
                    secret_block,
                    timestamp,
                    signature: &signature,
                },
                now()
            ));
        }
    }

    #[test]
    fn an_unknown_user_gets_a_challenge_of_the_same_shape_and_never_passes() {
        let (server, ephemeral) = exchange(None);
        let parameters = server.parameters();
        let signature = client::sign("local", "", &ephemeral, &parameters, TIMESTAMP);
        assert!(!server.verify_at(
            PasswordClaim {
                secret_block: &parameters[2].1,
                timestamp: TIMESTAMP,
                signature: &signature,
            },
            now()
        ));
        let (known, _) = exchange(Some("p"));
        for ((name, value), (known_name, known_value)) in parameters.iter().zip(known.parameters())
        {
            assert_eq!(*name, known_name);
            if *name != "USER_ID_FOR_SRP" {
                // Lengths vary with leading zero digits only.
                assert!(value.len().abs_diff(known_value.len()) <= 8, "{name}");
            }
        }
    }

    #[test]
    fn values_of_a_that_would_give_the_key_away_are_refused() {
        let n = hex(&Group::get().n);
        for a in ["0", "", "zz", "1_0", n.as_str(), &format!("{n}{n}")] {
            assert_eq!(
                SrpExchange::start("local", "alice", Some("p"), a).unwrap_err(),
                SrpError::InvalidA,
                "{a}"
            );
        }
        let twice_n = hex(&(&Group::get().n * 2u8));
        assert!(SrpExchange::start("local", "alice", Some("p"), &twice_n).is_err());
    }

    #[test]
    fn timestamps_are_read_exactly_as_cognito_writes_them() {
        assert_eq!(parse_timestamp("Thu Jan 1 00:00:00 UTC 1970"), Some(0));
        assert_eq!(
            parse_timestamp("Tue Dec 8 01:02:03 UTC 2026"),
            Some(1_796_691_723)
        );
        assert_eq!(
            parse_timestamp("Thu Feb 29 12:00:00 UTC 2024"),
            Some(1_709_208_000)
        );
        for wrong in [
            "Tue Dec 08 01:02:03 UTC 2026",
            "Wed Dec 8 01:02:03 UTC 2026",
            "Tue Dez 8 01:02:03 UTC 2026",
            "Tue Dec 8 1:02:03 UTC 2026",
            "Tue Dec 8 01:02:03 GMT 2026",
            "Tue Dec 8 01:02:03 UTC 26",
            "Tue Dec 8 24:00:00 UTC 2026",
            "Thu Feb 29 12:00:00 UTC 2023",
            "Tue Dec 8 01:02:03 UTC 2026 ",
            "Tue  Dec 8 01:02:03 UTC 2026",
            "",
        ] {
            assert_eq!(parse_timestamp(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn padding_follows_the_clients() {
        assert_eq!(pad(&BigUint::from(0x7fu8)), vec![0x7f]);
        assert_eq!(pad(&BigUint::from(0x80u8)), vec![0, 0x80]);
        assert_eq!(pad(&BigUint::from(0x0100u16)), vec![1, 0]);
        assert_eq!(pad(&BigUint::default()), vec![0]);
        // k, as amazon-cognito-identity-js computes it: H(PAD(N) ‖ PAD(g)).
        assert_eq!(
            hex(&Group::get().k),
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
    }
}
