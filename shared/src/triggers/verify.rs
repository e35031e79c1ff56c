//! VerifyAuthChallengeResponse: checks the answer against the sealed code in the private
//! parameters. Any doubt — unknown user, decoy, unreadable seal, expired code, malformed answer —
//! is a wrong answer, never an error and never a panic.

use serde_json::Value;
use tracing::{info, warn};

use super::create::{DECOY, PRIVATE_SEAL, PRIVATE_STEP};
use super::log_user;
use crate::Error;
use crate::config::Config;
use crate::event::{VerifyAuthChallengeEvent, VerifyAuthChallengeResponse};
use crate::flow::ChallengeStep;
use crate::otp::{OtpCheck, OtpPolicy, OtpSeal};

/// The VerifyAuthChallengeResponse handler.
#[derive(Debug)]
pub struct VerifyAuthChallenge {
    otp: OtpPolicy,
    /// Checked for decoys too, so both take the same work.
    stand_in_seal: OtpSeal,
}

impl VerifyAuthChallenge {
    /// A handler with the configured code policy.
    pub fn new(config: &Config) -> Result<Self, Error> {
        let stand_in = crate::otp::OtpCode::generate(config.otp.length)?;
        Ok(Self {
            otp: config.otp,
            stand_in_seal: OtpSeal::new(&stand_in, 0, "stand-in")?,
        })
    }

    /// Parses a raw event and answers it at time `now` (Unix seconds).
    pub fn invoke(&self, raw: Value, now: u64) -> Result<VerifyAuthChallengeEvent, Error> {
        let event = VerifyAuthChallengeEvent::parse(raw).inspect_err(|error| {
            warn!(trigger = "VerifyAuthChallengeResponse", error_type = error.error_type(), error = %error, "request refused");
        })?;
        Ok(self.handle(event, now))
    }

    /// Answers a parsed event at time `now` (Unix seconds).
    pub fn handle(
        &self,
        mut event: VerifyAuthChallengeEvent,
        now: u64,
    ) -> VerifyAuthChallengeEvent {
        let correct = self.check(&event, now);
        event.response = VerifyAuthChallengeResponse {
            answer_correct: Some(correct),
        };
        event
    }

    fn check(&self, event: &VerifyAuthChallengeEvent, now: u64) -> bool {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let user = log_user(&request.user_attributes, user_not_found);
        let answer = request.challenge_answer.as_deref().unwrap_or("");
        let private = &request.private_challenge_parameters;
        let step = private
            .get(PRIVATE_STEP)
            .map(String::as_str)
            .and_then(ChallengeStep::from_tag);
        if step != Some(ChallengeStep::SmsOtp) {
            warn!(
                trigger = "VerifyAuthChallengeResponse",
                user,
                outcome = "unknown_challenge",
                "private parameters name no known step"
            );
            return false;
        }
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
                    trigger = "VerifyAuthChallengeResponse",
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
            trigger = "VerifyAuthChallengeResponse",
            user,
            step = "SMS_OTP",
            outcome,
            answer_bytes = answer.len()
        );
        !decoy && check == OtpCheck::Correct
    }
}
