//! Randomness: every code, salt, CAPTCHA text and nonce comes from the operating system's CSPRNG
//! through [`random_bytes`].

use crate::Error;

/// Fills `buffer` from the operating system's CSPRNG.
pub fn random_bytes(buffer: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buffer).map_err(|error| Error::Randomness(error.to_string()))
}
