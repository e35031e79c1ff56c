//! DefineAuthChallenge: the state machine's decision, written into the response.

use serde_json::Value;
use tracing::{info, warn};

use super::{log_user, session_entries};
use crate::Error;
use crate::config::Config;
use crate::event::{DefineAuthChallengeEvent, DefineAuthChallengeResponse};
use crate::flow::{AttemptLimits, AuthFlow, FlowDecision, decide};

/// The DefineAuthChallenge handler.
#[derive(Debug, Clone)]
pub struct DefineAuthChallenge {
    flow: AuthFlow,
    attempts: AttemptLimits,
}

impl DefineAuthChallenge {
    /// A handler for the configured flow.
    pub fn new(config: &Config) -> Self {
        Self {
            flow: config.flow.clone(),
            attempts: config.attempts,
        }
    }

    /// Parses a raw event and answers it.
    pub fn invoke(&self, raw: Value) -> Result<DefineAuthChallengeEvent, Error> {
        let event = DefineAuthChallengeEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = "DefineAuthChallenge", error_type = error.error_type(), error = %error, "request refused");
        })?;
        Ok(self.handle(event))
    }

    /// Answers a parsed event.
    pub fn handle(&self, mut event: DefineAuthChallengeEvent) -> DefineAuthChallengeEvent {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let decision = decide(
            &self.flow,
            &session_entries(&request.session),
            user_not_found,
            self.attempts,
        );
        let user = log_user(&request.user_attributes, user_not_found);
        let rounds = request.session.len();
        event.response = match decision {
            FlowDecision::Challenge(next) => {
                info!(trigger = "DefineAuthChallenge", user, rounds, decision = "challenge", challenge = next.cognito_name(), detail = ?next);
                DefineAuthChallengeResponse {
                    challenge_name: Some(next.cognito_name().to_owned()),
                    issue_tokens: Some(false),
                    fail_authentication: Some(false),
                }
            }
            FlowDecision::IssueTokens => {
                info!(
                    trigger = "DefineAuthChallenge",
                    user,
                    rounds,
                    decision = "issue_tokens"
                );
                DefineAuthChallengeResponse {
                    challenge_name: None,
                    issue_tokens: Some(true),
                    fail_authentication: Some(false),
                }
            }
            FlowDecision::Fail(reason) => {
                info!(trigger = "DefineAuthChallenge", user, rounds, decision = "fail", reason = %reason);
                DefineAuthChallengeResponse {
                    challenge_name: None,
                    issue_tokens: Some(false),
                    fail_authentication: Some(true),
                }
            }
        };
        event
    }
}
