//! Full sign-ins through the local Cognito stand-in and the real binaries: right code, three
//! wrong codes, two wrong then right, unknown users and users without a verified phone — with the
//! number of SMS messages each sends, and the logs checked for codes and phone numbers. Then every
//! configured flow: a password first (`SRP_A` → `PASSWORD_VERIFIER`), a CAPTCHA (a widget checked
//! by a local `siteverify` endpoint, or an image saved by the CLI), and all three steps.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use cognito_passwordless::otp::wrong_answer_for;
use integration_tests::{FakeEndpoint, Reply, host, run_cli};
use local_cognito::cognito::{
    AuthSession, AuthStep, CognitoError, CustomAuthTriggers, LocalPool, PoolSettings,
};
use local_cognito::lambda_host::OutputLog;
use local_cognito::users::UserDirectory;
use serde_json::{Map, Value};

struct Harness {
    pool: LocalPool,
    output: Arc<OutputLog>,
}

fn harness(env: &[(&str, &str)]) -> Harness {
    let output = Arc::new(OutputLog::default());
    let mut all = vec![("SMS_PROVIDER", "console")];
    all.extend_from_slice(env);
    let triggers = Arc::new(CustomAuthTriggers {
        define: host("define-auth-challenge", &all, output.clone()),
        create: host("create-auth-challenge", &all, output.clone()),
        verify: host("verify-auth-challenge", &all, output.clone()),
    });
    Harness {
        pool: LocalPool::new(PoolSettings::default(), UserDirectory::sample(), triggers),
        output,
    }
}

fn challenge(step: Result<AuthStep, CognitoError>) -> (Map<String, Value>, AuthSession) {
    match step {
        Ok(AuthStep::Challenge {
            parameters,
            session,
            challenge_name,
        }) => {
            assert_eq!(challenge_name, "CUSTOM_CHALLENGE");
            (parameters, session)
        }
        other => panic!("expected a challenge, got {other:?}"),
    }
}

impl Harness {
    /// `InitiateAuth`, expecting a challenge.
    async fn start(&self, username: &str) -> (Map<String, Value>, AuthSession) {
        challenge(self.pool.initiate_custom_auth(username).await)
    }

    /// `RespondToAuthChallenge`.
    async fn answer(&self, session: AuthSession, answer: &str) -> Result<AuthStep, CognitoError> {
        self.pool.respond_to_custom_challenge(session, answer).await
    }

    /// `RespondToAuthChallenge`, expecting another challenge.
    async fn answer_again(
        &self,
        session: AuthSession,
        answer: &str,
    ) -> (Map<String, Value>, AuthSession) {
        challenge(self.answer(session, answer).await)
    }

    async fn latest_code(&self) -> String {
        let messages = self.output.wait_for_sms(1, Duration::from_secs(2)).await;
        let (_, body) = messages.last().expect("an SMS");
        body.chars().take_while(char::is_ascii_digit).collect()
    }

    fn sms_count(&self) -> usize {
        self.output.sms_messages().len()
    }

    /// Signs in answering `answers` in turn (`None` = the right code, `Some(x)` = x).
    async fn sign_in(
        &self,
        username: &str,
        answers: &[Option<&str>],
    ) -> Result<AuthStep, CognitoError> {
        let mut step = self.pool.initiate_custom_auth(username).await;
        for answer in answers {
            let (_, session) = challenge(step);
            let answer = match answer {
                Some(text) => (*text).to_owned(),
                None => self.latest_code().await,
            };
            step = self.answer(session, &answer).await;
        }
        step
    }
}

#[tokio::test]
async fn right_code_signs_in_with_one_sms() {
    let harness = harness(&[]);
    let step = harness.sign_in("alice", &[None]).await;
    assert!(
        matches!(step, Ok(AuthStep::Authenticated { ref username, .. }) if username == "alice"),
        "{step:?}"
    );
    assert_eq!(harness.sms_count(), 1);
}

#[tokio::test]
async fn three_wrong_codes_fail_with_one_sms() {
    let harness = harness(&[]);
    let (parameters, session) = harness.start("alice").await;
    assert_eq!(parameters["USERNAME"], "alice");
    assert_eq!(parameters["challenge"], "SMS_OTP");
    let code = harness.latest_code().await;
    let (_, session) = harness
        .answer_again(session, &wrong_answer_for(&code))
        .await;
    let (parameters, session) = harness
        .answer_again(session, &wrong_answer_for(&code))
        .await;
    assert_eq!(parameters["attemptsLeft"], "1");
    let step = harness.answer(session, &wrong_answer_for(&code)).await;
    assert!(
        matches!(step, Err(CognitoError::NotAuthorized(_))),
        "{step:?}"
    );
    assert_eq!(harness.sms_count(), 1);
}

#[tokio::test]
async fn two_wrong_then_right_signs_in_with_one_sms() {
    let harness = harness(&[]);
    let (_, session) = harness.start("alice").await;
    let code = harness.latest_code().await;
    let (_, session) = harness
        .answer_again(session, &wrong_answer_for(&code))
        .await;
    let (_, session) = harness.answer_again(session, "not a code at all").await;
    let step = harness.answer(session, &code).await;
    assert!(
        matches!(step, Ok(AuthStep::Authenticated { .. })),
        "{step:?}"
    );
    assert_eq!(harness.sms_count(), 1);
}

#[tokio::test]
async fn max_attempts_is_configurable() {
    let harness = harness(&[("MAX_ATTEMPTS", "1")]);
    let (parameters, session) = harness.start("alice").await;
    assert_eq!(parameters["attemptsLeft"], "1");
    let code = harness.latest_code().await;
    let step = harness.answer(session, &wrong_answer_for(&code)).await;
    assert!(
        matches!(step, Err(CognitoError::NotAuthorized(_))),
        "{step:?}"
    );
}

#[tokio::test]
async fn unknown_user_gets_a_challenge_that_looks_real_but_never_passes() {
    let harness = harness(&[]);
    let (known, _) = harness.start("alice").await;
    let (unknown, session) = harness.start("mallory").await;
    let keys = |parameters: &Map<String, Value>| parameters.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(known["codeLength"], unknown["codeLength"]);
    assert_eq!(harness.sms_count(), 1, "only alice got an SMS");
    // Even alice's real code does not pass for mallory.
    let code = harness.latest_code().await;
    let (_, session) = harness.answer_again(session, &code).await;
    let (_, session) = harness.answer_again(session, "123456").await;
    let step = harness.answer(session, &code).await;
    assert!(
        matches!(step, Err(CognitoError::NotAuthorized(_))),
        "{step:?}"
    );
    assert_eq!(harness.sms_count(), 1);
}

#[tokio::test]
async fn phone_hint_shows_last_digits_for_everyone_when_enabled() {
    let secret = "s".repeat(40);
    let harness = harness(&[("PHONE_HINT", "last4"), ("PHONE_HINT_SECRET", &secret)]);
    let (known, _) = harness.start("alice").await;
    assert_eq!(known["maskedPhone"], "+*******0100");
    let (first, _) = harness.start("mallory").await;
    let (second, _) = harness.start("mallory").await;
    let masked = first["maskedPhone"].as_str().unwrap();
    assert!(
        masked.starts_with("+*******") && masked.len() == 12,
        "{masked}"
    );
    assert_eq!(
        first["maskedPhone"], second["maskedPhone"],
        "stable across attempts"
    );
}

#[tokio::test]
async fn users_without_a_verified_phone_get_no_sms_and_no_tokens() {
    let harness = harness(&[]);
    for user in ["bob", "carol"] {
        let step = harness
            .sign_in(user, &[Some("123456"), Some("654321"), Some("111111")])
            .await;
        assert!(
            matches!(step, Err(CognitoError::NotAuthorized(_))),
            "{user}: {step:?}"
        );
    }
    assert_eq!(harness.sms_count(), 0);
    let warnings = harness
        .output
        .lines()
        .into_iter()
        .filter(|line| {
            line.stream == "stderr"
                && line.text.contains("\"level\":\"WARN\"")
                && line.text.contains("no verified destination")
        })
        .count();
    assert_eq!(warnings, 2, "one warning per user's first round");
}

#[tokio::test]
async fn logs_of_a_full_sign_in_never_hold_the_code_or_the_phone_number() {
    let harness = harness(&[("AWS_LAMBDA_LOG_LEVEL", "trace")]);
    let (_, session) = harness.start("alice").await;
    let code = harness.latest_code().await;
    let (_, session) = harness
        .answer_again(session, &wrong_answer_for(&code))
        .await;
    let step = harness.answer(session, &code).await;
    assert!(matches!(step, Ok(AuthStep::Authenticated { .. })));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let logs: Vec<String> = harness
        .output
        .lines()
        .into_iter()
        .filter(|line| line.stream == "stderr")
        .map(|line| line.text)
        .collect();
    assert!(logs.len() >= 5, "expected the triggers' logs, got {logs:?}");
    for line in &logs {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
        assert!(!line.contains(&code), "code in log: {line}");
        assert!(
            !line.contains(&wrong_answer_for(&code)),
            "answer in log: {line}"
        );
        assert!(!line.contains("2065550100"), "phone number in log: {line}");
        // (The tool keys seals with a key of its run: `v2k.`; unkeyed ones are `v2.`.)
        assert!(
            !line.contains("v2.") && !line.contains("v2k."),
            "seal in log: {line}"
        );
    }
    // The only place the code appears is the (console) SMS itself.
    let stdout: Vec<String> = harness
        .output
        .lines()
        .into_iter()
        .filter(|line| line.stream == "stdout")
        .map(|line| line.text)
        .collect();
    assert_eq!(stdout.len(), 1, "{stdout:?}");
    assert!(stdout[0].starts_with("[console-sms] to=+*******0100 | "));
}

#[tokio::test]
async fn trace_logs_of_a_captcha_and_sms_sign_in_through_the_real_sdk_hold_no_secret() {
    // Every outside call is real on the wire: End User Messaging and Secrets Manager through the
    // AWS SDK (one local endpoint answering both), Turnstile's siteverify, and the state table
    // on the DynamoDB-protocol server. At trace level, no line of any trigger may hold the code,
    // an answer, the phone number, the user name or e-mail, a seal, the CAPTCHA token or secret,
    // the seal key or the AWS secret key.
    const TOKEN: &str = "turnstile-token-6f1c2e9a";
    const CAPTCHA_SECRET: &str = "captcha-secret-0x4AAAA-b7e2";
    const SEAL_KEY: &str = "seal-key-3c9d0f1e2a4b5c6d7e8f90a1b2c3d4e5";
    let endpoint = integration_tests::FakeEndpoint::start(|request| {
        match request.header("x-amz-target") {
            "PinpointSMSVoiceV2.SendTextMessage" => {
                integration_tests::Reply::ok(serde_json::json!({"MessageId": "m-1"}))
            }
            "secretsmanager.GetSecretValue" => integration_tests::Reply::ok(serde_json::json!({
                "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:seal-AbCdEf",
                "Name": "seal",
                "SecretString": SEAL_KEY,
                "VersionId": "v1"
            })),
            _ if request.form("response").as_deref() == Some(TOKEN) => {
                integration_tests::Reply::ok(serde_json::json!({
                    "success": true, "hostname": "example.com", "challenge_ts": "2026-12-01T00:00:00Z"
                }))
            }
            _ => integration_tests::Reply::text(400, "{}"),
        }
    })
    .await;
    let table = integration_tests::create_state_table(
        &integration_tests::dynamodb_client(&integration_tests::dynamodb_url()).await,
        "trace",
    )
    .await;
    let dynamodb = integration_tests::dynamodb_url();
    let verify_url = format!("{}/turnstile/v0/siteverify", endpoint.url);
    let harness = harness(&[
        ("AWS_LAMBDA_LOG_LEVEL", "trace"),
        ("AUTH_FLOW", "captcha,sms_otp"),
        ("SMS_PROVIDER", "end-user-messaging"),
        ("AWS_ENDPOINT_URL", &endpoint.url),
        ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb),
        ("STATE_TABLE", &table),
        (
            "SEAL_KEY_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:seal-AbCdEf",
        ),
        ("CAPTCHA_PROVIDER", "turnstile"),
        ("CAPTCHA_SITE_KEY", "0x4AAAAsitekey"),
        ("CAPTCHA_SECRET", CAPTCHA_SECRET),
        ("CAPTCHA_VERIFY_URL", &verify_url),
    ]);
    let (parameters, session) = harness.start("alice").await;
    assert_eq!(parameters["challenge"], "CAPTCHA");
    let (parameters, session) = harness.answer_again(session, TOKEN).await;
    assert_eq!(parameters["challenge"], "SMS_OTP");
    let sent = endpoint
        .requests()
        .into_iter()
        .find(|request| request.header("x-amz-target") == "PinpointSMSVoiceV2.SendTextMessage")
        .expect("the code went out through End User Messaging");
    let code: String = sent.json["MessageBody"]
        .as_str()
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let wrong = wrong_answer_for(&code);
    let (_, session) = harness.answer_again(session, &wrong).await;
    let step = harness.answer(session, &code).await;
    assert!(
        matches!(step, Ok(AuthStep::Authenticated { .. })),
        "{step:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;

    let logs: Vec<String> = harness
        .output
        .lines()
        .into_iter()
        .filter(|line| line.stream == "stderr")
        .map(|line| line.text)
        .collect();
    assert!(logs.len() >= 8, "expected the triggers' logs, got {logs:?}");
    for line in &logs {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        for (what, secret) in [
            ("code", code.as_str()),
            ("wrong answer", wrong.as_str()),
            ("phone number", "2065550100"),
            ("user name or e-mail", "alice"),
            ("seal", "v2k."),
            ("seal", "v2."),
            ("CAPTCHA token", TOKEN),
            ("CAPTCHA secret", CAPTCHA_SECRET),
            ("seal key", SEAL_KEY),
            ("AWS secret key", "test-secret-key"),
        ] {
            assert!(!line.contains(secret), "{what} in log: {line}");
        }
    }
    // Create and Verify read the seal key from Secrets Manager, once each.
    let secret_reads = endpoint
        .requests()
        .iter()
        .filter(|request| request.header("x-amz-target") == "secretsmanager.GetSecretValue")
        .count();
    assert_eq!(secret_reads, 2);
    assert!(
        logs.iter()
            .any(|line| line.contains("\"outcome\":\"correct\"")),
        "{logs:?}"
    );
}

#[test]
fn the_cli_signs_in_non_interactively() {
    let (status, text) = run_cli(&["--username", "alice", "--code-from-sms"], &[]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("✔ Signed in as alice"), "{text}");
    assert!(text.contains("λ DefineAuthChallenge"), "{text}");
    assert!(text.contains("📱 SMS to +*******0100"), "{text}");
    assert!(text.contains("SMS messages sent: 1"), "{text}");

    let (status, text) = run_cli(
        &["--username", "alice", "--answers", "@wrong,@wrong,@sms"],
        &[],
    );
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("SMS messages sent: 1"), "{text}");

    let (status, text) = run_cli(
        &["--username", "alice", "--answers", "@wrong,@wrong,@wrong"],
        &[],
    );
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("NotAuthorizedException"), "{text}");
}

fn resend() -> Map<String, Value> {
    let mut metadata = Map::new();
    metadata.insert("otpAction".to_owned(), Value::String("resend".to_owned()));
    metadata
}

#[tokio::test]
async fn a_resend_sends_a_new_code_and_only_the_new_code_signs_in() {
    let harness = harness(&[]);
    let (parameters, session) = harness.start("alice").await;
    assert_eq!(parameters["resendsLeft"], "2");
    let first = harness.latest_code().await;
    // The right code sent with the request is not an answer: no tokens, a new code, no attempt
    // used up.
    let (parameters, session) = challenge(
        harness
            .pool
            .respond_to_custom_challenge_with_metadata(session, &first, Some(&resend()))
            .await,
    );
    assert_eq!(parameters["attemptsLeft"], "3");
    assert_eq!(parameters["resendsLeft"], "1");
    let messages = harness.output.wait_for_sms(2, Duration::from_secs(2)).await;
    assert_eq!(messages.len(), 2);
    let second: String = messages[1]
        .1
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let session = if first == second {
        session
    } else {
        // The earlier code no longer works.
        let (parameters, session) = harness.answer_again(session, &first).await;
        assert_eq!(parameters["attemptsLeft"], "2");
        session
    };
    let step = harness.answer(session, &second).await;
    assert!(
        matches!(step, Ok(AuthStep::Authenticated { .. })),
        "{step:?}"
    );
    assert_eq!(harness.sms_count(), 2);
}

#[tokio::test]
async fn resends_past_the_limit_are_refused_with_a_message_and_unknown_users_get_decoys() {
    let harness = harness(&[("OTP_MAX_RESENDS", "1")]);
    let (_, session) = harness.start("alice").await;
    let (_, session) = challenge(
        harness
            .pool
            .respond_to_custom_challenge_with_metadata(session, "resend", Some(&resend()))
            .await,
    );
    assert_eq!(
        harness
            .output
            .wait_for_sms(2, Duration::from_secs(2))
            .await
            .len(),
        2
    );
    let step = harness
        .pool
        .respond_to_custom_challenge_with_metadata(session, "resend", Some(&resend()))
        .await;
    assert!(
        matches!(&step, Err(CognitoError::UserLambdaValidation(message)) if message.contains("No more codes can be sent for this sign-in")),
        "{step:?}"
    );
    assert_eq!(harness.sms_count(), 2);

    // An unknown user: the same shapes, no SMS, never tokens.
    let (known, _) = harness.start("alice").await;
    let (parameters, session) = harness.start("nobody").await;
    let keys = |map: &Map<String, Value>| map.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&parameters), keys(&known));
    let (parameters, _) = challenge(
        harness
            .pool
            .respond_to_custom_challenge_with_metadata(session, "resend", Some(&resend()))
            .await,
    );
    assert_eq!(parameters["resendsLeft"], "0");
    assert_eq!(parameters["attemptsLeft"], "3");
    assert_eq!(harness.sms_count(), 3, "only alice's new sign-in sent one");
}

#[test]
fn the_cli_asks_for_a_new_code_with_resend() {
    let (status, text) = run_cli(&["--username", "alice", "--answers", "@resend,@sms"], &[]);
    assert_eq!(status, 0, "{text}");
    assert!(
        text.contains("ClientMetadata={\"otpAction\":\"resend\"}"),
        "{text}"
    );
    assert!(text.contains("SMS messages sent: 2"), "{text}");
    assert!(text.contains("✔ Signed in as alice"), "{text}");

    let (status, text) = run_cli(
        &[
            "--username",
            "alice",
            "--answers",
            "@resend,@resend,@resend",
        ],
        &[],
    );
    assert_eq!(status, 1, "{text}");
    assert!(
        text.contains("No more codes can be sent for this sign-in"),
        "{text}"
    );
    assert!(text.contains("SMS messages sent: 3"), "{text}");
}

#[test]
fn the_cli_signs_in_with_a_code_by_email() {
    let (status, text) = run_cli(
        &["--username", "alice", "--code-from-sms"],
        &[("AUTH_FLOW", "email_otp")],
    );
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("📧 E-mail to a***@example.com: "), "{text}");
    assert!(text.contains("\"channel\":\"email\""), "{text}");
    assert!(text.contains("✔ Signed in as alice"), "{text}");
    assert!(!text.contains("alice@example.com"), "{text}");
    // bob has no e-mail address: a decoy, and the tool says why no message came.
    let (status, text) = run_cli(
        &["--username", "bob", "--code-from-sms"],
        &[("AUTH_FLOW", "email_otp")],
    );
    assert_eq!(status, 2, "{text}");
    assert!(
        text.contains(
            "bob has no verified e-mail address in the local pool, so Create sent no e-mail"
        ),
        "{text}"
    );
    assert!(!text.contains("📧"), "{text}");
    // A real e-mail provider needs the explicit flag, as a real SMS provider does.
    let (status, text) = run_cli(
        &["--username", "alice", "--code-from-sms"],
        &[("AUTH_FLOW", "email_otp"), ("EMAIL_PROVIDER", "ses")],
    );
    assert_eq!(status, 2, "{text}");
    assert!(text.contains("--real-sms"), "{text}");
}

#[test]
fn a_real_sms_provider_needs_an_explicit_flag() {
    // A copied environment naming a real provider must not send paid SMS from a laptop.
    let (status, text) = run_cli(
        &["--username", "alice", "--code-from-sms"],
        &[("SMS_PROVIDER", "end-user-messaging")],
    );
    assert_eq!(status, 2, "a usage error: {text}");
    assert!(text.contains("--real-sms"), "{text}");
    assert!(!text.contains("InitiateAuth"), "nothing ran: {text}");
}

#[test]
fn the_cli_reads_a_users_file() {
    let dir = std::env::temp_dir().join(format!("local-cognito-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users.json");
    std::fs::write(
        &file,
        r#"[{"username": "dave", "attributes": {"sub": "d-1", "phone_number": "+447400123456", "phone_number_verified": "true"}}]"#,
    )
    .unwrap();
    let (status, text) = run_cli(
        &[
            "--username",
            "dave",
            "--users",
            file.to_str().unwrap(),
            "--code-from-sms",
        ],
        &[],
    );
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("📱 SMS to +*******3456"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_variable_ends_the_run_with_one_plain_message() {
    let (status, text) = run_cli(
        &["--username", "alice", "--code-from-sms"],
        &[("OTP_LENGTH", "2")],
    );
    assert_eq!(status, 2, "a usage error: {text}");
    assert_eq!(
        text.trim(),
        "local-cognito: invalid configuration: OTP_LENGTH: must be a whole number from 6 to 10 (fix the variable and run again)"
    );
}

#[test]
fn the_cli_refuses_unknown_answer_words_and_explains_a_missing_sms() {
    let (status, text) = run_cli(&["--username", "alice", "--answers", "@right"], &[]);
    assert_eq!(status, 2, "{text}");
    assert!(text.contains("unknown word @right"), "{text}");
    assert!(!text.contains("InitiateAuth"), "nothing ran: {text}");
    // bob's phone is not verified: a decoy challenge, no SMS, and the tool says so.
    let (status, text) = run_cli(&["--username", "bob", "--code-from-sms"], &[]);
    assert_eq!(status, 2, "{text}");
    assert!(
        text.contains("bob has no verified phone number in the local pool"),
        "{text}"
    );
}

/// A `siteverify` stand-in: the token `human` passes, anything else is refused.
async fn turnstile() -> FakeEndpoint {
    FakeEndpoint::start(|request| {
        if request.form("response").as_deref() == Some("human") {
            Reply::ok(
                serde_json::json!({"success": true, "hostname": "localhost", "action": "login"}),
            )
        } else {
            Reply::ok(
                serde_json::json!({"success": false, "error-codes": ["invalid-input-response"]}),
            )
        }
    })
    .await
}

fn turnstile_env<'a>(flow: &'a str, url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AUTH_FLOW", flow),
        ("CAPTCHA_PROVIDER", "turnstile"),
        ("CAPTCHA_SITE_KEY", "1x00000000000000000000AA"),
        ("CAPTCHA_SECRET", "1x0000000000000000000000000000000AA"),
        ("CAPTCHA_VERIFY_URL", url),
        ("CAPTCHA_EXPECTED_HOSTNAMES", "localhost"),
    ]
}

fn password_challenge(step: Result<AuthStep, CognitoError>) -> AuthSession {
    match step {
        Ok(AuthStep::Challenge {
            challenge_name,
            session,
            ..
        }) if challenge_name == "PASSWORD_VERIFIER" => session,
        other => panic!("expected PASSWORD_VERIFIER, got {other:?}"),
    }
}

#[tokio::test]
async fn password_then_sms_needs_both_and_sends_no_sms_for_a_wrong_password() {
    // At trace level: the scan at the end holds the password flows to the logging promise too.
    let harness = harness(&[
        ("AUTH_FLOW", "password,sms_otp"),
        ("AWS_LAMBDA_LOG_LEVEL", "trace"),
    ]);
    // The client must start with SRP_A.
    assert!(matches!(
        harness.pool.initiate_custom_auth("alice").await,
        Err(CognitoError::NotAuthorized(_))
    ));
    let session = password_challenge(harness.pool.initiate_custom_auth_with_srp("alice").await);
    assert!(matches!(
        harness
            .pool
            .respond_to_password_verifier(session, "guess")
            .await,
        Err(CognitoError::NotAuthorized(_))
    ));
    assert_eq!(harness.sms_count(), 0);

    let session = password_challenge(harness.pool.initiate_custom_auth_with_srp("alice").await);
    let (parameters, session) = challenge(
        harness
            .pool
            .respond_to_password_verifier(session, "alice-local-password")
            .await,
    );
    assert_eq!(parameters["challenge"], "SMS_OTP");
    let code = harness.latest_code().await;
    assert!(matches!(
        harness.answer(session, &code).await,
        Ok(AuthStep::Authenticated { .. })
    ));
    assert_eq!(harness.sms_count(), 1);

    // An unknown user goes through the same steps and fails at the password.
    let session = password_challenge(harness.pool.initiate_custom_auth_with_srp("mallory").await);
    assert!(matches!(
        harness
            .pool
            .respond_to_password_verifier(session, "anything")
            .await,
        Err(CognitoError::NotAuthorized(_))
    ));

    // No trigger's log holds a password, a user name, the code or the phone number.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs: Vec<String> = harness
        .output
        .lines()
        .into_iter()
        .filter(|line| line.stream == "stderr")
        .map(|line| line.text)
        .collect();
    assert!(logs.len() >= 6, "expected the triggers' logs, got {logs:?}");
    for line in &logs {
        for (what, secret) in [
            ("password", "alice-local-password"),
            ("wrong password", "guess"),
            ("unknown user's password", "anything"),
            ("user name", "alice"),
            ("unknown user name", "mallory"),
            ("code", code.as_str()),
            ("phone number", "2065550100"),
        ] {
            assert!(!line.contains(secret), "{what} in log: {line}");
        }
    }
}

#[tokio::test]
async fn password_then_captcha_is_the_seeds_flow() {
    let provider = turnstile().await;
    let url = format!("{}/turnstile/v0/siteverify", provider.url);
    let harness = harness(&turnstile_env("password,captcha", &url));
    let session = password_challenge(harness.pool.initiate_custom_auth_with_srp("alice").await);
    let (parameters, session) = challenge(
        harness
            .pool
            .respond_to_password_verifier(session, "alice-local-password")
            .await,
    );
    assert_eq!(parameters["challenge"], "CAPTCHA");
    assert_eq!(parameters["provider"], "turnstile");
    assert_eq!(parameters["siteKey"], "1x00000000000000000000AA");
    assert_eq!(parameters["USERNAME"], "alice");
    let (parameters, session) = harness.answer_again(session, "bot").await;
    assert_eq!(parameters["attemptsLeft"], "2");
    assert!(matches!(
        harness.answer(session, "human").await,
        Ok(AuthStep::Authenticated { .. })
    ));
    assert_eq!(harness.sms_count(), 0);
    assert_eq!(provider.requests().len(), 2);
}

#[tokio::test]
async fn captcha_then_sms_sends_the_code_only_after_the_captcha_passed() {
    let provider = turnstile().await;
    let url = format!("{}/siteverify", provider.url);
    let mut env = turnstile_env("captcha,sms_otp", &url);
    env.push(("CAPTCHA_MAX_ATTEMPTS", "2"));
    let harness = harness(&env);
    // Two wrong tokens end the sign-in, and no SMS went out.
    let (parameters, session) = harness.start("alice").await;
    assert_eq!(parameters["challenge"], "CAPTCHA");
    assert_eq!(parameters["attemptsLeft"], "2");
    let (_, session) = harness.answer_again(session, "bot").await;
    assert!(matches!(
        harness.answer(session, "bot").await,
        Err(CognitoError::NotAuthorized(_))
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(harness.sms_count(), 0);

    let (_, session) = harness.start("alice").await;
    let (parameters, session) = harness.answer_again(session, "human").await;
    assert_eq!(parameters["challenge"], "SMS_OTP");
    assert_eq!(parameters["attemptsLeft"], "3");
    let code = harness.latest_code().await;
    assert!(matches!(
        harness.answer(session, &code).await,
        Ok(AuthStep::Authenticated { .. })
    ));
    assert_eq!(harness.sms_count(), 1);
}

#[test]
fn the_cli_runs_all_three_steps() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let provider = runtime.block_on(turnstile());
    let url = format!("{}/siteverify", provider.url);
    let env = turnstile_env("password,captcha,sms_otp", &url);
    let (status, text) = run_cli(
        &[
            "--username",
            "alice",
            "--password",
            "alice-local-password",
            "--answers",
            "bot,human,@wrong,@sms",
        ],
        &env,
    );
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("CHALLENGE_NAME=SRP_A"), "{text}");
    assert!(text.contains("PASSWORD_VERIFIER"), "{text}");
    assert!(text.contains("site key 1x00000000000000000000AA"), "{text}");
    assert!(text.contains("✔ Signed in as alice"), "{text}");
    assert!(text.contains("SMS messages sent: 1"), "{text}");
    assert!(!text.contains("alice-local-password"), "{text}");

    let (status, text) = run_cli(
        &[
            "--username",
            "alice",
            "--password",
            "wrong",
            "--answers",
            "human,@sms",
        ],
        &env,
    );
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("NotAuthorizedException"), "{text}");
    assert!(text.contains("SMS messages sent: 0"), "{text}");
}

#[test]
fn the_cli_saves_each_image_captcha_and_a_new_one_comes_after_a_wrong_answer() {
    let (status, text) = run_cli(
        &[
            "--username",
            "alice",
            "--flow",
            "captcha,sms_otp",
            "--answers",
            "WRONG1,WRONG2,WRONG3",
        ],
        &[],
    );
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("NotAuthorizedException"), "{text}");
    assert!(text.contains("SMS messages sent: 0"), "{text}");
    let paths: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split("CAPTCHA image saved to ").nth(1))
        .filter_map(|rest| rest.split(" (removed when the tool exits)").next())
        .collect();
    assert_eq!(paths.len(), 3, "{text}");
    // One file per challenge, each gone once the tool has exited.
    assert!(paths[0] != paths[1] && paths[1] != paths[2], "{text}");
    for path in &paths {
        assert!(
            !std::path::Path::new(path).exists(),
            "{path} was left behind"
        );
    }
    // So is the run's own directory.
    let dir = std::path::Path::new(paths[0]).parent().unwrap();
    assert!(!dir.exists(), "{} was left behind", dir.display());
    // The data URL itself is not printed, only its size.
    assert!(!text.contains("base64,"), "{text}");
}

#[test]
fn the_cli_refuses_an_invalid_flow_before_starting() {
    let (status, text) = run_cli(&["--username", "alice", "--flow", "sms_otp,captcha"], &[]);
    assert_eq!(status, 2, "{text}");
    assert!(text.contains("before `sms_otp`"), "{text}");
}

#[test]
fn captcha_samples_writes_images_and_their_answers() {
    let dir = std::env::temp_dir().join(format!("captcha-samples-{}", std::process::id()));
    let output = std::process::Command::new(integration_tests::binary("local-cognito"))
        .args(["captcha-samples", "--count", "12", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        integration_tests::printed(&output)
    );
    let answers: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(dir.join("answers.json")).unwrap()).unwrap();
    assert_eq!(answers.len(), 12);
    for (name, answer) in &answers {
        let png = std::fs::read(dir.join(name)).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
        assert_eq!(answer.len(), 6, "{name}");
        assert!(
            answer
                .bytes()
                .all(|c| cognito_passwordless::captcha::image::ALPHABET.contains(&c)),
            "{name}: {answer}"
        );
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 13);
    std::fs::remove_dir_all(&dir).unwrap();
    // A count of none is refused.
    let refused = std::process::Command::new(integration_tests::binary("local-cognito"))
        .args(["captcha-samples", "--count", "0", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}
