//! DefineAuthChallenge: the state machine's decision, written into the response. With a state
//! table, it also keeps the lockout: every wrong answer (and wrong password) Cognito reports is
//! recorded, and a locked account fails at its next decision — the next challenge **and** the
//! tokens — whichever session the guesses came from, so parallel sessions cannot multiply them.
//! In closed mode a failure that cannot be recorded, or a lock that cannot be checked, fails the
//! sign-in. A round answered with an action (a request for the code again, which Verify never
//! compares) is not a failed attempt; one past `OTP_MAX_RESENDS` fails the invocation with a
//! message for the user (the only time Define does).

use tracing::{info, warn};

use super::{Handler, log_user, session_entries};
use crate::Error;
use crate::abuse::LockoutPolicy;
use crate::config::Config;
use crate::event::{ChallengeResult, Trigger};
use crate::event::{DefineAuthChallengeEvent, DefineAuthChallengeResponse};
use crate::flow::{
    AttemptLimits, AuthFlow, FailReason, FlowDecision, OtpAction, answered_with_action,
    decide_with_action,
};
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

    /// The decision for a parsed event at time `now` (Unix seconds): Define answers
    /// `failAuthentication` rather than failing the invocation, but for one case the user must
    /// be told about: a request for the code again past `OTP_MAX_RESENDS`.
    async fn decide(
        &self,
        mut event: DefineAuthChallengeEvent,
        now: u64,
    ) -> Result<DefineAuthChallengeEvent, Error> {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let session = session_entries(&request.session);
        let action = request
            .client_metadata
            .as_ref()
            .and_then(OtpAction::from_client_metadata);
        let mut decision =
            decide_with_action(&self.flow, &session, user_not_found, self.attempts, action);
        let user = log_user(&request.user_attributes, user_not_found);
        let rounds = request.session.len();
        if decision == FlowDecision::Fail(FailReason::TooManyResends) {
            info!(
                trigger = TRIGGER,
                user,
                rounds,
                decision = "refuse",
                reason = display(&FailReason::TooManyResends)
            );
            return Err(Error::TooManyResends {
                limit: self.attempts.resends,
            });
        }
        if let Some(guard) = &self.guard {
            let owner =
                UserRef::from_event(&event.user_name, &request.user_attributes, user_not_found);
            // A round answered with an action compared nothing: not a failed attempt.
            let last_answer = request
                .session
                .last()
                .filter(|_| !answered_with_action(&self.flow, &session, action));
            decision = self
                .guarded(
                    guard,
                    &lock_key(&event.user_pool_id, &owner),
                    last_answer,
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
        Ok(event)
    }
}

impl Handler for DefineAuthChallenge {
    type Event = DefineAuthChallengeEvent;

    async fn handle(
        &self,
        event: DefineAuthChallengeEvent,
        now: u64,
    ) -> Result<DefineAuthChallengeEvent, Error> {
        self.decide(event, now).await
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

    #[tokio::test]
    async fn a_request_for_the_code_again_is_no_failed_attempt_but_other_actions_are() {
        use crate::state::{MemoryStore, StateStore};
        let now = 1_800_000_000;
        let failures_after = async |flow: &str, file: &str, action: Option<&str>| {
            let config = Config::from_lookup(|name| match name {
                "AUTH_FLOW" => Some(flow.to_owned()),
                _ => None,
            })
            .unwrap();
            let store = Arc::new(MemoryStore::default());
            let define = DefineAuthChallenge::new(&config)
                .with_guard(Some(test_guard(store.clone(), FailureMode::Closed)));
            let mut event = crate::event::sample(file);
            event["request"]["clientMetadata"] = match action {
                Some(action) => serde_json::json!({ "otpAction": action }),
                None => serde_json::json!({}),
            };
            let answered = define.invoke(event, now).await.unwrap();
            assert_eq!(answered.response.fail_authentication, Some(false), "{file}");
            let owner = UserRef::from_event(
                &answered.user_name,
                &answered.request.user_attributes,
                false,
            );
            store
                .failures(&lock_key(&answered.user_pool_id, &owner), now)
                .await
                .unwrap()
                .len()
        };
        let code = "define-auth-challenge/after-wrong-code.json";
        assert_eq!(failures_after("sms_otp", code, Some("resend")).await, 0);
        assert_eq!(failures_after("sms_otp", code, None).await, 1);
        assert_eq!(failures_after("sms_otp", code, Some("switch")).await, 1);
        // A CAPTCHA round's answer was judged whatever came with it: a failure.
        let captcha = "define-auth-challenge/captcha-sms-after-wrong-captcha.json";
        assert_eq!(
            failures_after("captcha,sms_otp", captcha, Some("resend")).await,
            1
        );
    }
}
