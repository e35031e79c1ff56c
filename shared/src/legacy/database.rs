//! What the database stores (PostgreSQL, MySQL) share once they have the user's rows: the stored
//! hash checked here ([`super::password_hash`]), off the async threads; users without a row, or
//! without a hash this function can check, checked against a dummy hash instead; and every
//! sign-in's answer held back to at least the dummy check's time, so a fast format (phpass,
//! MD5-crypt) does not tell registered users from unknown ones.

use std::time::{Duration, Instant};

use super::password_hash::{self, DUMMY_HASH};
use super::{LegacyRecord, Lookup, SourceFailure};
use crate::Error;
use crate::event::Password;

/// The largest `LEGACY_DATABASE_CA_FILE` read (RDS's global bundle of every region is about
/// 170 KB).
pub(super) const MAX_CA_FILE_BYTES: usize = 1024 * 1024;

/// The column holding the stored hash.
pub(super) const HASH_COLUMN: &str = "password_hash";

/// One row: its hash column (if not NULL) and its attributes.
pub(super) type UserRow = (Option<String>, LegacyRecord);

/// The hash checked for users without a usable one, and how long that check takes here.
#[derive(Debug, Clone)]
pub(super) struct DummyHash {
    hash: String,
    /// The dummy check's time, measured at cold start: every sign-in answers no sooner.
    floor: Duration,
}

impl DummyHash {
    /// `LEGACY_DUMMY_HASH` (a hash in the store's own format and cost), verified once here, or
    /// [`DUMMY_HASH`]; its check timed (the faster of two runs, the first warming up).
    pub(super) async fn new(configured: Option<&str>) -> Result<Self, Error> {
        let hash = configured.unwrap_or(DUMMY_HASH).trim().to_owned();
        let mut floor = Duration::MAX;
        for _ in 0..2 {
            let probe = hash.clone();
            let started = Instant::now();
            let checked = tokio::task::spawn_blocking(move || {
                password_hash::verify("a-probe-that-matches-nothing", &probe)
            })
            .await
            .map_err(|error| {
                Error::config("LEGACY_DUMMY_HASH", format!("check failed: {error}"))
            })?;
            floor = floor.min(started.elapsed());
            if let Err(error) = checked {
                return Err(Error::config(
                    "LEGACY_DUMMY_HASH",
                    format!("cannot be checked: {error}"),
                ));
            }
        }
        Ok(Self { hash, floor })
    }

    /// The built-in dummy hash, untimed (until [`DummyHash::new`] has run).
    pub(super) fn untimed() -> Self {
        Self {
            hash: DUMMY_HASH.to_owned(),
            floor: Duration::ZERO,
        }
    }

    /// Checks `password` against the dummy hash and throws the result away.
    async fn check(&self, password: &Password) {
        let password = password.expose().to_owned();
        let dummy = self.hash.clone();
        let _ = tokio::task::spawn_blocking(move || password_hash::verify(&password, &dummy)).await;
    }
}

/// The answer for the rows the query returned: the password checked when one is given
/// (sign-in), the record alone when not (forgot-password). More than one row is refused: the
/// query does not name one user (a column without a unique index, a collation that folds case
/// or accents).
pub(super) async fn judge(
    mut rows: Vec<UserRow>,
    password: Option<&Password>,
    dummy: &DummyHash,
) -> Result<Lookup, SourceFailure> {
    let started = Instant::now();
    let lookup = if rows.len() > 1 {
        if let Some(password) = password {
            dummy.check(password).await;
        }
        Lookup::Unverifiable(format!(
            "LEGACY_USER_QUERY returned {} rows for one user name",
            rows.len()
        ))
    } else {
        check(rows.pop(), password, dummy).await?
    };
    if password.is_some() {
        tokio::time::sleep_until((started + dummy.floor).into()).await;
    }
    Ok(lookup)
}

async fn check(
    row: Option<UserRow>,
    password: Option<&Password>,
    dummy: &DummyHash,
) -> Result<Lookup, SourceFailure> {
    let Some((hash, record)) = row else {
        if let Some(password) = password {
            dummy.check(password).await;
        }
        return Ok(Lookup::NotFound);
    };
    let Some(password) = password else {
        return Ok(Lookup::Found(record));
    };
    let Some(hash) = hash else {
        dummy.check(password).await;
        return Ok(Lookup::Unverifiable(format!("`{HASH_COLUMN}` is NULL")));
    };
    let plain = password.expose().to_owned();
    // An unknown format, a malformed value or a cost over the limits is refused before any work
    // (see `password_hash`): the dummy check then spends that work.
    let checked = tokio::task::spawn_blocking(move || password_hash::verify(&plain, &hash))
        .await
        .map_err(|error| SourceFailure(format!("hash check did not finish: {error}")))?;
    Ok(match checked {
        Ok(true) => Lookup::Found(record),
        Ok(false) => Lookup::WrongPassword,
        Err(error) => {
            dummy.check(password).await;
            Lookup::Unverifiable(error.to_string())
        }
    })
}

/// Connects at cold start, for at most `budget`, so the first sign-in does not pay for it; a
/// failure is logged (as `source`), and the first call tries again.
pub(super) async fn warm_up<T>(
    source: &'static str,
    budget: Duration,
    connecting: impl std::future::Future<Output = Result<T, SourceFailure>>,
) {
    match tokio::time::timeout(budget, connecting).await {
        Ok(Ok(_)) => {}
        Ok(Err(failure)) => tracing::warn!(
            source,
            error = display(&failure),
            "cannot connect to the legacy database yet"
        ),
        Err(_) => tracing::warn!(
            source,
            budget_ms = budget.as_millis() as u64,
            "legacy database not connected within the cold-start budget; the first call tries again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hash: Option<&str>) -> UserRow {
        let mut record = LegacyRecord::default();
        record
            .attributes
            .insert("email".to_owned(), "a@example.com".to_owned());
        (hash.map(str::to_owned), record)
    }

    #[tokio::test]
    async fn every_answer_waits_for_the_dummy_checks_time_and_two_rows_are_refused() {
        let dummy = DummyHash::new(None).await.unwrap();
        assert!(dummy.floor > Duration::from_millis(1), "{:?}", dummy.floor);
        let password = Password::new("legacy-md5crypt-pw".to_owned());
        // A fast format (MD5-crypt, about a millisecond) answers no sooner than the dummy.
        let md5 = "$1$lPNDPl.T$7.Ss8cjdheC7euaB7IfQs0";
        for (rows, expected) in [
            (vec![row(Some(md5))], "found"),
            (
                vec![row(Some("$1$lPNDPl.T$xxxxxxxxxxxxxxxxxxxxxx"))],
                "wrong_password",
            ),
            (vec![], "not_found"),
            (vec![row(Some(md5)), row(Some(md5))], "unverifiable"),
        ] {
            let started = Instant::now();
            let lookup = judge(rows, Some(&password), &dummy).await.unwrap();
            assert_eq!(lookup.kind(), expected);
            assert!(started.elapsed() >= dummy.floor, "{expected}");
        }
        // Forgot-password checks nothing and waits for nothing.
        let lookup = judge(vec![row(None)], None, &dummy).await.unwrap();
        assert_eq!(lookup.kind(), "found");
        // A dummy hash that cannot be checked stops the cold start.
        assert!(
            DummyHash::new(Some("e539613b4cbc9f55bf80030fb88367c7"))
                .await
                .is_err()
        );
    }
}
