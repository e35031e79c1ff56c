//! PreAuthentication: applies the configured policies; a denial is an error whose message is the
//! configured, user-safe `PREAUTH_DENY_MESSAGE`, with the real reason in the logs. With a state
//! table, a locked account (too many failed sign-ins) is denied too.

use tracing::{info, warn};

use super::{Handler, log_user};
use crate::Error;
use crate::abuse::LockoutPolicy;
use crate::config::Config;
use crate::event::{PreAuthenticationEvent, PreAuthenticationResponse, Trigger};
use crate::preauth::{PreAuthPolicy, SignInFacts, evaluate};
use crate::state::{Guard, UserRef, lock_key};

const TRIGGER: &str = PreAuthenticationEvent::NAME;

/// The PreAuthentication handler.
#[derive(Debug, Clone)]
pub struct PreAuthentication {
    policy: PreAuthPolicy,
    guard: Option<Guard>,
    lockout: LockoutPolicy,
}

impl PreAuthentication {
    /// A handler with the configured policies.
    pub fn new(config: &Config) -> Self {
        Self {
            policy: config.preauth.clone(),
            guard: None,
            lockout: config.abuse.lockout,
        }
    }

    /// The handler as the deployment configures it (the environment, read and checked once).
    #[cfg(feature = "dynamodb")]
    pub async fn from_env() -> Result<Self, Error> {
        let config = Config::from_env()?;
        let guard = crate::state::build_guard(config.state.as_ref()).await?;
        Ok(Self::new(&config).with_guard(guard))
    }

    /// Denies a locked account (known or not: unknown user names lock the same way).
    async fn check_lockout(&self, event: &PreAuthenticationEvent, now: u64) -> Result<(), Error> {
        let Some(guard) = &self.guard else {
            return Ok(());
        };
        let user = log_user(
            &event.request.user_attributes,
            event.request.user_not_found.unwrap_or(false),
        );
        let owner = UserRef::from_event(
            &event.user_name,
            &event.request.user_attributes,
            event.request.user_not_found.unwrap_or(false),
        );
        let key = lock_key(&event.user_pool_id, &owner);
        let locked = guard
            .locked_until(&key, now, self.lockout, TRIGGER, user)
            .await
            .inspect_err(|error| {
                warn!(
                    trigger = TRIGGER,
                    user,
                    decision = "deny",
                    reason = "state_unavailable",
                    error = display(&error),
                    "lockout could not be checked (STATE_FAILURE_MODE=closed)"
                );
            })?;
        match locked {
            Some(until) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    decision = "deny",
                    reason = "locked_out",
                    locked_until = until,
                    "sign-in denied: too many failed sign-ins"
                );
                Err(Error::LockedOut { until })
            }
            None => Ok(()),
        }
    }

    /// Answers a parsed event by the policies alone (the lockout comes after, in `handle`).
    fn apply_policies(
        &self,
        mut event: PreAuthenticationEvent,
    ) -> Result<PreAuthenticationEvent, Error> {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let user = log_user(&request.user_attributes, user_not_found);
        let client_id = event
            .caller_context
            .as_ref()
            .and_then(|context| context.client_id.as_deref());
        let facts = SignInFacts {
            client_id,
            attributes: &request.user_attributes,
            validation_data: request.validation_data.as_ref(),
            client_metadata: request.client_metadata.as_ref(),
            user_not_found,
        };
        match evaluate(&self.policy, &facts) {
            Ok(()) => {
                info!(trigger = TRIGGER, user, decision = "allow");
                event.response = PreAuthenticationResponse::default();
                Ok(event)
            }
            Err(reason) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    decision = "deny",
                    reason = reason.kind(),
                    detail = display(&reason),
                    client_id = client_id.unwrap_or(""),
                    "sign-in denied"
                );
                Err(Error::Denied {
                    message: self.policy.deny_message.clone(),
                    reason: reason.to_string(),
                })
            }
        }
    }
}

impl Handler for PreAuthentication {
    type Event = PreAuthenticationEvent;

    /// The event with `response: {}`, or a denial: by the policies, then by the lockout.
    async fn handle(
        &self,
        event: PreAuthenticationEvent,
        now: u64,
    ) -> Result<PreAuthenticationEvent, Error> {
        let event = self.apply_policies(event)?;
        self.check_lockout(&event, now).await?;
        Ok(event)
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::state::{FailureMode, MemoryStore, StateStore, test_guard};

    fn sample(file: &str) -> PreAuthenticationEvent {
        let path = format!(
            "{}/../events/pre-authentication/{file}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        crate::event::parse(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
            .unwrap()
    }

    #[tokio::test]
    async fn a_locked_user_is_denied_even_when_every_policy_allows() {
        let config =
            Config::from_lookup(|name| (name == "SMS_PROVIDER").then(|| "console".to_owned()))
                .unwrap();
        let store = Arc::new(MemoryStore::default());
        let handler = PreAuthentication::new(&config)
            .with_guard(Some(test_guard(store.clone(), FailureMode::Closed)));
        let event = sample("allowed");
        assert!(handler.handle(event.clone(), 1_000).await.is_ok());
        let owner = UserRef::from_event(&event.user_name, &event.request.user_attributes, false);
        let key = lock_key(&event.user_pool_id, &owner);
        for at in 0..u64::from(config.abuse.lockout.threshold) {
            store
                .record_failure(&key, 900 + at, config.abuse.lockout)
                .await
                .unwrap();
        }
        let answer = handler.handle(event, 1_000).await;
        assert!(matches!(answer, Err(Error::LockedOut { .. })), "{answer:?}");
    }
}
