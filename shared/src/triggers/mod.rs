//! The trigger handlers: each translates a Cognito event into domain types, asks the pure core
//! ([`crate::flow`], [`crate::otp`], [`crate::preauth`], [`crate::legacy`]) what to do, performs
//! the one side effect it owns (Create sends the SMS, Verify may ask a CAPTCHA provider, the
//! migration asks the legacy store) and writes the `response`. The binaries in `functions/` only wire these to the
//! Lambda runtime.

mod create;
mod define;
mod post_authentication;
mod pre_authentication;
mod user_migration;
mod verify;

pub use create::CreateAuthChallenge;
pub use define::DefineAuthChallenge;
pub use post_authentication::{MIGRATION_CLIENT_REFUSAL, PostAuthentication};
pub use pre_authentication::PreAuthentication;
pub use user_migration::UserMigration;
#[cfg(all(feature = "http", feature = "postgres", feature = "aws-secrets"))]
pub use user_migration::build_source as build_legacy_source;
pub use verify::VerifyAuthChallenge;

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
