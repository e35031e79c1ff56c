//! Abuse protection against a real DynamoDB-protocol server (moto's, started by the test command):
//! concurrent and retried CreateAuthChallenge calls send one SMS, send throttles hold at their
//! boundaries, a disallowed country gets no SMS, lockout starts and ends on time (the handlers take
//! the clock as an argument), and an unreachable or hanging table behaves as STATE_FAILURE_MODE
//! says, within the time budget.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use integration_tests::{
    FakeEndpoint, Reply, create_state_table, dynamodb_client, dynamodb_url, fixture, host,
    response, run_cli,
};
use local_cognito::lambda_host::OutputLog;
use serde_json::{Value, json};
use shared::Error;
use shared::config::Config;
use shared::sms::{SendFuture, SmsMessage, SmsReceipt, SmsSender};
use shared::state::{DynamoStore, Guard};
use shared::triggers::{CreateAuthChallenge, DefineAuthChallenge, PreAuthentication};

/// Counts the messages it is asked to send, taking a little time like a real provider.
#[derive(Debug, Default)]
struct CountingSender(AtomicUsize);

impl SmsSender for CountingSender {
    fn provider(&self) -> &'static str {
        "counting"
    }
    fn send<'a>(&'a self, _message: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(SmsReceipt { message_id: None })
        })
    }
}

/// The configuration with `vars`, the console sender, and (unless `vars` says otherwise) the
/// largest state budget: the local server is slower than DynamoDB, the more so on a loaded CI
/// machine, and these tests are about the rules, not the latency.
fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
            .or_else(|| match name {
                "SMS_PROVIDER" => Some("console".to_owned()),
                "STATE_TIMEOUT_MS" => Some("1100".to_owned()),
                _ => None,
            })
    })
    .unwrap()
}

/// A guard on a fresh table of the test server, or on `endpoint` when given.
async fn guard(config: &Config, endpoint: Option<&str>) -> Guard {
    let url = endpoint.map_or_else(dynamodb_url, str::to_owned);
    let state = config.state.as_ref().expect("STATE_TABLE set");
    let sdk = shared::aws::sdk_config_loader(state.timeout)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::from_keys(
            "AKIDTESTTESTTESTTEST",
            "test-secret-key",
            None,
        ))
        .endpoint_url(&url)
        .load()
        .await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), state.table.clone());
    Guard::new(Arc::new(store), state)
}

async fn fresh_table() -> String {
    create_state_table(&dynamodb_client(&dynamodb_url()).await, "abuse").await
}

fn first_round(user: &str, phone: &str) -> Value {
    let mut event = fixture("create-auth-challenge/first-round.json");
    event["userName"] = json!(user);
    event["request"]["userAttributes"]["phone_number"] = json!(phone);
    event
}

fn seal_of(event: &shared::event::CreateAuthChallengeEvent) -> String {
    event.response.challenge_metadata.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_for_one_step_send_one_sms() {
    let table = fresh_table().await;
    // The local DynamoDB server (moto, one Python process) is far slower than DynamoDB: the
    // longest state budget, so that a loaded CI machine does not make every call fail closed.
    let config = config(&[
        ("STATE_TABLE", &table),
        ("STATE_TIMEOUT_MS", "1500"),
        ("SMS_TIMEOUT_MS", "2000"),
    ]);
    let sender = Arc::new(CountingSender::default());
    let guard = guard(&config, None).await;
    let mut calls = Vec::new();
    for _ in 0..20 {
        // One handler per call, like one Lambda instance each.
        let create = CreateAuthChallenge::new(&config, sender.clone())
            .unwrap()
            .with_guard(Some(guard.clone()));
        calls.push(tokio::spawn(async move {
            create
                .invoke(
                    fixture("create-auth-challenge/first-round.json"),
                    1_800_000_000,
                )
                .await
        }));
    }
    let mut seals = std::collections::BTreeSet::new();
    let mut answered = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(event) => {
                answered += 1;
                seals.insert(seal_of(&event));
            }
            // A call the local server could not serve in time fails closed: never a second SMS.
            Err(error) => assert_eq!(error.error_type(), "StateUnavailable", "{error}"),
        }
    }
    assert_eq!(sender.0.load(Ordering::SeqCst), 1, "exactly one SMS");
    assert!(answered >= 1);
    assert_eq!(seals.len(), 1, "every call answers with the same challenge");
    assert!(seals.first().unwrap().starts_with("SMS_OTP:v2."));
}

#[tokio::test]
async fn send_throttles_hold_at_their_boundaries() {
    let table = fresh_table().await;
    let config = config(&[
        ("STATE_TABLE", &table),
        ("SMS_MIN_INTERVAL_SECONDS", "30"),
        ("SMS_MAX_PER_HOUR", "5"),
        ("SMS_MAX_PER_DAY", "10"),
    ]);
    let sender = Arc::new(CountingSender::default());
    let create = CreateAuthChallenge::new(&config, sender.clone())
        .unwrap()
        .with_guard(Some(guard(&config, None).await));
    let sent = || sender.0.load(Ordering::SeqCst);
    let t0 = 1_800_000_000;
    let alice = || first_round("alice", "+12065550100");

    let first = create.invoke(alice(), t0).await.unwrap();
    assert_eq!(sent(), 1);
    // Within the claim window a repeat is the same challenge, not a new SMS.
    let repeat = create.invoke(alice(), t0 + 10).await.unwrap();
    assert_eq!(seal_of(&repeat), seal_of(&first));
    assert_eq!(sent(), 1);
    // Another user with the same phone, 29 s later: the phone's minimum interval holds.
    let error = create
        .invoke(first_round("alice-work", "+12065550100"), t0 + 29)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::TooManyCodes(shared::abuse::SendLimit::MinInterval)
        ),
        "{error}"
    );
    assert_eq!(
        error.user_message(),
        "Too many codes requested. Try again later."
    );
    assert_eq!(sent(), 1);
    // Alice again at +30, +60, +90, +120: four more, five in the hour.
    for at in [30, 60, 90, 120] {
        create.invoke(alice(), t0 + at).await.unwrap();
    }
    assert_eq!(sent(), 5);
    // The sixth within the hour is refused, up to the last second of the hour…
    for at in [150, 3_599] {
        let error = create.invoke(alice(), t0 + at).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::TooManyCodes(shared::abuse::SendLimit::PerHour)
            ),
            "+{at}: {error}"
        );
    }
    assert_eq!(sent(), 5);
    // …and allowed when the first send is an hour old.
    create.invoke(alice(), t0 + 3_600).await.unwrap();
    assert_eq!(sent(), 6);
    // A refused send leaves no claim behind: the next allowed call sends.
    let other_phone = first_round("carol", "+442071838750");
    create.invoke(other_phone, t0 + 3_600).await.unwrap();
    assert_eq!(sent(), 7);
}

#[tokio::test]
async fn the_daily_limit_holds_across_hours() {
    let table = fresh_table().await;
    let config = config(&[
        ("STATE_TABLE", &table),
        ("SMS_MAX_PER_HOUR", "5"),
        ("SMS_MAX_PER_DAY", "6"),
    ]);
    let sender = Arc::new(CountingSender::default());
    let create = CreateAuthChallenge::new(&config, sender.clone())
        .unwrap()
        .with_guard(Some(guard(&config, None).await));
    let t0 = 1_800_000_000;
    for hour in 0..6 {
        create
            .invoke(first_round("dave", "+12065550111"), t0 + hour * 3_600)
            .await
            .unwrap();
    }
    let error = create
        .invoke(first_round("dave", "+12065550111"), t0 + 6 * 3_600)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::TooManyCodes(shared::abuse::SendLimit::PerDay)),
        "{error}"
    );
    create
        .invoke(first_round("dave", "+12065550111"), t0 + 86_400)
        .await
        .unwrap();
    assert_eq!(sender.0.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn unknown_users_are_throttled_like_known_ones() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table), ("SMS_MAX_PER_HOUR", "2")]);
    let sender = Arc::new(CountingSender::default());
    let create = CreateAuthChallenge::new(&config, sender.clone())
        .unwrap()
        .with_guard(Some(guard(&config, None).await));
    let t0 = 1_800_000_000;
    for (user, sample) in [("alice", "first-round"), ("mallory", "user-not-found")] {
        let event = |user: &str| {
            let mut event = fixture(&format!("create-auth-challenge/{sample}.json"));
            event["userName"] = json!(user);
            event
        };
        create.invoke(event(user), t0).await.unwrap();
        create.invoke(event(user), t0 + 40).await.unwrap();
        let error = create.invoke(event(user), t0 + 80).await.unwrap_err();
        assert_eq!(error.error_type(), "TooManyCodes", "{user}");
    }
    assert_eq!(sender.0.load(Ordering::SeqCst), 2, "decoys send nothing");
}

#[tokio::test]
async fn a_disallowed_country_gets_no_sms_and_a_challenge_that_looks_the_same() {
    let config = config(&[("SMS_ALLOWED_COUNTRIES", "GB,IE")]);
    let sender = Arc::new(CountingSender::default());
    let create = CreateAuthChallenge::new(&config, sender.clone()).unwrap();
    let us = create
        .invoke(first_round("alice", "+12065550100"), 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(sender.0.load(Ordering::SeqCst), 0);
    assert_eq!(
        us.response.challenge_metadata.as_deref(),
        Some("SMS_OTP:decoy")
    );
    let gb = create
        .invoke(first_round("alice", "+442071838750"), 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(sender.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        us.response.public_challenge_parameters, gb.response.public_challenge_parameters,
        "same parameters either way"
    );
}

/// Define's event after a wrong answer (the third, ending the sign-in), for `user`; a user name
/// starting with `nobody` is an unknown user (`userNotFound`, no attributes).
fn failed_sign_in(user: &str) -> Value {
    let mut event = fixture("define-auth-challenge/after-three-wrong-codes.json");
    event["userName"] = json!(user);
    if user.starts_with("nobody") {
        event["request"]["userAttributes"] = json!({});
        event["request"]["userNotFound"] = json!(true);
    }
    event
}

fn starting_sign_in(user: &str) -> Value {
    let mut event = fixture("define-auth-challenge/first-call.json");
    event["userName"] = json!(user);
    if user.starts_with("nobody") {
        event["request"]["userAttributes"] = json!({});
        event["request"]["userNotFound"] = json!(true);
    }
    event
}

/// Define's event after one wrong answer (the sign-in goes on), for `user`.
fn wrong_answer(user: &str) -> Value {
    let mut event = fixture("define-auth-challenge/after-wrong-code.json");
    event["userName"] = json!(user);
    event
}

fn decision(event: &shared::event::DefineAuthChallengeEvent) -> &'static str {
    match (
        event.response.fail_authentication,
        event.response.challenge_name.as_deref(),
    ) {
        (Some(true), _) => "fail",
        (_, Some("CUSTOM_CHALLENGE")) => "challenge",
        _ => "other",
    }
}

#[tokio::test]
async fn lockout_starts_at_the_threshold_and_ends_when_the_window_passes() {
    let table = fresh_table().await;
    let config = config(&[
        ("STATE_TABLE", &table),
        ("LOCKOUT_THRESHOLD", "3"),
        ("LOCKOUT_WINDOW_SECONDS", "900"),
    ]);
    let guard = guard(&config, None).await;
    let define = DefineAuthChallenge::new(&config).with_guard(Some(guard.clone()));
    let preauth = PreAuthentication::new(&config).with_guard(Some(guard));
    let t0 = 1_800_000_000;
    for user in ["alice", "nobody-here"] {
        // Two failed sign-ins: still open.
        for at in [0, 100] {
            assert_eq!(
                decision(&define.invoke(failed_sign_in(user), t0 + at).await.unwrap()),
                "fail"
            );
        }
        assert_eq!(
            decision(
                &define
                    .invoke(starting_sign_in(user), t0 + 101)
                    .await
                    .unwrap()
            ),
            "challenge",
            "{user}"
        );
        // The third locks.
        assert_eq!(
            decision(&define.invoke(failed_sign_in(user), t0 + 200).await.unwrap()),
            "fail"
        );
        assert_eq!(
            decision(
                &define
                    .invoke(starting_sign_in(user), t0 + 201)
                    .await
                    .unwrap()
            ),
            "fail",
            "{user}"
        );
        let mut pre = fixture("pre-authentication/allowed.json");
        pre["userName"] = json!(user);
        let error = preauth.invoke(pre.clone(), t0 + 201).await.unwrap_err();
        assert_eq!(error.error_type(), "LockedOut");
        assert_eq!(
            error.user_message(),
            "Too many failed sign-ins. Try again later."
        );
        // Locked until the window has passed since the third failure…
        assert_eq!(
            decision(
                &define
                    .invoke(starting_sign_in(user), t0 + 1_099)
                    .await
                    .unwrap()
            ),
            "fail",
            "{user}"
        );
        // …then open again (the first failure left the window long ago).
        assert_eq!(
            decision(
                &define
                    .invoke(starting_sign_in(user), t0 + 1_100)
                    .await
                    .unwrap()
            ),
            "challenge",
            "{user}"
        );
        preauth.invoke(pre, t0 + 1_100).await.unwrap();
    }
    // Wrong answers count wherever they come from: guesses spread over parallel sessions (all
    // answering the same claimed code) lock the account just the same, and the session that
    // reaches the threshold is stopped at once.
    let t1 = t0 + 10_000;
    assert_eq!(
        decision(&define.invoke(wrong_answer("erin"), t1).await.unwrap()),
        "challenge"
    );
    assert_eq!(
        decision(&define.invoke(wrong_answer("erin"), t1 + 1).await.unwrap()),
        "challenge"
    );
    assert_eq!(
        decision(&define.invoke(wrong_answer("erin"), t1 + 2).await.unwrap()),
        "fail"
    );
    assert_eq!(
        decision(
            &define
                .invoke(starting_sign_in("erin"), t1 + 3)
                .await
                .unwrap()
        ),
        "fail"
    );
    // Another user is not affected.
    assert_eq!(
        decision(
            &define
                .invoke(starting_sign_in("bob"), t0 + 201)
                .await
                .unwrap()
        ),
        "challenge"
    );
}

/// A loopback port nobody listens on.
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn an_unreachable_or_hanging_table_follows_the_failure_mode_within_the_budget() {
    let hanging =
        FakeEndpoint::start(|_| Reply::ok(json!({})).after(Duration::from_secs(10))).await;
    for endpoint in [closed_port_url(), hanging.url.clone()] {
        for mode in ["closed", "open"] {
            let config = config(&[
                ("STATE_TABLE", "unreachable"),
                ("STATE_FAILURE_MODE", mode),
                ("STATE_TIMEOUT_MS", "500"),
            ]);
            let guard = guard(&config, Some(&endpoint)).await;
            let sender = Arc::new(CountingSender::default());
            let create = CreateAuthChallenge::new(&config, sender.clone())
                .unwrap()
                .with_guard(Some(guard.clone()));
            let define = DefineAuthChallenge::new(&config).with_guard(Some(guard.clone()));
            let preauth = PreAuthentication::new(&config).with_guard(Some(guard));
            let started = Instant::now();
            let created = create
                .invoke(first_round("alice", "+12065550100"), 1_800_000_000)
                .await;
            let defined = define
                .invoke(starting_sign_in("alice"), 1_800_000_000)
                .await
                .unwrap();
            let allowed = preauth
                .invoke(fixture("pre-authentication/allowed.json"), 1_800_000_000)
                .await;
            let elapsed = started.elapsed();
            // Three invocations, each within its state budget (plus the SMS for open mode).
            assert!(
                elapsed < Duration::from_millis(2_500),
                "{endpoint} {mode}: {elapsed:?}"
            );
            if mode == "closed" {
                let error = created.unwrap_err();
                assert_eq!(error.error_type(), "StateUnavailable", "{endpoint}");
                assert_eq!(error.user_message(), "Sign-in is temporarily unavailable.");
                assert_eq!(sender.0.load(Ordering::SeqCst), 0);
                assert_eq!(decision(&defined), "fail");
                assert_eq!(allowed.unwrap_err().error_type(), "StateUnavailable");
            } else {
                created.unwrap();
                assert_eq!(sender.0.load(Ordering::SeqCst), 1);
                assert_eq!(decision(&defined), "challenge");
                allowed.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_retried_create_through_the_binary_sends_one_sms() {
    let table = fresh_table().await;
    let url = dynamodb_url();
    let output = Arc::new(OutputLog::default());
    let create = host(
        "create-auth-challenge",
        &[
            ("SMS_PROVIDER", "console"),
            ("STATE_TABLE", &table),
            ("AWS_ENDPOINT_URL_DYNAMODB", &url),
        ],
        output.clone(),
    );
    let first = response(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    // Cognito retries the call (say, the first answer came too late).
    let retry = response(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    assert_eq!(first["response"], retry["response"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(output.sms_messages().len(), 1);
    let logs: String = output.lines().into_iter().map(|line| line.text).collect();
    assert!(logs.contains("\"sms\":\"duplicate\""), "{logs}");
}

#[tokio::test]
async fn the_local_tool_shows_a_throttle_and_a_lockout() {
    let url = dynamodb_url();
    let table = format!("local-tool-{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("abuse-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users.json");
    // Two accounts on one phone: the phone's limits hold across both.
    std::fs::write(
        &users,
        r#"[{"username": "dave", "attributes": {"sub": "d-1", "phone_number": "+12065550177", "phone_number_verified": "true"}},
            {"username": "dave-work", "attributes": {"sub": "d-2", "phone_number": "+12065550177", "phone_number_verified": "true"}}]"#,
    )
    .unwrap();
    let users = users.to_str().unwrap().to_owned();
    let run = |user: &str, answers: &str, env: &[(&str, &str)]| {
        run_cli(
            &[
                "--username",
                user,
                "--answers",
                answers,
                "--users",
                &users,
                "--state-table",
                &table,
                "--dynamodb-endpoint",
                &url,
            ],
            env,
        )
    };
    let (status, text) = run("dave", "@sms", &[]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("Abuse protection on: state table"), "{text}");
    let (status, text) = run("dave-work", "@sms", &[]);
    assert_eq!(status, 1, "{text}");
    assert!(
        text.contains("Too many codes requested. Try again later."),
        "{text}"
    );
    assert!(text.contains("SMS messages sent: 0"), "{text}");

    // Lockout after one failed sign-in (LOCKOUT_THRESHOLD=1): the next one fails at once.
    let lockout = [
        ("LOCKOUT_THRESHOLD", "1"),
        ("SMS_MIN_INTERVAL_SECONDS", "0"),
    ];
    let (status, text) = run("dave", "@wrong,@wrong,@wrong", &lockout);
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("NotAuthorizedException"), "{text}");
    let (status, text) = run("dave", "@sms", &lockout);
    assert_eq!(status, 1, "{text}");
    assert!(
        text.contains("DefineAuthChallenge          session=[]  ⇒ failAuthentication"),
        "{text}"
    );
    assert!(text.contains("SMS messages sent: 0"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}
