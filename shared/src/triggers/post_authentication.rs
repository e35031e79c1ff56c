//! PostAuthentication: runs after Cognito has checked the password (or every custom step) and
//! before it hands out tokens. On a migration-only app client (`MIGRATION_CLIENT_IDS`, the
//! `USER_PASSWORD_AUTH` client that exists so legacy users can be moved in), it refuses users who
//! are already in the pool — a password alone must not skip the configured flow — unless the
//! migration trigger moved this user in during this very sign-in (a note in the state table).
//!
//! With `VERIFY_ON_FIRST_SIGN_IN`, it also marks verified each unverified destination (phone
//! number, e-mail address) whose code this sign-in answered: Verify left a note in the state
//! table, bound to the user and to the attribute's exact value ([`proven_note`]); taking it here
//! (once) is the proof, and `AdminUpdateUserAttributes` sets `…_verified` to `true`. That runs
//! only after every step passed (Cognito calls this trigger then) and only on a sign-in this
//! trigger lets through. A failed update leaves the destination unverified and the sign-in
//! going: the next sign-in proves it again.
//!
//! Why here and not in PreAuthentication: PreAuthentication runs before the password is checked,
//! so refusing existing users there would tell anyone which user names exist. Here only someone
//! who already proved the password learns that this client is not theirs to use.

use std::sync::Arc;

use tracing::{info, warn};

use super::{Handler, log_user};
use crate::Error;
use crate::config::Config;
use crate::event::{PostAuthenticationEvent, PostAuthenticationResponse, Trigger};
use crate::signup::DestinationAttribute;
use crate::state::{Guard, UserRef, migration_key, proven_note};
use crate::user_pool::UserPoolAdmin;

const TRIGGER: &str = PostAuthenticationEvent::NAME;

/// How long PostAuthentication may take in all, well inside Cognito's 5 seconds.
const ANSWER_BUDGET: std::time::Duration = std::time::Duration::from_millis(4_000);

/// What a refused user sees.
pub const MIGRATION_CLIENT_REFUSAL: &str =
    "This sign-in method is not available for this account. Sign in with a one-time code";

/// The PostAuthentication handler.
#[derive(Debug, Clone)]
pub struct PostAuthentication {
    migration_client_ids: Vec<String>,
    guard: Option<Guard>,
    /// `VERIFY_ON_FIRST_SIGN_IN`: the admin API that marks proved destinations verified.
    verifier: Option<Arc<dyn UserPoolAdmin>>,
}

impl PostAuthentication {
    /// A handler with the configured migration-only clients. A `MIGRATION_CLIENT_IDS_ARN` must
    /// have been read ([`Config::resolve_secrets`], at cold start).
    pub fn new(config: &Config) -> Result<Self, Error> {
        Ok(Self {
            migration_client_ids: config.migration_client_ids()?,
            guard: None,
            verifier: None,
        })
    }

    /// Marks proved destinations verified through `admin` (`VERIFY_ON_FIRST_SIGN_IN`).
    pub fn with_verifier(mut self, admin: Option<Arc<dyn UserPoolAdmin>>) -> Self {
        self.verifier = admin;
        self
    }

    /// The handler as the deployment configures it (the environment, and the secret that
    /// `MIGRATION_CLIENT_IDS_ARN` names, read and checked once).
    #[cfg(all(
        feature = "aws-secrets",
        feature = "dynamodb",
        feature = "cognito-admin"
    ))]
    pub async fn from_env() -> Result<Self, Error> {
        let config = Config::from_env_with_secrets().await?;
        let guard = crate::state::build_guard(config.state.as_ref()).await?;
        let verifier: Option<Arc<dyn UserPoolAdmin>> = if config.verify_on_first_sign_in {
            Some(Arc::new(
                crate::user_pool::SdkUserPoolAdmin::from_env().await?,
            ))
        } else {
            None
        };
        Ok(Self::new(&config)?
            .with_guard(guard)
            .with_verifier(verifier))
    }

    /// The event with `response: {}`, or a refusal.
    async fn answer(
        &self,
        mut event: PostAuthenticationEvent,
        now: u64,
    ) -> Result<PostAuthenticationEvent, Error> {
        let started = tokio::time::Instant::now();
        // Every state call of this invocation shares one STATE_TIMEOUT_MS.
        let deadline = self.guard.as_ref().map(Guard::deadline);
        let user = log_user(&event.request.user_attributes, false).to_owned();
        let client_id = event
            .caller_context
            .as_ref()
            .and_then(|context| context.client_id.clone());
        // A sign-in that names no client is held to the guard too, whenever one is configured.
        let guarded = match &client_id {
            Some(client) => self.migration_client_ids.contains(client),
            None => !self.migration_client_ids.is_empty(),
        };
        let client_id = client_id.unwrap_or_default();
        if guarded {
            if !self.migrated_just_now(&event, now, deadline).await {
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
        if let Some(deadline) = deadline {
            self.verify_proved(&event, now, &user, (started, deadline))
                .await;
        }
        event.response = PostAuthenticationResponse::default();
        Ok(event)
    }

    /// Marks verified the unverified destinations this sign-in proved (Verify's notes, taken
    /// once, for the attribute's current value only, which is written back with the flag).
    /// Never fails the sign-in, and ends within Cognito's 5 seconds: the notes share one
    /// `STATE_TIMEOUT_MS`, and the admin call gets what is left of [`ANSWER_BUDGET`] since the
    /// invocation `started` (at most [`crate::user_pool::ADMIN_TIMEOUT`]), or is skipped.
    async fn verify_proved(
        &self,
        event: &PostAuthenticationEvent,
        now: u64,
        user: &str,
        (started, deadline): (tokio::time::Instant, tokio::time::Instant),
    ) {
        let (Some(guard), Some(verifier)) = (&self.guard, &self.verifier) else {
            return;
        };
        let attributes = &event.request.user_attributes;
        // Proofs exist only for users with no verified destination (Create sends to unverified
        // ones only then): the others cost nothing here.
        if DestinationAttribute::ALL
            .iter()
            .any(|kind| attributes.get(kind.verified_name()).map(String::as_str) == Some("true"))
        {
            return;
        }
        let owner = UserRef::from_event(&event.user_name, attributes, false);
        // The note for each unverified destination at its current value, both at once.
        let take = |kind: DestinationAttribute| {
            let owner = &owner;
            async move {
                if attributes.get(kind.verified_name()).map(String::as_str) == Some("true") {
                    return None;
                }
                let value = attributes.get(kind.name())?.as_str();
                let (pk, sk) = proven_note(&event.user_pool_id, owner, kind.name(), value);
                match tokio::time::timeout_at(deadline, guard.store().take_note(&pk, &sk, now))
                    .await
                {
                    Ok(Ok(true)) => Some((kind.name(), value)),
                    Ok(Ok(false)) => None,
                    _ => {
                        warn!(
                            trigger = TRIGGER,
                            state = "unavailable",
                            "a proof note could not be read: the destination stays unverified"
                        );
                        None
                    }
                }
            }
        };
        let (phone, email) = tokio::join!(
            take(DestinationAttribute::PhoneNumber),
            take(DestinationAttribute::Email)
        );
        let proved: Vec<(&'static str, &str)> = [phone, email].into_iter().flatten().collect();
        if proved.is_empty() {
            return;
        }
        let names = proved
            .iter()
            .map(|(attribute, _)| *attribute)
            .collect::<Vec<_>>()
            .join(",");
        let left = ANSWER_BUDGET.saturating_sub(started.elapsed());
        let budget =
            left.min(crate::user_pool::ADMIN_TIMEOUT + std::time::Duration::from_millis(200));
        if budget < std::time::Duration::from_millis(300) {
            warn!(
                trigger = TRIGGER,
                user,
                attributes = names,
                "no time left to mark the proved destination verified; the next sign-in proves it again"
            );
            return;
        }
        let marked = tokio::time::timeout(
            budget,
            verifier.mark_verified(&event.user_pool_id, &event.user_name, &proved),
        )
        .await
        .unwrap_or_else(|_| Err("no answer in time".to_owned()));
        match marked {
            Ok(()) => info!(
                trigger = TRIGGER,
                user,
                verified = names,
                "destination verified by its first right code"
            ),
            Err(error) => warn!(
                trigger = TRIGGER,
                user,
                attributes = names,
                error,
                "the proved destination could not be marked verified; the next sign-in proves it again"
            ),
        }
    }

    /// Whether the migration trigger left its note for this user, taken so that it admits one
    /// sign-in. The note is looked up under the signed-in user's exact user name and nothing
    /// else: a note left by someone else's migration (under a name equal to this user's e-mail
    /// address, say) never admits this user. On pools that sign in with an e-mail address or a
    /// phone number the created user's name differs from the one typed, so the note is not
    /// found and that first sign-in is refused: the user is migrated all the same and signs in
    /// with the configured flow. Without a state table, or when it cannot be read, no.
    async fn migrated_just_now(
        &self,
        event: &PostAuthenticationEvent,
        now: u64,
        deadline: Option<tokio::time::Instant>,
    ) -> bool {
        let (Some(guard), Some(deadline)) = (&self.guard, deadline) else {
            return false;
        };
        let key = migration_key(&event.user_pool_id, &event.user_name);
        match tokio::time::timeout_at(deadline, guard.store().take_migrated(&key, now)).await {
            Ok(Ok(taken)) => taken,
            _ => {
                warn!(
                    trigger = TRIGGER,
                    state = "unavailable",
                    "the migration note could not be read: treated as absent"
                );
                false
            }
        }
    }
}

impl Handler for PostAuthentication {
    type Event = PostAuthenticationEvent;

    async fn handle(
        &self,
        event: PostAuthenticationEvent,
        now: u64,
    ) -> Result<PostAuthenticationEvent, Error> {
        self.answer(event, now).await
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

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
        PostAuthentication::new(&config).unwrap().with_guard(guard)
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
        // UserMigration noted `ada` (as typed) at 1_000.
        store
            .mark_migrated(&migration_key("us-east-1_EXAMPLE1", "ada"), 1_000)
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
        // A note left by the migration of a name equal to this user's e-mail address (another
        // legacy account) never admits this user.
        store
            .mark_migrated(
                &migration_key("us-east-1_EXAMPLE1", "Ada@Example.com"),
                2_000,
            )
            .await
            .unwrap();
        assert!(
            post.invoke(event(MIGRATION_CLIENT, "ada"), 2_001)
                .await
                .is_err()
        );
        // Nor does a note for another spelling of the name.
        store
            .mark_migrated(&migration_key("us-east-1_EXAMPLE1", "ADA"), 2_100)
            .await
            .unwrap();
        assert!(
            post.invoke(event(MIGRATION_CLIENT, "ada"), 2_101)
                .await
                .is_err()
        );
        // A sign-in that names no app client is held to the guard.
        let mut anonymous = event(MIGRATION_CLIENT, "ada");
        anonymous["callerContext"] = json!({});
        assert!(post.invoke(anonymous, 2_200).await.is_err());
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
