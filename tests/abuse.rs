//! Abuse protection against a real DynamoDB-protocol server (moto's, started by the test command):
//! concurrent and retried CreateAuthChallenge calls send one SMS, a claimed code never reaches
//! another user (names that differ only in case included), the answers judged against one code
//! are bounded across sessions and a code passes once, send throttles hold at their boundaries, a
//! disallowed country or number type gets no SMS, concurrent failures all count, lockout starts
//! and ends on time and holds before tokens (the handlers take the clock as an argument), and an
//! unreachable or hanging table behaves as STATE_FAILURE_MODE says, within the time budget.
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

use cognito_passwordless::Error;
use cognito_passwordless::config::Config;
use cognito_passwordless::sms::{SendFuture, SmsMessage, SmsReceipt, SmsSender};
use cognito_passwordless::state::{DynamoStore, Guard, StateConfig};
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, Handler, PreAuthentication, VerifyAuthChallenge,
};
use integration_tests::{
    FakeEndpoint, Reply, create_state_table, dynamodb_client, dynamodb_url, fixture, host,
    response, run_cli,
};
use local_cognito::lambda_host::OutputLog;
use serde_json::{Value, json};

/// Counts the messages it is asked to send (and keeps their bodies), taking a little time like a
/// real provider.
#[derive(Debug, Default)]
struct CountingSender(AtomicUsize, std::sync::Mutex<Vec<String>>);

impl SmsSender for CountingSender {
    fn provider(&self) -> &'static str {
        "counting"
    }
    fn send<'a>(&'a self, message: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            self.1.lock().unwrap().push(message.body.clone());
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(SmsReceipt { message_id: None })
        })
    }
}

/// Fails its first `failures` sends (as a provider outage would), then sends, slowly.
#[derive(Debug)]
struct FlakySender {
    failures: AtomicUsize,
    sent: AtomicUsize,
    delay: Duration,
}

impl SmsSender for FlakySender {
    fn provider(&self) -> &'static str {
        "flaky"
    }
    fn send<'a>(&'a self, _message: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            let left = self.failures.load(Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, Ordering::SeqCst);
                return Err(Error::Sms {
                    provider: "flaky",
                    failure: cognito_passwordless::error::SmsFailure::Unavailable,
                    detail: "down".to_owned(),
                });
            }
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(SmsReceipt { message_id: None })
        })
    }
}

impl CountingSender {
    /// The code of the last message (its first six digits).
    fn last_code(&self) -> String {
        let bodies = self.1.lock().unwrap();
        bodies.last().unwrap().chars().take(6).collect()
    }
}

/// The configuration with `vars`, the console sender, and (unless `vars` says otherwise) the
/// largest state budget: the local server is slower than DynamoDB, the more so on a loaded CI
/// machine, and these tests are about the rules, not the latency.
fn config(vars: &[(&str, &str)]) -> Config {
    let defaults = [("SMS_PROVIDER", "console"), ("STATE_TIMEOUT_MS", "1100")];
    Config::from_pairs(&[&defaults[..], vars].concat()).unwrap()
}

/// A guard on a fresh table of the test server, or on `endpoint` when given.
async fn guard(config: &Config, endpoint: Option<&str>) -> Guard {
    let url = endpoint.map_or_else(dynamodb_url, str::to_owned);
    let state = config.state.as_ref().expect("STATE_TABLE set");
    let client = integration_tests::dynamodb_client_within(&url, state.timeout).await;
    let store = DynamoStore::new(client, state.table.clone());
    Guard::new(Arc::new(store), state)
}

async fn fresh_table() -> String {
    create_state_table(&dynamodb_client(&dynamodb_url()).await, "abuse").await
}

/// A guard on `table` with a state budget sized for this test rather than for Cognito's 5 s
/// (the configuration caps it at 1.5 s): concurrency tests are about the rules, and a loaded CI
/// machine's moto must not turn them into timeouts.
async fn patient_guard(table: &str) -> Guard {
    let config = config(&[("STATE_TABLE", table)]);
    let state = StateConfig {
        timeout: Duration::from_secs(20),
        ..config.state.clone().unwrap()
    };
    let client = integration_tests::dynamodb_client_within(&dynamodb_url(), state.timeout).await;
    let store = DynamoStore::new(client, state.table.clone());
    Guard::new(Arc::new(store), &state)
}

/// `user` with a sub of their own (`sub-<user>`): every user of the pool is told apart by it.
fn first_round(user: &str, phone: &str) -> Value {
    let mut event = fixture("create-auth-challenge/first-round.json");
    event["userName"] = json!(user);
    event["request"]["userAttributes"]["sub"] = json!(format!("sub-{user}"));
    event["request"]["userAttributes"]["phone_number"] = json!(phone);
    event
}

/// Verify's event for `user` (as [`first_round`] made them) answering `answer` to the round
/// whose metadata is `metadata` (`SMS_OTP:<seal>`).
fn verify_event(user: &str, metadata: &str, answer: &str) -> Value {
    let mut event = fixture("verify-auth-challenge/right-code.json");
    event["userName"] = json!(user);
    event["request"]["userAttributes"]["sub"] = json!(format!("sub-{user}"));
    event["request"]["privateChallengeParameters"]["seal"] =
        json!(metadata.strip_prefix("SMS_OTP:").unwrap());
    event["request"]["challengeAnswer"] = json!(answer);
    event
}

/// A counting sender, and Create and Verify sharing one guard on the configured table.
async fn create_and_verify(
    config: &Config,
) -> (
    Arc<CountingSender>,
    CreateAuthChallenge,
    VerifyAuthChallenge,
) {
    let sender = Arc::new(CountingSender::default());
    let guard = guard(config, None).await;
    let create = CreateAuthChallenge::new(config, sender.clone())
        .unwrap()
        .with_guard(Some(guard.clone()));
    let verify = VerifyAuthChallenge::new(config, None)
        .unwrap()
        .with_guard(Some(guard));
    (sender, create, verify)
}

/// Runs `count` copies of `call` at once: all start together behind a barrier.
async fn together<F, Fut, T>(count: usize, call: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(count));
    let mut tasks = Vec::new();
    for index in 0..count {
        let barrier = barrier.clone();
        let future = call(index);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            future.await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn seal_of(event: &cognito_passwordless::event::CreateAuthChallengeEvent) -> String {
    event.response.challenge_metadata.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_for_one_step_send_one_sms() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table), ("SMS_TIMEOUT_MS", "2000")]);
    let sender = Arc::new(CountingSender::default());
    let guard = patient_guard(&table).await;
    let outcomes = together(50, |_| {
        // One handler per call, like one Lambda instance each.
        let create = CreateAuthChallenge::new(&config, sender.clone())
            .unwrap()
            .with_guard(Some(guard.clone()));
        async move {
            create
                .invoke(
                    fixture("create-auth-challenge/first-round.json"),
                    1_800_000_000,
                )
                .await
        }
    })
    .await;
    let mut seals = std::collections::BTreeSet::new();
    let mut answered = 0;
    for outcome in outcomes {
        let event = outcome.unwrap();
        answered += 1;
        seals.insert(seal_of(&event));
    }
    // Every call answered (the budget is sized for the test), and only one of them sent:
    // the other 49 were duplicates of it.
    assert_eq!(answered, 50);
    let sent = sender.0.load(Ordering::SeqCst);
    assert_eq!(answered - sent, 49, "duplicates = answered - 1");
    assert_eq!(sent, 1, "exactly one SMS");
    assert_eq!(seals.len(), 1, "every call answers with the same challenge");
    assert!(seals.first().unwrap().starts_with("SMS_OTP:v2."));
}

#[tokio::test]
async fn a_code_claimed_for_one_user_never_reaches_another() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table)]);
    let (sender, create, verify) = create_and_verify(&config).await;
    let t0 = 1_800_000_000;
    // On a case-sensitive pool `alice` and `Alice` are two users (two subs). The attacker
    // signs in as their own `alice`, then starts a sign-in as `Alice` within the claim window.
    let mine = create
        .invoke(first_round("alice", "+12065550142"), t0)
        .await
        .unwrap();
    let my_code = sender.last_code();
    let theirs = create
        .invoke(first_round("Alice", "+12065550188"), t0 + 5)
        .await
        .unwrap();
    assert_ne!(
        seal_of(&mine),
        seal_of(&theirs),
        "Alice gets a code of her own"
    );
    assert_eq!(sender.0.load(Ordering::SeqCst), 2, "and her own SMS");
    // The attacker's own code never passes for Alice — not with her seal, not with theirs.
    for metadata in [seal_of(&theirs), seal_of(&mine)] {
        let answered = verify
            .invoke(verify_event("Alice", &metadata, &my_code), t0 + 10)
            .await
            .unwrap();
        assert_eq!(answered.response.answer_correct, Some(false));
    }
    // A claim read back for another owner is refused by the store itself.
    let (pk, sk) = cognito_passwordless::state::claim_key(
        "us-east-1_EXAMPLE1",
        &cognito_passwordless::state::UserRef::from_event(
            "alice",
            &[("sub".to_owned(), "sub-alice".to_owned())].into(),
            false,
        ),
        "SMS_OTP",
        0,
    );
    let foreign = cognito_passwordless::state::SendClaim {
        pk,
        sk,
        seal: "v2.x".to_owned(),
        owner: "sub:someone-else".to_owned(),
        now: t0 + 6,
        ttl_seconds: 15,
    };
    let store = patient_guard(&table).await;
    assert!(store.store().claim_send(&foreign).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_to_one_code_are_bounded_across_sessions() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table), ("MAX_ATTEMPTS", "3")]);
    let sender = Arc::new(CountingSender::default());
    let guard = patient_guard(&table).await;
    let create = CreateAuthChallenge::new(&config, sender.clone())
        .unwrap()
        .with_guard(Some(guard.clone()));
    let t0 = 1_800_000_000;
    // The attacker opens many sessions for the victim inside the claim window: one SMS, one
    // shared code.
    let mut metadata = std::collections::BTreeSet::new();
    // (Inside the 8-second claim window.)
    for at in 0..8 {
        let event = create
            .invoke(first_round("victim", "+12065550199"), t0 + at)
            .await
            .unwrap();
        metadata.insert(seal_of(&event));
    }
    assert_eq!(metadata.len(), 1);
    assert_eq!(sender.0.load(Ordering::SeqCst), 1);
    let metadata = metadata.into_iter().next().unwrap();
    let code = sender.last_code();
    // One guess from each of 25 sessions, all at once.
    let guesses = together(25, |index| {
        let verify = VerifyAuthChallenge::new(&config, None)
            .unwrap()
            .with_guard(Some(guard.clone()));
        let event = verify_event("victim", &metadata, &format!("{:06}", index * 7));
        async move { verify.invoke(event, t0 + 12).await.unwrap() }
    })
    .await;
    assert!(
        guesses
            .iter()
            .all(|event| event.response.answer_correct == Some(false))
    );
    // The budget was spent by those guesses: even the right code is now wrong, uncompared.
    let verify = VerifyAuthChallenge::new(&config, None)
        .unwrap()
        .with_guard(Some(guard.clone()));
    let right = verify
        .invoke(verify_event("victim", &metadata, &code), t0 + 13)
        .await
        .unwrap();
    assert_eq!(right.response.answer_correct, Some(false));
    // And the store's counter itself: of 40 concurrent answers at most three are judged.
    let key = cognito_passwordless::state::CodeKey {
        pk: "GUESS#pool#sub:x".to_owned(),
        sk: "seal-1".to_owned(),
    };
    let budgets = together(40, |_| {
        let guard = guard.clone();
        let key = key.clone();
        async move { guard.store().count_answer(&key, 3, t0, 300).await.unwrap() }
    })
    .await;
    let allowed = budgets
        .iter()
        .filter(|budget| **budget == cognito_passwordless::state::AnswerBudget::Allowed)
        .count();
    assert_eq!(allowed, 3, "{budgets:?}");
}

#[tokio::test]
async fn a_code_passes_once_whichever_session_answers_it() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table)]);
    let (sender, create, verify) = create_and_verify(&config).await;
    let t0 = 1_800_000_000;
    let first = create
        .invoke(first_round("frank", "+12065550123"), t0)
        .await
        .unwrap();
    let code = sender.last_code();
    let answer = |at: u64| verify.invoke(verify_event("frank", &seal_of(&first), &code), at);
    assert_eq!(
        answer(t0 + 5).await.unwrap().response.answer_correct,
        Some(true)
    );
    // A second session sharing the claimed code, answering it right after: refused.
    assert_eq!(
        answer(t0 + 6).await.unwrap().response.answer_correct,
        Some(false)
    );
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
    let repeat = create.invoke(alice(), t0 + 7).await.unwrap();
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
            Error::TooManyCodes(cognito_passwordless::abuse::SendLimit::MinInterval)
        ),
        "{error}"
    );
    assert_eq!(
        error.user_message(),
        "Too many codes requested. Try again later"
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
                Error::TooManyCodes(cognito_passwordless::abuse::SendLimit::PerHour)
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
        matches!(
            error,
            Error::TooManyCodes(cognito_passwordless::abuse::SendLimit::PerDay)
        ),
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

#[tokio::test]
async fn premium_rate_and_toll_free_numbers_get_a_decoy_and_no_sms() {
    // No country list: the number type alone decides.
    let config = config(&[]);
    let sender = Arc::new(CountingSender::default());
    let create = CreateAuthChallenge::new(&config, sender.clone()).unwrap();
    let mobile = create
        .invoke(first_round("judy", "+447400123456"), 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(sender.0.load(Ordering::SeqCst), 1);
    for number in ["+449098790000", "+18005550123", "+33884012345"] {
        let refused = create
            .invoke(first_round("judy", number), 1_800_000_000)
            .await
            .unwrap();
        assert_eq!(
            refused.response.challenge_metadata.as_deref(),
            Some("SMS_OTP:decoy"),
            "{number}"
        );
        assert_eq!(
            refused.response.public_challenge_parameters,
            mobile.response.public_challenge_parameters
        );
    }
    assert_eq!(
        sender.0.load(Ordering::SeqCst),
        1,
        "no SMS to those numbers"
    );
    // SMS_ALLOWED_NUMBER_TYPES can let toll-free numbers through where a pool needs them.
    let config = config_with_types("mobile,fixed_line_or_mobile,toll_free");
    let create = CreateAuthChallenge::new(&config, sender.clone()).unwrap();
    create
        .invoke(first_round("judy", "+18005550123"), 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(sender.0.load(Ordering::SeqCst), 2);
}

fn config_with_types(types: &str) -> Config {
    config(&[("SMS_ALLOWED_NUMBER_TYPES", types)])
}

/// Define's event after a wrong answer (the third, ending the sign-in), for `user`; a user name
/// starting with `nobody` is an unknown user (`userNotFound`, no attributes).
fn failed_sign_in(user: &str) -> Value {
    define_event("after-three-wrong-codes", user)
}

fn starting_sign_in(user: &str) -> Value {
    define_event("first-call", user)
}

/// Define's event after one wrong answer (the sign-in goes on), for `user`.
fn wrong_answer(user: &str) -> Value {
    define_event("after-wrong-code", user)
}

/// Define's event `sample` for `user`: a user of the pool with a sub of their own
/// (`sub-<user>`), or, for a name starting with `nobody`, an unknown user.
fn define_event(sample: &str, user: &str) -> Value {
    let mut event = fixture(&format!("define-auth-challenge/{sample}.json"));
    event["userName"] = json!(user);
    if user.starts_with("nobody") {
        event["request"]["userAttributes"] = json!({});
        event["request"]["userNotFound"] = json!(true);
    } else {
        event["request"]["userAttributes"]["sub"] = json!(format!("sub-{user}"));
    }
    event
}

fn decision(event: &cognito_passwordless::event::DefineAuthChallengeEvent) -> &'static str {
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
        if user.starts_with("nobody") {
            pre["request"]["userAttributes"] = json!({});
            pre["request"]["userNotFound"] = json!(true);
        } else {
            pre["request"]["userAttributes"]["sub"] = json!(format!("sub-{user}"));
        }
        let error = preauth.invoke(pre.clone(), t0 + 201).await.unwrap_err();
        assert_eq!(error.error_type(), "LockedOut");
        assert_eq!(
            error.user_message(),
            "Too many failed sign-ins. Try again later"
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

#[tokio::test]
async fn a_locked_account_gets_no_tokens_even_with_the_right_code() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table), ("LOCKOUT_THRESHOLD", "3")]);
    let define = DefineAuthChallenge::new(&config).with_guard(Some(guard(&config, None).await));
    let t0 = 1_800_000_000;
    // A session was opened before the lock (or races the guesses that cause it)...
    for at in 0..3 {
        define
            .invoke(failed_sign_in("grace"), t0 + at)
            .await
            .unwrap();
    }
    // ...and now answers with the right code: the decision that would issue tokens fails.
    let right = define
        .invoke(define_event("after-right-code", "grace"), t0 + 10)
        .await
        .unwrap();
    assert_eq!(right.response.issue_tokens, Some(false));
    assert_eq!(right.response.fail_authentication, Some(true));
    // The same right answer for an account that is not locked gets its tokens.
    let open = define
        .invoke(define_event("after-right-code", "heidi"), t0 + 10)
        .await
        .unwrap();
    assert_eq!(open.response.issue_tokens, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_all_count() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table), ("LOCKOUT_THRESHOLD", "30")]);
    let guard = patient_guard(&table).await;
    let t0 = 1_800_000_000;
    // Thirty wrong answers reported at the same moment, from thirty sessions.
    let decisions = together(30, |_| {
        let define = DefineAuthChallenge::new(&config).with_guard(Some(guard.clone()));
        async move { define.invoke(wrong_answer("ivan"), t0).await.unwrap() }
    })
    .await;
    assert_eq!(decisions.len(), 30);
    let owner = cognito_passwordless::state::UserRef::from_event(
        "ivan",
        &[("sub".to_owned(), "sub-ivan".to_owned())].into(),
        false,
    );
    let key = cognito_passwordless::state::lock_key("us-east-1_EXAMPLE1", &owner);
    let failures = guard.store().failures(&key, t0).await.unwrap();
    assert_eq!(failures.len(), 30, "no failure lost");
    // So the thirtieth locked the account.
    let next = define_event("first-call", "ivan");
    let define = DefineAuthChallenge::new(&config).with_guard(Some(guard));
    assert_eq!(
        decision(&define.invoke(next, t0 + 1).await.unwrap()),
        "fail"
    );
}

#[tokio::test]
async fn a_send_that_failed_releases_its_claim_and_only_its_own() {
    let table = fresh_table().await;
    let config = config(&[("STATE_TABLE", &table), ("SMS_MIN_INTERVAL_SECONDS", "0")]);
    let sender = Arc::new(FlakySender {
        failures: AtomicUsize::new(1),
        sent: AtomicUsize::new(0),
        delay: Duration::from_millis(10),
    });
    let guard = guard(&config, None).await;
    let create = CreateAuthChallenge::new(&config, sender.clone())
        .unwrap()
        .with_guard(Some(guard.clone()));
    let t0 = 1_800_000_000;
    // The provider is down: the call fails, and its claim goes with it...
    let failed = create
        .invoke(first_round("kim", "+12065550142"), t0)
        .await
        .unwrap_err();
    assert_eq!(failed.error_type(), "SmsDeliveryError");
    // ...so Cognito's retry, inside the claim window, sends (it is not handed a code that
    // never went out).
    create
        .invoke(first_round("kim", "+12065550142"), t0 + 2)
        .await
        .unwrap();
    assert_eq!(sender.sent.load(Ordering::SeqCst), 1);
    // Against the server itself: a release names its own seal, and another call's claim stays.
    let store = guard.store();
    let claim = |seal: &str| cognito_passwordless::state::SendClaim {
        pk: "CLAIM#p#sub:x".to_owned(),
        sk: "SMS_OTP#0".to_owned(),
        seal: seal.to_owned(),
        owner: "sub:x".to_owned(),
        now: t0,
        ttl_seconds: 8,
    };
    assert_eq!(
        store.claim_send(&claim("seal-a")).await.unwrap(),
        cognito_passwordless::state::ClaimOutcome::Claimed
    );
    store
        .release_send("CLAIM#p#sub:x", "SMS_OTP#0", "seal-b")
        .await
        .unwrap();
    assert_eq!(
        store.claim_send(&claim("seal-b")).await.unwrap(),
        cognito_passwordless::state::ClaimOutcome::Duplicate {
            seal: "seal-a".to_owned()
        }
    );
    store
        .release_send("CLAIM#p#sub:x", "SMS_OTP#0", "seal-a")
        .await
        .unwrap();
    assert_eq!(
        store.claim_send(&claim("seal-b")).await.unwrap(),
        cognito_passwordless::state::ClaimOutcome::Claimed
    );
}

#[tokio::test]
async fn only_the_condition_reads_as_a_duplicate_claim_or_an_absent_one() {
    // A write the server refuses for any other reason is an error: never taken for another
    // call's claim (whose seal would then be handed back), and a failed release never passes
    // for "not ours".
    let table = fresh_table().await;
    let client = dynamodb_client(&dynamodb_url()).await;
    let store = DynamoStore::new(client.clone(), table);
    use cognito_passwordless::state::{ClaimOutcome, SendClaim, StateStore};
    let claim = |seal: String| SendClaim {
        pk: "CLAIM#p#sub:y".to_owned(),
        sk: "SMS_OTP#0".to_owned(),
        seal,
        owner: "sub:y".to_owned(),
        now: 1_800_000_000,
        ttl_seconds: 8,
    };
    assert_eq!(
        store.claim_send(&claim("seal-a".to_owned())).await.unwrap(),
        ClaimOutcome::Claimed
    );
    // An item over DynamoDB's 400 KB limit fails validation, not the condition.
    let oversized = claim("s".repeat(500 * 1024));
    assert!(store.claim_send(&oversized).await.is_err());
    // A table that does not exist: both calls fail.
    let missing = DynamoStore::new(client, "no-such-table".to_owned());
    assert!(
        missing
            .claim_send(&claim("seal-a".to_owned()))
            .await
            .is_err()
    );
    assert!(
        missing
            .release_send("CLAIM#p#sub:y", "SMS_OTP#0", "seal-a")
            .await
            .is_err()
    );
}

/// Every item under `pk`, as (sort key, its `expiresAt`).
async fn expiries(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str) -> Vec<(String, u64)> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let output = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    output
        .items()
        .iter()
        .map(|item| {
            (
                item["sk"].as_s().unwrap().clone(),
                item["expiresAt"].as_n().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_item_the_store_writes_expires_when_its_kind_says_and_conditions_read_right() {
    use cognito_passwordless::abuse::{LockoutPolicy, SendLimits};
    use cognito_passwordless::state::{AnswerBudget, CodeKey, StateStore};
    let table = fresh_table().await;
    let client = dynamodb_client(&dynamodb_url()).await;
    let store = DynamoStore::new(client.clone(), table.clone());
    let now = 1_800_000_000;
    let limits = SendLimits {
        min_interval_seconds: 0,
        max_per_hour: 100,
        max_per_day: 1_000,
    };
    // A send history lives a day.
    store
        .record_send(&["USER#p#sub:e".to_owned()], now, limits)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        expiries(&client, &table, "USER#p#sub:e").await,
        [("SENDS".to_owned(), now + 86_400)]
    );
    // An answer count lives as long as it is given to.
    let counted = CodeKey {
        pk: "GUESS#p#sub:e".to_owned(),
        sk: "seal-1".to_owned(),
    };
    assert_eq!(
        store.count_answer(&counted, 3, now, 600).await.unwrap(),
        AnswerBudget::Allowed
    );
    // A code used without a count first (open mode) gets the same lifetime; used once only.
    let used = CodeKey {
        pk: "GUESS#p#sub:e".to_owned(),
        sk: "seal-2".to_owned(),
    };
    assert!(store.consume_code(&used, now, 700).await.unwrap());
    assert!(!store.consume_code(&used, now + 1, 700).await.unwrap());
    let mut guesses = expiries(&client, &table, "GUESS#p#sub:e").await;
    guesses.sort();
    assert_eq!(
        guesses,
        [
            ("seal-1".to_owned(), now + 600),
            ("seal-2".to_owned(), now + 700)
        ]
    );
    // A failed attempt lives two lockout windows.
    let policy = LockoutPolicy {
        threshold: 10,
        window_seconds: 900,
    };
    store
        .record_failure("LOCK#p#sub:e", now, policy)
        .await
        .unwrap();
    let failures = expiries(&client, &table, "LOCK#p#sub:e").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].1, now + 1_800);
    // A migration note lives a minute, and is taken once.
    store.mark_migrated("MIGRATED#p#e", now).await.unwrap();
    assert_eq!(
        expiries(&client, &table, "MIGRATED#p#e").await,
        [("MIGRATED".to_owned(), now + 60)]
    );
    assert!(store.take_migrated("MIGRATED#p#e", now + 1).await.unwrap());
    assert!(!store.take_migrated("MIGRATED#p#e", now + 2).await.unwrap());
    // A store whose table is gone answers with errors, never with "no note" or "used".
    let missing = DynamoStore::new(client, "no-such-table".to_owned());
    assert!(missing.take_migrated("MIGRATED#p#e", now).await.is_err());
    assert!(missing.consume_code(&used, now, 700).await.is_err());
}

#[tokio::test]
async fn concurrent_sends_for_one_history_all_count_after_retrying() {
    // Sends racing on one history conflict in DynamoDB's transaction; each retries on the
    // history as it then is, so all of them count (none fails, none is lost).
    use cognito_passwordless::abuse::SendLimits;
    use cognito_passwordless::state::StateStore;
    let table = fresh_table().await;
    let client = dynamodb_client(&dynamodb_url()).await;
    let store = Arc::new(DynamoStore::new(client.clone(), table.clone()));
    let limits = SendLimits {
        min_interval_seconds: 0,
        max_per_hour: 100,
        max_per_day: 1_000,
    };
    let now = 1_800_000_000;
    let results = together(3, |_| {
        let store = store.clone();
        async move {
            store
                .record_send(&["USER#p#sub:race".to_owned()], now, limits)
                .await
        }
    })
    .await;
    for result in &results {
        assert_eq!(result, &Ok(Ok(())), "{results:?}");
    }
    let counted = store
        .record_send(
            &["USER#p#sub:race".to_owned()],
            now,
            SendLimits {
                max_per_hour: 3,
                ..limits
            },
        )
        .await
        .unwrap();
    assert!(
        counted.is_err(),
        "three sends were recorded before this one"
    );
}

#[tokio::test]
async fn a_decoy_takes_about_as_long_as_a_real_send() {
    // No state table: timing alone tells decoys from real sends here. The provider takes
    // 300 ms; after a few sends, a decoy (an unknown user) must take comparable time. Robust
    // statistics (medians of 5), generous margins (half to double): without the decoy's wait
    // it answers in about a millisecond.
    let config = config(&[]);
    let sender = Arc::new(FlakySender {
        failures: AtomicUsize::new(0),
        sent: AtomicUsize::new(0),
        delay: Duration::from_millis(300),
    });
    let create = CreateAuthChallenge::new(&config, sender.clone()).unwrap();
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let mut real = Vec::new();
    for round in 0..8 {
        let started = Instant::now();
        create
            .invoke(
                first_round(&format!("real-{round}"), "+12065550142"),
                1_800_000_000,
            )
            .await
            .unwrap();
        if round >= 3 {
            real.push(started.elapsed());
        }
    }
    let mut decoys = Vec::new();
    for round in 0..5 {
        let mut event = fixture("create-auth-challenge/user-not-found.json");
        event["userName"] = json!(format!("nobody-{round}"));
        let started = Instant::now();
        create.invoke(event, 1_800_000_000).await.unwrap();
        decoys.push(started.elapsed());
    }
    let (real, decoy) = (median(real), median(decoys));
    assert!(
        decoy * 2 >= real && decoy <= real * 2,
        "decoy {decoy:?} against a real send {real:?}"
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
            let verify = VerifyAuthChallenge::new(&config, None)
                .unwrap()
                .with_guard(Some(guard.clone()));
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
            // The sample's right code, while the table cannot count answers: wrong in closed
            // mode, compared (and right) in open mode.
            let verified = verify
                .invoke(
                    fixture("verify-auth-challenge/right-code.json"),
                    1_763_769_610,
                )
                .await
                .unwrap();
            assert_eq!(
                verified.response.answer_correct,
                Some(mode == "open"),
                "{endpoint} {mode}"
            );
            // A wrong answer reported while the table cannot record it ends the sign-in in
            // closed mode.
            let failed = define
                .invoke(wrong_answer("alice"), 1_800_000_000)
                .await
                .unwrap();
            assert_eq!(
                decision(&failed),
                if mode == "closed" {
                    "fail"
                } else {
                    "challenge"
                },
                "{endpoint} {mode}"
            );
            if mode == "closed" {
                let error = created.unwrap_err();
                assert_eq!(error.error_type(), "StateUnavailable", "{endpoint}");
                assert_eq!(error.user_message(), "Sign-in is temporarily unavailable");
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
        text.contains("Too many codes requested. Try again later"),
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
