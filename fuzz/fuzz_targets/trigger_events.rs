//! Raw bytes through every trigger's event parsing and handling, as the Lambda runtime hands
//! them over: the first byte picks one of the supported flows, keyed with `SEAL_KEY` or not (the
//! sample events' seals are unkeyed), the rest is the event (JSON; the seed corpus is `events/`,
//! see scripts/fuzz).
//!
//! Invariants beyond "no panic":
//! - Define issues tokens only when an oracle written here from the documented protocol (it reads
//!   the raw event, not the handler's model, and shares no code with `flow.rs`) finds every step
//!   of the flow passed in order, within the attempt and resend limits, for a user that exists;
//!   it never both issues tokens and fails the sign-in;
//! - Verify accepts an answer only for an existing user, and never a code sent with an action;
//! - Create sends nothing for an unknown user and never puts the code it sent (read back from
//!   the console senders) in what it returns, nor in its error;
//! - end to end: Verify, given the round Create made, accepts the code Create sent, refuses it
//!   for another pool or with an action, and accepts no other answer;
//! - UserMigration migrates a user on sign-in only with the password the store accepts;
//! - PreSignUp never auto-verifies, auto-confirms only self sign-ups, and lets none through that
//!   claims a verified destination or gives a phone number that is not E.164;
//! - every answer serialises.
#![no_main]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use cognito_passwordless::config::Config;
use cognito_passwordless::email::ConsoleEmailSender;
use cognito_passwordless::event::Password;
use cognito_passwordless::flow::{AuthFlow, ChallengeStep, OtpAction};
use cognito_passwordless::legacy::{LegacyRecord, LegacyUserSource, Lookup, LookupFuture};
use cognito_passwordless::sms::ConsoleSender;
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, Handler, PostAuthentication, PreAuthentication,
    PreSignUp, UserMigration, VerifyAuthChallenge,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// The time every event is answered at.
const NOW: u64 = 1_763_769_610;
/// The configured limits (the defaults): wrong answers per step, codes sent again.
const MAX_ATTEMPTS: usize = 3;
const MAX_RESENDS: usize = 2;
/// The one password the stand-in legacy store accepts.
const LEGACY_PASSWORD: &str = "legacy-right-password";

/// What the console senders wrote during one event.
#[derive(Clone, Default)]
struct Outbox(Arc<Mutex<Vec<u8>>>);

impl Write for Outbox {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Outbox {
    fn take(&self) -> String {
        let mut bytes = self.0.lock().map(|mut out| std::mem::take(&mut *out));
        String::from_utf8(bytes.as_mut().map(std::mem::take).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// A legacy store that knows every user and accepts one password.
#[derive(Debug)]
struct OnePassword;

impl LegacyUserSource for OnePassword {
    fn name(&self) -> &'static str {
        "fuzz"
    }
    fn authenticate<'a>(&'a self, username: &'a str, password: &'a Password) -> LookupFuture<'a> {
        let right = password.expose() == LEGACY_PASSWORD;
        Box::pin(async move {
            Ok(if right {
                Lookup::Found(record(username))
            } else {
                Lookup::WrongPassword
            })
        })
    }
    fn find<'a>(&'a self, username: &'a str) -> LookupFuture<'a> {
        Box::pin(async move { Ok(Lookup::Found(record(username))) })
    }
}

fn record(username: &str) -> LegacyRecord {
    LegacyRecord {
        attributes: [
            ("email", format!("{}@example.com", username.len())),
            ("email_verified", "true".to_owned()),
            ("phone_number", "+12065550100".to_owned()),
            ("phone_number_verified", "true".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect(),
    }
}

struct Triggers {
    flow: AuthFlow,
    define: DefineAuthChallenge,
    create: CreateAuthChallenge,
    verify: VerifyAuthChallenge,
    pre_authentication: PreAuthentication,
    post_authentication: PostAuthentication,
    pre_sign_up: PreSignUp,
    user_migration: UserMigration,
}

struct World {
    runtime: tokio::runtime::Runtime,
    outbox: Outbox,
    /// Every supported flow with `SEAL_KEY`, then every one without.
    flows: Vec<Triggers>,
}

fn triggers(flow: &str, keyed: bool, outbox: &Outbox) -> Triggers {
    let mut vars: HashMap<&str, &str> = [
        ("AUTH_FLOW", flow),
        ("SMS_PROVIDER", "console"),
        ("EMAIL_PROVIDER", "console"),
        ("PHONE_HINT", "last4"),
        ("PHONE_HINT_SECRET", "a-phone-hint-secret-of-32-characters"),
        ("LEGACY_SOURCE", "http"),
        ("LEGACY_HTTP_URL", "https://legacy.example.com/users"),
        ("PREAUTH_REQUIRE_VERIFIED_PHONE", "true"),
    ]
    .into_iter()
    .collect();
    if keyed {
        vars.insert("SEAL_KEY", "a-seal-key-of-at-least-32-characters");
        vars.insert("OTP_CHANNELS", "sms,email,voice");
    } else {
        // More than one channel needs the key (the stand-in channel of unknown users).
        vars.insert("OTP_CHANNELS", "sms");
    }
    let config = Config::from_lookup(|name| vars.get(name).map(|value| (*value).to_owned()))
        .unwrap_or_else(|error| panic!("{flow}: {error}"));
    let migration = config.migration.clone().expect("a legacy source");
    Triggers {
        flow: config.flow.clone(),
        define: DefineAuthChallenge::new(&config),
        create: CreateAuthChallenge::new(
            &config,
            Arc::new(ConsoleSender::new(Box::new(outbox.clone()))),
        )
        .expect("create")
        .with_email_sender(Arc::new(ConsoleEmailSender::new(Box::new(outbox.clone())))),
        verify: VerifyAuthChallenge::new(&config, None).expect("verify"),
        pre_authentication: PreAuthentication::new(&config),
        post_authentication: PostAuthentication::new(&config).expect("post"),
        pre_sign_up: PreSignUp::new(&config),
        user_migration: UserMigration::new(&migration, Arc::new(OnePassword)),
    }
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let outbox = Outbox::default();
        let flows = [true, false]
            .into_iter()
            .flat_map(|keyed| {
                AuthFlow::SUPPORTED
                    .iter()
                    .map(|flow| triggers(flow, keyed, &outbox))
                    .collect::<Vec<_>>()
            })
            .collect();
        World {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("runtime"),
            outbox,
            flows,
        }
    })
}

/// The oracle: whether the raw event's session passed every step of `flow`, in order, within
/// the limits, for a user that exists. Written from the documented protocol (docs/flows.md):
/// the password step is a passed `SRP_A` then a passed `PASSWORD_VERIFIER`; a custom round
/// belongs to the step its metadata's tag names, which must be the step being worked on; a
/// failed round followed by a round of the same step marked `;resent` was a request for a new
/// code, any other failed round a wrong answer.
fn every_step_passed(flow: &AuthFlow, raw: &Value) -> bool {
    let request = &raw["request"];
    if request["userNotFound"] == Value::Bool(true) {
        return false;
    }
    let Some(session) = request["session"].as_array() else {
        return false;
    };
    let name = |round: &Value| {
        round["challengeName"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let passed = |round: &Value| round["challengeResult"] == Value::Bool(true);
    let metadata = |round: &Value| {
        round["challengeMetadata"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let tag_of = |round: &Value| {
        (name(round) == "CUSTOM_CHALLENGE").then(|| {
            match metadata(round).split(':').next().unwrap_or_default() {
                "SMS_OTP" => Some(ChallengeStep::SmsOtp),
                "EMAIL_OTP" => Some(ChallengeStep::EmailOtp),
                "OTP" => Some(ChallengeStep::Otp),
                "CAPTCHA" => Some(ChallengeStep::Captcha),
                _ => None,
            }
        })
    };
    let resent = |round: &Value| {
        tag_of(round).flatten().is_some()
            && metadata(round)
                .split(';')
                .skip(1)
                .any(|flag| flag == "resent")
    };
    let steps = flow.steps();
    let (mut current, mut srp_started, mut wrong, mut resends) = (0, false, 0, 0);
    for (position, round) in session.iter().enumerate() {
        let Some(&step) = steps.get(current) else {
            return false;
        };
        match name(round).as_str() {
            "SRP_A" if step == ChallengeStep::Password && !srp_started && passed(round) => {
                srp_started = true;
            }
            "PASSWORD_VERIFIER"
                if step == ChallengeStep::Password && srp_started && passed(round) =>
            {
                (current, srp_started, wrong) = (current + 1, false, 0);
            }
            "CUSTOM_CHALLENGE" if tag_of(round) == Some(Some(step)) => {
                if resent(round) {
                    resends += 1;
                }
                if passed(round) {
                    (current, wrong) = (current + 1, 0);
                } else if !session
                    .get(position + 1)
                    .is_some_and(|next| tag_of(next) == Some(Some(step)) && resent(next))
                {
                    wrong += 1;
                    if wrong >= MAX_ATTEMPTS {
                        return false;
                    }
                }
            }
            _ => return false,
        }
    }
    current == steps.len() && resends <= MAX_RESENDS
}

/// Whether `code` appears in `text` as a whole number (not inside a longer run of digits).
fn contains_number(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// The codes in what the console senders wrote: runs of 6 to 10 digits.
fn codes_sent(outbox: &str) -> Vec<String> {
    outbox
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| (6..=10).contains(&run.len()))
        .map(str::to_owned)
        .collect()
}

/// The Verify event for the round Create answered in `created`, with `answer`.
fn verify_event(created: &Value, answer: &str, client_metadata: Value) -> Value {
    let mut event = created.clone();
    event["triggerSource"] = json!("VerifyAuthChallengeResponse_Authentication");
    event["request"] = json!({
        "userAttributes": created["request"]["userAttributes"],
        "privateChallengeParameters": created["response"]["privateChallengeParameters"],
        "challengeAnswer": answer,
        "clientMetadata": client_metadata,
        "userNotFound": created["request"]["userNotFound"],
    });
    event["response"] = json!({"answerCorrect": null});
    event
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let Ok(raw) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let world = world();
    let triggers = &world.flows[usize::from(selector) % world.flows.len()];
    let runtime = &world.runtime;

    if let Ok(answered) = runtime.block_on(triggers.define.invoke(raw.clone(), NOW)) {
        if answered.response.issue_tokens == Some(true) {
            assert_ne!(answered.response.fail_authentication, Some(true));
            assert!(
                every_step_passed(&triggers.flow, &raw),
                "tokens for a session that did not pass {}: {:?}",
                triggers.flow,
                raw["request"]["session"]
            );
        }
        serde_json::to_vec(&answered).expect("define's answer serialises");
    }

    if let Ok(answered) = runtime.block_on(triggers.verify.invoke(raw.clone(), NOW)) {
        if answered.response.answer_correct == Some(true) {
            assert_ne!(
                answered.request.user_not_found,
                Some(true),
                "a right answer for nobody"
            );
            let step = answered
                .request
                .private_challenge_parameters
                .get("challenge");
            if step.is_some_and(|step| step != "CAPTCHA") {
                let action = answered
                    .request
                    .client_metadata
                    .as_ref()
                    .and_then(OtpAction::from_client_metadata);
                assert!(action.is_none(), "a code accepted with an action");
            }
        }
        serde_json::to_vec(&answered).expect("verify's answer serialises");
    }

    world.outbox.take();
    let created = runtime.block_on(triggers.create.invoke(raw.clone(), NOW));
    let sent = world.outbox.take();
    let codes = codes_sent(&sent);
    match created {
        Ok(answered) => {
            if answered.request.user_not_found == Some(true) {
                assert!(sent.is_empty(), "something sent for an unknown user");
            }
            let created = serde_json::to_value(&answered).expect("create's answer serialises");
            let returned = created["response"].to_string();
            for code in &codes {
                assert!(
                    !contains_number(&returned, code),
                    "the code is in Create's answer"
                );
            }
            // End to end: Verify with the round Create made.
            let length = created["response"]["publicChallengeParameters"]["codeLength"]
                .as_str()
                .and_then(|length| length.parse::<usize>().ok());
            let code = match codes.as_slice() {
                [code] if Some(code.len()) == length => code.clone(),
                _ => return,
            };
            let verdict = |event: Value| {
                runtime
                    .block_on(triggers.verify.invoke(event, NOW))
                    .map(|answered| answered.response.answer_correct == Some(true))
            };
            assert_eq!(
                verdict(verify_event(&created, &code, Value::Null)).ok(),
                Some(true)
            );
            assert_eq!(
                verdict(verify_event(&created, &format!(" {code}\t"), Value::Null)).ok(),
                Some(true)
            );
            let mut elsewhere = verify_event(&created, &code, Value::Null);
            elsewhere["userPoolId"] =
                json!(format!("{}x", created["userPoolId"].as_str().unwrap_or("")));
            assert_ne!(
                verdict(elsewhere).ok(),
                Some(true),
                "a code accepted in another pool"
            );
            let resend = json!({"otpAction": "resend"});
            assert_ne!(
                verdict(verify_event(&created, &code, resend)).ok(),
                Some(true)
            );
            if let Some(answer) = raw["request"]["challengeAnswer"].as_str() {
                if verdict(verify_event(&created, answer, Value::Null)).ok() == Some(true) {
                    assert_eq!(answer.trim_matches(|c: char| c.is_ascii_whitespace()), code);
                }
            }
        }
        Err(error) => {
            let shown = format!("{error} {}", error.user_message());
            for code in &codes {
                assert!(
                    !contains_number(&shown, code),
                    "the code is in Create's error"
                );
            }
        }
    }

    if let Ok(answered) = runtime.block_on(triggers.pre_authentication.invoke(raw.clone(), NOW)) {
        serde_json::to_vec(&answered).expect("pre-authentication's answer serialises");
    }
    if let Ok(answered) = runtime.block_on(triggers.post_authentication.invoke(raw.clone(), NOW)) {
        serde_json::to_vec(&answered).expect("post-authentication's answer serialises");
    }
    if let Ok(answered) = runtime.block_on(triggers.pre_sign_up.invoke(raw.clone(), NOW)) {
        let response = &answered.response;
        assert_ne!(
            response.auto_verify_phone,
            Some(true),
            "auto-verified a phone"
        );
        assert_ne!(
            response.auto_verify_email,
            Some(true),
            "auto-verified an address"
        );
        let self_sign_up = answered.trigger_source == "PreSignUp_SignUp";
        if response.auto_confirm_user == Some(true) {
            assert!(
                self_sign_up,
                "confirmed a {} sign-up",
                answered.trigger_source
            );
        }
        if self_sign_up {
            let attributes = &answered.request.user_attributes;
            for flag in ["phone_number_verified", "email_verified"] {
                assert!(
                    attributes
                        .get(flag)
                        .is_none_or(|value| value.trim().eq_ignore_ascii_case("false")),
                    "a sign-up claiming {flag} passed"
                );
            }
            if let Some(number) = attributes.get("phone_number") {
                assert!(
                    cognito_passwordless::phone::PhoneNumber::parse(number).is_ok(),
                    "a sign-up with a phone number that is not E.164 passed"
                );
            }
        }
        serde_json::to_vec(&answered).expect("pre-sign-up's answer serialises");
    }
    if let Ok(answered) = runtime.block_on(triggers.user_migration.invoke(raw, NOW)) {
        if answered.trigger_source != "UserMigration_ForgotPassword" {
            assert_eq!(
                answered.request.password.as_ref().map(Password::expose),
                Some(LEGACY_PASSWORD),
                "migrated with a password the store refused"
            );
        }
        serde_json::to_vec(&answered).expect("user migration's answer serialises");
    }
});
