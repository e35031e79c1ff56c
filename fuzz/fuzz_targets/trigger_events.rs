//! Raw bytes through every trigger's event parsing and handling, as the Lambda runtime hands
//! them over: the first byte picks one of the supported flows, the rest is the event (JSON; the
//! seed corpus is `events/`, see scripts/fuzz).
//!
//! Invariants beyond "no panic":
//! - Define issues tokens only when an oracle written here, independently of the state machine,
//!   finds every step of the flow passed in this session, in order, within the attempt limits,
//!   for a user that exists;
//! - Verify accepts an answer only for an existing user, and never one sent with an action;
//! - Create never puts the code it sent (read back from the console sender) in what it returns;
//! - UserMigration migrates a user on sign-in only with the password the store accepts;
//! - every answer serialises.
#![no_main]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use cognito_passwordless::config::Config;
use cognito_passwordless::email::ConsoleEmailSender;
use cognito_passwordless::event::{ChallengeResult, Password};
use cognito_passwordless::flow::{AuthFlow, ChallengeStep, OtpAction};
use cognito_passwordless::legacy::{LegacyRecord, LegacyUserSource, Lookup, LookupFuture};
use cognito_passwordless::sms::ConsoleSender;
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, Handler, PostAuthentication, PreAuthentication,
    UserMigration, VerifyAuthChallenge,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The time every event is answered at (the sample events' seals were made near it).
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
    user_migration: UserMigration,
}

struct World {
    runtime: tokio::runtime::Runtime,
    outbox: Outbox,
    flows: Vec<Triggers>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let outbox = Outbox::default();
        let flows = AuthFlow::SUPPORTED
            .iter()
            .map(|flow| {
                let vars: HashMap<&str, &str> = [
                    ("AUTH_FLOW", *flow),
                    ("SMS_PROVIDER", "console"),
                    ("EMAIL_PROVIDER", "console"),
                    ("SEAL_KEY", "a-seal-key-of-at-least-32-characters"),
                    ("OTP_CHANNELS", "sms,email,voice"),
                    ("PHONE_HINT", "last4"),
                    ("PHONE_HINT_SECRET", "a-phone-hint-secret-of-32-characters"),
                    ("LEGACY_SOURCE", "http"),
                    ("LEGACY_HTTP_URL", "https://legacy.example.com/users"),
                    ("PREAUTH_REQUIRE_VERIFIED_PHONE", "true"),
                ]
                .into_iter()
                .collect();
                let config =
                    Config::from_lookup(|name| vars.get(name).map(|value| (*value).to_owned()))
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
                    user_migration: UserMigration::new(&migration, Arc::new(OnePassword)),
                }
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

/// The oracle: whether `session` passed every step of `flow`, in order, within the limits.
/// Written from the documented protocol (docs/flows.md), not from `flow.rs`.
fn every_step_passed(flow: &AuthFlow, session: &[ChallengeResult]) -> bool {
    let step_of = |round: &ChallengeResult| -> Option<ChallengeStep> {
        match round.challenge_name.as_str() {
            "PASSWORD_VERIFIER" => Some(ChallengeStep::Password),
            "CUSTOM_CHALLENGE" => {
                let tag = round.challenge_metadata.as_deref()?.split(':').next()?;
                match tag {
                    "SMS_OTP" => Some(ChallengeStep::SmsOtp),
                    "EMAIL_OTP" => Some(ChallengeStep::EmailOtp),
                    "OTP" => Some(ChallengeStep::Otp),
                    "CAPTCHA" => Some(ChallengeStep::Captcha),
                    _ => None,
                }
            }
            _ => None,
        }
    };
    let resent = |round: &ChallengeResult| {
        round
            .challenge_metadata
            .as_deref()
            .is_some_and(|metadata| metadata.split(';').skip(1).any(|flag| flag == "resent"))
    };
    let Some(last) = session.last() else {
        return false;
    };
    if !last.challenge_result {
        return false;
    }
    let mut passed = Vec::new();
    let mut wrong: HashMap<ChallengeStep, usize> = HashMap::new();
    let mut resends = 0;
    let mut srp_started = false;
    for (position, round) in session.iter().enumerate() {
        if round.challenge_name == "SRP_A" {
            if !round.challenge_result || srp_started {
                return false;
            }
            srp_started = true;
            continue;
        }
        let Some(step) = step_of(round) else {
            return false;
        };
        if step == ChallengeStep::Password && !srp_started {
            return false;
        }
        if resent(round) {
            resends += 1;
        }
        if round.challenge_result {
            passed.push(step);
        } else if step == ChallengeStep::Password {
            return false;
        } else {
            let next_is_resent = session.get(position + 1).is_some_and(resent);
            if !next_is_resent {
                *wrong.entry(step).or_default() += 1;
            }
        }
    }
    passed == flow.steps()
        && wrong.values().all(|&count| count < MAX_ATTEMPTS)
        && resends <= MAX_RESENDS
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

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let Ok(raw) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let world = world();
    let triggers = &world.flows[usize::from(selector) % world.flows.len()];

    if let Ok(answered) = world
        .runtime
        .block_on(triggers.define.invoke(raw.clone(), NOW))
    {
        if answered.response.issue_tokens == Some(true) {
            assert_ne!(
                answered.request.user_not_found,
                Some(true),
                "tokens for an unknown user"
            );
            assert!(
                every_step_passed(&triggers.flow, &answered.request.session),
                "tokens for a session that did not pass {}: {:?}",
                triggers.flow,
                answered.request.session
            );
        }
        serde_json::to_vec(&answered).expect("define's answer serialises");
    }

    if let Ok(answered) = world
        .runtime
        .block_on(triggers.verify.invoke(raw.clone(), NOW))
    {
        if answered.response.answer_correct == Some(true) {
            assert_ne!(
                answered.request.user_not_found,
                Some(true),
                "a right answer for nobody"
            );
            let action = answered
                .request
                .client_metadata
                .as_ref()
                .and_then(OtpAction::from_client_metadata);
            let step = answered
                .request
                .private_challenge_parameters
                .get("challenge");
            if step.is_some_and(|step| step != "CAPTCHA") {
                assert!(action.is_none(), "a code accepted with an action");
            }
        }
        serde_json::to_vec(&answered).expect("verify's answer serialises");
    }

    world.outbox.take();
    let created = world
        .runtime
        .block_on(triggers.create.invoke(raw.clone(), NOW));
    let sent = world.outbox.take();
    if let Ok(answered) = created {
        let returned =
            serde_json::to_string(&answered.response).expect("create's answer serialises");
        for code in codes_sent(&sent) {
            assert!(
                !contains_number(&returned, &code),
                "the code is in Create's answer"
            );
        }
    }

    if let Ok(answered) = world
        .runtime
        .block_on(triggers.pre_authentication.invoke(raw.clone(), NOW))
    {
        serde_json::to_vec(&answered).expect("pre-authentication's answer serialises");
    }
    if let Ok(answered) = world
        .runtime
        .block_on(triggers.post_authentication.invoke(raw.clone(), NOW))
    {
        serde_json::to_vec(&answered).expect("post-authentication's answer serialises");
    }
    if let Ok(answered) = world
        .runtime
        .block_on(triggers.user_migration.invoke(raw, NOW))
    {
        if answered.trigger_source == "UserMigration_Authentication" {
            assert_eq!(
                answered.request.password.as_ref().map(Password::expose),
                Some(LEGACY_PASSWORD),
                "migrated with a password the store refused"
            );
        }
        serde_json::to_vec(&answered).expect("user migration's answer serialises");
    }
});
