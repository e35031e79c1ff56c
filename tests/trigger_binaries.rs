//! The three trigger binaries driven as processes over the Lambda Runtime API: every sample event
//! in `events/`, malformed input (a clear error, the process alive for the next event), the SDK
//! path configured from `AWS_ENDPOINT_URL`, a hanging provider, and a bad configuration.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::{FakeEndpoint, Reply, fixture, function_error, host, response};
use local_cognito::lambda_host::{Invocation, LambdaHost, OutputLog};
use serde_json::{Value, json};

#[tokio::test]
async fn define_answers_every_sample_event() {
    let define = host("define-auth-challenge", &[], Arc::default());
    for (file, challenge, issue, fail) in [
        ("first-call", Some("CUSTOM_CHALLENGE"), false, false),
        ("after-right-code", None, true, false),
        ("after-wrong-code", Some("CUSTOM_CHALLENGE"), false, false),
        ("after-two-wrong-then-right", None, true, false),
        ("after-three-wrong-codes", None, false, true),
        ("resend-requested", Some("CUSTOM_CHALLENGE"), false, false),
        ("after-resent-code", None, true, false),
        // Wrong, a request, wrong: two wrong answers, so a third try (read without the `;resent`
        // flag it would be three wrong answers, and a failure).
        ("wrong-resend-wrong", Some("CUSTOM_CHALLENGE"), false, false),
        ("user-not-found", Some("CUSTOM_CHALLENGE"), false, false),
        ("password-first", None, false, true),
        ("unknown-challenge-in-session", None, false, true),
    ] {
        let event = fixture(&format!("define-auth-challenge/{file}.json"));
        let answer = response(define.invoke(event.clone()).await.unwrap());
        assert_eq!(
            answer["response"],
            json!({"challengeName": challenge, "issueTokens": issue, "failAuthentication": fail}),
            "{file}"
        );
        // The whole event comes back, request untouched.
        assert_eq!(answer["request"], event["request"], "{file}");
        assert_eq!(answer["userName"], event["userName"], "{file}");
        assert_eq!(answer["callerContext"], event["callerContext"], "{file}");
    }
}

#[tokio::test]
async fn create_answers_every_sample_event_and_sends_one_sms_only_for_a_verified_first_round() {
    let output = Arc::new(OutputLog::default());
    let create = host(
        "create-auth-challenge",
        &[("SMS_PROVIDER", "console")],
        output.clone(),
    );

    let first = response(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    let created = &first["response"];
    assert_eq!(
        created["publicChallengeParameters"],
        json!({"challenge": "SMS_OTP", "codeLength": "6", "attemptsLeft": "3", "channel": "sms", "channels": "", "destination": "+*******", "resendsLeft": "2"})
    );
    assert_eq!(
        created["privateChallengeParameters"]["challenge"],
        "SMS_OTP"
    );
    let metadata = created["challengeMetadata"].as_str().unwrap();
    assert!(metadata.starts_with("SMS_OTP:v2."), "{metadata}");
    let sms = output.wait_for_sms(1, Duration::from_secs(2)).await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0, "+*******0100");
    // The plain code is in the SMS and nowhere in the response.
    let code: String = sms[0].1.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6);
    assert!(!first.to_string().contains(&code));

    let retry = response(
        create
            .invoke(fixture("create-auth-challenge/retry-after-wrong-code.json"))
            .await
            .unwrap(),
    );
    let previous = fixture("create-auth-challenge/retry-after-wrong-code.json")["request"]["session"][0]["challengeMetadata"].clone();
    assert_eq!(
        retry["response"]["challengeMetadata"], previous,
        "a retry re-uses the first round"
    );
    assert_eq!(
        retry["response"]["publicChallengeParameters"]["attemptsLeft"],
        "2"
    );

    // A resend: a new code, sent, and the round marked.
    let resent = response(
        create
            .invoke(fixture("create-auth-challenge/resend.json"))
            .await
            .unwrap(),
    );
    let metadata = resent["response"]["challengeMetadata"].as_str().unwrap();
    assert!(
        metadata.starts_with("SMS_OTP:v2.") && metadata.ends_with(";resent"),
        "{metadata}"
    );
    assert_ne!(resent["response"]["challengeMetadata"], previous);
    assert_eq!(
        resent["response"]["publicChallengeParameters"]["resendsLeft"],
        "1"
    );
    assert_eq!(
        output.wait_for_sms(2, Duration::from_secs(2)).await.len(),
        2
    );

    for decoy in ["user-not-found", "unverified-phone"] {
        let answer = response(
            create
                .invoke(fixture(&format!("create-auth-challenge/{decoy}.json")))
                .await
                .unwrap(),
        );
        let created = &answer["response"];
        // Looks the same from the client's side.
        assert_eq!(
            created["publicChallengeParameters"],
            json!({"challenge": "SMS_OTP", "codeLength": "6", "attemptsLeft": "3", "channel": "sms", "channels": "", "destination": "+*******", "resendsLeft": "2"}),
            "{decoy}"
        );
        assert_eq!(created["challengeMetadata"], "SMS_OTP:decoy", "{decoy}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        output.sms_messages().len(),
        2,
        "only the verified first round and the resend send an SMS"
    );
}

/// Create seals a code through its binary (with `env`), the console SMS shows it; returns the
/// seal and the code.
async fn sealed_through_create(env: &[(&str, &str)]) -> (String, String) {
    let output = Arc::new(OutputLog::default());
    let mut all = vec![("SMS_PROVIDER", "console")];
    all.extend_from_slice(env);
    let create = host("create-auth-challenge", &all, output.clone());
    let first = response(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    let seal = first["response"]["privateChallengeParameters"]["seal"]
        .as_str()
        .unwrap()
        .to_owned();
    let sms = output.wait_for_sms(1, Duration::from_secs(2)).await;
    let code: String = sms[0].1.chars().take_while(char::is_ascii_digit).collect();
    (seal, code)
}

/// Verify's answer (through its binary, with `env`) to `answer` for the code sealed in `seal`,
/// from the user of the samples or, with `sub`, another one.
async fn verified(env: &[(&str, &str)], seal: &str, answer: &str, sub: Option<&str>) -> Value {
    let verify = host("verify-auth-challenge", env, Arc::default());
    let mut event = fixture("verify-auth-challenge/right-code.json");
    event["request"]["privateChallengeParameters"]["seal"] = json!(seal);
    event["request"]["challengeAnswer"] = json!(answer);
    if let Some(sub) = sub {
        event["request"]["userAttributes"]["sub"] = json!(sub);
    }
    response(verify.invoke(event).await.unwrap())["response"]["answerCorrect"].clone()
}

#[tokio::test]
async fn a_code_sealed_by_the_create_binary_passes_the_verify_binary_for_its_user_only() {
    let (seal, code) = sealed_through_create(&[]).await;
    assert_eq!(verified(&[], &seal, &code, None).await, json!(true));
    let wrong = cognito_passwordless::otp::wrong_answer_for(&code);
    assert_eq!(verified(&[], &seal, &wrong, None).await, json!(false));
    assert_eq!(
        verified(&[], &seal, &code, Some("another-users-sub")).await,
        json!(false)
    );
    // With SEAL_KEY on both functions the seal is keyed (`v2k.`) and still passes; a verify
    // function without the key, or with another, never accepts it.
    let key = [("SEAL_KEY", "k3y-0f-at-least-thirty-two-characters!!")];
    let (keyed, code) = sealed_through_create(&key).await;
    assert!(keyed.starts_with("v2k."), "{keyed}");
    assert_eq!(verified(&key, &keyed, &code, None).await, json!(true));
    assert_eq!(verified(&[], &keyed, &code, None).await, json!(false));
    let other = [("SEAL_KEY", "another-key-of-at-least-thirty-two-chars")];
    assert_eq!(verified(&other, &keyed, &code, None).await, json!(false));
}

#[tokio::test]
async fn the_right_code_sent_with_a_resend_request_is_not_an_answer() {
    let (seal, code) = sealed_through_create(&[]).await;
    let verify = host("verify-auth-challenge", &[], Arc::default());
    let mut event = fixture("verify-auth-challenge/resend-action.json");
    event["request"]["privateChallengeParameters"]["seal"] = json!(seal);
    event["request"]["challengeAnswer"] = json!(code);
    let answer = response(verify.invoke(event.clone()).await.unwrap());
    assert_eq!(answer["response"], json!({"answerCorrect": false}));
    // The same answer without the action passes: it was the action that made it wrong.
    event["request"]
        .as_object_mut()
        .unwrap()
        .remove("clientMetadata");
    let answer = response(verify.invoke(event).await.unwrap());
    assert_eq!(answer["response"], json!({"answerCorrect": true}));
}

#[tokio::test]
async fn verify_answers_every_sample_event() {
    let verify = host("verify-auth-challenge", &[], Arc::default());
    // The right-code sample was sealed in 2025: at today's time it has expired.
    for (file, correct) in [
        ("right-code", false),
        ("wrong-code", false),
        ("malformed-answer", false),
        ("user-not-found", false),
        ("resend-action", false),
    ] {
        let answer = response(
            verify
                .invoke(fixture(&format!("verify-auth-challenge/{file}.json")))
                .await
                .unwrap(),
        );
        assert_eq!(
            answer["response"],
            json!({"answerCorrect": correct}),
            "{file}"
        );
    }
}

async fn assert_survives_malformed_input(function: &LambdaHost, valid: Value) {
    let pid = {
        function.start().await.unwrap();
        function.pid().await
    };
    let mut huge_answer = valid.clone();
    huge_answer["request"]["challengeAnswer"] = Value::String("7".repeat(1 << 20));
    let mut no_request = valid.clone();
    no_request.as_object_mut().unwrap().remove("request");
    let mut wrong_types = valid.clone();
    wrong_types["request"]["userAttributes"] = json!(["not", "a", "map"]);
    wrong_types["request"]["session"] = json!("nope");
    let mut wrong_trigger = valid.clone();
    wrong_trigger["triggerSource"] = json!("PreSignUp_SignUp");
    let mut odd_values = valid.clone();
    odd_values["request"]["userAttributes"]["phone_number"] = json!("+1 (206) 555-0100 ext. 7");
    odd_values["request"]["userAttributes"]["phone_number_verified"] = json!("yes");
    odd_values["userName"] = json!("\u{0}\u{202e}💥");

    let raw_inputs = [
        "not json at all",
        "",
        "[]",
        "null",
        "{\"triggerSource\": 42}",
        "{\"request\": {}}",
    ];
    for raw in raw_inputs {
        let outcome = function.invoke_raw(raw.to_owned()).await.unwrap();
        let (error_type, message) = function_error(outcome);
        assert!(!error_type.is_empty() && !message.is_empty(), "{raw:?}");
    }
    for event in [no_request, wrong_types, wrong_trigger] {
        let (error_type, message) = function_error(function.invoke(event).await.unwrap());
        let expected = match error_type.as_str() {
            "MalformedEvent" => "The sign-in request was not valid",
            "WrongTrigger" => "Sign-in is temporarily unavailable",
            other => panic!("unexpected error type {other}"),
        };
        assert_eq!(message, expected);
    }
    for event in [huge_answer, odd_values] {
        match function.invoke(event).await.unwrap() {
            Invocation::Response(_) | Invocation::FunctionError { .. } => {}
            other => panic!("{} did not answer: {other:?}", function.name()),
        }
    }
    // Still the same process, still answering.
    assert!(matches!(
        function.invoke(valid).await.unwrap(),
        Invocation::Response(_)
    ));
    assert_eq!(
        function.pid().await,
        pid,
        "{} was restarted",
        function.name()
    );
}

#[tokio::test]
async fn malformed_input_gets_a_clear_error_and_the_process_lives_on() {
    let output = Arc::new(OutputLog::default());
    let define = host("define-auth-challenge", &[], output.clone());
    assert_survives_malformed_input(&define, fixture("define-auth-challenge/first-call.json"))
        .await;
    let create = host(
        "create-auth-challenge",
        &[("SMS_PROVIDER", "console")],
        output.clone(),
    );
    assert_survives_malformed_input(&create, fixture("create-auth-challenge/first-round.json"))
        .await;
    let verify = host("verify-auth-challenge", &[], output.clone());
    assert_survives_malformed_input(&verify, fixture("verify-auth-challenge/wrong-code.json"))
        .await;
    let panics: Vec<_> = output
        .lines()
        .into_iter()
        .filter(|line| line.text.contains("panicked"))
        .collect();
    assert!(panics.is_empty(), "{panics:?}");
}

#[tokio::test]
async fn error_messages_are_safe_to_show_users() {
    let define = host("define-auth-challenge", &[], Arc::default());
    let mut event = fixture("define-auth-challenge/first-call.json");
    event["request"]["session"] =
        json!([{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": "secret-answer-text"}]);
    let (error_type, message) = function_error(define.invoke(event).await.unwrap());
    assert_eq!(error_type, "MalformedEvent");
    assert_eq!(message, "The sign-in request was not valid");
}

#[tokio::test]
async fn create_sends_through_end_user_messaging_configured_by_aws_endpoint_url() {
    let endpoint = FakeEndpoint::start(|_| Reply::ok(json!({"MessageId": "msg-1"}))).await;
    let output = Arc::new(OutputLog::default());
    let create = host(
        "create-auth-challenge",
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("SMS_ORIGINATION_IDENTITY", "+12065550199"),
            ("APP_NAME", "Example"),
        ],
        output.clone(),
    );
    let answer = response(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    assert!(
        answer["response"]["challengeMetadata"]
            .as_str()
            .unwrap()
            .starts_with("SMS_OTP:v2.")
    );
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("x-amz-target"),
        "PinpointSMSVoiceV2.SendTextMessage"
    );
    assert_eq!(requests[0].json["DestinationPhoneNumber"], "+12065550100");
    assert_eq!(requests[0].json["TimeToLive"], 300);
    let body = requests[0].json["MessageBody"].as_str().unwrap();
    assert!(
        body.contains("is your Example sign-in code. It expires in 5 minutes."),
        "{body}"
    );

    // A retry round sends nothing.
    response(
        create
            .invoke(fixture("create-auth-challenge/retry-after-wrong-code.json"))
            .await
            .unwrap(),
    );
    assert_eq!(endpoint.requests().len(), 1);

    // The descriptors' send alarm counts the log lines its metric filter matches: exactly one
    // for the one send, none for the retry round.
    let matching = output
        .lines()
        .into_iter()
        .filter(|line| sms_sent_filter_matches(&line.text))
        .count();
    assert_eq!(matching, 1, "{}", integration_tests::log_text(&output));
}

#[tokio::test]
async fn create_sends_the_code_by_email_through_ses_configured_by_aws_endpoint_url() {
    let endpoint = FakeEndpoint::start(|_| Reply::ok(json!({"MessageId": "ses-1"}))).await;
    let output = Arc::new(OutputLog::default());
    let create = host(
        "create-auth-challenge",
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("AUTH_FLOW", "email_otp"),
            ("EMAIL_FROM", "Example <no-reply@example.com>"),
            ("EMAIL_CONFIGURATION_SET", "sign-in-codes"),
            ("APP_NAME", "Example"),
        ],
        output.clone(),
    );
    let answer = response(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    let created = &answer["response"];
    assert!(
        created["challengeMetadata"]
            .as_str()
            .unwrap()
            .starts_with("EMAIL_OTP:v2.")
    );
    assert_eq!(
        created["publicChallengeParameters"],
        json!({"challenge": "EMAIL_OTP", "codeLength": "6", "attemptsLeft": "3", "channel": "email", "channels": "", "destination": "***@***", "resendsLeft": "2"})
    );
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1, "one e-mail, no SMS");
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.uri.path(), "/v2/email/outbound-emails");
    assert_eq!(
        sent.json["FromEmailAddress"],
        "Example <no-reply@example.com>"
    );
    assert_eq!(
        sent.json["Destination"]["ToAddresses"],
        json!(["alice@example.com"])
    );
    assert_eq!(sent.json["ConfigurationSetName"], "sign-in-codes");
    let simple = &sent.json["Content"]["Simple"];
    let subject = simple["Subject"]["Data"].as_str().unwrap();
    let code: String = subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{subject}");
    assert_eq!(subject, format!("{code} is your Example sign-in code"));
    let text = simple["Body"]["Text"]["Data"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("{code} is your Example sign-in code.")),
        "{text}"
    );
    assert!(
        simple["Body"]["Html"]["Data"]
            .as_str()
            .unwrap()
            .contains(&code)
    );
    // The code sealed in the challenge is the one in the e-mail, and nowhere in the logs; nor
    // is the address.
    let mut verify_event = fixture("verify-auth-challenge/right-code.json");
    verify_event["request"]["privateChallengeParameters"] =
        created["privateChallengeParameters"].clone();
    verify_event["request"]["challengeAnswer"] = json!(code);
    let verify = host(
        "verify-auth-challenge",
        &[("AUTH_FLOW", "email_otp")],
        Arc::default(),
    );
    let verdict = response(verify.invoke(verify_event).await.unwrap());
    assert_eq!(verdict["response"], json!({"answerCorrect": true}));
    let logs = integration_tests::log_text(&output);
    assert!(
        !logs.contains(&code) && !logs.contains("alice@example.com"),
        "{logs}"
    );
    assert!(logs.contains("\"email\":\"sent\""), "{logs}");

    // SES refusing the sender: an error users may see, the address masked in the logs.
    let refusing = FakeEndpoint::start(|_| {
        Reply::aws_error(
            400,
            "MessageRejected",
            "Email address is not verified: alice@example.com",
        )
    })
    .await;
    let output = Arc::new(OutputLog::default());
    let create = host(
        "create-auth-challenge",
        &[
            ("AWS_ENDPOINT_URL", &refusing.url),
            ("AUTH_FLOW", "email_otp"),
            ("EMAIL_FROM", "no-reply@example.com"),
        ],
        output.clone(),
    );
    let (error_type, error_message) = function_error(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    assert_eq!(error_type, "EmailDeliveryError");
    assert_eq!(
        error_message,
        "We could not send a sign-in code. Try again later"
    );
    let logs = integration_tests::log_text(&output);
    assert!(
        logs.contains("a***@example.com") && !logs.contains("alice@example.com"),
        "{logs}"
    );
}

/// CloudWatch's JSON filter `{ ($.a = "x") || ($.b = "y") }` as both descriptors write it for
/// the send alarm (SmsSentMetricFilter), applied to one log line.
fn sms_sent_filter_matches(line: &str) -> bool {
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
    )
    .unwrap();
    let pattern = template
        .lines()
        .find_map(|line| line.trim().strip_prefix("FilterPattern: "))
        .unwrap()
        .trim_matches('\'');
    let selector = pattern.trim_start_matches('{').trim_end_matches('}').trim();
    let Ok(json) = serde_json::from_str::<Value>(line) else {
        return false;
    };
    selector.split(" || ").any(|term| {
        let term = term.trim().trim_start_matches('(').trim_end_matches(')');
        let (path, value) = term.split_once(" = ").unwrap();
        let key = path.strip_prefix("$.").unwrap();
        json[key] == value.trim_matches('"')
    })
}

#[test]
fn the_send_alarm_counts_sms_and_calls_and_nothing_else() {
    assert!(sms_sent_filter_matches(
        r#"{"sms":"sent","step":"SMS_OTP"}"#
    ));
    assert!(sms_sent_filter_matches(r#"{"voice":"sent","step":"OTP"}"#));
    assert!(!sms_sent_filter_matches(r#"{"email":"sent"}"#));
    assert!(!sms_sent_filter_matches(r#"{"sms":"failed"}"#));
    assert!(!sms_sent_filter_matches(r#"{"sms":"reused"}"#));
    assert!(!sms_sent_filter_matches("not json"));
    // The Serverless descriptor's filter is the same.
    let resources = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/serverless-resources.js"),
    )
    .unwrap();
    assert!(resources.contains(r#"FilterPattern: '{ ($.sms = "sent") || ($.voice = "sent") }'"#));
}

#[tokio::test]
async fn create_reports_provider_failures_in_words_users_may_see() {
    let endpoint = FakeEndpoint::start(|_| {
        Reply::aws_error(400, "ThrottlingException", "Rate exceeded for +12065550100")
    })
    .await;
    let create = host(
        "create-auth-challenge",
        &[("AWS_ENDPOINT_URL", &endpoint.url)],
        Arc::default(),
    );
    let (error_type, message) = function_error(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    assert_eq!(error_type, "SmsDeliveryError");
    assert_eq!(message, "Too many codes requested. Try again later");

    let endpoint =
        FakeEndpoint::start(|_| Reply::aws_error(400, "ValidationException", "bad number")).await;
    let create = host(
        "create-auth-challenge",
        &[("AWS_ENDPOINT_URL", &endpoint.url)],
        Arc::default(),
    );
    let (_, message) = function_error(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap(),
    );
    assert_eq!(message, "We could not send a sign-in code. Try again later");
}

#[tokio::test]
async fn create_answers_within_cognitos_budget_when_the_provider_hangs() {
    let endpoint = FakeEndpoint::start(|_| {
        Reply::ok(json!({"MessageId": "late"})).after(Duration::from_secs(30))
    })
    .await;
    let create = host(
        "create-auth-challenge",
        &[("AWS_ENDPOINT_URL", &endpoint.url)],
        Arc::default(),
    );
    create.start().await.unwrap();
    let started = Instant::now();
    let outcome = create
        .invoke(fixture("create-auth-challenge/first-round.json"))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let (error_type, message) = function_error(outcome);
    assert_eq!(error_type, "SmsDeliveryError");
    assert_eq!(message, "We could not send a sign-in code. Try again later");
    // An error, not a Cognito timeout: well inside the 5-second limit.
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[tokio::test]
async fn a_bad_configuration_stops_the_cold_start_naming_the_variable() {
    for (name, value) in [
        ("OTP_LENGTH", "99"),
        ("SMS_PROVIDER", "carrier-pigeon"),
        ("AUTH_FLOW", "captcha"),
    ] {
        let output = Arc::new(OutputLog::default());
        let define = host("define-auth-challenge", &[(name, value)], output.clone());
        match define
            .invoke(fixture("define-auth-challenge/first-call.json"))
            .await
            .unwrap()
        {
            Invocation::ProcessExited { detail } => assert!(detail.contains(name), "{detail}"),
            other => panic!("expected a failed cold start, got {other:?}"),
        }
    }
    // The console sender is refused on AWS Lambda: the host sets the variables Lambda sets for
    // a provided.al2023 function (AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, … and no
    // AWS_EXECUTION_ENV); without the local tool's marker, that is Lambda.
    for extra in [
        vec![],
        vec![
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
            ("_HANDLER", "bootstrap"),
        ],
    ] {
        let output = Arc::new(OutputLog::default());
        let mut env = vec![
            ("SMS_PROVIDER", "console"),
            (cognito_passwordless::config::LOCAL_TOOL_MARKER, ""),
        ];
        env.extend(extra);
        let create = host("create-auth-challenge", &env, output);
        match create
            .invoke(fixture("create-auth-challenge/first-round.json"))
            .await
            .unwrap()
        {
            Invocation::ProcessExited { detail } => {
                assert!(detail.contains("SMS_PROVIDER"), "{detail}")
            }
            other => panic!("expected a failed cold start, got {other:?}"),
        }
    }
}

/// The target of a recorded AWS request: the JSON 1.0 operation, or SES v2's path.
fn operation(request: &integration_tests::Recorded) -> String {
    match request.headers.get("x-amz-target") {
        Some(target) => target.to_str().unwrap().to_owned(),
        None => request.uri.path().to_owned(),
    }
}

#[tokio::test]
async fn the_otp_step_switches_channels_on_request_each_code_sent_once_and_only_the_latest_valid() {
    // SMS, voice and e-mail through one local endpoint: End User Messaging answers at `/`
    // (JSON 1.0), SES at its REST path.
    let endpoint = FakeEndpoint::start(|_| Reply::ok(json!({"MessageId": "m-1"}))).await;
    let vars = [
        ("AWS_ENDPOINT_URL", endpoint.url.as_str()),
        ("AUTH_FLOW", "otp"),
        ("OTP_CHANNELS", "sms,voice,email"),
        ("SEAL_KEY", "a-seal-key-of-at-least-32-characters"),
        ("VOICE_ORIGINATION_IDENTITY", "+12065550198"),
        ("EMAIL_FROM", "no-reply@example.com"),
    ];
    let output = Arc::new(OutputLog::default());
    let create = host("create-auth-challenge", &vars, output.clone());
    let verify = host("verify-auth-challenge", &vars, Arc::default());
    let define = host("define-auth-challenge", &vars, Arc::default());

    // The first round goes by the first channel the user can receive: SMS.
    let mut event = fixture("create-auth-challenge/first-round.json");
    let first = response(create.invoke(event.clone()).await.unwrap());
    let public = &first["response"]["publicChallengeParameters"];
    assert_eq!(
        public,
        &json!({"challenge": "OTP", "codeLength": "6", "attemptsLeft": "3", "channel": "sms",
                "channels": "voice,email", "destination": "+*******", "resendsLeft": "2"})
    );
    let metadata = first["response"]["challengeMetadata"].as_str().unwrap();
    assert!(
        metadata.starts_with("OTP:v2") && metadata.ends_with(";via=sms"),
        "{metadata}"
    );
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        operation(&requests[0]),
        "PinpointSMSVoiceV2.SendTextMessage"
    );
    let sms_code: String = requests[0].json["MessageBody"]
        .as_str()
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    // The client asks for a call instead: Verify compares nothing, Define goes on without
    // counting it, Create calls.
    let switch = |channel: &str| json!({"otpAction": "switch", "otpChannel": channel});
    let mut answer = fixture("verify-auth-challenge/right-code.json");
    answer["request"]["privateChallengeParameters"] =
        first["response"]["privateChallengeParameters"].clone();
    answer["request"]["challengeAnswer"] = json!(sms_code);
    answer["request"]["clientMetadata"] = switch("voice");
    let verdict = response(verify.invoke(answer.clone()).await.unwrap());
    assert_eq!(verdict["response"]["answerCorrect"], false, "never a guess");
    let mut session = vec![
        json!({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false,
                                  "challengeMetadata": metadata}),
    ];
    let mut defined = fixture("define-auth-challenge/first-call.json");
    defined["request"]["session"] = json!(session);
    defined["request"]["clientMetadata"] = switch("voice");
    let decision = response(define.invoke(defined.clone()).await.unwrap());
    assert_eq!(
        decision["response"]["challengeName"], "CUSTOM_CHALLENGE",
        "{decision}"
    );
    event["request"]["session"] = json!(session);
    event["request"]["clientMetadata"] = switch("voice");
    let called = response(create.invoke(event.clone()).await.unwrap());
    let public = &called["response"]["publicChallengeParameters"];
    assert_eq!(public["channel"], "voice");
    assert_eq!(public["channels"], "sms,email");
    assert_eq!(public["attemptsLeft"], "3");
    assert_eq!(public["resendsLeft"], "1");
    let called_metadata = called["response"]["challengeMetadata"].as_str().unwrap();
    assert!(
        called_metadata.ends_with(";via=voice;resent"),
        "{called_metadata}"
    );
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 2, "one call, nothing else");
    assert_eq!(
        operation(&requests[1]),
        "PinpointSMSVoiceV2.SendVoiceMessage"
    );
    assert_eq!(requests[1].json["VoiceId"], "JOANNA");
    assert_eq!(requests[1].json["OriginationIdentity"], "+12065550198");

    // Then by e-mail: the last switch the default OTP_MAX_RESENDS allows.
    session.push(
        json!({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false,
                        "challengeMetadata": called_metadata}),
    );
    event["request"]["session"] = json!(session);
    event["request"]["clientMetadata"] = switch("email");
    let mailed = response(create.invoke(event.clone()).await.unwrap());
    assert_eq!(
        mailed["response"]["publicChallengeParameters"]["channel"],
        "email"
    );
    assert_eq!(
        mailed["response"]["publicChallengeParameters"]["resendsLeft"],
        "0"
    );
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(operation(&requests[2]), "/v2/email/outbound-emails");
    let subject = requests[2].json["Content"]["Simple"]["Subject"]["Data"]
        .as_str()
        .unwrap();
    let email_code: String = subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(email_code.len(), 6);

    // Only the latest code passes: the SMS code is wrong now, the e-mailed one right.
    answer["request"]["privateChallengeParameters"] =
        mailed["response"]["privateChallengeParameters"].clone();
    answer["request"]["clientMetadata"] = json!({});
    if sms_code != email_code {
        answer["request"]["challengeAnswer"] = json!(sms_code);
        let verdict = response(verify.invoke(answer.clone()).await.unwrap());
        assert_eq!(verdict["response"]["answerCorrect"], false);
    }
    answer["request"]["challengeAnswer"] = json!(email_code);
    let verdict = response(verify.invoke(answer).await.unwrap());
    assert_eq!(verdict["response"]["answerCorrect"], true);
    let mailed_metadata = mailed["response"]["challengeMetadata"].as_str().unwrap();
    session.push(
        json!({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true,
                        "challengeMetadata": mailed_metadata}),
    );
    defined["request"]["session"] = json!(session);
    defined["request"]["clientMetadata"] = json!({});
    let decision = response(define.invoke(defined.clone()).await.unwrap());
    assert_eq!(decision["response"]["issueTokens"], true, "{decision}");

    // A fourth request is past OTP_MAX_RESENDS: the sign-in ends with a clear message.
    if let Some(last) = session.last_mut() {
        last["challengeResult"] = json!(false);
    }
    defined["request"]["session"] = json!(session);
    defined["request"]["clientMetadata"] = switch("sms");
    let refused = define.invoke(defined).await.unwrap();
    assert!(
        function_error(refused)
            .1
            .contains("No more codes can be sent for this sign-in"),
        "past the limit"
    );
    let logs = integration_tests::log_text(&output);
    for secret in [&sms_code, &email_code] {
        assert!(!logs.contains(secret.as_str()), "{logs}");
    }
    assert!(logs.contains("\"voice\":\"sent\""), "{logs}");
}
