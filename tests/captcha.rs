//! The CAPTCHA step through the real Create and Verify binaries: image CAPTCHAs (a small PNG, a new
//! one each round), and widget tokens checked against a local `siteverify` endpoint speaking the
//! providers' protocol (form post, JSON answer): success, refusal, wrong host name, wrong action,
//! low score, malformed JSON, HTTP 500 and a provider slower than the timeout. The secret may come
//! from Secrets Manager (`CAPTCHA_SECRET_ARN`), read over the SDK's real wire protocol.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cognito_passwordless::captcha::image::ALPHABET;
use cognito_passwordless::captcha::{ImageChallenge, ImageCheck, check_image_answer};
use cognito_passwordless::seal::{SealBinding, SealKey};
use integration_tests::{FakeEndpoint, Recorded, Reply, fixture, host, log_text, response};
use local_cognito::lambda_host::{Invocation, OutputLog};
use serde_json::{Value, json};

/// What the fake provider answers for each test token.
fn siteverify(request: &Recorded) -> Reply {
    let good = json!({
        "success": true,
        "challenge_ts": "2026-11-22T00:00:00Z",
        "hostname": "login.example.com",
        "action": "login",
        "score": 0.9
    });
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        Reply::ok(body)
    };
    match request.form("response").as_deref() {
        Some("good") => Reply::ok(good),
        Some("refused") => {
            Reply::ok(json!({"success": false, "error-codes": ["invalid-input-response"]}))
        }
        Some("elsewhere") => with("hostname", json!("evil.example.net")),
        Some("signup") => with("action", json!("signup")),
        Some("low-score") => with("score", json!(0.2)),
        Some("garbled") => Reply::text(200, "<html>not json</html>"),
        Some("boom") => Reply::text(500, "internal error"),
        Some("slow") => Reply::ok(good).after(Duration::from_secs(6)),
        _ => Reply::ok(json!({"success": false, "error-codes": ["unknown-token"]})),
    }
}

fn widget_env<'a>(verify_url: &'a str, secret: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AUTH_FLOW", "captcha,sms_otp"),
        ("SMS_PROVIDER", "console"),
        ("CAPTCHA_PROVIDER", "recaptcha"),
        ("CAPTCHA_SITE_KEY", "6Lc-test-site-key"),
        secret,
        ("CAPTCHA_VERIFY_URL", verify_url),
        ("CAPTCHA_EXPECTED_HOSTNAMES", "login.example.com"),
        ("CAPTCHA_EXPECTED_ACTION", "login"),
        ("CAPTCHA_MIN_SCORE", "0.5"),
        ("CAPTCHA_TIMEOUT_MS", "1000"),
    ]
}

#[tokio::test]
async fn hcaptcha_is_asked_for_the_configured_site_only() {
    // hCaptcha's secrets belong to the account: without `sitekey`, a token solved on any other
    // site of the account would pass. Verify sends it; the provider stand-in checks it.
    let provider = FakeEndpoint::start(|request| {
        let for_this_site = request.form("sitekey").as_deref() == Some("10000000-site-key");
        Reply::ok(json!({"success": for_this_site, "hostname": "login.example.com"}))
    })
    .await;
    let url = format!("{}/siteverify", provider.url);
    let verify = host(
        "verify-auth-challenge",
        &[
            ("AUTH_FLOW", "captcha,sms_otp"),
            ("SMS_PROVIDER", "console"),
            ("CAPTCHA_PROVIDER", "hcaptcha"),
            ("CAPTCHA_SITE_KEY", "10000000-site-key"),
            ("CAPTCHA_SECRET", "0x-hcaptcha-secret"),
            ("CAPTCHA_VERIFY_URL", &url),
        ],
        Arc::default(),
    );
    let mut event = token_event("P1_hcaptcha-token");
    event["request"]["privateChallengeParameters"]["provider"] = json!("hcaptcha");
    let answer = response(verify.invoke(event).await.unwrap());
    assert_eq!(answer["response"]["answerCorrect"], true);
    let sent = &provider.requests()[0];
    assert_eq!(sent.form("sitekey").as_deref(), Some("10000000-site-key"));
    assert_eq!(sent.form("secret").as_deref(), Some("0x-hcaptcha-secret"));
    assert_eq!(sent.form("response").as_deref(), Some("P1_hcaptcha-token"));
}

fn token_event(token: &str) -> Value {
    let mut event = fixture("verify-auth-challenge/captcha-widget-token.json");
    event["request"]["privateChallengeParameters"]["provider"] = json!("recaptcha");
    event["request"]["challengeAnswer"] = json!(token);
    event
}

#[tokio::test]
async fn widget_tokens_pass_only_when_the_provider_vouches_for_them() {
    let provider = FakeEndpoint::start(siteverify).await;
    let url = format!("{}/recaptcha/api/siteverify", provider.url);
    let output = Arc::new(OutputLog::default());
    let verify = host(
        "verify-auth-challenge",
        &widget_env(&url, ("CAPTCHA_SECRET", "test-secret-value")),
        output.clone(),
    );
    for (token, expected) in [
        ("good", true),
        ("refused", false),
        ("elsewhere", false),
        ("signup", false),
        ("low-score", false),
        ("garbled", false),
        ("boom", false),
        ("", false),
        ("good", true),
    ] {
        let answer = response(verify.invoke(token_event(token)).await.unwrap());
        assert_eq!(
            answer["response"],
            json!({"answerCorrect": expected}),
            "{token:?}"
        );
    }
    // A token too long to be one is refused without asking the provider.
    let before = provider.requests().len();
    let answer = response(
        verify
            .invoke(token_event(&"x".repeat(20_000)))
            .await
            .unwrap(),
    );
    assert_eq!(answer["response"], json!({"answerCorrect": false}));
    assert_eq!(provider.requests().len(), before);

    // What the provider received: a form post with the secret and the token.
    let first = &provider.requests()[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.uri.path(), "/recaptcha/api/siteverify");
    assert_eq!(
        first.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(first.form("secret").as_deref(), Some("test-secret-value"));
    assert_eq!(first.form("response").as_deref(), Some("good"));

    // Each refusal is logged with its reason; the secret never is.
    let logs = log_text(&output);
    for kind in [
        "refused",
        "wrong_hostname",
        "wrong_action",
        "low_score",
        "provider_failed",
        "malformed_token",
    ] {
        assert!(logs.contains(kind), "no {kind} in the logs");
    }
    assert!(!logs.contains("test-secret-value"));
}

#[tokio::test]
async fn a_slow_provider_is_a_wrong_answer_well_inside_the_budget() {
    let provider = FakeEndpoint::start(siteverify).await;
    let url = format!("{}/siteverify", provider.url);
    let verify = host(
        "verify-auth-challenge",
        &widget_env(&url, ("CAPTCHA_SECRET", "s")),
        Arc::default(),
    );
    // Warm the process up first, so the figure is the call alone.
    response(verify.invoke(token_event("good")).await.unwrap());
    let started = Instant::now();
    let answer = response(verify.invoke(token_event("slow")).await.unwrap());
    let elapsed = started.elapsed();
    assert_eq!(answer["response"], json!({"answerCorrect": false}));
    assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
    // And the function still answers afterwards.
    let answer = response(verify.invoke(token_event("good")).await.unwrap());
    assert_eq!(answer["response"], json!({"answerCorrect": true}));
}

#[tokio::test]
async fn the_secret_can_come_from_secrets_manager() {
    let aws_and_provider = FakeEndpoint::start(|request| {
        if request.header("x-amz-target") == "secretsmanager.GetSecretValue" {
            assert_eq!(request.json["SecretId"], "captcha-secret");
            Reply::ok(json!({
                "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:captcha-secret-AbCdEf",
                "Name": "captcha-secret",
                "SecretString": "{\"CAPTCHA_SECRET\":\"secret-from-secrets-manager\"}",
                "VersionId": "v1"
            }))
        } else {
            siteverify(request)
        }
    })
    .await;
    let url = format!("{}/siteverify", aws_and_provider.url);
    let mut env = widget_env(&url, ("CAPTCHA_SECRET_ARN", "captcha-secret"));
    env.push(("AWS_ENDPOINT_URL", &aws_and_provider.url));
    let verify = host("verify-auth-challenge", &env, Arc::default());
    let answer = response(verify.invoke(token_event("good")).await.unwrap());
    assert_eq!(answer["response"], json!({"answerCorrect": true}));
    let requests = aws_and_provider.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.header("x-amz-target") == "secretsmanager.GetSecretValue")
            .count(),
        1,
        "read once, at cold start"
    );
    let posted = requests
        .iter()
        .find(|r| r.form("secret").is_some())
        .unwrap();
    assert_eq!(
        posted.form("secret").as_deref(),
        Some("secret-from-secrets-manager")
    );
}

#[tokio::test]
async fn an_unreadable_secret_stops_the_cold_start_naming_the_variable() {
    let aws = FakeEndpoint::start(|_| {
        Reply::aws_error(
            400,
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        )
    })
    .await;
    let mut env = widget_env(
        "https://www.google.com/recaptcha/api/siteverify",
        ("CAPTCHA_SECRET_ARN", "missing-secret"),
    );
    env.push(("AWS_ENDPOINT_URL", &aws.url));
    let verify = host("verify-auth-challenge", &env, Arc::default());
    match verify.invoke(token_event("good")).await.unwrap() {
        Invocation::ProcessExited { detail } => {
            assert!(detail.contains("CAPTCHA_SECRET_ARN"), "{detail}");
            assert!(detail.contains("ResourceNotFoundException"), "{detail}");
        }
        other => panic!("expected a failed cold start, got {other:?}"),
    }
}

#[tokio::test]
async fn create_hands_out_the_site_key_for_widget_providers() {
    let create = host(
        "create-auth-challenge",
        &widget_env("https://127.0.0.1:9/unused", ("CAPTCHA_SECRET", "s")),
        Arc::default(),
    );
    let answer = response(
        create
            .invoke(fixture("create-auth-challenge/captcha-first-round.json"))
            .await
            .unwrap(),
    );
    assert_eq!(
        answer["response"],
        json!({
            "publicChallengeParameters": {
                "challenge": "CAPTCHA",
                "provider": "recaptcha",
                "siteKey": "6Lc-test-site-key",
                "attemptsLeft": "3"
            },
            "privateChallengeParameters": {"challenge": "CAPTCHA", "provider": "recaptcha"},
            "challengeMetadata": "CAPTCHA:recaptcha"
        })
    );
}

fn decode_png(data_url: &str) -> (u32, u32, usize) {
    let encoded = data_url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let reader = png::Decoder::new(std::io::Cursor::new(&bytes))
        .read_info()
        .unwrap();
    (reader.info().width, reader.info().height, bytes.len())
}

#[tokio::test]
async fn image_captchas_are_small_pngs_new_each_round_and_no_sms_goes_out_before_them() {
    let output = Arc::new(OutputLog::default());
    let env = [
        ("AUTH_FLOW", "captcha,sms_otp"),
        ("SMS_PROVIDER", "console"),
    ];
    let create = host("create-auth-challenge", &env, output.clone());
    let mut images = Vec::new();
    for (sample, attempts_left) in [
        ("captcha-first-round", "3"),
        ("captcha-after-wrong-captcha", "2"),
    ] {
        let answer = response(
            create
                .invoke(fixture(&format!("create-auth-challenge/{sample}.json")))
                .await
                .unwrap(),
        );
        let public = &answer["response"]["publicChallengeParameters"];
        assert_eq!(public["challenge"], "CAPTCHA", "{sample}");
        assert_eq!(public["provider"], "image");
        assert_eq!(public["answerLength"], "6");
        assert_eq!(public["attemptsLeft"], attempts_left);
        let image = public["captchaImage"].as_str().unwrap().to_owned();
        let (width, height, bytes) = decode_png(&image);
        assert!(width >= 100 && height >= 40, "{width}x{height}");
        assert!(bytes <= 4096, "{bytes} bytes");
        let private = &answer["response"]["privateChallengeParameters"];
        assert_eq!(private["challenge"], "CAPTCHA");
        assert!(private["seal"].as_str().unwrap().starts_with("v2."));
        assert_eq!(answer["response"]["challengeMetadata"], "CAPTCHA:image");
        images.push(image);
    }
    assert_ne!(images[0], images[1], "a wrong answer gets a new image");

    // The SMS goes out only once the CAPTCHA has passed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(output.sms_messages().is_empty());
    let answer = response(
        create
            .invoke(fixture("create-auth-challenge/sms-after-captcha.json"))
            .await
            .unwrap(),
    );
    assert_eq!(
        answer["response"]["publicChallengeParameters"]["challenge"],
        "SMS_OTP"
    );
    assert_eq!(
        output.wait_for_sms(1, Duration::from_secs(2)).await.len(),
        1
    );
}

#[tokio::test]
async fn verify_binary_refuses_an_expired_image_answer_and_a_wrong_one() {
    // The sample was sealed in 2025 with a 300-second lifetime, so the right text has expired by
    // now. The in-process fixture tests check, at the sealed time, that it passes in any case
    // and expires on time; here the real binary must refuse it late, and refuse a wrong one.
    let verify = host(
        "verify-auth-challenge",
        &[("AUTH_FLOW", "captcha,sms_otp")],
        Arc::default(),
    );
    for sample in ["captcha-image-right", "captcha-image-wrong"] {
        let answer = response(
            verify
                .invoke(fixture(&format!("verify-auth-challenge/{sample}.json")))
                .await
                .unwrap(),
        );
        assert_eq!(
            answer["response"],
            json!({"answerCorrect": false}),
            "{sample}"
        );
    }
}

/// Every run of CAPTCHA-alphabet characters in `logs` (any case) that passes as the answer to
/// the image CAPTCHA sealed in `seal`: the text leaked into the logs if there is one.
fn leaked_captcha_texts(logs: &str, seal: &str, binding: SealBinding<'_>) -> Vec<String> {
    let now = cognito_passwordless::triggers::unix_now();
    let upper = logs.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut leaked = Vec::new();
    for start in 0..bytes.len() {
        let Some(window) = bytes.get(start..start + 6) else {
            break;
        };
        if window.iter().all(|byte| ALPHABET.contains(byte)) {
            let candidate = String::from_utf8_lossy(window).into_owned();
            if check_image_answer(&SealKey::none(), seal, &candidate, 300, now, binding)
                == ImageCheck::Correct
            {
                leaked.push(candidate);
            }
        }
    }
    leaked
}

#[tokio::test]
async fn trace_logs_hold_no_image_captcha_text_nor_answer() {
    // Create, at trace level: no window of its logs passes as the answer to the CAPTCHA it made.
    let output = Arc::new(OutputLog::default());
    let env = [
        ("AUTH_FLOW", "captcha,sms_otp"),
        ("SMS_PROVIDER", "console"),
        ("AWS_LAMBDA_LOG_LEVEL", "trace"),
    ];
    let create = host("create-auth-challenge", &env, output.clone());
    let event = fixture("create-auth-challenge/captcha-first-round.json");
    let answer = response(create.invoke(event.clone()).await.unwrap());
    let seal = answer["response"]["privateChallengeParameters"]["seal"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = format!(
        "sub:{}",
        event["request"]["userAttributes"]["sub"].as_str().unwrap()
    );
    let binding = SealBinding {
        pool_id: event["userPoolId"].as_str().unwrap(),
        user: &user,
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = log_text(&output);
    assert!(logs.contains("CreateAuthChallenge"), "{logs}");
    assert_eq!(
        leaked_captcha_texts(&logs, &seal, binding),
        Vec::<String>::new()
    );
    // The search would find a text that was there (checked with one whose text is known).
    let known = ImageChallenge::generate(
        &SealKey::none(),
        cognito_passwordless::triggers::unix_now(),
        binding,
    )
    .unwrap();
    let planted = format!(
        "{logs}\n{{\"text\":\"{}\"}}",
        known.expose_text().to_lowercase()
    );
    assert_eq!(
        leaked_captcha_texts(&planted, &known.seal.encode(), binding),
        [known.expose_text()]
    );

    // Verify, at trace level: a fresh CAPTCHA answered right (it passes) and wrong; neither the
    // text nor the wrong answer reaches the logs.
    let output = Arc::new(OutputLog::default());
    let verify = host("verify-auth-challenge", &env, output.clone());
    let mut event = fixture("verify-auth-challenge/captcha-image-right.json");
    let user = format!(
        "sub:{}",
        event["request"]["userAttributes"]["sub"].as_str().unwrap()
    );
    let pool = event["userPoolId"].as_str().unwrap().to_owned();
    let binding = SealBinding {
        pool_id: &pool,
        user: &user,
    };
    let challenge = ImageChallenge::generate(
        &SealKey::none(),
        cognito_passwordless::triggers::unix_now(),
        binding,
    )
    .unwrap();
    let text = challenge.expose_text().to_owned();
    // Another text of the alphabet, differing in every character.
    let wrong: String = text
        .bytes()
        .map(|byte| {
            let at = ALPHABET.iter().position(|&c| c == byte).unwrap();
            char::from(ALPHABET[(at + 1) % ALPHABET.len()])
        })
        .collect();
    event["request"]["privateChallengeParameters"]["seal"] = json!(challenge.seal.encode());
    for (answer, correct) in [(wrong.to_lowercase(), false), (text.to_lowercase(), true)] {
        event["request"]["challengeAnswer"] = json!(answer);
        let verdict = response(verify.invoke(event.clone()).await.unwrap());
        assert_eq!(verdict["response"]["answerCorrect"], correct, "{answer}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = log_text(&output).to_ascii_uppercase();
    assert!(logs.contains("VERIFYAUTHCHALLENGE"), "{logs}");
    assert!(!logs.contains(&text), "the CAPTCHA text in Verify's logs");
    assert!(!logs.contains(&wrong), "the wrong answer in Verify's logs");
}
