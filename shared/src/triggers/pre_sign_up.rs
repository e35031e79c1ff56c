//! PreSignUp: auto-confirms sign-ups that pass the sign-up policy ([`crate::signup`]) and refuses
//! the others with a message that says what to fix. It never marks a destination verified: the
//! first code answered there does (`VERIFY_ON_FIRST_SIGN_IN`, PostAuthentication).
//!
//! A refusal here tells nothing about other users (Cognito's `SignUp` answers
//! `UsernameExistsException` for a taken name before this trigger runs), so the messages can be
//! precise; the logs name the reason and never a value of the event.

use tracing::{info, warn};

use super::Handler;
use crate::Error;
use crate::abuse::AbusePolicy;
use crate::config::Config;
use crate::event::{PreSignUpEvent, PreSignUpResponse, Trigger};
use crate::signup::{SignUpFacts, SignUpPolicy, SignUpSource, evaluate};
use crate::state::Guard;

const TRIGGER: &str = PreSignUpEvent::NAME;

/// The PreSignUp handler.
#[derive(Debug, Clone)]
pub struct PreSignUp {
    policy: SignUpPolicy,
    abuse: AbusePolicy,
    guard: Option<Guard>,
}

impl PreSignUp {
    /// A handler with the configured sign-up policy and the send rules phone numbers must meet.
    pub fn new(config: &Config) -> Self {
        Self {
            policy: config.signup.clone(),
            abuse: config.abuse.clone(),
            guard: None,
        }
    }

    /// The handler as the deployment configures it (the environment, read and checked once).
    pub async fn from_env() -> Result<Self, Error> {
        Ok(Self::new(&Config::from_env()?))
    }

    fn answer(&self, mut event: PreSignUpEvent) -> Result<PreSignUpEvent, Error> {
        // `parse` admitted only the three PreSignUp sources.
        let source = SignUpSource::from_trigger_source(&event.trigger_source).ok_or_else(|| {
            Error::WrongTrigger {
                trigger: TRIGGER,
                trigger_source: event.trigger_source.clone(),
            }
        })?;
        let client_id = event
            .caller_context
            .as_ref()
            .and_then(|context| context.client_id.as_deref());
        let facts = SignUpFacts {
            source,
            client_id,
            attributes: &event.request.user_attributes,
        };
        match evaluate(&self.policy, &self.abuse, &facts) {
            Ok(decision) => {
                info!(
                    trigger = TRIGGER,
                    source = event.trigger_source.as_str(),
                    decision = "allow",
                    auto_confirm = decision.auto_confirm
                );
                event.response = PreSignUpResponse {
                    auto_confirm_user: Some(decision.auto_confirm),
                    auto_verify_phone: Some(false),
                    auto_verify_email: Some(false),
                    ..PreSignUpResponse::default()
                };
                Ok(event)
            }
            Err(refusal) => {
                warn!(
                    trigger = TRIGGER,
                    source = event.trigger_source.as_str(),
                    decision = "deny",
                    reason = refusal.kind(),
                    detail = display(&refusal),
                    client_id = client_id.unwrap_or(""),
                    "sign-up refused"
                );
                Err(Error::Denied {
                    message: refusal.user_message(),
                    reason: refusal.to_string(),
                })
            }
        }
    }
}

impl Handler for PreSignUp {
    type Event = PreSignUpEvent;

    /// The event with `autoConfirmUser` set as the policy decides (never `autoVerify…`), or a
    /// refusal.
    async fn handle(&self, event: PreSignUpEvent, _now: u64) -> Result<PreSignUpEvent, Error> {
        self.answer(event)
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn sample(file: &str) -> Value {
        let path = format!(
            "{}/../events/pre-sign-up/{file}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn handler(pairs: &[(&str, &str)]) -> PreSignUp {
        let config = Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
        .unwrap();
        PreSignUp::new(&config)
    }

    #[tokio::test]
    async fn a_passing_sign_up_comes_back_whole_confirmed_and_unverified() {
        let raw = sample("phone-sign-up");
        let answered = handler(&[]).invoke(raw.clone(), 0).await.unwrap();
        let answered = serde_json::to_value(answered).unwrap();
        assert_eq!(
            answered["response"],
            json!({"autoConfirmUser": true, "autoVerifyPhone": false, "autoVerifyEmail": false})
        );
        let mut expected = raw;
        expected["response"] = answered["response"].clone();
        assert_eq!(answered, expected);
    }

    #[tokio::test]
    async fn the_sample_refusals_say_what_to_fix() {
        let pre = handler(&[("SMS_ALLOWED_COUNTRIES", "US,CA")]);
        for (file, message) in [
            (
                "premium-rate-number",
                "This kind of phone number cannot receive sign-in codes: use a mobile number",
            ),
            ("no-phone-number", "A phone number is required to sign up"),
            (
                "self-verified-phone",
                "A phone number or e-mail address cannot be marked verified at sign-up",
            ),
            (
                "country-not-allowed",
                "Phone numbers of this country cannot be used to sign up",
            ),
        ] {
            let refused = pre.invoke(sample(file), 0).await.unwrap_err();
            assert_eq!(refused.user_message(), message, "{file}");
            assert_eq!(refused.error_type(), "SignInDenied");
        }
        let admin = pre.invoke(sample("admin-create-user"), 0).await.unwrap();
        assert_eq!(admin.response.auto_confirm_user, Some(false));
        assert_eq!(admin.response.auto_verify_phone, Some(false));
    }

    #[tokio::test]
    async fn only_the_listed_clients_sign_users_up() {
        let pre = handler(&[("SIGNUP_ALLOWED_CLIENT_IDS", "another-client")]);
        let refused = pre.invoke(sample("phone-sign-up"), 0).await.unwrap_err();
        assert_eq!(
            refused.user_message(),
            "Sign-up is not available in this app"
        );
    }

    #[tokio::test]
    async fn other_triggers_and_malformed_events_are_refused() {
        let pre = handler(&[]);
        let mut other = sample("phone-sign-up");
        other["triggerSource"] = json!("PreAuthentication_Authentication");
        assert_eq!(
            pre.invoke(other, 0).await.unwrap_err().error_type(),
            "WrongTrigger"
        );
        let mut odd = sample("phone-sign-up");
        odd["request"]["userAttributes"] = json!({"phone_number": 12065550100u64});
        assert_eq!(
            pre.invoke(odd, 0).await.unwrap_err().error_type(),
            "MalformedEvent"
        );
    }
}
