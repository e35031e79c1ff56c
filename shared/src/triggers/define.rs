//! DefineAuthChallenge: the state machine's decision, written into the response. With a state
//! table, it also keeps the lockout: every wrong answer (and wrong password) Cognito reports is
//! recorded, and a locked account fails at its next decision — the next challenge **and** the
//! tokens — whichever session the guesses came from, so parallel sessions cannot multiply them.
//! In closed mode a failure that cannot be recorded, or a lock that cannot be checked, fails the
//! sign-in.

use tracing::{info, warn};

use super::{Handler, log_user, session_entries};
use crate::Error;
use crate::abuse::LockoutPolicy;
use crate::config::Config;
use crate::event::{ChallengeResult, Trigger};
use crate::event::{DefineAuthChallengeEvent, DefineAuthChallengeResponse};
use crate::flow::{AttemptLimits, AuthFlow, FailReason, FlowDecision, decide};
use crate::state::{Guard, UserRef, lock_key};

const TRIGGER: &str = DefineAuthChallengeEvent::NAME;

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

    /// The decision with the lockout applied: records the round Cognito just reported as failed,
    /// then — for any decision but a failure — checks the lock.
    async fn guarded(
        &self,
        guard: &Guard,
        key: &str,
        last_round: Option<&ChallengeResult>,
        decision: FlowDecision,
        now: u64,
        user: &str,
    ) -> FlowDecision {
        // The round Cognito just reported failed: one more failed attempt.
        if last_round.is_some_and(|round| !round.challenge_result) {
            let recorded = guard
                .run_logged(
                    guard.deadline(),
                    guard.store().record_failure(key, now, self.lockout),
                    (),
                    (TRIGGER, user),
                    "a failed attempt could not be recorded for the lockout",
                )
                .await;
            match recorded {
                Ok(_) => {}
                Err(error) => {
                    warn!(
                        trigger = TRIGGER,
                        user,
                        decision = "fail",
                        reason = "state_unavailable",
                        error = display(&error),
                        "sign-in refused: a failed attempt could not be recorded (STATE_FAILURE_MODE=closed)"
                    );
                    return FlowDecision::Fail(FailReason::LockedOut);
                }
            }
        }
        if matches!(decision, FlowDecision::Fail(_)) {
            return decision;
        }
        // Every decision that lets the sign-in go on — another challenge or the tokens — checks
        // the lock: a session opened before the lock (or racing the guesses that caused it) gets
        // no tokens either.
        match guard
            .locked_until(key, now, self.lockout, TRIGGER, user)
            .await
        {
            Ok(None) => decision,
            Ok(Some(until)) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    decision = "fail",
                    reason = "locked_out",
                    locked_until = until,
                    "sign-in refused: too many failed attempts"
                );
                FlowDecision::Fail(FailReason::LockedOut)
            }
            Err(error) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    decision = "fail",
                    reason = "state_unavailable",
                    error = display(&error),
                    "sign-in refused: lockout could not be checked (STATE_FAILURE_MODE=closed)"
                );
                FlowDecision::Fail(FailReason::LockedOut)
            }
        }
    }

    /// The decision for a parsed event at time `now` (Unix seconds): Define never fails the
    /// invocation, it answers `failAuthentication` instead.
    async fn decide(
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
            let owner =
                UserRef::from_event(&event.user_name, &request.user_attributes, user_not_found);
            decision = self
                .guarded(
                    guard,
                    &lock_key(&event.user_pool_id, &owner),
                    request.session.last(),
                    decision,
                    now,
                    user,
                )
                .await;
        }
        event.response = match decision {
            FlowDecision::Challenge(next) => {
                info!(
                    trigger = TRIGGER,
                    user,
                    rounds,
                    decision = "challenge",
                    challenge = next.cognito_name(),
                    detail = debug(&next)
                );
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
                info!(
                    trigger = TRIGGER,
                    user,
                    rounds,
                    decision = "fail",
                    reason = display(&reason)
                );
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

impl Handler for DefineAuthChallenge {
    type Event = DefineAuthChallengeEvent;

    async fn handle(
        &self,
        event: DefineAuthChallengeEvent,
        now: u64,
    ) -> Result<DefineAuthChallengeEvent, Error> {
        Ok(self.decide(event, now).await)
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::state::{FailureMode, FlakyStore, test_guard};

    #[tokio::test]
    async fn closed_mode_fails_a_sign_in_whose_failure_cannot_be_recorded() {
        // Recording fails while the lockout can still be read (and says "not locked"): the
        // sign-in ends on this check alone in closed mode, and goes on in open mode.
        let config = Config::from_lookup(|_| None).unwrap();
        for (mode, fails) in [(FailureMode::Closed, true), (FailureMode::Open, false)] {
            let store = Arc::new(FlakyStore {
                fail_record: true,
                ..FlakyStore::default()
            });
            let define =
                DefineAuthChallenge::new(&config).with_guard(Some(test_guard(store, mode)));
            let answered = define
                .invoke(
                    crate::event::sample("define-auth-challenge/after-wrong-code.json"),
                    1_800_000_000,
                )
                .await
                .unwrap();
            assert_eq!(
                answered.response.fail_authentication,
                Some(fails),
                "{mode:?}"
            );
        }
    }
}
