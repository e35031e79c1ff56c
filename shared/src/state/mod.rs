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
//! | send claim | `CLAIM#<pool>#<user>` | `<step>#<session position>` | `seal`, `owner`, `createdAt` |
//! | answers to one code | `GUESS#<pool>#<user>` | the seal's [`crate::seal::Seal::id`] | `answers` (a counter), `usedAt` |
//! | send history | `USER#<pool>#<user>` or `PHONE#<digest of the number>` | `SENDS` | `times` (list of epoch seconds), `version` |
//! | failed attempt | `LOCK#<pool>#<user>` | `FAILURE#<epoch seconds>#<random>` | `at` (one item per failure) |
//! | just migrated | `MIGRATED#<pool>#name:<digest of the exact user name>` | `MIGRATED` | (kept a minute) |
//! | destination proved | `PROVEN#<pool>#<user>` | `<attribute>#<digest of its value>` | (kept for the rest of the sign-in) |
//!
//! `<user>` is the user exactly as Cognito identifies them ([`UserRef`]): `sub:<sub>` for a user of
//! the pool, `name:<digest>` (SHA-256 of the lower-cased name) for a user name the pool does not
//! know.
//! Phone numbers are stored only as digests: HMAC-SHA-256 under `SEAL_KEY` when one is set,
//! plain SHA-256 otherwise (then whoever can read the table can find a number by trying them
//! all; docs/abuse-protection.md says so). The one exception is a proof note's sort key, a plain
//! digest (PostAuthentication holds no `SEAL_KEY`), which lives a minute at most.

#[cfg(feature = "dynamodb")]
mod dynamodb;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(test)]
use std::sync::Arc;
use std::sync::Mutex;

#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoStore;

use crate::abuse::{LockoutPolicy, SendLimit, SendLimits, check_send, prune_sends};
use crate::env::Environment;
use crate::event::StringMap;
use crate::phone::PhoneNumber;
use crate::seal::SealKey;
use sha2::Digest as _;

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

impl StateConfig {
    /// `STATE_TABLE` (`None` when unset: abuse protection is off), `STATE_FAILURE_MODE` and
    /// `STATE_TIMEOUT_MS`. The budget and `sms_timeout` together must leave Create time to answer
    /// inside Cognito's 5 seconds.
    pub fn from_env(
        env: &Environment<'_>,
        sms_timeout: std::time::Duration,
    ) -> Result<Option<Self>, crate::Error> {
        use crate::Error;
        let failure_mode = match env.get("STATE_FAILURE_MODE").as_deref() {
            None | Some("closed") => FailureMode::Closed,
            Some("open") => FailureMode::Open,
            Some(_) => {
                return Err(Error::config(
                    "STATE_FAILURE_MODE",
                    "must be closed or open",
                ));
            }
        };
        let timeout =
            std::time::Duration::from_millis(env.number("STATE_TIMEOUT_MS", 800, 100..=1_500)?);
        let Some(table) = env.get("STATE_TABLE") else {
            return Ok(None);
        };
        let valid_name = (3..=255).contains(&table.len())
            && table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid_name && !table.starts_with("arn:") {
            return Err(Error::config(
                "STATE_TABLE",
                "must be a DynamoDB table name (3-255 of a-z, A-Z, 0-9, _ - .) or its ARN",
            ));
        }
        // Create may spend the state budget, the send (plus 200 ms of margin) and a claim
        // release (200 ms); the rest of Cognito's 5 seconds is for the function itself.
        if timeout + sms_timeout > std::time::Duration::from_millis(4_100) {
            return Err(Error::config(
                "STATE_TIMEOUT_MS",
                "together with the send timeout (SMS_TIMEOUT_MS, or EMAIL_TIMEOUT_MS for email_otp) must stay within 4100 ms (Cognito waits 5 s)",
            ));
        }
        Ok(Some(Self {
            table,
            failure_mode,
            timeout,
        }))
    }
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
    /// [`Guard::run`], with an open-mode fallback logged for `(trigger, user)`: `without` says
    /// what goes on without the store (for example "sending without the throttle check").
    pub async fn run_logged<T>(
        &self,
        deadline: tokio::time::Instant,
        call: StateFuture<'_, T>,
        fallback: T,
        (trigger, user): (&'static str, &str),
        without: &str,
    ) -> Result<Outcome<T>, crate::Error> {
        let outcome = self.run(deadline, call, fallback).await?;
        if let Some(failure) = outcome.failure() {
            tracing::warn!(
                trigger,
                user,
                state = "unavailable",
                failure,
                "{without} (STATE_FAILURE_MODE=open)"
            );
        }
        Ok(outcome)
    }

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
            .run_logged(
                self.deadline(),
                self.store().failures(key, now),
                Vec::new(),
                (trigger, user),
                "lockout not checked",
            )
            .await?;
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

/// Builds the DynamoDB store `state` names (once per cold start); `None` without `STATE_TABLE`.
#[cfg(feature = "dynamodb")]
pub async fn build_guard(state: Option<&StateConfig>) -> Result<Option<Guard>, crate::Error> {
    let Some(state) = state else {
        return Ok(None);
    };
    let sdk = crate::aws::load_sdk_config(crate::aws::sdk_config_loader(state.timeout)?).await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), state.table.clone());
    Ok(Some(Guard::new(std::sync::Arc::new(store), state)))
}

/// The sort key of send histories.
pub const SENDS: &str = "SENDS";

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
    /// The user the claim is for ([`UserRef`]): a claim is only ever handed back to its owner.
    pub owner: String,
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

/// The item that counts the answers judged against one code: `GUESS#<pool>#<user>` and the
/// seal's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeKey {
    /// `GUESS#<pool>#<user>`.
    pub pk: String,
    /// The seal's id ([`crate::seal::Seal::id`]), or `DECOY` for a decoy round.
    pub sk: String,
}

/// What counting an answer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerBudget {
    /// The answer may be compared: it is one of the first `limit` judged against this code.
    Allowed,
    /// The code has had its `limit` answers (or was used already): the answer is wrong without a
    /// comparison.
    Exhausted,
}

/// The abuse-protection state.
pub trait StateStore: Send + Sync + fmt::Debug {
    /// Claims the send for `claim` unless a live claim exists (a conditional write: of many
    /// concurrent calls exactly one gets [`ClaimOutcome::Claimed`]). A live claim is handed back
    /// as [`ClaimOutcome::Duplicate`] only to its owner; another owner's claim is an error.
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

    /// Counts one answer against the code `key` **before** it is compared, atomically (one
    /// conditional update): of any number of concurrent calls, from any sessions, at most
    /// `limit` ever get [`AnswerBudget::Allowed`]; a code already used gets
    /// [`AnswerBudget::Exhausted`]. The item expires `ttl_seconds` after `now`.
    fn count_answer<'a>(
        &'a self,
        key: &'a CodeKey,
        limit: u8,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, AnswerBudget>;

    /// Marks the code `key` used after a right answer: `true` for the first call only (a code
    /// passes once, whichever session answers it). The item expires `ttl_seconds` after `now`
    /// if this call creates it.
    fn consume_code<'a>(
        &'a self,
        key: &'a CodeKey,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, bool>;

    /// Records a failed attempt at `now` under `key`, as an item of its own (concurrent failures
    /// all count); it is kept for two lockout windows.
    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        now: u64,
        policy: LockoutPolicy,
    ) -> StateFuture<'a, ()>;

    /// The times of the failed attempts under `key` that have not expired at `now`.
    fn failures<'a>(&'a self, key: &'a str, now: u64) -> StateFuture<'a, Vec<u64>>;

    /// Leaves a note (`pk`, `sk`) that holds until `expires_at` (one trigger telling a later one
    /// of the same sign-in something happened).
    fn put_note<'a>(&'a self, pk: &'a str, sk: &'a str, expires_at: u64) -> StateFuture<'a, ()>;

    /// Takes the note (`pk`, `sk`) if it is still live at `now`: `true` once (of concurrent
    /// calls, one).
    fn take_note<'a>(&'a self, pk: &'a str, sk: &'a str, now: u64) -> StateFuture<'a, bool>;

    /// Notes that the migration trigger moved the user `key` in at `now` (kept for
    /// [`MIGRATION_MARK_SECONDS`]).
    fn mark_migrated<'a>(&'a self, key: &'a str, now: u64) -> StateFuture<'a, ()> {
        self.put_note(key, MIGRATED, now + MIGRATION_MARK_SECONDS)
    }

    /// Takes the note [`StateStore::mark_migrated`] left, if it is still live: `true` once.
    fn take_migrated<'a>(&'a self, key: &'a str, now: u64) -> StateFuture<'a, bool> {
        self.take_note(key, MIGRATED, now)
    }
}

/// How long the note that a code sent to an unverified destination was answered holds: the rest
/// of that one sign-in. Verify notes a proof only when the code step ends the flow, so
/// PostAuthentication runs within the same `RespondToAuthChallenge` call; a note that a failed
/// sign-in left behind (a lockout, a refusal after the code) is gone a minute later.
pub const PROVEN_NOTE_SECONDS: u64 = 60;

/// The note that a code sent to the user's `attribute` (`phone_number`, `email`) holding `value`
/// was answered: under the user as Cognito identifies them ([`UserRef`]) and a digest of the
/// attribute and its exact value, so it verifies that value only (a number changed meanwhile is
/// not verified by the old one's code). `(pk, sk)`.
pub fn proven_note(
    pool_id: &str,
    user: &UserRef,
    attribute: &str,
    value: &str,
) -> (String, String) {
    let digest = sha2::Sha256::new()
        .chain_update((attribute.len() as u64).to_be_bytes())
        .chain_update(attribute.as_bytes())
        .chain_update((value.len() as u64).to_be_bytes())
        .chain_update(value.as_bytes())
        .finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    (
        format!("PROVEN#{pool_id}#{}", user.as_str()),
        format!("{attribute}#{hex}"),
    )
}

/// How long the migration trigger's note that a user was just moved in holds: the rest of that
/// one sign-in.
pub const MIGRATION_MARK_SECONDS: u64 = 60;

/// The key of the note that the user named `user_name` was just migrated: by that exact name (the
/// user did not exist when the migration trigger ran, and the user it created carries it), not
/// folded, so a note for `ALICE` never admits `alice`; digested, so names stay out of the table.
pub fn migration_key(pool_id: &str, user_name: &str) -> String {
    let digest = sha2::Sha256::digest(user_name.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("MIGRATED#{pool_id}#name:{hex}")
}

/// The sort key of migration notes.
pub const MIGRATED: &str = "MIGRATED";

/// A user as Cognito identifies them, for state keys and seals: `sub:<sub>` for a user of the
/// pool — the one identifier that never changes and never collides, so two spellings of a name
/// are one user exactly when Cognito says so — and `name:<digest>` for a user name the pool does
/// not know: a SHA-256 digest of the name, lower-cased as a case-insensitive pool (the default)
/// folds it. Folding unknown names keeps throttles and lockout shared between spellings exactly
/// as they are for a real user's spellings on such a pool, so the state does not tell which
/// names exist; on a case-sensitive pool it only makes unknown spellings share their limits.
/// The digest keeps typed names (often e-mail addresses or phone numbers) out of the table's
/// keys; whoever reads the table can still test a guessed name against it.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRef(String);

impl UserRef {
    /// The user an event is about.
    pub fn from_event(user_name: &str, attributes: &StringMap, user_not_found: bool) -> Self {
        match attributes.get("sub").filter(|sub| !sub.is_empty()) {
            Some(sub) if !user_not_found => Self(format!("sub:{sub}")),
            _ => Self::unknown(user_name),
        }
    }

    /// A user name the pool does not know (see the type's documentation).
    pub fn unknown(user_name: &str) -> Self {
        let digest = sha2::Sha256::digest(user_name.to_lowercase().as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        Self(format!("name:{hex}"))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A user name may be an e-mail address or a phone number: never in a log.
        f.write_str("UserRef(<redacted>)")
    }
}

/// The claim key of one step of one user's sign-in.
pub fn claim_key(pool_id: &str, user: &UserRef, step: &str, position: usize) -> (String, String) {
    (
        format!("CLAIM#{pool_id}#{}", user.as_str()),
        format!("{step}#{position}"),
    )
}

/// The send-history key of a user.
pub fn user_key(pool_id: &str, user: &UserRef) -> String {
    format!("USER#{pool_id}#{}", user.as_str())
}

/// The key counting the answers to one code (`seal_id`, or `DECOY`) of a user.
pub fn code_key(pool_id: &str, user: &UserRef, seal_id: &str) -> CodeKey {
    CodeKey {
        pk: format!("GUESS#{pool_id}#{}", user.as_str()),
        sk: seal_id.to_owned(),
    }
}

/// The send-history key of a phone number: a digest, never the number (keyed with `SEAL_KEY`
/// when one is set, so the table alone does not give numbers away).
pub fn phone_key(key: &SealKey, phone: &PhoneNumber) -> String {
    let digest = key.digest(&[b"phone-number/v1", phone.e164().as_bytes()]);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("PHONE#{hex}")
}

/// The send-history key of an e-mail address: a digest, never the address (keyed with
/// `SEAL_KEY` when set).
pub fn email_key(key: &SealKey, email: &crate::email::EmailAddress) -> String {
    let digest = key.digest(&[
        b"email-address/v1",
        email.as_str().to_lowercase().as_bytes(),
    ]);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("EMAIL#{hex}")
}

/// The failure-history key of a user.
pub fn lock_key(pool_id: &str, user: &UserRef) -> String {
    format!("LOCK#{pool_id}#{}", user.as_str())
}

/// The sort-key prefix of failed attempts.
pub const FAILURE_PREFIX: &str = "FAILURE#";

/// An item's `(pk, sk)`.
type ItemKey = (String, String);

/// [`StateStore`] in memory, for tests: the same rules as DynamoDB, one process only.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Claims: (pk, sk) → (seal, owner, expiry).
    claims: Mutex<HashMap<ItemKey, (String, String, u64)>>,
    histories: Mutex<HashMap<String, Vec<u64>>>,
    /// Answers per code: (pk, sk) → (answers, used, expiry).
    codes: Mutex<HashMap<ItemKey, (u8, bool, u64)>>,
    /// Failed attempts per key: (time, expiry).
    failures: Mutex<HashMap<String, Vec<(u64, u64)>>>,
    /// Migration notes: key → expiry.
    notes: Mutex<HashMap<(String, String), u64>>,
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
                Some((seal, owner, expires_at)) if *expires_at > claim.now => {
                    if *owner == claim.owner {
                        Ok(ClaimOutcome::Duplicate { seal: seal.clone() })
                    } else {
                        Err(StateError(
                            "a live claim belongs to another user".to_owned(),
                        ))
                    }
                }
                _ => {
                    claims.insert(
                        key,
                        (
                            claim.seal.clone(),
                            claim.owner.clone(),
                            claim.now + claim.ttl_seconds,
                        ),
                    );
                    Ok(ClaimOutcome::Claimed)
                }
            }
        })
    }

    fn release_send<'a>(&'a self, pk: &'a str, sk: &'a str, seal: &'a str) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let mut claims = Self::lock(&self.claims)?;
            let key = (pk.to_owned(), sk.to_owned());
            if claims.get(&key).is_some_and(|(held, _, _)| held == seal) {
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

    fn count_answer<'a>(
        &'a self,
        key: &'a CodeKey,
        limit: u8,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, AnswerBudget> {
        Box::pin(async move {
            let mut codes = Self::lock(&self.codes)?;
            let entry = codes.entry((key.pk.clone(), key.sk.clone())).or_insert((
                0,
                false,
                now + ttl_seconds,
            ));
            if entry.2 <= now {
                *entry = (0, false, now + ttl_seconds);
            }
            if entry.1 || entry.0 >= limit {
                return Ok(AnswerBudget::Exhausted);
            }
            entry.0 += 1;
            Ok(AnswerBudget::Allowed)
        })
    }

    fn consume_code<'a>(
        &'a self,
        key: &'a CodeKey,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, bool> {
        Box::pin(async move {
            let mut codes = Self::lock(&self.codes)?;
            let entry = codes.entry((key.pk.clone(), key.sk.clone())).or_insert((
                0,
                false,
                now + ttl_seconds,
            ));
            if entry.1 {
                return Ok(false);
            }
            entry.1 = true;
            Ok(true)
        })
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        now: u64,
        policy: LockoutPolicy,
    ) -> StateFuture<'a, ()> {
        Box::pin(async move {
            Self::lock(&self.failures)?
                .entry(key.to_owned())
                .or_default()
                .push((now, now + policy.window_seconds.saturating_mul(2)));
            Ok(())
        })
    }

    fn failures<'a>(&'a self, key: &'a str, now: u64) -> StateFuture<'a, Vec<u64>> {
        Box::pin(async move {
            Ok(Self::lock(&self.failures)?
                .get(key)
                .map(|items| {
                    items
                        .iter()
                        .filter(|(_, expires_at)| *expires_at > now)
                        .map(|(at, _)| *at)
                        .collect()
                })
                .unwrap_or_default())
        })
    }

    fn put_note<'a>(&'a self, pk: &'a str, sk: &'a str, expires_at: u64) -> StateFuture<'a, ()> {
        Box::pin(async move {
            Self::lock(&self.notes)?.insert((pk.to_owned(), sk.to_owned()), expires_at);
            Ok(())
        })
    }

    fn take_note<'a>(&'a self, pk: &'a str, sk: &'a str, now: u64) -> StateFuture<'a, bool> {
        Box::pin(async move {
            Ok(Self::lock(&self.notes)?
                .remove(&(pk.to_owned(), sk.to_owned()))
                .is_some_and(|expires_at| expires_at > now))
        })
    }
}

/// A [`MemoryStore`] whose chosen calls fail, for tests of each fail-closed path on its own.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct FlakyStore {
    pub(crate) inner: MemoryStore,
    pub(crate) fail_count: bool,
    pub(crate) fail_record: bool,
}

#[cfg(test)]
impl StateStore for FlakyStore {
    fn claim_send<'a>(&'a self, claim: &'a SendClaim) -> StateFuture<'a, ClaimOutcome> {
        self.inner.claim_send(claim)
    }
    fn release_send<'a>(&'a self, pk: &'a str, sk: &'a str, seal: &'a str) -> StateFuture<'a, ()> {
        self.inner.release_send(pk, sk, seal)
    }
    fn record_send<'a>(
        &'a self,
        keys: &'a [String],
        now: u64,
        limits: SendLimits,
    ) -> StateFuture<'a, Result<(), SendLimit>> {
        self.inner.record_send(keys, now, limits)
    }
    fn count_answer<'a>(
        &'a self,
        key: &'a CodeKey,
        limit: u8,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, AnswerBudget> {
        if self.fail_count {
            return Box::pin(async { Err(StateError("count failed".to_owned())) });
        }
        self.inner.count_answer(key, limit, now, ttl_seconds)
    }
    fn consume_code<'a>(
        &'a self,
        key: &'a CodeKey,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, bool> {
        self.inner.consume_code(key, now, ttl_seconds)
    }
    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        now: u64,
        policy: LockoutPolicy,
    ) -> StateFuture<'a, ()> {
        if self.fail_record {
            return Box::pin(async { Err(StateError("record failed".to_owned())) });
        }
        self.inner.record_failure(key, now, policy)
    }
    fn failures<'a>(&'a self, key: &'a str, now: u64) -> StateFuture<'a, Vec<u64>> {
        self.inner.failures(key, now)
    }
    fn put_note<'a>(&'a self, pk: &'a str, sk: &'a str, expires_at: u64) -> StateFuture<'a, ()> {
        self.inner.put_note(pk, sk, expires_at)
    }
    fn take_note<'a>(&'a self, pk: &'a str, sk: &'a str, now: u64) -> StateFuture<'a, bool> {
        self.inner.take_note(pk, sk, now)
    }
}

/// A guard over `store` in `mode`, for tests.
#[cfg(test)]
pub(crate) fn test_guard(store: Arc<dyn StateStore>, mode: FailureMode) -> Guard {
    Guard::new(
        store,
        &StateConfig {
            table: "test".to_owned(),
            failure_mode: mode,
            timeout: std::time::Duration::from_secs(1),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_keys_hide_the_address_and_are_keyed_with_the_seal_key() {
        let email = crate::email::EmailAddress::parse("Alice@Example.com").unwrap();
        let same = crate::email::EmailAddress::parse("alice@example.com").unwrap();
        let unkeyed = email_key(&SealKey::none(), &email);
        assert!(unkeyed.starts_with("EMAIL#") && unkeyed.len() == "EMAIL#".len() + 64);
        assert!(!unkeyed.to_lowercase().contains("alice"));
        assert_eq!(unkeyed, email_key(&SealKey::none(), &same));
        let keyed = SealKey::new(&"k".repeat(32)).unwrap();
        assert_ne!(email_key(&keyed, &email), unkeyed);
        // Not the phone key of anything: another domain of digest.
        let phone = crate::phone::PhoneNumber::parse("+12065550100").unwrap();
        assert_ne!(phone_key(&SealKey::none(), &phone)[6..], unkeyed[6..]);
    }

    #[cfg(feature = "dynamodb")]
    #[tokio::test]
    async fn a_guard_is_built_exactly_when_a_table_is_configured() {
        assert!(build_guard(None).await.unwrap().is_none());
        let state = StateConfig {
            table: "cognito-state".to_owned(),
            failure_mode: FailureMode::Closed,
            timeout: std::time::Duration::from_millis(800),
        };
        // Building connects to nothing; without a region (none in this test's environment) it
        // is a configuration error naming AWS_REGION, never a missing guard.
        match build_guard(Some(&state)).await {
            Ok(Some(_)) => {}
            Err(crate::Error::Config { variable, .. }) => assert_eq!(variable, "AWS_REGION"),
            Ok(None) => panic!("a configured table gave no guard"),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }

    fn user(name: &str, sub: Option<&str>, not_found: bool) -> UserRef {
        let mut attributes = StringMap::new();
        if let Some(sub) = sub {
            attributes.insert("sub".to_owned(), sub.to_owned());
        }
        UserRef::from_event(name, &attributes, not_found)
    }

    #[test]
    fn the_deadline_is_the_budget_from_now_and_a_fallback_says_why() {
        let guard = test_guard(Arc::new(MemoryStore::default()), FailureMode::Open);
        let before = tokio::time::Instant::now();
        let deadline = guard.deadline();
        assert!(deadline >= before + std::time::Duration::from_secs(1));
        assert!(deadline <= tokio::time::Instant::now() + std::time::Duration::from_secs(1));
        let fell_back = Outcome::FellBack {
            value: (),
            failure: "timeout".to_owned(),
        };
        assert_eq!(fell_back.failure(), Some("timeout"));
        assert_eq!(Outcome::Answered(()).failure(), None);
    }

    #[tokio::test]
    async fn memory_answer_counts_expire_after_their_lifetime_and_not_before() {
        let store = MemoryStore::default();
        let key = code_key("pool", &UserRef::unknown("ada"), "seal-id");
        let count = |now| store.count_answer(&key, 1, now, 100);
        assert_eq!(count(1_000).await.unwrap(), AnswerBudget::Allowed);
        assert_eq!(count(1_099).await.unwrap(), AnswerBudget::Exhausted);
        assert_eq!(count(1_100).await.unwrap(), AnswerBudget::Allowed);
        assert_eq!(count(1_150).await.unwrap(), AnswerBudget::Exhausted);
        // And a renewed count expires in its turn.
        assert_eq!(count(1_200).await.unwrap(), AnswerBudget::Allowed);
    }

    #[tokio::test]
    async fn memory_items_expire_exactly_at_their_time() {
        let store = MemoryStore::default();
        let policy = LockoutPolicy {
            threshold: 3,
            window_seconds: 100,
        };
        // A failure is kept two windows: seen just before, gone at the instant.
        store.record_failure("LOCK#k", 1_000, policy).await.unwrap();
        assert_eq!(store.failures("LOCK#k", 1_199).await.unwrap(), [1_000]);
        assert!(store.failures("LOCK#k", 1_200).await.unwrap().is_empty());
        // A migration note holds a minute, and is taken once.
        store.mark_migrated("MIGRATED#k", 1_000).await.unwrap();
        assert!(
            !store
                .take_migrated("MIGRATED#k", 1_000 + MIGRATION_MARK_SECONDS)
                .await
                .unwrap()
        );
        store.mark_migrated("MIGRATED#k", 1_000).await.unwrap();
        assert!(store.take_migrated("MIGRATED#k", 1_059).await.unwrap());
        // A used code's item lives its lifetime: answers are refused until it expires (as
        // DynamoDB's TTL removes it), and counted afresh after.
        let key = code_key("pool", &UserRef::unknown("ada"), "seal-id");
        assert!(store.consume_code(&key, 1_000, 100).await.unwrap());
        assert!(!store.consume_code(&key, 1_050, 100).await.unwrap());
        assert_eq!(
            store.count_answer(&key, 3, 1_099, 100).await.unwrap(),
            AnswerBudget::Exhausted
        );
        assert_eq!(
            store.count_answer(&key, 3, 1_100, 100).await.unwrap(),
            AnswerBudget::Allowed
        );
    }

    #[test]
    fn user_refs_never_show_in_debug() {
        let user = UserRef::unknown("ada@example.com");
        assert_eq!(format!("{user:?}"), "UserRef(<redacted>)");
    }

    #[test]
    fn users_are_keyed_exactly_as_cognito_identifies_them() {
        // Known users by their sub, whatever the spelling of the name they signed in with.
        assert_eq!(
            user("Alice", Some("s-1"), false),
            user("alice", Some("s-1"), false)
        );
        assert_eq!(user("alice", Some("s-1"), false).as_str(), "sub:s-1");
        // On a case-sensitive pool `alice` and `Alice` are two users with two subs.
        assert_ne!(
            user_key("p", &user("alice", Some("s-1"), false)),
            user_key("p", &user("Alice", Some("s-2"), false))
        );
        // Names the pool does not know are folded as a case-insensitive pool folds them (so
        // the state does not tell them from a real user's spellings), never trimmed, and kept
        // only as digests.
        assert_eq!(
            lock_key("p", &user("ALICE", None, true)),
            lock_key("p", &user("alice", None, true))
        );
        assert_ne!(
            lock_key("p", &user(" alice", None, true)),
            lock_key("p", &user("alice", None, true))
        );
        assert!(
            !user("alice@example.com", None, true)
                .as_str()
                .contains("alice")
        );
        // A user name that looks like someone's sub is still only a name.
        assert_ne!(
            lock_key("p", &user("sub:s-1", None, true)),
            lock_key("p", &user("x", Some("s-1"), false))
        );
        // An unknown user's attributes (there are none, but whatever a test sends) never make
        // it a known one.
        assert_eq!(user("bob", Some("s-9"), true), UserRef::unknown("bob"));
        assert_ne!(
            user_key("p", &user("a", Some("s"), false)),
            user_key("q", &user("a", Some("s"), false))
        );
        assert_eq!(
            claim_key("p", &user("a", Some("s"), false), "SMS_OTP", 2),
            ("CLAIM#p#sub:s".to_owned(), "SMS_OTP#2".to_owned())
        );
        assert!(!format!("{:?}", user("alice@example.com", None, true)).contains("alice"));
    }

    #[test]
    fn phone_keys_hide_the_number_and_are_keyed_with_the_seal_key() {
        let phone = PhoneNumber::parse("+12065550100").unwrap();
        let plain = phone_key(&SealKey::none(), &phone);
        assert!(plain.starts_with("PHONE#") && !plain.contains("2065550100"));
        let keyed = phone_key(&SealKey::new(&"k".repeat(32)).unwrap(), &phone);
        assert_ne!(plain, keyed);
        assert_eq!(
            keyed,
            phone_key(&SealKey::new(&"k".repeat(32)).unwrap(), &phone)
        );
    }

    fn claim(owner: &str, seal: &str, now: u64) -> SendClaim {
        SendClaim {
            pk: "CLAIM#p#a".into(),
            sk: "SMS_OTP#0".into(),
            seal: seal.into(),
            owner: owner.into(),
            now,
            ttl_seconds: 30,
        }
    }

    #[tokio::test]
    async fn the_memory_store_claims_once_and_hands_claims_only_to_their_owner() {
        let store = MemoryStore::default();
        assert_eq!(
            store.claim_send(&claim("sub:a", "s1", 100)).await,
            Ok(ClaimOutcome::Claimed)
        );
        assert_eq!(
            store.claim_send(&claim("sub:a", "s2", 110)).await,
            Ok(ClaimOutcome::Duplicate { seal: "s1".into() })
        );
        // Whoever else reaches the same key never gets the seal.
        assert!(store.claim_send(&claim("sub:b", "s2", 110)).await.is_err());
        // Expired claims, and released ones, can be claimed again.
        assert_eq!(
            store.claim_send(&claim("sub:a", "s2", 130)).await,
            Ok(ClaimOutcome::Claimed)
        );
        // Releasing with another call's seal leaves the claim alone.
        store
            .release_send("CLAIM#p#a", "SMS_OTP#0", "s1")
            .await
            .unwrap();
        assert_eq!(
            store.claim_send(&claim("sub:a", "s3", 130)).await,
            Ok(ClaimOutcome::Duplicate { seal: "s2".into() })
        );
        store
            .release_send("CLAIM#p#a", "SMS_OTP#0", "s2")
            .await
            .unwrap();
        assert_eq!(
            store.claim_send(&claim("sub:a", "s3", 130)).await,
            Ok(ClaimOutcome::Claimed)
        );
    }

    #[tokio::test]
    async fn the_memory_store_throttles_all_keys_together() {
        let store = MemoryStore::default();
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

    #[tokio::test]
    async fn the_memory_store_counts_answers_per_code_and_passes_a_code_once() {
        let store = MemoryStore::default();
        let key = code_key("p", &user("a", Some("s"), false), "seal-1");
        for _ in 0..3 {
            assert_eq!(
                store.count_answer(&key, 3, 100, 60).await,
                Ok(AnswerBudget::Allowed)
            );
        }
        assert_eq!(
            store.count_answer(&key, 3, 101, 60).await,
            Ok(AnswerBudget::Exhausted)
        );
        let other = code_key("p", &user("a", Some("s"), false), "seal-2");
        assert_eq!(
            store.count_answer(&other, 3, 101, 60).await,
            Ok(AnswerBudget::Allowed)
        );
        assert_eq!(store.consume_code(&other, 102, 60).await, Ok(true));
        assert_eq!(store.consume_code(&other, 102, 60).await, Ok(false));
        assert_eq!(
            store.count_answer(&other, 3, 103, 60).await,
            Ok(AnswerBudget::Exhausted)
        );
        // A code whose count was never written (open mode) is still used once only.
        let uncounted = code_key("p", &user("a", Some("s"), false), "seal-3");
        assert_eq!(store.consume_code(&uncounted, 104, 60).await, Ok(true));
        assert_eq!(store.consume_code(&uncounted, 105, 60).await, Ok(false));
    }

    #[tokio::test]
    async fn the_memory_store_keeps_every_failure_until_it_expires() {
        let store = MemoryStore::default();
        let policy = LockoutPolicy {
            threshold: 3,
            window_seconds: 100,
        };
        for now in [10, 10, 10, 50] {
            store.record_failure("LOCK#p#a", now, policy).await.unwrap();
        }
        assert_eq!(
            store.failures("LOCK#p#a", 60).await,
            Ok(vec![10, 10, 10, 50])
        );
        assert_eq!(store.failures("LOCK#p#a", 215).await, Ok(vec![50]));
        assert_eq!(store.failures("LOCK#p#b", 60).await, Ok(vec![]));
    }
}
