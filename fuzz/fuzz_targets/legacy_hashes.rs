//! Every legacy hash parser and verifier: any password against any stored value (the input is
//! the password, a newline, the stored value; the seed corpus holds the test fixtures' hashes of
//! every format, see scripts/fuzz).
//!
//! Invariants: a stored value the password verifies against verifies again, and not for another
//! password; whether a value can be checked at all does not depend on the password. Costs above the limits are refused before any
//! work: scripts/fuzz runs this target with a timeout (30 s for up to three checks at the
//! highest allowed cost), so a value that takes too long is a finding.
#![no_main]

use cognito_passwordless::legacy::password_hash::verify;
use libfuzzer_sys::fuzz_target;

/// Another password: the same with its first character changed (so even bcrypt, which reads
/// only 72 bytes, sees the difference).
fn another(password: &str) -> String {
    let mut chars = password.chars();
    match chars.next() {
        Some('a') => format!("b{}", chars.as_str()),
        Some(_) => format!("a{}", chars.as_str()),
        None => "a".to_owned(),
    }
}

struct Input {
    password: String,
    stored: String,
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (password, stored) = text.split_once('\n').unwrap_or(("", &text));
    let input = Input {
        password: password.to_owned(),
        stored: stored.to_owned(),
    };
    // Cognito hands the trigger at most 256 characters.
    if input.password.chars().count() > 256 {
        return;
    }
    match verify(&input.password, &input.stored) {
        Ok(true) => {
            assert_eq!(verify(&input.password, &input.stored), Ok(true));
            assert_eq!(verify(&another(&input.password), &input.stored), Ok(false));
        }
        Ok(false) => {}
        // Whether a stored value can be checked never depends on the password (errors carry
        // only the format, by their type).
        Err(error) => assert_eq!(verify(&another(&input.password), &input.stored), Err(error)),
    }
});
