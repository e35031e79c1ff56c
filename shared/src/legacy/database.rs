//! What the database stores (PostgreSQL, MySQL) share once they have the user's row: the stored
//! hash checked here ([`super::password_hash`]), off the async threads; users without a row, or
//! without a hash this function can check, checked against a dummy hash instead, so every answer
//! takes about as long.

use super::password_hash::{self, DUMMY_HASH};
use super::{LegacyRecord, Lookup, SourceFailure};
use crate::Error;
use crate::event::Password;

/// The column holding the stored hash.
pub(super) const HASH_COLUMN: &str = "password_hash";

/// The dummy hash a store checks for users without a usable one: `LEGACY_DUMMY_HASH` (a hash in
/// the store's own format and cost), verified once here, or [`DUMMY_HASH`].
pub(super) async fn dummy_hash(configured: Option<&str>) -> Result<String, Error> {
    let Some(hash) = configured else {
        return Ok(DUMMY_HASH.to_owned());
    };
    let probe = hash.to_owned();
    let checked = tokio::task::spawn_blocking(move || {
        password_hash::verify("a-probe-that-matches-nothing", &probe)
    })
    .await
    .map_err(|error| Error::config("LEGACY_DUMMY_HASH", format!("check failed: {error}")))?;
    if let Err(error) = checked {
        return Err(Error::config(
            "LEGACY_DUMMY_HASH",
            format!("cannot be checked: {error}"),
        ));
    }
    Ok(hash.trim().to_owned())
}

/// The answer for a row (its hash column and attributes), or no row: the password checked when
/// one is given (sign-in), the record alone when not (forgot-password).
pub(super) async fn judge(
    row: Option<(Option<String>, LegacyRecord)>,
    password: Option<&Password>,
    dummy: &str,
) -> Result<Lookup, SourceFailure> {
    let Some((hash, record)) = row else {
        if let Some(password) = password {
            dummy_check(password, dummy).await;
        }
        return Ok(Lookup::NotFound);
    };
    let Some(password) = password else {
        return Ok(Lookup::Found(record));
    };
    let Some(hash) = hash else {
        dummy_check(password, dummy).await;
        return Ok(Lookup::Unverifiable(format!("`{HASH_COLUMN}` is NULL")));
    };
    let plain = password.expose().to_owned();
    // An unknown format, a malformed value or a cost over the limits is refused before any work
    // (see `password_hash`): the dummy check then spends that work, so these users take as long
    // as everyone else.
    let checked = tokio::task::spawn_blocking(move || password_hash::verify(&plain, &hash))
        .await
        .map_err(|error| SourceFailure(format!("hash check did not finish: {error}")))?;
    Ok(match checked {
        Ok(true) => Lookup::Found(record),
        Ok(false) => Lookup::WrongPassword,
        Err(error) => {
            dummy_check(password, dummy).await;
            Lookup::Unverifiable(error.to_string())
        }
    })
}

/// Checks `password` against the dummy hash and throws the result away.
async fn dummy_check(password: &Password, dummy: &str) {
    let password = password.expose().to_owned();
    let dummy = dummy.to_owned();
    let _ = tokio::task::spawn_blocking(move || password_hash::verify(&password, &dummy)).await;
}
