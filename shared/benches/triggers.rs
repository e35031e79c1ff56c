//! criterion benchmarks of the pure parts and the handlers: the state machine's decision, OTP
//! verification, event parse + serialize, and Define / Create (console sender into a sink) /
//! Verify handling from raw JSON to serialized response.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
use common::{console_config, fixture};
use std::hint::black_box;
use std::sync::Arc;

use cognito_passwordless::event::DefineAuthChallengeEvent;
use cognito_passwordless::flow::{AuthFlow, SessionEntry, decide};
use cognito_passwordless::otp::{OtpCode, OtpPolicy, OtpSeal};
use cognito_passwordless::sms::ConsoleSender;
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, Handler, VerifyAuthChallenge,
};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;

fn pure_parts(c: &mut Criterion) {
    let flow = AuthFlow::sms_otp();
    let session = [
        SessionEntry::from_cognito("CUSTOM_CHALLENGE", false, Some("SMS_OTP:x")),
        SessionEntry::from_cognito("CUSTOM_CHALLENGE", false, Some("SMS_OTP:x")),
        SessionEntry::from_cognito("CUSTOM_CHALLENGE", true, Some("SMS_OTP:x")),
    ];
    c.bench_function("state machine: decide after 3 rounds", |b| {
        b.iter(|| decide(black_box(&flow), black_box(&session), false, 3));
    });

    let code = OtpCode::generate(6).unwrap();
    let binding = cognito_passwordless::seal::SealBinding {
        pool_id: "us-east-1_EXAMPLE1",
        user: "sub:bench",
    };
    let key = cognito_passwordless::seal::SealKey::none();
    let seal = OtpSeal::new(&key, &code, 1_000, binding).unwrap();
    let policy = OtpPolicy {
        length: 6,
        ttl_seconds: 300,
    };
    c.bench_function("otp: verify an answer", |b| {
        b.iter(|| seal.check(&key, black_box(code.expose()), policy, 1_010, binding));
    });

    let raw = serde_json::to_string(&fixture(
        "define-auth-challenge/after-two-wrong-then-right.json",
    ))
    .unwrap();
    c.bench_function("event: parse + serialize (define, 3 rounds)", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_str(black_box(&raw)).unwrap();
            let event = DefineAuthChallengeEvent::parse(value).unwrap();
            serde_json::to_vec(&event).unwrap()
        });
    });
}

fn handlers(c: &mut Criterion) {
    let config = console_config();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let define = DefineAuthChallenge::new(&config);
    let raw = serde_json::to_string(&fixture(
        "define-auth-challenge/after-two-wrong-then-right.json",
    ))
    .unwrap();
    c.bench_function("handler: define (json in, json out)", |b| {
        b.iter(|| {
            serde_json::to_vec(
                &runtime
                    .block_on(define.invoke(serde_json::from_str(black_box(&raw)).unwrap(), 1_000))
                    .unwrap(),
            )
            .unwrap()
        });
    });

    let verify = VerifyAuthChallenge::new(&config, None).unwrap();
    let raw = serde_json::to_string(&fixture("verify-auth-challenge/right-code.json")).unwrap();
    c.bench_function("handler: verify (json in, json out)", |b| {
        b.iter(|| {
            serde_json::to_vec(
                &runtime
                    .block_on(verify.invoke(
                        serde_json::from_str(black_box(&raw)).unwrap(),
                        1_763_769_610,
                    ))
                    .unwrap(),
            )
            .unwrap()
        });
    });
    let create = CreateAuthChallenge::new(
        &config,
        Arc::new(ConsoleSender::new(Box::new(std::io::sink()))),
    )
    .unwrap();
    for (name, file) in [
        (
            "handler: create, first round (console sender)",
            "first-round",
        ),
        (
            "handler: create, retry round (no SMS)",
            "retry-after-wrong-code",
        ),
    ] {
        let raw =
            serde_json::to_string(&fixture(&format!("create-auth-challenge/{file}.json"))).unwrap();
        c.bench_function(name, |b| {
            b.iter(|| {
                let event = runtime
                    .block_on(create.invoke(
                        serde_json::from_str(black_box(&raw)).unwrap(),
                        1_800_000_000,
                    ))
                    .unwrap();
                serde_json::to_vec(&event).unwrap()
            });
        });
    }
}

criterion_group!(benches, pure_parts, handlers);
criterion_main!(benches);
