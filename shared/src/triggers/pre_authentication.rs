//! PreAuthentication: applies the configured policies; a denial is an error whose message is the
//! configured, user-safe `PREAUTH_DENY_MESSAGE`, with the real reason in the logs.

use serde_json::Value;
use tracing::{info, warn};

use super::log_user;
use crate::Error;
use crate::config::Config;
use crate::event::{PreAuthenticationEvent, PreAuthenticationResponse};
use crate::preauth::{PreAuthPolicy, SignInFacts, evaluate};

const TRIGGER: &str = "PreAuthentication";

/// The PreAuthentication handler.
#[derive(Debug, Clone)]
pub struct PreAuthentication {
    policy: PreAuthPolicy,
}

impl PreAuthentication {
    /// A handler with the configured policies.
    pub fn new(config: &Config) -> Self {
        Self {
            policy: config.preauth.clone(),
        }
    }

    /// Parses a raw event and answers it: the event with `response: {}`, or a denial.
    pub fn invoke(&self, raw: Value) -> Result<PreAuthenticationEvent, Error> {
        let event = PreAuthenticationEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = TRIGGER, error_type = error.error_type(), error = %error, "request refused");
        })?;
        self.handle(event)
    }

    /// Answers a parsed event.
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
