//! Hostile input never panics and never yields tokens: arbitrary JSON, and the sample events with
//! arbitrary values put in arbitrary places, through all three handlers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::fixture;
use std::sync::Arc;

use cognito_passwordless::sms::ConsoleSender;
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, Handler, VerifyAuthChallenge,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "CUSTOM_CHALLENGE",
            "SRP_A",
            "PASSWORD_VERIFIER",
            "SMS_OTP:decoy",
            "SMS_OTP:v2.1.AA.AA",
            "DefineAuthChallenge_Authentication",
            "CreateAuthChallenge_Authentication",
            "VerifyAuthChallengeResponse_Authentication",
            "true",
            "+12065550100",
            "decoy",
        ])
        .prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "triggerSource",
                        "userPoolId",
                        "userName",
                        "request",
                        "response",
                        "session",
                        "challengeName",
                        "challengeResult",
                        "challengeMetadata",
                        "userAttributes",
                        "userNotFound",
                        "privateChallengeParameters",
                        "challengeAnswer",
                        "seal",
                        "challenge",
                        "phone_number",
                        "phone_number_verified",
                        "clientMetadata",
                        "x",
                    ]),
                    inner,
                ),
                0..8,
            )
            .prop_map(|pairs| Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Map<_, _>>()
            )),
        ]
    })
}

/// How many places (values, depth first, the event itself included) `event` has.
fn count_values(event: &Value) -> usize {
    1 + match event {
        Value::Object(map) => map.values().map(count_values).sum(),
        Value::Array(items) => items.iter().map(count_values).sum(),
        _ => 0,
    }
}

/// Puts `value` at the `index`-th place (depth first) of `event`.
fn replace_somewhere(event: &mut Value, index: usize, value: Value) {
    fn walk(node: &mut Value, index: &mut usize, value: &mut Option<Value>) {
        if value.is_none() {
            return;
        }
        if *index == 0 {
            *node = value.take().unwrap_or(Value::Null);
            return;
        }
        *index -= 1;
        match node {
            Value::Object(map) => map.values_mut().for_each(|child| walk(child, index, value)),
            Value::Array(items) => items.iter_mut().for_each(|child| walk(child, index, value)),
            _ => {}
        }
    }
    let mut slot = Some(value);
    let mut index = index;
    walk(event, &mut index, &mut slot);
}

const SAMPLES: &[&str] = &[
    "define-auth-challenge/after-two-wrong-then-right.json",
    "define-auth-challenge/after-wrong-code.json",
    "define-auth-challenge/captcha-sms-after-captcha-and-code.json",
    "define-auth-challenge/password-captcha-after-captcha.json",
    "define-auth-challenge/password-captcha-sms-after-captcha.json",
    "define-auth-challenge/resend-requested.json",
    "define-auth-challenge/after-resent-code.json",
    "define-auth-challenge/wrong-resend-wrong.json",
    "define-auth-challenge/after-email-code.json",
    "create-auth-challenge/retry-after-wrong-code.json",
    "create-auth-challenge/resend.json",
    "create-auth-challenge/first-round.json",
    "create-auth-challenge/captcha-after-password.json",
    "verify-auth-challenge/right-code.json",
    "verify-auth-challenge/captcha-image-right.json",
    "verify-auth-challenge/resend-action.json",
];

/// Every flow, with the console sender.
fn configs() -> Vec<(String, cognito_passwordless::config::Config)> {
    cognito_passwordless::flow::AuthFlow::SUPPORTED
        .iter()
        .map(|flow| {
            let config = cognito_passwordless::config::Config::from_lookup(|name| match name {
                "SMS_PROVIDER" | "EMAIL_PROVIDER" => Some("console".to_owned()),
                "AUTH_FLOW" => Some((*flow).to_owned()),
                "SEAL_KEY" => Some("a-seal-key-of-at-least-32-characters".to_owned()),
                _ => None,
            })
            .unwrap();
            ((*flow).to_owned(), config)
        })
        .collect()
}

fn run_all(event: Value) {
    for (flow, config) in configs() {
        run_flow(&flow, &config, event.clone());
    }
}

fn run_flow(flow: &str, config: &cognito_passwordless::config::Config, event: Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let define = DefineAuthChallenge::new(config);
    if let Ok(answered) = runtime.block_on(define.invoke(event.clone(), 1_763_769_610)) {
        if answered.response.issue_tokens == Some(true) {
            // Tokens only if the last round passed the flow's final step, tagged by this project.
            let final_tag = if flow.ends_with("sms_otp") {
                "SMS_OTP:"
            } else if flow.ends_with("email_otp") {
                "EMAIL_OTP:"
            } else {
                "CAPTCHA:"
            };
            let last = answered
                .request
                .session
                .last()
                .expect("tokens need a session");
            assert!(last.challenge_result);
            assert!(
                last.challenge_metadata
                    .as_deref()
                    .unwrap_or("")
                    .starts_with(final_tag),
                "{flow}"
            );
            assert_ne!(answered.request.user_not_found, Some(true));
        }
        serde_json::to_vec(&answered).unwrap();
    }
    let verify = VerifyAuthChallenge::new(config, None).unwrap();
    if let Ok(answered) = runtime.block_on(verify.invoke(event.clone(), 1_763_769_610)) {
        if answered.response.answer_correct == Some(true) {
            assert_ne!(answered.request.user_not_found, Some(true));
            // A code passes only as an answer, never with a request for another.
            if answered
                .request
                .private_challenge_parameters
                .get("challenge")
                .map(String::as_str)
                .is_some_and(|step| step == "SMS_OTP" || step == "EMAIL_OTP" || step == "OTP")
            {
                assert!(
                    answered
                        .request
                        .client_metadata
                        .as_ref()
                        .and_then(cognito_passwordless::flow::OtpAction::from_client_metadata)
                        .is_none()
                );
            }
        }
        serde_json::to_vec(&answered).unwrap();
    }
    let create = CreateAuthChallenge::new(
        config,
        Arc::new(ConsoleSender::new(Box::new(std::io::sink()))),
    )
    .unwrap()
    .with_email_sender(Arc::new(
        cognito_passwordless::email::ConsoleEmailSender::new(Box::new(std::io::sink())),
    ));
    if let Ok(answered) = runtime.block_on(create.invoke(event, 1_763_769_610)) {
        let public = serde_json::to_string(&answered.response.public_challenge_parameters).unwrap();
        assert!(
            !public.contains("seal") && !public.contains("v2."),
            "{public}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(event in any_json()) {
        run_all(event);
    }

    #[test]
    fn sample_events_with_a_value_changed_anywhere_never_panic_or_leak(
        sample in prop::sample::select(SAMPLES),
        index in any::<usize>(),
        value in any_json(),
    ) {
        let mut event = fixture(sample);
        // Always a place that exists: every case changes something.
        let index = index % count_values(&event);
        replace_somewhere(&mut event, index, value);
        run_all(event);
    }
}
