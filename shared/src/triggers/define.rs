//! DefineAuthChallenge: the state machine's decision, written into the response. With a state
//! table, it also keeps the lockout: every wrong answer (and wrong password) Cognito reports is
//! recorded, and a sign-in of a locked account fails at the next round — whichever session the
//! guesses came from, so parallel sessions cannot multiply them.

use serde_json::Value;
use tracing::{info, warn};

use super::{log_user, session_entries};
use crate::Error;
use crate::abuse::LockoutPolicy;
use crate::config::Config;
use crate::event::{DefineAuthChallengeEvent, DefineAuthChallengeResponse};
use crate::flow::{AttemptLimits, AuthFlow, FailReason, FlowDecision, decide};
use crate::state::{Guard, lock_key};

const TRIGGER: &str = "DefineAuthChallenge";

/// The DefineAuthChallenge handler.
#[derive(Debug, Clone)]
pub struct DefineAuthChallenge {
    flow: AuthFlow,
    attempts: AttemptLimits,
    guard: Option<Guard>,
    lockout: LockoutPolicy,
}

impl DefineAuthChallenge {
    /// A handler for the configured flow.
    pub fn new(config: &Config) -> Self {
        Self {
            flow: config.flow.clone(),
            attempts: config.attempts,
            guard: None,
            lockout: config.lockout,
        }
    }

    /// Adds the lockout kept by `guard` (see [`crate::state`]).
    pub fn with_guard(mut self, guard: Option<Guard>) -> Self {
        self.guard = guard;
        self
    }

    /// Parses a raw event and answers it at time `now` (Unix seconds).
    pub async fn invoke(&self, raw: Value, now: u64) -> Result<DefineAuthChallengeEvent, Error> {
        let event = DefineAuthChallengeEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = TRIGGER, error_type = error.error_type(), error = %error, "request refused");
        })?;
        Ok(self.handle(event, now).await)
    }

    /// Answers a parsed event at time `now` (Unix seconds).
    pub async fn handle(
        &self,
        mut event: DefineAuthChallengeEvent,
        now: u64,
    ) -> DefineAuthChallengeEvent {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let session = session_entries(&request.session);
        let mut decision = decide(&self.flow, &session, user_not_found, self.attempts);
        let user = log_user(&request.user_attributes, user_not_found);
        let rounds = request.session.len();
        if let Some(guard) = &self.guard {
            let key = lock_key(&event.user_pool_id, &event.user_name);
            let deadline = guard.deadline();
            // The round Cognito just reported failed: one more failed attempt.
            if request
                .session
                .last()
                .is_some_and(|round| !round.challenge_result)
            {
                let recorded = tokio::time::timeout_at(
                    deadline,
                    guard.store().record_failure(&key, now, self.lockout),
                )
                .await;
                if !matches!(recorded, Ok(Ok(()))) {
                    warn!(
                        trigger = TRIGGER,
                        user,
                        state = "unavailable",
                        "a failed attempt could not be recorded for the lockout"
                    );
                }
            }
            // A sign-in that would go on checks the lockout first.
            if matches!(decision, FlowDecision::Challenge(_)) {
                match guard
                    .locked_until(&key, now, self.lockout, TRIGGER, user)
                    .await
                {
                    Ok(None) => {}
                    Ok(Some(until)) => {
                        warn!(
                            trigger = TRIGGER,
                            user,
                            decision = "fail",
                            reason = "locked_out",
                            locked_until = until,
                            "sign-in refused: too many failed attempts"
                        );
                        decision = FlowDecision::Fail(FailReason::LockedOut);
                    }
                    Err(error) => {
                        warn!(trigger = TRIGGER, user, decision = "fail", reason = "state_unavailable", error = %error, "sign-in refused: lockout could not be checked (STATE_FAILURE_MODE=closed)");
                        decision = FlowDecision::Fail(FailReason::LockedOut);
                    }
                }
            }
        }
        event.response = match decision {
            FlowDecision::Challenge(next) => {
                info!(trigger = TRIGGER, user, rounds, decision = "challenge", challenge = next.cognito_name(), detail = ?next);
                DefineAuthChallengeResponse {
                    challenge_name: Some(next.cognito_name().to_owned()),
                    issue_tokens: Some(false),
                    fail_authentication: Some(false),
                }
            }
            FlowDecision::IssueTokens => {
                info!(trigger = TRIGGER, user, rounds, decision = "issue_tokens");
                DefineAuthChallengeResponse {
                    challenge_name: None,
                    issue_tokens: Some(true),
                    fail_authentication: Some(false),
                }
            }
            FlowDecision::Fail(reason) => {
                info!(trigger = TRIGGER, user, rounds, decision = "fail", reason = %reason);
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
