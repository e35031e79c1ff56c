//! PreAuthentication: applies the configured policies; a denial is an error whose message is the
//! configured, user-safe `PREAUTH_DENY_MESSAGE`, with the real reason in the logs. With a state
//! table, a locked account (too many failed sign-ins) is denied too.

use serde_json::Value;
use tracing::{info, warn};

use super::log_user;
use crate::Error;
use crate::abuse::LockoutPolicy;
use crate::config::Config;
use crate::event::{PreAuthenticationEvent, PreAuthenticationResponse};
use crate::preauth::{PreAuthPolicy, SignInFacts, evaluate};
use crate::state::{Guard, UserRef, lock_key};

const TRIGGER: &str = "PreAuthentication";

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
            lockout: config.lockout,
        }
    }

    /// Adds the lockout kept by `guard` (see [`crate::state`]).
    pub fn with_guard(mut self, guard: Option<Guard>) -> Self {
        self.guard = guard;
        self
    }

    /// Parses a raw event and answers it at `now` (Unix seconds): the event with `response: {}`,
    /// or a denial.
    pub async fn invoke(&self, raw: Value, now: u64) -> Result<PreAuthenticationEvent, Error> {
        let event = PreAuthenticationEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = TRIGGER, error_type = error.error_type(), error = %error, "request refused");
        })?;
        let event = self.handle(event)?;
        self.check_lockout(&event, now).await?;
        Ok(event)
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
                warn!(trigger = TRIGGER, user, decision = "deny", reason = "state_unavailable", error = %error, "lockout could not be checked (STATE_FAILURE_MODE=closed)");
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

    /// Answers a parsed event by the policies (the lockout needs [`PreAuthentication::invoke`]).
    pub fn handle(
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
                warn!(trigger = TRIGGER, user, decision = "deny", reason = reason.kind(), detail = %reason, client_id = client_id.unwrap_or(""), "sign-in denied");
                Err(Error::Denied {
                    message: self.policy.deny_message.clone(),
                    reason: reason.to_string(),
                })
            }
        }
    }
}
