//! Shared state for abuse protection, in one DynamoDB table (`STATE_TABLE`): send claims (so a
//! retried CreateAuthChallenge sends nothing twice), send histories (throttles) and failure
//! histories (lockout). [`StateStore`] is the interface; [`DynamoStore`] (feature `dynamodb`) the
//! real one; [`MemoryStore`] keeps the same rules in memory for tests.
//!
//! Table layout — string partition key `pk`, string sort key `sk`, TTL attribute `expiresAt`
//! (epoch seconds; DynamoDB deletes expired items lazily, so every read checks expiry itself):
//!
//! | item | `pk` | `sk` | other attributes |
//! |---|---|---|---|
//! | send claim | `CLAIM#<pool>#<user>` | `<step>#<session position>` | `seal`, `createdAt` |
//! | send history | `USER#<pool>#<user>` or `PHONE#<sha-256 of the number>` | `SENDS` | `times` (list of epoch seconds), `version` |
//! | failure history | `LOCK#<pool>#<user>` | `FAILURES` | `times`, `version` |
//!
//! User names are lower-cased (Cognito pools here are case-insensitive) and phone numbers are
//! stored only as SHA-256 digests (unkeyed, so the table itself stays access-controlled).

#[cfg(feature = "dynamodb")]
mod dynamodb;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoStore;
use sha2::{Digest, Sha256};

use crate::abuse::{LockoutPolicy, SendLimit, SendLimits, check_send, prune_failures, prune_sends};
use crate::phone::PhoneNumber;

/// What the triggers do when the store cannot answer in time (`STATE_FAILURE_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// Refuse: no SMS without its checks, no sign-in without the lockout check (the default).
    Closed,
    /// Go on without the protection, and log it.
    Open,
}

/// `STATE_TABLE` and how to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    /// The DynamoDB table.
    pub table: String,
    /// `STATE_FAILURE_MODE`.
    pub failure_mode: FailureMode,
    /// `STATE_TIMEOUT_MS`: the most all state calls of one invocation may take together.
    pub timeout: std::time::Duration,
}

/// A [`StateStore`] with the failure mode and time budget applied: every call either answers
/// within the budget or falls back as `STATE_FAILURE_MODE` says.
#[derive(Debug, Clone)]
pub struct Guard {
    store: std::sync::Arc<dyn StateStore>,
    mode: FailureMode,
    timeout: std::time::Duration,
}

impl Guard {
    /// A guard over `store`.
    pub fn new(store: std::sync::Arc<dyn StateStore>, config: &StateConfig) -> Self {
        Self {
            store,
            mode: config.failure_mode,
            timeout: config.timeout,
        }
    }

    /// The store.
    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    /// The deadline for the state calls of an invocation starting now.
    pub fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.timeout
    }

    /// Runs `call` until `deadline`. When it fails or is late: in closed mode an error
    /// ([`crate::Error::StateUnavailable`]), in open mode `fallback` (and the caller logs it).
    pub async fn run<T>(
        &self,
        deadline: tokio::time::Instant,
        call: StateFuture<'_, T>,
        fallback: T,
    ) -> Result<Outcome<T>, crate::Error> {
        let failure = match tokio::time::timeout_at(deadline, call).await {
            Ok(Ok(value)) => return Ok(Outcome::Answered(value)),
            Ok(Err(error)) => error.0,
            Err(_) => format!("no answer within {} ms", self.timeout.as_millis()),
        };
        match self.mode {
            FailureMode::Closed => Err(crate::Error::StateUnavailable(failure)),
            FailureMode::Open => Ok(Outcome::FellBack {
                value: fallback,
                failure,
            }),
        }
    }
}

impl Guard {
    /// Until when `key` is locked at `now` (`None`: not locked). In open mode a store failure
    /// counts as not locked, and is logged for `trigger`; in closed mode it is an error.
    pub async fn locked_until(
        &self,
        key: &str,
        now: u64,
        policy: crate::abuse::LockoutPolicy,
        trigger: &'static str,
        user: &str,
    ) -> Result<Option<u64>, crate::Error> {
        let failures = self
            .run(self.deadline(), self.store().failures(key), Vec::new())
            .await?;
        if let Some(failure) = failures.failure() {
            tracing::warn!(
                trigger,
                user,
                state = "unavailable",
                failure,
                "lockout not checked (STATE_FAILURE_MODE=open)"
            );
        }
        Ok(crate::abuse::locked_until(
            &failures.into_value(),
            now,
            policy,
        ))
    }
}

/// What a guarded call gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The store answered.
    Answered(T),
    /// The store failed and the open failure mode let the call go on with a fallback.
    FellBack {
        /// The fallback value.
        value: T,
        /// What went wrong, for the log.
        failure: String,
    },
}

impl<T> Outcome<T> {
    /// The value, answered or fallen back to.
    pub fn into_value(self) -> T {
        match self {
            Self::Answered(value) | Self::FellBack { value, .. } => value,
        }
    }

    /// The failure behind a fallback.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Self::Answered(_) => None,
            Self::FellBack { failure, .. } => Some(failure),
        }
    }
}

/// Builds the DynamoDB store `config` names (once per cold start); `None` without `STATE_TABLE`.
#[cfg(feature = "dynamodb")]
pub async fn build_guard(config: &crate::config::Config) -> Result<Option<Guard>, crate::Error> {
    let Some(state) = &config.state else {
        return Ok(None);
    };
    let sdk = crate::aws::load_sdk_config(crate::aws::sdk_config_loader(state.timeout)).await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), state.table.clone());
    Ok(Some(Guard::new(std::sync::Arc::new(store), state)))
}

/// The sort key of send histories.
pub const SENDS: &str = "SENDS";
/// The sort key of failure histories.
pub const FAILURES: &str = "FAILURES";

/// Why the store could not answer (unreachable, slow, throttled, contended).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store: {0}")]
pub struct StateError(pub String);

/// The future a [`StateStore`] call returns.
pub type StateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StateError>> + Send + 'a>>;

/// A claim on sending the code for one step of one sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendClaim {
    /// `CLAIM#<pool>#<user>`.
    pub pk: String,
    /// `<step>#<session position>`.
    pub sk: String,
    /// The seal of the code the claimant will send (what a duplicate call hands out).
    pub seal: String,
    /// When the claim was made (Unix seconds).
    pub now: u64,
    /// How long the claim holds.
    pub ttl_seconds: u64,
}

/// What claiming found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This call owns the send.
    Claimed,
    /// Another call for the same step already claimed it (a retry, or a concurrent duplicate):
    /// answer with its seal and send nothing.
    Duplicate {
        /// The first call's seal.
        seal: String,
    },
}

/// The abuse-protection state.
pub trait StateStore: Send + Sync + fmt::Debug {
    /// Claims the send for `claim` unless a live claim exists (a conditional write: of many
    /// concurrent calls exactly one gets [`ClaimOutcome::Claimed`]).
    fn claim_send<'a>(&'a self, claim: &'a SendClaim) -> StateFuture<'a, ClaimOutcome>;

    /// Drops a claim whose send did not happen, so a retry may send — only if it still holds
    /// `seal` (the releasing call's own claim).
    fn release_send<'a>(&'a self, pk: &'a str, sk: &'a str, seal: &'a str) -> StateFuture<'a, ()>;

    /// Records a send at `now` in every history of `keys` — all or none, and only if each stays
    /// within `limits`; otherwise the limit that would break.
    fn record_send<'a>(
        &'a self,
        keys: &'a [String],
        now: u64,
        limits: SendLimits,
    ) -> StateFuture<'a, Result<(), SendLimit>>;

    /// Records a failed sign-in at `now` in the failure history `key`.
    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        now: u64,
        policy: LockoutPolicy,
    ) -> StateFuture<'a, ()>;

    /// The failure history `key`.
    fn failures<'a>(&'a self, key: &'a str) -> StateFuture<'a, Vec<u64>>;
}

/// The lower-cased, trimmed user name (keys for one user, however it was typed).
fn user_part(pool_id: &str, user_name: &str) -> String {
    format!("{pool_id}#{}", user_name.trim().to_lowercase())
}

/// The claim key of one step of one user's sign-in.
pub fn claim_key(pool_id: &str, user_name: &str, step: &str, position: usize) -> (String, String) {
    (
        format!("CLAIM#{}", user_part(pool_id, user_name)),
        format!("{step}#{position}"),
    )
}

/// The send-history key of a user.
pub fn user_key(pool_id: &str, user_name: &str) -> String {
    format!("USER#{}", user_part(pool_id, user_name))
}

/// The send-history key of a phone number: a SHA-256 digest, never the number. (Unkeyed: whoever
/// can read the table could find a number by trying them all; the table is for these functions
/// only.)
pub fn phone_key(phone: &PhoneNumber) -> String {
    let digest = Sha256::digest(phone.e164().as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("PHONE#{hex}")
}

/// The failure-history key of a user.
pub fn lock_key(pool_id: &str, user_name: &str) -> String {
    format!("LOCK#{}", user_part(pool_id, user_name))
}

/// [`StateStore`] in memory, for tests: the same rules as DynamoDB, one process only.
#[derive(Debug, Default)]
pub struct MemoryStore {
    claims: Mutex<HashMap<(String, String), (String, u64)>>,
    histories: Mutex<HashMap<String, Vec<u64>>>,
}

impl MemoryStore {
    fn lock<T>(mutex: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, StateError> {
        mutex
            .lock()
            .map_err(|_| StateError("memory store poisoned".to_owned()))
    }
}

impl StateStore for MemoryStore {
    fn claim_send<'a>(&'a self, claim: &'a SendClaim) -> StateFuture<'a, ClaimOutcome> {
        Box::pin(async move {
            let mut claims = Self::lock(&self.claims)?;
            let key = (claim.pk.clone(), claim.sk.clone());
            match claims.get(&key) {
                Some((seal, expires_at)) if *expires_at > claim.now => {
                    Ok(ClaimOutcome::Duplicate { seal: seal.clone() })
                }
                _ => {
                    claims.insert(key, (claim.seal.clone(), claim.now + claim.ttl_seconds));
                    Ok(ClaimOutcome::Claimed)
                }
            }
        })
    }

    fn release_send<'a>(&'a self, pk: &'a str, sk: &'a str, seal: &'a str) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let mut claims = Self::lock(&self.claims)?;
            let key = (pk.to_owned(), sk.to_owned());
            if claims.get(&key).is_some_and(|(held, _)| held == seal) {
                claims.remove(&key);
            }
            Ok(())
        })
    }

    fn record_send<'a>(
        &'a self,
        keys: &'a [String],
        now: u64,
        limits: SendLimits,
    ) -> StateFuture<'a, Result<(), SendLimit>> {
        Box::pin(async move {
            let mut histories = Self::lock(&self.histories)?;
            let mut updated = Vec::new();
            for key in keys {
                let history = prune_sends(histories.get(key).map_or(&[][..], Vec::as_slice), now);
                if let Err(limit) = check_send(&history, now, limits) {
                    return Ok(Err(limit));
                }
                updated.push((key.clone(), history));
            }
            for (key, mut history) in updated {
                history.push(now);
                histories.insert(key, history);
            }
            Ok(Ok(()))
        })
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        now: u64,
        policy: LockoutPolicy,
    ) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let mut histories = Self::lock(&self.histories)?;
            let mut failures = histories.get(key).cloned().unwrap_or_default();
            failures.push(now);
            histories.insert(key.to_owned(), prune_failures(&failures, now, policy));
            Ok(())
        })
    }

    fn failures<'a>(&'a self, key: &'a str) -> StateFuture<'a, Vec<u64>> {
        Box::pin(async move {
            Ok(Self::lock(&self.histories)?
                .get(key)
                .cloned()
                .unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hide_phone_numbers_and_ignore_the_case_of_user_names() {
        let phone = PhoneNumber::parse("+12065550100").unwrap();
        let key = phone_key(&phone);
        assert!(key.starts_with("PHONE#") && !key.contains("2065550100"));
        assert_eq!(user_key("p", " Alice"), user_key("p", "alice"));
        assert_ne!(user_key("p", "alice"), user_key("q", "alice"));
        assert_eq!(
            claim_key("p", "Alice", "SMS_OTP", 2),
            ("CLAIM#p#alice".to_owned(), "SMS_OTP#2".to_owned())
        );
    }

    #[tokio::test]
    async fn the_memory_store_claims_once_and_throttles_all_keys_together() {
        let store = MemoryStore::default();
        let claim = SendClaim {
            pk: "CLAIM#p#a".into(),
            sk: "SMS_OTP#0".into(),
            seal: "s1".into(),
            now: 100,
            ttl_seconds: 30,
        };
        assert_eq!(store.claim_send(&claim).await, Ok(ClaimOutcome::Claimed));
        let again = SendClaim {
            seal: "s2".into(),
            now: 110,
            ..claim.clone()
        };
        assert_eq!(
            store.claim_send(&again).await,
            Ok(ClaimOutcome::Duplicate { seal: "s1".into() })
        );
        // Expired claims, and released ones, can be claimed again.
        let later = SendClaim {
            now: 130,
            ..again.clone()
        };
        assert_eq!(store.claim_send(&later).await, Ok(ClaimOutcome::Claimed));
        // Releasing with another call's seal leaves the claim alone.
        store
            .release_send("CLAIM#p#a", "SMS_OTP#0", "s1")
            .await
            .unwrap();
        assert_eq!(
            store
                .claim_send(&SendClaim {
                    seal: "s3".into(),
                    ..later.clone()
                })
                .await,
            Ok(ClaimOutcome::Duplicate { seal: "s2".into() })
        );
        store
            .release_send("CLAIM#p#a", "SMS_OTP#0", "s2")
            .await
            .unwrap();
        assert_eq!(store.claim_send(&later).await, Ok(ClaimOutcome::Claimed));

        let limits = SendLimits::default();
        let keys = ["USER#p#a".to_owned(), "PHONE#x".to_owned()];
        assert_eq!(store.record_send(&keys, 1_000, limits).await, Ok(Ok(())));
        // The phone is shared with another user: its limit holds for both.
        let other = ["USER#p#b".to_owned(), "PHONE#x".to_owned()];
        assert_eq!(
            store.record_send(&other, 1_010, limits).await,
            Ok(Err(SendLimit::MinInterval))
        );
        // Nothing was recorded for user b by the refused send.
        assert_eq!(
            store
                .record_send(&["USER#p#b".to_owned()], 1_010, limits)
                .await,
            Ok(Ok(()))
        );
    }
}
