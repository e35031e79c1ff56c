//! `local-cognito serve` spoken to by a real client, boto3 (botocore's model of the Cognito API;
//! the scripts are in `tests/clients/`): a CUSTOM_AUTH sign-in with a wrong then a right code,
//! single-use sessions, the ID token verified against the served JWKS, a refresh, Cognito's
//! exceptions for a wrong client, a forged refresh token and too many wrong answers; then admin
//! calls, USER_PASSWORD_AUTH (a pool user, and an unknown one migrated by the UserMigration
//! binary from a legacy service) and the PreAuthentication binary refusing a blocked user.
//! Then amazon-cognito-identity-js under Node (the seeds' client flow), and the demo page in
//! headless Chromium through playwright-core (`examples/demo/test/`), screenshots kept in
//! `target/test-artifacts/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use integration_tests::{binary, binary_dir, printed};

/// A running `local-cognito serve`, stopped when dropped.
struct Server {
    child: std::process::Child,
    url: String,
    /// What it printed after the banner, line by line.
    output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(env: &[(&str, &str)]) -> Server {
    start_with(&[], env)
}

/// `serve` with more arguments.
fn start_with(args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(binary("local-cognito"))
        .args(["serve", "--port", "0", "--bin-dir"])
        .arg(binary_dir())
        .args(args)
        .env_remove("CARGO")
        .env_remove("SMS_PROVIDER")
        .env_remove("AUTH_FLOW")
        .env_remove("LEGACY_SOURCE")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("Cognito user-pool API on ") {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_owned();
        }
    };
    // Keep reading its output so it never blocks on a full pipe.
    let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = output.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Server { child, url, output }
}

/// `serve` with a new state table `name` on the test command's DynamoDB-protocol server, and
/// `args` and `env` on top (started off the async runtime: it waits for the server's banner).
async fn start_with_state_table(name: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
    let dynamodb = integration_tests::dynamodb_url();
    let table = integration_tests::create_state_table(
        &integration_tests::dynamodb_client(&dynamodb).await,
        name,
    )
    .await;
    let mut all = vec![
        "--state-table".to_owned(),
        table,
        "--dynamodb-endpoint".to_owned(),
        dynamodb,
    ];
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        start_with(&args, &env)
    })
    .await
}

/// Runs `work` off the async runtime (a client script, a server start) and returns its result.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

/// Runs `tests/clients/<script>` with `args`; returns everything it printed, or fails the test.
fn client(script: &str, args: &[&str]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("clients")
        .join(script);
    let output = Command::new("python3")
        // Its checks are assert statements: never strip them.
        .env_remove("PYTHONOPTIMIZE")
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    let text = printed(&output);
    assert!(output.status.success(), "{script}: {text}");
    text
}

/// Sends one raw HTTP/1.1 request; returns the status line and the header lines, lower-cased.
fn raw_request(url: &str, method: &str, path: &str, origin: Option<&str>) -> (String, String) {
    let answer = exchange(url, method, path, origin);
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    let status = head.lines().next().unwrap().to_owned();
    (status, head)
}

/// The body of `GET path`.
fn body_of(url: &str, path: &str) -> String {
    exchange(url, "GET", path, None)
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap()
}

/// One HTTP/1.1 request, without a body; the whole answer as sent.
fn exchange(url: &str, method: &str, path: &str, origin: Option<&str>) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let origin = origin.map_or(String::new(), |origin| format!("Origin: {origin}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{origin}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn only_pages_served_from_this_machine_may_call_the_local_endpoint() {
    let server = start(&[]);
    // A page of any other site open in the developer's browser: refused, inbox and all.
    for origin in [
        "https://evil.example",
        "null",
        "http://localhost.evil.example",
    ] {
        for (method, path) in [("GET", "/local/sms"), ("POST", "/"), ("OPTIONS", "/")] {
            let (status, head) = raw_request(&server.url, method, path, Some(origin));
            assert!(
                status.contains(" 403 "),
                "{origin} {method} {path}: {status}"
            );
            assert!(!head.contains("access-control-allow-origin"), "{head}");
        }
    }
    // A local front end on another port gets CORS for its own origin, never `*`.
    let (status, head) = raw_request(&server.url, "OPTIONS", "/", Some("http://localhost:5173"));
    assert!(status.contains(" 204 "), "{status}");
    assert!(
        head.contains("access-control-allow-origin: http://localhost:5173"),
        "{head}"
    );
    assert!(!head.contains("access-control-allow-origin: *"), "{head}");
    // Tools that send no Origin (the AWS CLI, SDKs, curl) work as before, without CORS headers.
    let (status, head) = raw_request(&server.url, "GET", "/local/sms", None);
    assert!(status.contains(" 200 "), "{status}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");
}

#[test]
fn boto3_signs_in_and_the_id_token_verifies_against_the_served_keys() {
    let server = start(&[]);
    let text = client(
        "boto3_sign_in.py",
        &[&server.url, "localclient0000000000000000"],
    );
    assert!(text.contains("boto3 sign-in: OK"), "{text}");
    // One line per request and per trigger call, and never a code.
    let printed = server.output.lock().unwrap().join("\n");
    assert!(printed.contains("▸ POST InitiateAuth → 200"), "{printed}");
    assert!(
        printed.contains("▸ POST RespondToAuthChallenge → 200"),
        "{printed}"
    );
    assert!(
        printed.contains("▸ POST RespondToAuthChallenge → 400 NotAuthorizedException"),
        "{printed}"
    );
    assert!(printed.contains("▸ GET /local/sms → 200"), "{printed}");
    assert!(printed.contains("λ DefineAuthChallenge"), "{printed}");
    assert!(printed.contains("answerCorrect=true"), "{printed}");
    let code_like = printed
        .split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() == 6);
    assert!(!code_like, "a six-digit code was printed: {printed}");
    // The codes the inbox holds, and alice's whole number, in particular.
    let inbox: serde_json::Value =
        serde_json::from_str(&body_of(&server.url, "/local/sms")).unwrap();
    let messages = inbox["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    for message in messages {
        let body = message["body"].as_str().unwrap();
        let code = body
            .split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == 6)
            .unwrap();
        assert!(!printed.contains(code), "code {code} printed: {printed}");
    }
    assert!(!printed.contains("2065550100"), "{printed}");
}

#[test]
fn boto3_reads_and_updates_the_user_signs_out_revokes_and_disables() {
    let server = start(&[]);
    let text = client(
        "boto3_account.py",
        &[
            &server.url,
            "localclient0000000000000000",
            "us-east-1_local",
        ],
    );
    assert!(text.contains("boto3 account: OK"), "{text}");
}

#[test]
fn the_pool_persists_across_a_restart_with_a_data_file() {
    let dir = std::env::temp_dir().join(format!("serve-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("pool.json");
    let state = dir.join("client-state.json");
    let data_arg = data.to_str().unwrap().to_owned();
    let run = |phase: &str| {
        let server = start_with(&["--data", &data_arg], &[]);
        let text = client(
            "boto3_persistence.py",
            &[
                phase,
                &server.url,
                "localclient0000000000000000",
                "us-east-1_local",
                state.to_str().unwrap(),
            ],
        );
        assert!(
            text.contains(&format!("boto3 persistence {phase}: OK")),
            "{text}"
        );
        drop(server);
    };
    run("before");
    let kept = std::fs::read_to_string(&data).unwrap();
    assert!(
        kept.contains("\"frank\"") && kept.contains("refreshTokens"),
        "{kept}"
    );
    run("after");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn boto3_switches_the_code_between_sms_a_call_and_e_mail() {
    let server = start(&[("AUTH_FLOW", "otp"), ("OTP_CHANNELS", "sms,voice,email")]);
    let text = client(
        "boto3_channels.py",
        &[&server.url, "localclient0000000000000000"],
    );
    assert!(text.contains("boto3 channels: OK"), "{text}");
}

#[test]
fn quiet_serve_prints_nothing_per_request() {
    let server = start_with(&["--quiet"], &[]);
    let text = client(
        "boto3_sign_in.py",
        &[&server.url, "localclient0000000000000000"],
    );
    assert!(text.contains("boto3 sign-in: OK"), "{text}");
    let printed = server.output.lock().unwrap().join("\n");
    assert!(
        !printed.contains('▸') && !printed.contains('λ'),
        "{printed}"
    );
}

#[tokio::test]
async fn admin_calls_password_sign_in_migration_and_pre_authentication() {
    // The legacy user service: `ada` / `right password`.
    let legacy = integration_tests::FakeEndpoint::start(|request| {
        let body = &request.json;
        if body["username"] == "ada" && body.get("password").is_none_or(|p| p == "right password") {
            integration_tests::Reply::ok(serde_json::json!({"attributes": {
                "email": "ada@example.com", "email_verified": true, "given_name": "Ada"
            }}))
        } else {
            integration_tests::Reply::text(404, "{}")
        }
    })
    .await;
    let url = format!("{}/legacy", legacy.url);
    // With a state table, as deployed: the migration trigger's note admits a migrated user's
    // first sign-in on the migration client (PostAuthentication refuses everyone else there).
    let dynamodb = integration_tests::dynamodb_url();
    let table = integration_tests::create_state_table(
        &integration_tests::dynamodb_client(&dynamodb).await,
        "serve-migration",
    )
    .await;
    let server = blocking(move || {
        start_with(
            &["--state-table", &table, "--dynamodb-endpoint", &dynamodb],
            &[
                ("LEGACY_SOURCE", "http"),
                ("LEGACY_HTTP_URL", &url),
                ("PREAUTH_BLOCKED_ATTRIBUTE", "custom:blocked"),
            ],
        )
    })
    .await;
    let server_url = server.url.clone();
    let text = blocking(move || {
        client(
            "boto3_admin_and_password.py",
            &[
                &server_url,
                "localclient0000000000000000",
                "us-east-1_local",
                "localmigration000000000000",
            ],
        )
    })
    .await;
    assert!(text.contains("boto3 admin and password: OK"), "{text}");
    // The legacy service was asked for ada's password once, and for grace.
    assert_eq!(legacy.requests().len(), 2);
    drop(server);
}

#[tokio::test]
async fn boto3_signs_up_and_the_first_code_verifies_the_phone() {
    // Two sign-ins a few seconds apart: no minimum interval between codes here.
    let server = start_with_state_table(
        "serve-sign-up",
        &[],
        &[
            ("VERIFY_ON_FIRST_SIGN_IN", "true"),
            ("SMS_MIN_INTERVAL_SECONDS", "0"),
        ],
    )
    .await;
    let server_url = server.url.clone();
    let text = blocking(move || {
        client(
            "boto3_sign_up.py",
            &[
                &server_url,
                "localclient0000000000000000",
                "us-east-1_local",
            ],
        )
    })
    .await;
    assert!(text.contains("boto3 sign-up: OK"), "{text}");
    let printed = server.output.lock().unwrap().join("\n");
    assert!(printed.contains("λ PreSignUp"), "{printed}");
    assert!(
        printed.contains("▸ POST AdminUpdateUserAttributes → 200"),
        "PostAuthentication did not mark the phone verified: {printed}"
    );
    drop(server);
}

#[tokio::test]
async fn boto3_resets_passwords_and_migrates_legacy_users_on_the_way() {
    // The legacy user service: `ada`, for a password reset (no password asked).
    let legacy = integration_tests::FakeEndpoint::start(|request| {
        if request.json["username"] == "ada" && request.json.get("password").is_none() {
            integration_tests::Reply::ok(serde_json::json!({"attributes": {
                "email": "ada@example.com", "email_verified": true
            }}))
        } else {
            integration_tests::Reply::text(404, "{}")
        }
    })
    .await;
    let url = format!("{}/legacy", legacy.url);
    let server = blocking(move || {
        start_with(
            &["--account-recovery", "verified_email"],
            &[
                ("LEGACY_SOURCE", "http"),
                ("LEGACY_HTTP_URL", &url),
                ("MIGRATION_FORGOT_PASSWORD", "true"),
            ],
        )
    })
    .await;
    let server_url = server.url.clone();
    let text = blocking(move || {
        client(
            "boto3_reset.py",
            &[
                &server_url,
                "localclient0000000000000000",
                "us-east-1_local",
                "localmigration000000000000",
            ],
        )
    })
    .await;
    assert!(text.contains("boto3 reset: OK"), "{text}");
    let printed = server.output.lock().unwrap().join("\n");
    assert!(printed.contains("λ UserMigration"), "{printed}");
    drop(server);
}

/// `examples/demo`, where the demo page and its Node tests live (`npm ci` done by the test
/// command).
fn demo_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo")
}

/// Runs `node <script> <args>` in the demo directory; returns what it printed, or fails.
fn node(script: &str, args: &[&str]) -> String {
    let output = Command::new("node")
        .current_dir(demo_dir())
        .arg(script)
        .args(args)
        .output()
        .expect("node must be installed");
    let text = printed(&output);
    assert!(output.status.success(), "{script}: {text}");
    text
}

#[test]
fn amazon_cognito_identity_js_runs_the_seeds_client_flow_under_node() {
    let server = start(&[]);
    let text = node(
        "test/node-client.mjs",
        &[&server.url, "localclient0000000000000000"],
    );
    assert!(
        text.contains("signed in as alice") && text.contains("ID token verified against the JWKS"),
        "{text}"
    );
}

#[test]
fn cognito_srp_from_two_client_libraries_proves_the_password_before_the_code() {
    // Password first, then the code: the SRP exchange played by amazon-cognito-identity-js
    // (under Node) and by pycognito, each with a wrong password and the right one. With a legacy
    // source, so the migration client (USER_SRP_AUTH's only client) exists; nothing migrates.
    let server = start(&[
        ("AUTH_FLOW", "password,sms_otp"),
        ("LEGACY_SOURCE", "http"),
        ("LEGACY_HTTP_URL", "http://127.0.0.1:9/never-called"),
    ]);
    let text = node(
        "test/node-srp.mjs",
        &[&server.url, "localclient0000000000000000"],
    );
    assert!(
        text.contains("a wrong password refused (NotAuthorizedException)")
            && text.contains("password (SRP) then code signed in as alice"),
        "{text}"
    );
    let text = client(
        "pycognito_srp.py",
        &[
            &server.url,
            "localclient0000000000000000",
            "us-east-1_local",
            "localmigration000000000000",
        ],
    );
    assert!(text.contains("pycognito srp: OK"), "{text}");
    let printed = server.output.lock().unwrap().join("\n");
    assert!(
        printed.contains("session=[SRP_A:✓, PASSWORD_VERIFIER:✗]  ⇒ failAuthentication"),
        "{printed}"
    );
    assert!(
        printed.contains("session=[SRP_A:✓, PASSWORD_VERIFIER:✓]  ⇒ CUSTOM_CHALLENGE"),
        "{printed}"
    );
    assert!(!printed.contains("alice-local-password"), "{printed}");
}

#[test]
fn the_demo_page_signs_in_in_headless_chromium() {
    let artifacts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let server = start(&[]);
    let screenshot = artifacts.join("demo-signed-in.png");
    let text = node(
        "test/browser.mjs",
        &[&server.url, screenshot.to_str().unwrap(), "sms"],
    );
    assert!(text.contains("Signed in as alice"), "{text}");
    assert!(std::fs::read(&screenshot).unwrap().starts_with(b"\x89PNG"));
    drop(server);
    // With a CAPTCHA first, the page shows the image before any code is sent.
    let server = start(&[("AUTH_FLOW", "captcha,sms_otp")]);
    let screenshot = artifacts.join("demo-captcha.png");
    let text = node(
        "test/browser.mjs",
        &[&server.url, screenshot.to_str().unwrap(), "captcha"],
    );
    assert!(text.contains("the image CAPTCHA is shown first"), "{text}");
    drop(server);
    // The user's channel: "Send by email instead" brings the code by e-mail.
    let server = start(&[("AUTH_FLOW", "otp")]);
    let screenshot = artifacts.join("demo-switch-to-email.png");
    let text = node(
        "test/browser.mjs",
        &[&server.url, screenshot.to_str().unwrap(), "switch"],
    );
    assert!(text.contains("Signed in as alice"), "{text}");
}

#[tokio::test]
async fn amazon_cognito_identity_js_signs_up_manages_the_account_and_resets_under_node() {
    let server = start_with_state_table(
        "serve-node-account",
        &["--account-recovery", "verified_email"],
        &[
            ("VERIFY_ON_FIRST_SIGN_IN", "true"),
            ("SMS_MIN_INTERVAL_SECONDS", "0"),
        ],
    )
    .await;
    let url = server.url.clone();
    let text = blocking(move || {
        node(
            "test/node-account.mjs",
            &[&url, "localclient0000000000000000"],
        )
    })
    .await;
    assert!(
        text.contains("node account:") && text.contains(": OK"),
        "{text}"
    );
    drop(server);
}

#[tokio::test]
async fn the_demo_page_signs_up_signs_in_with_the_code_and_signs_out_in_chromium() {
    let artifacts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let server = start_with_state_table(
        "serve-demo-sign-up",
        &[],
        &[("VERIFY_ON_FIRST_SIGN_IN", "true")],
    )
    .await;
    let screenshot = artifacts.join("demo-signed-up.png");
    let url = server.url.clone();
    let text = blocking(move || {
        node(
            "test/browser.mjs",
            &[&url, screenshot.to_str().unwrap(), "sign-up"],
        )
    })
    .await;
    assert!(
        text.contains("signed up, Signed in as erin, phone verified, signed out"),
        "{text}"
    );
    drop(server);
}

#[tokio::test]
async fn the_demo_page_runs_password_then_captcha_then_code_in_chromium() {
    // The seed flow: the password (the page's library proves it with SRP), a CAPTCHA widget
    // (its provider played by a stand-in that accepts one token), the code.
    let provider = integration_tests::FakeEndpoint::start(|request| {
        if request.form("response").as_deref() == Some("good-token") {
            integration_tests::Reply::ok(serde_json::json!({
                "success": true, "hostname": "127.0.0.1", "challenge_ts": "2026-12-08T00:00:00Z"
            }))
        } else {
            integration_tests::Reply::ok(serde_json::json!({"success": false}))
        }
    })
    .await;
    let verify_url = format!("{}/siteverify", provider.url);
    let artifacts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let server = blocking(move || {
        start(&[
            ("AUTH_FLOW", "password,captcha,sms_otp"),
            ("CAPTCHA_PROVIDER", "turnstile"),
            ("CAPTCHA_SITE_KEY", "0x-test-site-key"),
            ("CAPTCHA_SECRET", "0x-test-secret"),
            ("CAPTCHA_VERIFY_URL", &verify_url),
        ])
    })
    .await;
    let screenshot = artifacts.join("demo-password-captcha-code.png");
    let url = server.url.clone();
    let text = blocking(move || {
        node(
            "test/browser.mjs",
            &[&url, screenshot.to_str().unwrap(), "password"],
        )
    })
    .await;
    assert!(
        text.contains("password (SRP), CAPTCHA, code: Signed in as alice"),
        "{text}"
    );
    // The stand-in was asked once: for the right token, after the right password.
    assert_eq!(provider.requests().len(), 1);
    drop(server);
}
