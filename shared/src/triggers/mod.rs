//! The trigger handlers: each translates a Cognito event into domain types, asks the pure core
//! ([`crate::flow`], [`crate::otp`], [`crate::preauth`], [`crate::legacy`]) what to do, performs
//! the one side effect it owns (Create sends the SMS, Verify may ask a CAPTCHA provider, the
//! migration asks the legacy store) and writes the `response`.
//!
//! Every handler has the same shape ([`Handler`]): it is built once at cold start
//! (`from_env`, which reads and checks the configuration), answers a parsed event at a given
//! time (`handle`), and is driven by one shared [`Handler::invoke`] (parse, log a refusal under
//! the trigger's name, answer). The binaries in `functions/` are each one line: [`run`].

mod create;
mod define;
#[cfg(test)]
mod first_sign_in_tests;
mod post_authentication;
mod pre_authentication;
mod pre_sign_up;
mod round;
mod user_migration;
mod verify;

pub use create::CreateAuthChallenge;
pub use define::DefineAuthChallenge;
pub use post_authentication::{MIGRATION_CLIENT_REFUSAL, PostAuthentication};
pub use pre_authentication::PreAuthentication;
pub use pre_sign_up::PreSignUp;
pub use user_migration::UserMigration;
pub use verify::VerifyAuthChallenge;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::warn;

use crate::Error;
use crate::event::Trigger;
use crate::state::Guard;

/// The contract of every trigger handler.
pub trait Handler: Send + Sync {
    /// The event it answers; its [`Trigger::NAME`] names the trigger in logs and errors.
    type Event: Trigger + DeserializeOwned + Serialize + Send;

    /// Answers a parsed event at `now` (Unix seconds): the whole event with `response` filled
    /// in, or an error whose text Cognito shows the user.
    fn handle(
        &self,
        event: Self::Event,
        now: u64,
    ) -> impl Future<Output = Result<Self::Event, Error>> + Send;

    /// Where the handler keeps its state table (abuse protection, and the migration's notes for
    /// PostAuthentication): `None` until [`Handler::with_guard`]. Only `with_guard` uses it;
    /// each handler's tests with a guard in closed mode (which refuse when the store fails) show
    /// that the slot is the one the handler reads.
    #[doc(hidden)]
    fn guard_slot(&mut self) -> &mut Option<Guard>;

    /// Adds the state table (built once per cold start by [`crate::state::build_guard`]; see
    /// [`crate::state`]).
    fn with_guard(mut self, guard: Option<Guard>) -> Self
    where
        Self: Sized,
    {
        *self.guard_slot() = guard;
        self
    }

    /// Parses a raw event and answers it at `now`; a refused event is logged under the
    /// trigger's name (without any value from the event).
    fn invoke(
        &self,
        raw: Value,
        now: u64,
    ) -> impl Future<Output = Result<Self::Event, Error>> + Send {
        async move {
            let event = crate::event::parse::<Self::Event>(raw).inspect_err(|error| {
                warn!(
                    trigger = <Self::Event as Trigger>::NAME,
                    error_type = error.error_type(),
                    error = display(&error),
                    "request refused"
                );
            })?;
            self.handle(event, now).await
        }
    }
}

/// A trigger binary's whole `main`: sets up logging, builds the handler (`cold_start`, usually
/// its `from_env`), logs a failed cold start under the trigger's name, and serves Lambda's
/// Runtime API with [`Handler::invoke`].
pub async fn run<H: Handler>(
    cold_start: impl Future<Output = Result<H, Error>>,
) -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let handler = cold_start.await.inspect_err(|error| {
        tracing::error!(trigger = <H::Event as Trigger>::NAME, %error, "cold start failed");
    })?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<Value>| handler.invoke(event.payload, unix_now()),
    ))
    .await
}

use crate::event::{ChallengeResult, StringMap};
use crate::flow::SessionEntry;

/// The current time in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Cognito's session as state-machine entries.
fn session_entries(session: &[ChallengeResult]) -> Vec<SessionEntry> {
    session
        .iter()
        .map(|round| {
            SessionEntry::from_cognito(
                &round.challenge_name,
                round.challenge_result,
                round.challenge_metadata.as_deref(),
            )
        })
        .collect()
}

/// Who the event is about, for logs: the `sub` attribute, never the user name (which may be a
/// phone number or an email address).
fn log_user(attributes: &StringMap, user_not_found: bool) -> &str {
    if user_not_found {
        return "unknown";
    }
    attributes.get("sub").map_or("no-sub", String::as_str)
}
