//! PostAuthentication: runs after Cognito has checked the password (or every custom step) and
//! before it hands out tokens. On a migration-only app client (`MIGRATION_CLIENT_IDS`, the
//! `USER_PASSWORD_AUTH` client that exists so legacy users can be moved in), it refuses users who
//! are already in the pool — a password alone must not skip the configured flow — unless the
//! migration trigger moved this user in during this very sign-in (a note in the state table).
//!
//! Why here and not in PreAuthentication: PreAuthentication runs before the password is checked,
//! so refusing existing users there would tell anyone which user names exist. Here only someone
//! who already proved the password learns that this client is not theirs to use.

use serde_json::Value;
use tracing::{info, warn};

use super::log_user;
use crate::Error;
use crate::config::Config;
use crate::event::{PostAuthenticationEvent, PostAuthenticationResponse};
use crate::state::{Guard, migration_key};

const TRIGGER: &str = "PostAuthentication";

/// What a refused user sees.
pub const MIGRATION_CLIENT_REFUSAL: &str =
    "This sign-in method is not available for this account. Sign in with a one-time code.";

/// The PostAuthentication handler.
#[derive(Debug, Clone)]
pub struct PostAuthentication {
    migration_client_ids: Vec<String>,
    guard: Option<Guard>,
}

impl PostAuthentication {
    /// A handler with the configured migration-only clients.
    pub fn new(config: &Config) -> Self {
        Self {
            migration_client_ids: config.migration_client_ids.clone(),
            guard: None,
        }
    }

    /// Adds the state table, where the migration trigger leaves its notes.
    pub fn with_guard(mut self, guard: Option<Guard>) -> Self {
        self.guard = guard;
        self
    }

    /// Parses a raw event and answers it at `now` (Unix seconds): the event with `response: {}`,
    /// or a refusal.
    pub async fn invoke(&self, raw: Value, now: u64) -> Result<PostAuthenticationEvent, Error> {
        let mut event = PostAuthenticationEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = TRIGGER, error_type = error.error_type(), error = %error, "request refused");
        })?;
        let user = log_user(&event.request.user_attributes, false).to_owned();
        let client_id = event
            .caller_context
            .as_ref()
            .and_then(|context| context.client_id.clone())
            .unwrap_or_default();
        if self.migration_client_ids.contains(&client_id) {
            if !self.migrated_just_now(&event, now).await {
                warn!(
                    trigger = TRIGGER,
                    user,
                    decision = "deny",
                    reason = "existing_user_on_migration_client",
                    client_id,
                    "a user already in the pool signed in through a migration-only client"
                );
                return Err(Error::Denied {
                    message: MIGRATION_CLIENT_REFUSAL.to_owned(),
                    reason: "existing user on a MIGRATION_CLIENT_IDS client".to_owned(),
                });
            }
            info!(
                trigger = TRIGGER,
                user,
                decision = "allow",
                reason = "migrated_now",
                "first sign-in of a user migrated in this sign-in"
            );
        } else {
            info!(trigger = TRIGGER, user, decision = "allow");
        }
        event.response = PostAuthenticationResponse::default();
        Ok(event)
    }

    /// Whether the migration trigger left its note for this user, taken so that it admits one
    /// sign-in. The note is keyed by the name typed at sign-in: the user name, or an e-mail
    /// address or phone number on pools that sign in with those. Without a state table, or when
    /// it cannot be read, no.
    async fn migrated_just_now(&self, event: &PostAuthenticationEvent, now: u64) -> bool {
        let Some(guard) = &self.guard else {
            return false;
        };
        let attributes = &event.request.user_attributes;
        let candidates = [
            Some(event.user_name.as_str()),
            attributes.get("email").map(String::as_str),
            attributes.get("phone_number").map(String::as_str),
        ];
        let deadline = guard.deadline();
        for name in candidates.into_iter().flatten() {
            let key = migration_key(&event.user_pool_id, name);
            match tokio::time::timeout_at(deadline, guard.store().take_migrated(&key, now)).await {
                Ok(Ok(true)) => return true,
                Ok(Ok(false)) => {}
                _ => {
                    warn!(
                        trigger = TRIGGER,
                        state = "unavailable",
                        "the migration note could not be read: treated as absent"
                    );
                    return false;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::state::{MemoryStore, StateConfig, StateStore as _};

    const MIGRATION_CLIENT: &str = "2migration3456789abcdefghij";

    fn handler(store: Option<Arc<MemoryStore>>) -> PostAuthentication {
        let config = Config::from_lookup(|name| {
            (name == "MIGRATION_CLIENT_IDS").then(|| format!("{MIGRATION_CLIENT}, other-migration"))
        })
        .unwrap();
        let guard = store.map(|store| {
            Guard::new(
                store,
                &StateConfig {
                    table: "t".to_owned(),
                    failure_mode: crate::state::FailureMode::Closed,
                    timeout: std::time::Duration::from_secs(1),
                },
            )
        });
        PostAuthentication::new(&config).with_guard(guard)
    }

    fn event(client: &str, user: &str) -> Value {
        json!({
            "version": "1", "region": "us-east-1", "userPoolId": "us-east-1_EXAMPLE1",
            "userName": user,
            "callerContext": {"awsSdkVersion": "x", "clientId": client},
            "triggerSource": "PostAuthentication_Authentication",
            "request": {"userAttributes": {"sub": "s-1", "email": "Ada@Example.com"}, "newDeviceUsed": false},
            "response": {}
        })
    }

    #[tokio::test]
    async fn a_password_alone_on_the_migration_client_gets_no_tokens_for_users_already_in_the_pool()
    {
        let store = Arc::new(MemoryStore::default());
        let post = handler(Some(store.clone()));
        let refused = post
            .invoke(event(MIGRATION_CLIENT, "ada"), 1_000)
            .await
            .unwrap_err();
        assert_eq!(refused.user_message(), MIGRATION_CLIENT_REFUSAL);
        // Other clients are not affected.
        post.invoke(event("web-client", "ada"), 1_000)
            .await
            .unwrap();
        // Without a state table nobody passes the migration client as an existing user.
        assert!(
            handler(None)
                .invoke(event(MIGRATION_CLIENT, "ada"), 1_000)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_migration_trigger_s_note_admits_that_one_sign_in() {
        let store = Arc::new(MemoryStore::default());
        let post = handler(Some(store.clone()));
        // UserMigration noted `ADA` (as typed) at 1_000.
        store
            .mark_migrated(&migration_key("us-east-1_EXAMPLE1", "ADA"), 1_000)
            .await
            .unwrap();
        post.invoke(event(MIGRATION_CLIENT, "ada"), 1_005)
            .await
            .unwrap();
        // Taken: a second password sign-in is refused again.
        assert!(
            post.invoke(event(MIGRATION_CLIENT, "ada"), 1_006)
                .await
                .is_err()
        );
        // On a pool that signs in with e-mail addresses, the note is under the address typed.
        store
            .mark_migrated(
                &migration_key("us-east-1_EXAMPLE1", "ada@example.com"),
                2_000,
            )
            .await
            .unwrap();
        post.invoke(event(MIGRATION_CLIENT, "8a1b2c3d-uuid-username"), 2_001)
            .await
            .unwrap();
        // A note for another name, or an old one, admits nobody.
        store
            .mark_migrated(&migration_key("us-east-1_EXAMPLE1", "bob"), 3_000)
            .await
            .unwrap();
        assert!(
            post.invoke(event(MIGRATION_CLIENT, "ada"), 3_001)
                .await
                .is_err()
        );
        store
            .mark_migrated(&migration_key("us-east-1_EXAMPLE1", "ada"), 4_000)
            .await
            .unwrap();
        assert!(
            post.invoke(event(MIGRATION_CLIENT, "ada"), 4_061)
                .await
                .is_err()
        );
    }
}
