//! VerifyAuthChallengeResponse: checks the answer to the round's step.
//!
//! - SMS code: against the sealed code in the private parameters, bound to this pool and user.
//!   With a state table, every answer is first counted against the code (atomically, whichever
//!   session it comes from): once `MAX_ATTEMPTS` answers were judged against one code, any
//!   further answer is wrong without a comparison, and a code that passed once never passes
//!   again.
//! - Image CAPTCHA: against the sealed text, case-insensitively, with expiry.
//! - Widget CAPTCHA: the token goes to the provider's `siteverify` ([`SiteVerify`]); the answer is
//!   [`judge`]d against the expected host names, action and score.
//!
//! - An answer to a code round that comes with an action (`ClientMetadata` `otpAction`, see
//!   [`crate::flow::OtpAction`]) is wrong without any comparison or count: asking for a new code
//!   is never a free guess.
//!
//! Any doubt — unknown user, decoy, unreadable seal, expired code, malformed answer, a provider
//! that fails or is slow — is a wrong answer, never an error and never a panic.

use std::sync::Arc;

use tracing::{info, warn};

use super::round::{DECOY, PrivateParameters};
use super::{Handler, log_user};
use crate::Error;
use crate::captcha::{
    CaptchaConfig, CaptchaProvider, ImageCheck, MAX_ANSWER_BYTES, Rejection, SiteVerify,
    check_image_answer, judge,
};
use crate::config::Config;
use crate::event::{Trigger, VerifyAuthChallengeEvent, VerifyAuthChallengeResponse};
use crate::flow::{CAPTCHA_TAG, ChallengeStep, OtpAction, SMS_OTP_TAG};
use crate::otp::{OtpCheck, OtpPolicy, OtpSeal};
use crate::seal::{SealBinding, SealKey};
use crate::state::{AnswerBudget, Guard, PROVEN_NOTE_SECONDS, UserRef, code_key, proven_note};

const TRIGGER: &str = VerifyAuthChallengeEvent::NAME;

/// Whom the stand-in seal (checked for decoys) belongs to: nobody.
const STAND_IN: SealBinding<'static> = SealBinding {
    pool_id: "stand-in",
    user: "stand-in",
};

/// The VerifyAuthChallengeResponse handler.
#[derive(Debug)]
pub struct VerifyAuthChallenge {
    otp: OtpPolicy,
    /// `MAX_ATTEMPTS`: the most answers ever judged against one code.
    max_answers: u8,
    seal_key: SealKey,
    guard: Option<Guard>,
    /// Checked for decoys too, so both take the same work.
    stand_in_seal: OtpSeal,
    captcha: CaptchaConfig,
    site_verifier: Option<Arc<dyn SiteVerify>>,
    /// Whether a code step ends the flow, so that a right answer to it is the last step before
    /// the tokens: only then is a proof noted (`VERIFY_ON_FIRST_SIGN_IN`).
    code_step_ends_flow: bool,
}

impl VerifyAuthChallenge {
    /// A handler with the configured policies. A flow with a widget CAPTCHA needs `site_verifier`
    /// (built once per cold start, see [`crate::captcha::build_site_verifier`]).
    pub fn new(config: &Config, site_verifier: Option<Arc<dyn SiteVerify>>) -> Result<Self, Error> {
        let widget = config.captcha.provider != CaptchaProvider::Image;
        if config.flow.contains(ChallengeStep::Captcha) && widget && site_verifier.is_none() {
            return Err(Error::config(
                "CAPTCHA_PROVIDER",
                format!(
                    "{} needs a siteverify client, and none was built",
                    config.captcha.provider
                ),
            ));
        }
        let stand_in = crate::otp::OtpCode::generate(config.otp.length)?;
        let seal_key = config.seal_key()?;
        Ok(Self {
            otp: config.otp,
            max_answers: config.attempts.for_step(ChallengeStep::SmsOtp),
            stand_in_seal: OtpSeal::new(&seal_key, &stand_in, 0, STAND_IN)?,
            seal_key,
            guard: None,
            captcha: config.captcha.clone(),
            site_verifier,
            code_step_ends_flow: matches!(
                config.flow.steps().last(),
                Some(ChallengeStep::SmsOtp | ChallengeStep::EmailOtp | ChallengeStep::Otp)
            ),
        })
    }

    /// The handler as the deployment configures it (the environment, the secrets its `…_ARN`
    /// variables name, the CAPTCHA provider's client and the state table, set up once).
    #[cfg(all(feature = "http", feature = "aws-secrets", feature = "dynamodb"))]
    pub async fn from_env() -> Result<Self, Error> {
        let config = Config::from_env_with_secrets().await?;
        let site_verifier =
            crate::captcha::build_site_verifier(&config.captcha, &config.flow).await?;
        let guard = crate::state::build_guard(config.state.as_ref()).await?;
        Ok(Self::new(&config, site_verifier)?.with_guard(guard))
    }

    /// The verdict on a parsed event at time `now` (Unix seconds): Verify never fails the
    /// invocation, a doubtful answer is wrong.
    async fn judge(
        &self,
        mut event: VerifyAuthChallengeEvent,
        now: u64,
    ) -> VerifyAuthChallengeEvent {
        let step = PrivateParameters(&event.request.private_challenge_parameters).step();
        let correct = match step {
            Some(
                code_step @ (ChallengeStep::SmsOtp | ChallengeStep::EmailOtp | ChallengeStep::Otp),
            ) => self.check_code(&event, code_step, now).await,
            Some(ChallengeStep::Captcha) => self.check_captcha(&event, now).await,
            Some(ChallengeStep::Password) | None => {
                warn!(
                    trigger = TRIGGER,
                    user = user_of(&event),
                    outcome = "unknown_challenge",
                    "private parameters name no known step"
                );
                false
            }
        };
        event.response = VerifyAuthChallengeResponse {
            answer_correct: Some(correct),
        };
        event
    }

    async fn check_code(
        &self,
        event: &VerifyAuthChallengeEvent,
        step: ChallengeStep,
        now: u64,
    ) -> bool {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let user = user_of(event);
        let answer = request.challenge_answer.as_deref().unwrap_or("");
        let tag = step.tag().unwrap_or(SMS_OTP_TAG);
        if let Some(action) = request
            .client_metadata
            .as_ref()
            .and_then(OtpAction::from_client_metadata)
        {
            // Not an answer: never compared, never counted against the code.
            info!(
                trigger = TRIGGER,
                user,
                step = tag,
                outcome = "action",
                action = debug(&action),
                answer_bytes = answer.len()
            );
            return false;
        }
        let seal_text = PrivateParameters(&request.private_challenge_parameters).seal();
        let owner = UserRef::from_event(&event.user_name, &request.user_attributes, user_not_found);
        // Every state call of this answer shares one STATE_TIMEOUT_MS.
        let deadline = self.guard.as_ref().map(Guard::deadline);
        let binding = SealBinding {
            pool_id: &event.user_pool_id,
            user: owner.as_str(),
        };
        let (seal, decoy) = match OtpSeal::decode(seal_text) {
            Some(seal) if !user_not_found => (seal, false),
            _ => (self.stand_in_seal.clone(), true),
        };
        // Count the answer against the code before anything is compared (decoys too, so both
        // take the same work): at most MAX_ATTEMPTS answers are ever judged against one code.
        let key = code_key(
            &event.user_pool_id,
            &owner,
            &if decoy { DECOY.to_owned() } else { seal.id() },
        );
        let budget = self.count_answer(&key, now, user, deadline).await;
        let check = match budget {
            Ok(AnswerBudget::Allowed) => {
                let (now, binding) = if decoy { (0, STAND_IN) } else { (now, binding) };
                seal.check(&self.seal_key, answer, self.otp, now, binding)
            }
            Ok(AnswerBudget::Exhausted) | Err(()) => OtpCheck::Wrong,
        };
        let mut outcome = if decoy {
            if !user_not_found && seal_text != DECOY {
                warn!(
                    trigger = TRIGGER,
                    user,
                    outcome = "unreadable_seal",
                    keyed = self.seal_key.is_keyed(),
                    "private parameters hold no readable seal (a seal made with another SEAL_KEY setting?)"
                );
            }
            "decoy"
        } else {
            match (budget, check) {
                (Ok(AnswerBudget::Exhausted), _) => "answer_budget_spent",
                (Err(()), _) => "state_unavailable",
                (_, OtpCheck::Correct) => "correct",
                (_, OtpCheck::Wrong) if seal.is_keyed() != self.seal_key.is_keyed() => {
                    "seal_key_mismatch"
                }
                (_, OtpCheck::Wrong) => "wrong",
                (_, OtpCheck::Expired) => "expired",
                (_, OtpCheck::Malformed) => "malformed",
            }
        };
        let mut correct = !decoy && check == OtpCheck::Correct;
        if correct && !self.consume(&key, now, user, deadline).await {
            // Another session passed this code already (or that could not be ruled out).
            outcome = "already_used";
            correct = false;
        }
        if correct {
            self.note_proof(event, &owner, now, user, deadline).await;
        }
        info!(
            trigger = TRIGGER,
            user,
            step = tag,
            outcome,
            answer_bytes = answer.len()
        );
        correct
    }

    /// After a right answer to a code that went to an unverified destination
    /// (`VERIFY_ON_FIRST_SIGN_IN`): notes that this user proved that attribute with that value,
    /// for PostAuthentication to mark it verified once the sign-in has passed every step. Only
    /// if the attribute still holds the value the code went to; a note that cannot be written
    /// leaves the destination unverified (the sign-in goes on: the code was right).
    async fn note_proof(
        &self,
        event: &VerifyAuthChallengeEvent,
        owner: &UserRef,
        now: u64,
        user: &str,
        deadline: Option<tokio::time::Instant>,
    ) {
        let request = &event.request;
        if !self.code_step_ends_flow {
            return;
        }
        let Some(proof) = PrivateParameters(&request.private_challenge_parameters).proves() else {
            return;
        };
        let Some((attribute, value)) = proof.proven(
            &self.seal_key,
            &event.user_pool_id,
            owner,
            &request.user_attributes,
        ) else {
            warn!(
                trigger = TRIGGER,
                user,
                outcome = "not_proved",
                "the destination changed since the code went out: it stays unverified"
            );
            return;
        };
        let (Some(guard), Some(deadline)) = (&self.guard, deadline) else {
            return;
        };
        let (pk, sk) = proven_note(&event.user_pool_id, owner, attribute, value);
        let noted = tokio::time::timeout_at(
            deadline,
            guard.store().put_note(&pk, &sk, now + PROVEN_NOTE_SECONDS),
        )
        .await;
        match noted {
            Ok(Ok(())) => info!(trigger = TRIGGER, user, proved = attribute),
            _ => warn!(
                trigger = TRIGGER,
                user,
                state = "unavailable",
                proved = attribute,
                "the proof could not be noted: the destination stays unverified"
            ),
        }
    }

    /// Counts one answer against the code `key`; `Err` when the store failed in closed mode (the
    /// answer is then wrong). Without a state table every answer may be compared: each session
    /// then has a code of its own (see docs/abuse-protection.md).
    async fn count_answer(
        &self,
        key: &crate::state::CodeKey,
        now: u64,
        user: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<AnswerBudget, ()> {
        let (Some(guard), Some(deadline)) = (&self.guard, deadline) else {
            return Ok(AnswerBudget::Allowed);
        };
        let counted = guard
            .run_logged(
                deadline,
                guard
                    .store()
                    .count_answer(key, self.max_answers, now, self.count_ttl()),
                AnswerBudget::Allowed,
                (TRIGGER, user),
                "answer compared without the per-code budget",
            )
            .await;
        match counted {
            Ok(outcome) => Ok(outcome.into_value()),
            Err(error) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    state = "unavailable",
                    error = display(&error),
                    "answer refused: the per-code budget could not be checked (STATE_FAILURE_MODE=closed)"
                );
                Err(())
            }
        }
    }

    /// How long a code's count is kept: the code's lifetime plus the clock-skew minute, twice.
    fn count_ttl(&self) -> u64 {
        self.otp.ttl_seconds + 120
    }

    /// Marks the code used after a right answer: `false` when it was used already, or when that
    /// cannot be ruled out in closed mode.
    async fn consume(
        &self,
        key: &crate::state::CodeKey,
        now: u64,
        user: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> bool {
        let (Some(guard), Some(deadline)) = (&self.guard, deadline) else {
            return true;
        };
        match guard
            .run_logged(
                deadline,
                guard.store().consume_code(key, now, self.count_ttl()),
                true,
                (TRIGGER, user),
                "code passed without marking it used",
            )
            .await
        {
            Ok(outcome) => outcome.into_value(),
            Err(error) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    state = "unavailable",
                    error = display(&error),
                    "right answer refused: the code could not be marked used (STATE_FAILURE_MODE=closed)"
                );
                false
            }
        }
    }

    async fn check_captcha(&self, event: &VerifyAuthChallengeEvent, now: u64) -> bool {
        let request = &event.request;
        let user = user_of(event);
        let answer = request.challenge_answer.as_deref().unwrap_or("");
        let private = PrivateParameters(&request.private_challenge_parameters);
        let provider = self.captcha.provider;
        let round_provider = private.provider();
        if round_provider != Some(provider.name()) {
            warn!(
                trigger = TRIGGER,
                user,
                step = CAPTCHA_TAG,
                outcome = "provider_mismatch",
                provider = provider.name(),
                "the round was created for another CAPTCHA provider"
            );
            return false;
        }
        let outcome: Result<(), &'static str> = if provider == CaptchaProvider::Image {
            let seal = private.seal();
            let owner = UserRef::from_event(
                &event.user_name,
                &request.user_attributes,
                request.user_not_found.unwrap_or(false),
            );
            let binding = SealBinding {
                pool_id: &event.user_pool_id,
                user: owner.as_str(),
            };
            match check_image_answer(
                &self.seal_key,
                seal,
                answer,
                self.captcha.ttl_seconds,
                now,
                binding,
            ) {
                ImageCheck::Correct => Ok(()),
                ImageCheck::Wrong => Err("wrong"),
                ImageCheck::Expired => Err("expired"),
                ImageCheck::Unreadable => Err("unreadable_seal"),
            }
        } else {
            match self.check_token(answer).await {
                Ok(()) => Ok(()),
                Err(rejection) => {
                    warn!(
                        trigger = TRIGGER,
                        user,
                        step = CAPTCHA_TAG,
                        provider = provider.name(),
                        outcome = rejection.kind(),
                        reason = display(&rejection),
                        "CAPTCHA token not accepted"
                    );
                    Err(rejection.kind())
                }
            }
        };
        info!(
            trigger = TRIGGER,
            user,
            step = CAPTCHA_TAG,
            provider = provider.name(),
            outcome = outcome.err().unwrap_or("correct"),
            answer_bytes = answer.len()
        );
        outcome.is_ok()
    }

    async fn check_token(&self, token: &str) -> Result<(), Rejection> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_ANSWER_BYTES {
            return Err(Rejection::MalformedToken);
        }
        let Some(verifier) = &self.site_verifier else {
            return Err(Rejection::ProviderFailed("no siteverify client".to_owned()));
        };
        // The verifier has its own deadline; this outer one also covers any other implementation.
        let deadline = self.captcha.timeout + std::time::Duration::from_millis(200);
        let response = tokio::time::timeout(deadline, verifier.verify(token))
            .await
            .unwrap_or_else(|_| {
                Err(Rejection::ProviderFailed(format!(
                    "no answer within {} ms",
                    deadline.as_millis()
                )))
            })?;
        judge(self.captcha.provider, &response, &self.captcha.expectations)
    }
}

impl Handler for VerifyAuthChallenge {
    type Event = VerifyAuthChallengeEvent;

    async fn handle(
        &self,
        event: VerifyAuthChallengeEvent,
        now: u64,
    ) -> Result<VerifyAuthChallengeEvent, Error> {
        Ok(self.judge(event, now).await)
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

fn user_of(event: &VerifyAuthChallengeEvent) -> &str {
    log_user(
        &event.request.user_attributes,
        event.request.user_not_found.unwrap_or(false),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::state::{FailureMode, FlakyStore, test_guard};

    /// When the right-code sample's seal is fresh.
    const FRESH: u64 = 1_763_769_610;

    #[test]
    fn an_answer_count_outlives_its_code() {
        // Counts are kept past the code's lifetime and the clock-skew minute either side, so a
        // count never expires while its code can still pass.
        let config =
            Config::from_lookup(|name| (name == "OTP_TTL_SECONDS").then(|| "300".to_owned()))
                .unwrap();
        let verify = VerifyAuthChallenge::new(&config, None).unwrap();
        assert_eq!(verify.count_ttl(), 420);
    }

    #[tokio::test]
    async fn an_unknown_users_answer_is_never_compared_even_to_a_real_seal() {
        // userNotFound, and a readable seal of the right code made for exactly that unknown
        // name: Verify checks the stand-in, never the seal.
        let config = Config::from_lookup(|_| None).unwrap();
        let verify = VerifyAuthChallenge::new(&config, None).unwrap();
        let mut event = crate::event::sample("verify-auth-challenge/right-code.json");
        let pool = event["userPoolId"].as_str().unwrap().to_owned();
        let name = event["userName"].as_str().unwrap().to_owned();
        let owner = UserRef::unknown(&name);
        let code = crate::otp::OtpCode::generate(6).unwrap();
        let binding = SealBinding {
            pool_id: &pool,
            user: owner.as_str(),
        };
        let seal = OtpSeal::new(&SealKey::none(), &code, FRESH, binding).unwrap();
        event["request"]["privateChallengeParameters"]["seal"] =
            serde_json::Value::from(seal.encode());
        event["request"]["challengeAnswer"] = serde_json::Value::from(code.expose());
        event["request"]["userNotFound"] = serde_json::Value::Bool(true);
        assert_eq!(
            verify
                .invoke(event, FRESH)
                .await
                .unwrap()
                .response
                .answer_correct,
            Some(false)
        );
    }

    #[tokio::test]
    async fn a_right_code_passes_once() {
        // Two sessions answer the same code: the first passes and marks it used, the second is
        // refused (a count of two answers is within the limit: only the mark refuses it).
        let config = Config::from_lookup(|_| None).unwrap();
        let verify = VerifyAuthChallenge::new(&config, None)
            .unwrap()
            .with_guard(Some(test_guard(
                Arc::new(crate::state::MemoryStore::default()),
                FailureMode::Closed,
            )));
        let answer = async || {
            verify
                .invoke(
                    crate::event::sample("verify-auth-challenge/right-code.json"),
                    FRESH,
                )
                .await
                .unwrap()
                .response
                .answer_correct
        };
        assert_eq!(answer().await, Some(true));
        assert_eq!(answer().await, Some(false));
    }

    #[tokio::test]
    async fn closed_mode_never_compares_an_answer_it_could_not_count() {
        // The count fails while the rest of the table answers (so marking the code used would
        // work): the answer is wrong without a comparison, on this check alone.
        let config = Config::from_lookup(|_| None).unwrap();
        for (mode, expected) in [(FailureMode::Closed, false), (FailureMode::Open, true)] {
            let store = Arc::new(FlakyStore {
                fail_count: true,
                ..FlakyStore::default()
            });
            let verify = VerifyAuthChallenge::new(&config, None)
                .unwrap()
                .with_guard(Some(test_guard(store, mode)));
            let answered = verify
                .invoke(
                    crate::event::sample("verify-auth-challenge/right-code.json"),
                    FRESH,
                )
                .await
                .unwrap();
            assert_eq!(answered.response.answer_correct, Some(expected), "{mode:?}");
        }
    }

    #[tokio::test]
    async fn an_answer_with_an_action_uses_up_none_of_the_codes_answers() {
        use crate::state::{MemoryStore, StateStore};
        let config = Config::from_lookup(|_| None).unwrap();
        let store = Arc::new(MemoryStore::default());
        let verify = VerifyAuthChallenge::new(&config, None)
            .unwrap()
            .with_guard(Some(test_guard(store.clone(), FailureMode::Closed)));
        let event = crate::event::sample("verify-auth-challenge/resend-action.json");
        for _ in 0..5 {
            let answered = verify.invoke(event.clone(), FRESH).await.unwrap();
            assert_eq!(answered.response.answer_correct, Some(false));
        }
        // The code still admits all of its MAX_ATTEMPTS answers.
        let parsed = crate::event::parse::<VerifyAuthChallengeEvent>(event).unwrap();
        let seal =
            OtpSeal::decode(PrivateParameters(&parsed.request.private_challenge_parameters).seal())
                .unwrap();
        let owner = UserRef::from_event(&parsed.user_name, &parsed.request.user_attributes, false);
        let key = code_key(&parsed.user_pool_id, &owner, &seal.id());
        for _ in 0..3 {
            assert_eq!(
                store.count_answer(&key, 3, FRESH, 600).await.unwrap(),
                AnswerBudget::Allowed
            );
        }
        assert_eq!(
            store.count_answer(&key, 3, FRESH, 600).await.unwrap(),
            AnswerBudget::Exhausted
        );
    }

    /// A `siteverify` stand-in: answers `success` for `login.example.com` after `delay`, and
    /// counts its calls.
    #[derive(Debug)]
    struct FakeSiteVerify {
        success: bool,
        delay: std::time::Duration,
        calls: std::sync::atomic::AtomicUsize,
    }

    impl SiteVerify for FakeSiteVerify {
        fn verify<'a>(&'a self, _: &'a str) -> crate::captcha::VerifyFuture<'a> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                serde_json::from_value(serde_json::json!({
                    "success": self.success,
                    "hostname": "login.example.com",
                }))
                .map_err(|error| Rejection::ProviderFailed(error.to_string()))
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_widget_token_passes_only_when_the_provider_accepts_it_within_the_deadline() {
        let config = Config::from_lookup(|name| {
            Some(
                match name {
                    "AUTH_FLOW" => "captcha,sms_otp",
                    "CAPTCHA_PROVIDER" => "turnstile",
                    "CAPTCHA_SITE_KEY" => "site-key",
                    "CAPTCHA_SECRET" => "secret-of-the-site",
                    "CAPTCHA_EXPECTED_HOSTNAMES" => "login.example.com",
                    "CAPTCHA_TIMEOUT_MS" => "500",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .unwrap();
        let verdict = async |success: bool, delay_ms: u64, token: &str| {
            let provider = Arc::new(FakeSiteVerify {
                success,
                delay: std::time::Duration::from_millis(delay_ms),
                calls: std::sync::atomic::AtomicUsize::new(0),
            });
            let verify = VerifyAuthChallenge::new(&config, Some(provider.clone())).unwrap();
            let mut event = crate::event::sample("verify-auth-challenge/captcha-widget-token.json");
            event["request"]["challengeAnswer"] = serde_json::json!(token);
            let answered = verify.invoke(event, FRESH).await.unwrap();
            (
                answered.response.answer_correct,
                provider.calls.load(std::sync::atomic::Ordering::SeqCst),
            )
        };
        assert_eq!(verdict(true, 0, "0.token").await, (Some(true), 1));
        assert_eq!(verdict(false, 0, "0.token").await, (Some(false), 1));
        // Empty and oversized tokens never reach the provider; the largest allowed one does.
        assert_eq!(verdict(true, 0, "  ").await, (Some(false), 0));
        let largest = "t".repeat(MAX_ANSWER_BYTES);
        assert_eq!(verdict(true, 0, &largest).await, (Some(true), 1));
        let oversized = "t".repeat(MAX_ANSWER_BYTES + 1);
        assert_eq!(verdict(true, 0, &oversized).await, (Some(false), 0));
        // The outer deadline is CAPTCHA_TIMEOUT_MS plus 200 ms: an answer after 600 ms counts,
        // one after 800 ms does not.
        assert_eq!(verdict(true, 600, "0.token").await, (Some(true), 1));
        assert_eq!(verdict(true, 800, "0.token").await, (Some(false), 1));
    }
}
