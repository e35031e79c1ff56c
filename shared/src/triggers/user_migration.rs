//! UserMigration: asks the legacy store about a user Cognito does not know yet, and answers with
//! the user to create — or one error text for an unknown user, a wrong password and a hash that
//! cannot be checked alike. The event holds the password: it is never logged, and neither is the
//! user name (logs carry a short digest of it for correlation).

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::Handler;
use crate::Error;
use crate::event::{Trigger, UserMigrationEvent};
use crate::legacy::{
    LegacyUserSource, Lookup, MigrationConfig, MigrationKind, MigrationSettings, migrated_user,
};
use crate::state::{Guard, migration_key};

const TRIGGER: &str = UserMigrationEvent::NAME;

/// The most the migration note may take: `LEGACY_TIMEOUT_MS` (at most 4 s) has been spent
/// already, and Cognito waits 5 s in all.
const NOTE_BUDGET: std::time::Duration = std::time::Duration::from_millis(300);

/// The UserMigration handler.
#[derive(Debug, Clone)]
pub struct UserMigration {
    source: Arc<dyn LegacyUserSource>,
    timeout: Duration,
    settings: MigrationSettings,
    guard: Option<Guard>,
    clients: Vec<String>,
}

impl UserMigration {
    /// A handler asking `source`, configured by `config`.
    pub fn new(config: &MigrationConfig, source: Arc<dyn LegacyUserSource>) -> Self {
        Self {
            source,
            timeout: config.timeout,
            settings: config.settings.clone(),
            guard: None,
            clients: Vec::new(),
        }
    }

    /// Migrates only sign-ins and password resets that come through these app clients
    /// (`MIGRATION_CLIENT_IDS`); any client when empty. ForgotPassword fires this trigger on every
    /// client of the pool, so without the list a reset on the passwordless client would move a
    /// legacy user in as well.
    pub fn with_allowed_clients(mut self, clients: Vec<String>) -> Self {
        self.clients = clients;
        self
    }

    /// The handler as the deployment configures it: the environment and the secrets its `…_ARN`
    /// variables name, read and checked once; the legacy store connected; the state table.
    #[cfg(all(
        feature = "http",
        feature = "postgres",
        feature = "mysql",
        feature = "aws-secrets",
        feature = "dynamodb"
    ))]
    pub async fn from_env() -> Result<Self, Error> {
        let config = crate::config::Config::from_env_with_secrets().await?;
        let (migration, source) = crate::legacy::build_source(config.migration.as_ref()).await?;
        let guard = crate::state::build_guard(config.state.as_ref()).await?;
        Ok(Self::new(&migration, source)
            .with_guard(guard)
            .with_allowed_clients(config.migration_client_ids()?))
    }

    /// Leaves the note that lets this sign-in through PostAuthentication on a migration-only
    /// client. Best effort: without it the first sign-in is refused there, the user is migrated
    /// all the same and signs in with the configured flow.
    async fn note_migration(&self, event: &UserMigrationEvent, now: u64) {
        let Some(guard) = &self.guard else {
            return;
        };
        let key = migration_key(&event.user_pool_id, &event.user_name);
        // After the legacy store's share of the 5 seconds: a short budget of its own.
        let noted = tokio::time::timeout(NOTE_BUDGET, guard.store().mark_migrated(&key, now)).await;
        if !matches!(noted, Ok(Ok(()))) {
            warn!(
                trigger = TRIGGER,
                user = user_digest(&event.user_pool_id, &event.user_name),
                state = "unavailable",
                "the migration note could not be written"
            );
        }
    }

    /// The legacy store's answer for a parsed event.
    async fn migrate(&self, mut event: UserMigrationEvent) -> Result<UserMigrationEvent, Error> {
        let kind = match event.trigger_source.as_str() {
            "UserMigration_ForgotPassword" => MigrationKind::ForgotPassword,
            _ => MigrationKind::Authentication,
        };
        let user = user_digest(&event.user_pool_id, &event.user_name);
        let source = self.source.name();
        if kind == MigrationKind::ForgotPassword && !self.settings.forgot_password {
            // The same answer as an unknown user, for every user alike (no store asked).
            info!(
                trigger = TRIGGER,
                user,
                source,
                kind = debug(&kind),
                outcome = "forgot_password_off",
                "not migrated: MIGRATION_FORGOT_PASSWORD is off"
            );
            return Err(Error::NotMigrated("forgot_password_off".to_owned()));
        }
        if !self.clients.is_empty() {
            let client = event
                .caller_context
                .as_ref()
                .and_then(|context| context.client_id.as_deref());
            if !client.is_some_and(|client| self.clients.iter().any(|allowed| allowed == client)) {
                // The same answer as an unknown user, for every user alike (no store asked).
                warn!(
                    trigger = TRIGGER,
                    user,
                    source,
                    kind = debug(&kind),
                    outcome = "client_not_allowed",
                    client = client.unwrap_or(""),
                    "not migrated: not a MIGRATION_CLIENT_IDS client"
                );
                return Err(Error::NotMigrated("client_not_allowed".to_owned()));
            }
        }
        let question = match (kind, &event.request.password) {
            (MigrationKind::Authentication, Some(password)) => {
                self.source.authenticate(&event.user_name, password)
            }
            (MigrationKind::Authentication, None) => {
                return Err(Error::MalformedEvent {
                    trigger: TRIGGER,
                    detail: "UserMigration_Authentication without a password".to_owned(),
                });
            }
            (MigrationKind::ForgotPassword, _) => self.source.find(&event.user_name),
        };
        let lookup = match tokio::time::timeout(self.timeout, question).await {
            Ok(Ok(lookup)) => lookup,
            Ok(Err(failure)) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    source,
                    kind = debug(&kind),
                    outcome = "source_failed",
                    error = display(&failure),
                    "legacy store failed"
                );
                return Err(Error::LegacySource(failure.to_string()));
            }
            Err(_) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    source,
                    kind = debug(&kind),
                    outcome = "source_timeout",
                    timeout_ms = self.timeout.as_millis() as u64,
                    "legacy store did not answer in time"
                );
                return Err(Error::LegacySource(format!(
                    "no answer within {} ms",
                    self.timeout.as_millis()
                )));
            }
        };
        let record = match lookup {
            Lookup::Found(record) => record,
            Lookup::Unverifiable(reason) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    source,
                    kind = debug(&kind),
                    outcome = "unverifiable",
                    reason = display(&reason),
                    "the stored password cannot be checked"
                );
                return Err(Error::NotMigrated(reason));
            }
            other => {
                info!(
                    trigger = TRIGGER,
                    user,
                    source,
                    kind = debug(&kind),
                    outcome = other.kind(),
                    "not migrated"
                );
                return Err(Error::NotMigrated(other.kind().to_owned()));
            }
        };
        let (response, dropped) =
            migrated_user(&record, kind, &self.settings).map_err(|refusal| {
                warn!(
                    trigger = TRIGGER,
                    user,
                    source,
                    kind = debug(&kind),
                    outcome = "refused",
                    reason = display(&refusal),
                    "not migrated"
                );
                Error::NotMigrated(refusal.to_string())
            })?;
        info!(
            trigger = TRIGGER,
            user,
            source,
            kind = debug(&kind),
            outcome = "migrated",
            attributes = debug(
                response
                    .user_attributes
                    .as_ref()
                    .map(|attributes| attributes.keys().collect::<Vec<_>>())
            ),
            dropped = debug(&dropped),
        );
        event.response = response;
        Ok(event)
    }
}

impl Handler for UserMigration {
    type Event = UserMigrationEvent;

    /// The user to create, or one error text for every user it does not migrate; a sign-in
    /// migration leaves its note for PostAuthentication.
    async fn handle(
        &self,
        event: UserMigrationEvent,
        now: u64,
    ) -> Result<UserMigrationEvent, Error> {
        let event = self.migrate(event).await?;
        if event.trigger_source == "UserMigration_Authentication" {
            self.note_migration(&event, now).await;
        }
        Ok(event)
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

/// The first 12 hex digits of SHA-256 over the pool id and the lower-cased user name: enough to
/// follow one user through the logs, without writing the name (an e-mail address, a phone number).
fn user_digest(pool_id: &str, user_name: &str) -> String {
    let digest = Sha256::new()
        .chain_update(pool_id.as_bytes())
        .chain_update([0])
        .chain_update(user_name.trim().to_lowercase().as_bytes())
        .finalize();
    digest
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Password;
    use crate::legacy::{LegacyRecord, LegacySourceConfig, LookupFuture};
    use serde_json::Value;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A legacy store that knows everyone, with the right password, and counts the questions.
    #[derive(Debug, Default)]
    struct Everyone {
        asked: AtomicUsize,
    }

    impl Everyone {
        fn found(&self) -> LookupFuture<'_> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {
                Ok(Lookup::Found(LegacyRecord {
                    attributes: [
                        ("email".to_owned(), "ada@example.com".to_owned()),
                        ("email_verified".to_owned(), "true".to_owned()),
                    ]
                    .into(),
                }))
            })
        }
    }

    impl LegacyUserSource for Everyone {
        fn name(&self) -> &'static str {
            "everyone"
        }
        fn authenticate<'a>(&'a self, _: &'a str, _: &'a Password) -> LookupFuture<'a> {
            self.found()
        }
        fn find<'a>(&'a self, _: &'a str) -> LookupFuture<'a> {
            self.found()
        }
    }

    fn handler(source: &Arc<Everyone>, clients: &[&str]) -> UserMigration {
        let config = MigrationConfig {
            source: LegacySourceConfig::Http {
                url: "https://legacy.example.com".to_owned(),
                token: None,
            },
            timeout: Duration::from_secs(1),
            settings: MigrationSettings {
                forgot_password: true,
                ..MigrationSettings::default()
            },
            dummy_hash: None,
        };
        let source: Arc<dyn LegacyUserSource> = source.clone();
        UserMigration::new(&config, source)
            .with_allowed_clients(clients.iter().map(|&client| client.to_owned()).collect())
    }

    fn event(file: &str, client: Option<&str>) -> UserMigrationEvent {
        let path = format!(
            "{}/../events/user-migration/{file}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        match client {
            Some(client) => raw["callerContext"]["clientId"] = Value::from(client),
            None => {
                raw.as_object_mut().unwrap().remove("callerContext");
            }
        }
        UserMigrationEvent::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn only_the_listed_clients_migrate_anyone_and_others_are_not_asked_about() {
        let source = Arc::new(Everyone::default());
        let migration = handler(&source, &["migration-client", "second-client"]);
        for file in ["authentication", "forgot-password"] {
            for client in [
                Some("passwordless-client"),
                Some("MIGRATION-CLIENT"),
                Some(""),
                None,
            ] {
                let answer = migration.handle(event(file, client), 0).await;
                assert!(
                    matches!(&answer, Err(Error::NotMigrated(reason)) if reason == "client_not_allowed"),
                    "{file} {client:?}: {answer:?}"
                );
            }
            for client in ["migration-client", "second-client"] {
                let answer = migration
                    .handle(event(file, Some(client)), 0)
                    .await
                    .unwrap();
                assert!(
                    answer.response.user_attributes.is_some(),
                    "{file} {client}: {answer:?}"
                );
            }
        }
        assert_eq!(
            source.asked.load(Ordering::SeqCst),
            4,
            "asked for refused clients"
        );
    }

    #[tokio::test]
    async fn a_password_reset_migrates_no_one_unless_allowed() {
        let source = Arc::new(Everyone::default());
        let config = MigrationConfig {
            source: LegacySourceConfig::Http {
                url: "https://legacy.example.com".to_owned(),
                token: None,
            },
            timeout: Duration::from_secs(1),
            settings: MigrationSettings::default(),
            dummy_hash: None,
        };
        let store: Arc<dyn LegacyUserSource> = source.clone();
        let migration = UserMigration::new(&config, store);
        let answer = migration.handle(event("forgot-password", None), 0).await;
        assert!(
            matches!(&answer, Err(Error::NotMigrated(reason)) if reason == "forgot_password_off"),
            "{answer:?}"
        );
        assert_eq!(source.asked.load(Ordering::SeqCst), 0);
        // Sign-ins (with the password) still migrate.
        let answer = migration.handle(event("authentication", None), 0).await;
        assert!(answer.is_ok(), "{answer:?}");
    }

    #[tokio::test]
    async fn a_sign_in_migration_leaves_its_note_and_a_reset_does_not() {
        use crate::state::{FailureMode, MemoryStore, StateStore, test_guard};
        let source = Arc::new(Everyone::default());
        let store = Arc::new(MemoryStore::default());
        let migration =
            handler(&source, &[]).with_guard(Some(test_guard(store.clone(), FailureMode::Closed)));
        let reset = event("forgot-password", None);
        let key = migration_key(&reset.user_pool_id, &reset.user_name);
        migration.handle(reset, 1_000).await.unwrap();
        assert!(
            !store.take_migrated(&key, 1_001).await.unwrap(),
            "a reset left a note"
        );
        let sign_in = event("authentication", None);
        let key = migration_key(&sign_in.user_pool_id, &sign_in.user_name);
        migration.handle(sign_in, 1_000).await.unwrap();
        assert!(store.take_migrated(&key, 1_001).await.unwrap(), "no note");
        assert!(
            !store.take_migrated(&key, 1_002).await.unwrap(),
            "taken twice"
        );
    }

    #[tokio::test]
    async fn without_a_list_every_client_migrates() {
        let source = Arc::new(Everyone::default());
        let migration = handler(&source, &[]);
        for client in [Some("any-client"), None] {
            let answer = migration
                .handle(event("authentication", client), 0)
                .await
                .unwrap();
            assert!(answer.response.user_attributes.is_some(), "{client:?}");
        }
        assert_eq!(source.asked.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn user_digests_are_short_stable_and_hide_the_name() {
        let digest = user_digest("pool", "Ada@Example.com");
        assert_eq!(digest.len(), 12);
        assert_eq!(digest, user_digest("pool", " ada@example.com"));
        assert_ne!(digest, user_digest("other-pool", "ada@example.com"));
        assert!(!digest.contains("ada"));
    }
}
