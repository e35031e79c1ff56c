//! VerifyAuthChallengeResponse: checks the answer to the round's step.
//!
//! - SMS code: against the sealed code in the private parameters.
//! - Image CAPTCHA: against the sealed text, case-insensitively, with expiry.
//! - Widget CAPTCHA: the token goes to the provider's `siteverify` ([`SiteVerify`]); the answer is
//!   [`judge`]d against the expected host names, action and score.
//!
//! Any doubt — unknown user, decoy, unreadable seal, expired code, malformed answer, a provider
//! that fails or is slow — is a wrong answer, never an error and never a panic.

use std::sync::Arc;

use serde_json::Value;
use tracing::{info, warn};

use super::create::{DECOY, PRIVATE_PROVIDER, PRIVATE_SEAL, PRIVATE_STEP};
use super::log_user;
use crate::Error;
use crate::captcha::{
    CaptchaConfig, CaptchaProvider, ImageCheck, MAX_ANSWER_BYTES, Rejection, SiteVerify,
    check_image_answer, judge,
};
use crate::config::Config;
use crate::event::{VerifyAuthChallengeEvent, VerifyAuthChallengeResponse};
use crate::flow::ChallengeStep;
use crate::otp::{OtpCheck, OtpPolicy, OtpSeal};

const TRIGGER: &str = "VerifyAuthChallengeResponse";

/// The VerifyAuthChallengeResponse handler.
#[derive(Debug)]
pub struct VerifyAuthChallenge {
    otp: OtpPolicy,
    /// Checked for decoys too, so both take the same work.
    stand_in_seal: OtpSeal,
    captcha: CaptchaConfig,
    site_verifier: Option<Arc<dyn SiteVerify>>,
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
        Ok(Self {
            otp: config.otp,
            stand_in_seal: OtpSeal::new(&stand_in, 0, "stand-in")?,
            captcha: config.captcha.clone(),
            site_verifier,
        })
    }

    /// Parses a raw event and answers it at time `now` (Unix seconds).
    pub async fn invoke(&self, raw: Value, now: u64) -> Result<VerifyAuthChallengeEvent, Error> {
        let event = VerifyAuthChallengeEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = TRIGGER, error_type = error.error_type(), error = %error, "request refused");
        })?;
        Ok(self.handle(event, now).await)
    }

    /// Answers a parsed event at time `now` (Unix seconds).
    pub async fn handle(
        &self,
        mut event: VerifyAuthChallengeEvent,
        now: u64,
    ) -> VerifyAuthChallengeEvent {
        let private = &event.request.private_challenge_parameters;
        let step = private
            .get(PRIVATE_STEP)
            .map(String::as_str)
            .and_then(ChallengeStep::from_tag);
        let correct = match step {
            Some(ChallengeStep::SmsOtp) => self.check_code(&event, now),
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

    fn check_code(&self, event: &VerifyAuthChallengeEvent, now: u64) -> bool {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let user = user_of(event);
        let answer = request.challenge_answer.as_deref().unwrap_or("");
        let private = &request.private_challenge_parameters;
        let seal_text = private.get(PRIVATE_SEAL).map_or("", String::as_str);
        let (seal, decoy) = match OtpSeal::decode(seal_text) {
            Some(seal) if !user_not_found => (seal, false),
            _ => (self.stand_in_seal.clone(), true),
        };
        let check = seal.check(
            answer,
            self.otp,
            if decoy { 0 } else { now },
            if decoy {
                "stand-in"
            } else {
                &event.user_pool_id
            },
        );
        let outcome = if decoy {
            if !user_not_found && seal_text != DECOY {
                warn!(
                    trigger = TRIGGER,
                    user,
                    outcome = "unreadable_seal",
                    "private parameters hold no readable seal"
                );
            }
            "decoy"
        } else {
            match check {
                OtpCheck::Correct => "correct",
                OtpCheck::Wrong => "wrong",
                OtpCheck::Expired => "expired",
                OtpCheck::Malformed => "malformed",
            }
        };
        info!(
            trigger = TRIGGER,
            user,
            step = "SMS_OTP",
            outcome,
            answer_bytes = answer.len()
        );
        !decoy && check == OtpCheck::Correct
    }

    async fn check_captcha(&self, event: &VerifyAuthChallengeEvent, now: u64) -> bool {
        let request = &event.request;
        let user = user_of(event);
        let answer = request.challenge_answer.as_deref().unwrap_or("");
        let private = &request.private_challenge_parameters;
        let provider = self.captcha.provider;
        let round_provider = private.get(PRIVATE_PROVIDER).map(String::as_str);
        if round_provider != Some(provider.name()) {
            warn!(
                trigger = TRIGGER,
                user,
                step = "CAPTCHA",
                outcome = "provider_mismatch",
                provider = provider.name(),
                "the round was created for another CAPTCHA provider"
            );
            return false;
        }
        let outcome: Result<(), &'static str> = if provider == CaptchaProvider::Image {
            let seal = private.get(PRIVATE_SEAL).map_or("", String::as_str);
            match check_image_answer(
                seal,
                answer,
                self.captcha.ttl_seconds,
                now,
                &event.user_pool_id,
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
                    warn!(trigger = TRIGGER, user, step = "CAPTCHA", provider = provider.name(), outcome = rejection.kind(), reason = %rejection, "CAPTCHA token not accepted");
                    Err(rejection.kind())
                }
            }
        };
        info!(
            trigger = TRIGGER,
            user,
            step = "CAPTCHA",
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

fn user_of(event: &VerifyAuthChallengeEvent) -> &str {
    log_user(
        &event.request.user_attributes,
        event.request.user_not_found.unwrap_or(false),
    )
}
