//! The pre-authentication and user-migration binaries over the Lambda Runtime API: every
//! pre-authentication policy allowing and denying; migration from a legacy HTTP service (right and
//! wrong password, unknown user, forgot-password, HTTP 500, a slow service, malformed JSON) and
//! from a real PostgreSQL server with users hashed in every supported format, SQL injection
//! attempts, and a lost connection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::{
    FakeEndpoint, Recorded, Reply, fixture, function_error, host, legacy_database_url, log_text,
    psql, response,
};
use local_cognito::lambda_host::{Invocation, LambdaHost, OutputLog};
use serde_json::{Value, json};

#[tokio::test]
async fn pre_authentication_applies_each_policy() {
    let output = Arc::new(OutputLog::default());
    let strict = host(
        "pre-authentication",
        &[
            (
                "PREAUTH_ALLOWED_CLIENT_IDS",
                "1example23456789abcdefghij,2second",
            ),
            ("PREAUTH_BLOCKED_ATTRIBUTE", "custom:blocked"),
            ("PREAUTH_REQUIRE_VERIFIED_PHONE", "true"),
            ("PREAUTH_REQUIRED_VALIDATION_KEYS", "deviceId"),
            ("PREAUTH_DENY_MESSAGE", "Please contact support."),
        ],
        output.clone(),
    );
    for (sample, denied_for) in [
        ("allowed", None),
        ("user-not-found", None),
        ("blocked-user", Some("blocked")),
        ("no-verified-phone", Some("no_verified_phone")),
        ("unknown-client", Some("client_not_allowed")),
        ("no-validation-data", Some("missing_validation_key")),
    ] {
        let event = fixture(&format!("pre-authentication/{sample}.json"));
        let outcome = strict.invoke(event.clone()).await.unwrap();
        match denied_for {
            None => {
                let answer = response(outcome);
                assert_eq!(answer["response"], json!({}), "{sample}");
                assert_eq!(answer["request"], event["request"], "{sample}");
            }
            Some(reason) => {
                let (error_type, message) = function_error(outcome);
                assert_eq!(error_type, "SignInDenied", "{sample}");
                // Configured with a full stop, which Cognito would show twice: it is dropped.
                assert_eq!(message, "Please contact support", "{sample}");
                assert!(
                    log_text(&output).contains(reason),
                    "{sample}: {reason} not logged"
                );
            }
        }
    }
    // With no policy set, everyone passes.
    let open = host("pre-authentication", &[], Arc::default());
    for sample in [
        "blocked-user",
        "no-verified-phone",
        "unknown-client",
        "no-validation-data",
    ] {
        let answer = response(
            open.invoke(fixture(&format!("pre-authentication/{sample}.json")))
                .await
                .unwrap(),
        );
        assert_eq!(answer["response"], json!({}), "{sample}");
    }
    // Another trigger's event is refused, and the process lives on.
    let (error_type, _) = function_error(
        open.invoke(fixture("define-auth-challenge/first-call.json"))
            .await
            .unwrap(),
    );
    assert_eq!(error_type, "WrongTrigger");
    response(
        open.invoke(fixture("pre-authentication/allowed.json"))
            .await
            .unwrap(),
    );
}

/// The legacy HTTP service: `ada` / `right password`; `ghost` unknown; `boom` fails; `slow` hangs;
/// `garbled` answers something that is not JSON; `bare` answers without attributes.
fn legacy_service(request: &Recorded) -> Reply {
    if request.header("authorization") != "Bearer legacy-service-token" {
        return Reply::text(401, "no token");
    }
    let body = &request.json;
    let user = body["username"].as_str().unwrap_or("");
    let password = body.get("password").and_then(Value::as_str);
    let ada = json!({"attributes": {
        "email": "Ada@Example.com",
        "email_verified": true,
        "phone_number": "+12065550123",
        "phone_number_verified": "true",
        "given_name": "Ada",
        "custom:tier": "gold",
        "legacy_id": 1815,
    }});
    match (user, password) {
        ("ada", Some("right password") | None) => Reply::ok(ada),
        ("ada", Some(_)) => Reply::text(401, "{\"error\":\"bad password\"}"),
        ("locked", _) => Reply::text(403, "locked"),
        ("boom", _) => Reply::text(500, "internal error"),
        ("slow", _) => Reply::ok(ada).after(Duration::from_secs(8)),
        ("garbled", _) => Reply::text(200, "<html>oops</html>"),
        ("bare", _) => Reply::ok(json!({"user": "bare"})),
        _ => Reply::text(404, "{\"error\":\"no such user\"}"),
    }
}

fn migration_event(user: &str, password: Option<&str>) -> Value {
    let mut event = fixture("user-migration/authentication.json");
    event["userName"] = json!(user);
    match password {
        Some(password) => event["request"]["password"] = json!(password),
        None => {
            event["triggerSource"] = json!("UserMigration_ForgotPassword");
            event["request"].as_object_mut().unwrap().remove("password");
        }
    }
    event
}

#[tokio::test]
async fn migration_from_an_http_service() {
    let service = FakeEndpoint::start(legacy_service).await;
    let url = format!("{}/legacy/authenticate", service.url);
    let output = Arc::new(OutputLog::default());
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "http"),
            ("LEGACY_HTTP_URL", &url),
            ("LEGACY_HTTP_TOKEN", "legacy-service-token"),
            ("LEGACY_TIMEOUT_MS", "1000"),
            ("MIGRATION_ENABLE_SMS_MFA", "true"),
            ("MIGRATION_CUSTOM_ATTRIBUTES", "custom:tier"),
            ("MIGRATION_FORGOT_PASSWORD", "true"),
            ("AWS_LAMBDA_LOG_LEVEL", "trace"),
        ],
        output.clone(),
    );
    let answer = response(
        migration
            .invoke(migration_event("ada", Some("right password")))
            .await
            .unwrap(),
    );
    assert_eq!(
        answer["response"],
        json!({
            "userAttributes": {
                "email": "ada@example.com",
                "email_verified": "true",
                "phone_number": "+12065550123",
                "phone_number_verified": "true",
                "given_name": "Ada",
                "custom:tier": "gold"
            },
            "finalUserStatus": "CONFIRMED",
            "messageAction": "SUPPRESS",
            "desiredDeliveryMediums": null,
            "forceAliasCreation": null,
            "enableSMSMFA": true
        })
    );
    let sent = &service.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.uri.path(), "/legacy/authenticate");
    assert_eq!(
        sent.json,
        json!({"username": "ada", "password": "right password"})
    );

    // Forgot-password: no password is sent, and the user is not confirmed yet.
    let answer = response(
        migration
            .invoke(migration_event("ada", None))
            .await
            .unwrap(),
    );
    assert_eq!(answer["response"]["finalUserStatus"], Value::Null);
    assert_eq!(
        service.requests().last().unwrap().json,
        json!({"username": "ada"})
    );

    // Wrong password, locked and unknown users: one error, one text.
    for (user, password) in [
        ("ada", Some("wrong password")),
        ("locked", Some("x")),
        ("ghost", Some("x")),
        ("ghost", None),
    ] {
        let (error_type, message) = function_error(
            migration
                .invoke(migration_event(user, password))
                .await
                .unwrap(),
        );
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("NotMigrated", "Incorrect username or password"),
            "{user}"
        );
    }
    // A failing, slow or confused service is an error, well inside Cognito's 5 seconds.
    for user in ["boom", "garbled", "bare", "slow"] {
        let started = Instant::now();
        let (error_type, message) = function_error(
            migration
                .invoke(migration_event(user, Some("x")))
                .await
                .unwrap(),
        );
        assert!(started.elapsed() < Duration::from_millis(2_500), "{user}");
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("LegacySourceError", "Sign-in is temporarily unavailable"),
            "{user}"
        );
    }
    // Even at trace level, no password, token or user name reaches the logs.
    let logs = log_text(&output);
    for secret in [
        "right password",
        "wrong password",
        "legacy-service-token",
        "\"ada\"",
        "Ada@Example.com",
        "+12065550123",
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
    assert!(logs.contains("\"outcome\":\"migrated\""), "{logs}");
}

/// ForgotPassword fires UserMigration on every app client of the pool: with
/// `MIGRATION_CLIENT_IDS`, only sign-ins and resets through those clients migrate anyone, and any
/// other client gets the unknown-user answer without the store being asked.
#[tokio::test]
async fn migration_happens_only_through_the_migration_clients() {
    let service = FakeEndpoint::start(legacy_service).await;
    let url = format!("{}/legacy/authenticate", service.url);
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "http"),
            ("LEGACY_HTTP_URL", &url),
            ("LEGACY_HTTP_TOKEN", "legacy-service-token"),
            ("LEGACY_TIMEOUT_MS", "1000"),
            (
                "MIGRATION_CLIENT_IDS",
                "migration-client, second-migration-client",
            ),
            ("MIGRATION_FORGOT_PASSWORD", "true"),
        ],
        Arc::default(),
    );
    let through = |client: Option<&str>, password: Option<&str>| {
        let mut event = migration_event("ada", password);
        match client {
            Some(client) => event["callerContext"]["clientId"] = json!(client),
            None => {
                event.as_object_mut().unwrap().remove("callerContext");
            }
        }
        event
    };
    for (client, password) in [
        (Some("1example23456789abcdefghij"), Some("right password")),
        (Some("1example23456789abcdefghij"), None),
        (Some("MIGRATION-CLIENT"), Some("right password")),
        (Some(""), Some("right password")),
        (None, None),
    ] {
        let (error_type, message) =
            function_error(migration.invoke(through(client, password)).await.unwrap());
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("NotMigrated", "Incorrect username or password"),
            "{client:?}"
        );
    }
    assert!(service.requests().is_empty(), "the store was asked");
    for (client, password) in [
        ("migration-client", Some("right password")),
        ("second-migration-client", None),
    ] {
        let answer = response(
            migration
                .invoke(through(Some(client), password))
                .await
                .unwrap(),
        );
        assert_eq!(
            answer["response"]["userAttributes"]["given_name"], "Ada",
            "{client}"
        );
    }
    assert_eq!(service.requests().len(), 2);
}

/// A password reset (Cognito fires the trigger with no password) migrates nobody unless
/// `MIGRATION_FORGOT_PASSWORD` says so: otherwise a user name alone would move a user in.
#[tokio::test]
async fn a_password_reset_migrates_nobody_by_default() {
    let service = FakeEndpoint::start(legacy_service).await;
    let url = format!("{}/legacy/authenticate", service.url);
    let migration = host(
        "user-migration",
        &[("LEGACY_SOURCE", "http"), ("LEGACY_HTTP_URL", &url)],
        Arc::default(),
    );
    let (error_type, message) = function_error(
        migration
            .invoke(migration_event("ada", None))
            .await
            .unwrap(),
    );
    assert_eq!(
        (error_type.as_str(), message.as_str()),
        ("NotMigrated", "Incorrect username or password")
    );
    assert!(service.requests().is_empty(), "the store was asked");
}

#[tokio::test]
async fn migration_refuses_to_start_without_a_legacy_source() {
    let migration = host("user-migration", &[], Arc::default());
    match migration
        .invoke(fixture("user-migration/authentication.json"))
        .await
        .unwrap()
    {
        Invocation::ProcessExited { detail } => {
            assert!(detail.contains("LEGACY_SOURCE"), "{detail}")
        }
        other => panic!("expected a failed cold start, got {other:?}"),
    }
}

const QUERY: &str = "SELECT password_hash, email, email_verified, phone_number, \
    phone_verified AS phone_number_verified, given_name, family_name, tier AS \"custom:tier\" \
    FROM legacy_users WHERE username = $1";

/// Every user of the fixture, with the format its hash is in.
const FORMATS: &[&str] = &[
    "bcrypt2a",
    "bcrypt2b",
    "bcrypt2y",
    "argon2id",
    "argon2i",
    "scrypt",
    "pbkdf2",
    "pbkdf2passlib",
    "django",
    "djangoargon2",
    "sha512",
    "sha512rounds",
];

#[tokio::test]
async fn migration_from_postgres_checks_every_hash_format() {
    let url = legacy_database_url();
    let output = Arc::new(OutputLog::default());
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "postgres"),
            ("LEGACY_DATABASE_URL", &url),
            ("LEGACY_USER_QUERY", QUERY),
            ("MIGRATION_CUSTOM_ATTRIBUTES", "custom:tier"),
            ("MIGRATION_FORGOT_PASSWORD", "true"),
        ],
        output.clone(),
    );
    for user in FORMATS {
        let password = format!("legacy-{user}-pw");
        let answer = response(
            migration
                .invoke(migration_event(user, Some(&password)))
                .await
                .unwrap(),
        );
        let attributes = &answer["response"]["userAttributes"];
        assert_eq!(attributes["email"], format!("{user}@example.com"), "{user}");
        assert_eq!(answer["response"]["finalUserStatus"], "CONFIRMED", "{user}");
        let (error_type, message) = function_error(
            migration
                .invoke(migration_event(user, Some("legacy-wrong-pw")))
                .await
                .unwrap(),
        );
        assert_eq!(error_type, "NotMigrated", "{user}");
        assert_eq!(message, "Incorrect username or password", "{user}");
    }
    // Columns map to attributes: booleans written out, custom columns kept, NULLs left out.
    let answer = response(
        migration
            .invoke(migration_event("bcrypt2a", Some("legacy-bcrypt2a-pw")))
            .await
            .unwrap(),
    );
    assert_eq!(
        answer["response"]["userAttributes"],
        json!({
            "email": "bcrypt2a@example.com",
            "email_verified": "true",
            "phone_number": "+12065550123",
            "phone_number_verified": "true",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "custom:tier": "gold"
        })
    );
    // An unknown hash format and an unknown user fail like a wrong password.
    for (user, password) in [("unknownfmt", "legacy-unknownfmt-pw"), ("nobody", "x")] {
        let (error_type, message) = function_error(
            migration
                .invoke(migration_event(user, Some(password)))
                .await
                .unwrap(),
        );
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("NotMigrated", "Incorrect username or password"),
            "{user}"
        );
    }
    assert!(log_text(&output).contains("unverifiable"));
    // Forgot-password needs a verified contact: argon2i's e-mail is not verified.
    response(
        migration
            .invoke(migration_event("bcrypt2b", None))
            .await
            .unwrap(),
    );
    let (error_type, _) = function_error(
        migration
            .invoke(migration_event("argon2i", None))
            .await
            .unwrap(),
    );
    assert_eq!(error_type, "NotMigrated");
    // Nothing secret in the logs.
    let logs = log_text(&output);
    assert!(!logs.contains("legacy-bcrypt2a-pw"));
    assert!(!logs.contains("$2a$10$"));
}

/// The median time of `runs` invocations of `event`.
async fn median_time(migration: &LambdaHost, event: &Value, runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        migration.invoke(event.clone()).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn unknown_users_and_unusable_hashes_take_as_long_as_a_wrong_password() {
    let url = legacy_database_url();
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "postgres"),
            ("LEGACY_DATABASE_URL", &url),
            ("LEGACY_USER_QUERY", QUERY),
        ],
        Arc::default(),
    );
    // Warm up: the connection, the first bcrypt.
    migration
        .invoke(migration_event("bcrypt2a", Some("legacy-wrong-pw")))
        .await
        .unwrap();
    // A real user's wrong password costs one bcrypt-10 check.
    let real = median_time(&migration, &migration_event("bcrypt2a", Some("wrong")), 7).await;
    // An unknown user and a hash in a format that cannot be checked are refused before any
    // work: the dummy check must make up for it. Generous margin (half), robust statistic
    // (median): without the dummy work they take a few milliseconds, not tens.
    for user in ["nobody-at-all", "unknownfmt"] {
        let took = median_time(&migration, &migration_event(user, Some("wrong")), 7).await;
        assert!(
            took * 2 >= real,
            "{user}: {took:?} against {real:?} for a real user's wrong password"
        );
    }
}

#[tokio::test]
async fn the_dummy_hash_is_the_stores_own_format_and_is_checked_at_cold_start() {
    let url = legacy_database_url();
    // An Argon2id hash (the fixture's argon2id user's) as the dummy: accepted.
    let argon2 = "$argon2id$v=19$m=19456,t=2,p=1$kcxb9Ws6eXxLwFQHXM+AVA$9k9r4duQq4rcFnQVytS2D3tBSr93kLsKxzbJ2yeAjf8";
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "postgres"),
            ("LEGACY_DATABASE_URL", &url),
            ("LEGACY_USER_QUERY", QUERY),
            ("LEGACY_DUMMY_HASH", argon2),
        ],
        Arc::default(),
    );
    let (error_type, _) = function_error(
        migration
            .invoke(migration_event("nobody", Some("x")))
            .await
            .unwrap(),
    );
    assert_eq!(error_type, "NotMigrated");
    // One it cannot check (cost over the limit, or an unknown format) stops the cold start.
    for bad in [
        "$2b$31$VPfdVf.C/eqx.1g37bZiTeo4UIiK6PVCbqkmTkAJoZOlnVJ1ngtPy",
        "e539613b4cbc9f55bf80030fb88367c7",
    ] {
        let migration = host(
            "user-migration",
            &[
                ("LEGACY_SOURCE", "postgres"),
                ("LEGACY_DATABASE_URL", &url),
                ("LEGACY_DUMMY_HASH", bad),
            ],
            Arc::default(),
        );
        match migration
            .invoke(migration_event("nobody", Some("x")))
            .await
            .unwrap()
        {
            Invocation::ProcessExited { detail } => {
                assert!(detail.contains("LEGACY_DUMMY_HASH"), "{detail}");
                assert!(!detail.contains(bad), "the hash is not repeated: {detail}");
            }
            other => panic!("expected a failed cold start, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn sql_injection_in_the_user_name_does_nothing() {
    let url = legacy_database_url();
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "postgres"),
            ("LEGACY_DATABASE_URL", &url),
            ("LEGACY_USER_QUERY", QUERY),
        ],
        Arc::default(),
    );
    let before = psql(&url, &["-c", "SELECT count(*) FROM legacy_users"]);
    for user in [
        "' OR '1'='1",
        "bcrypt2a'--",
        "bcrypt2a' OR username LIKE '%",
        "x'; DROP TABLE legacy_users; --",
        "x\"; DELETE FROM legacy_users; --",
        "$1",
        "bcrypt2a\0",
    ] {
        let outcome = migration
            .invoke(migration_event(user, Some("legacy-bcrypt2a-pw")))
            .await
            .unwrap();
        // Each is an unknown user, nothing else: not a failure of the store, not a migration.
        let (error_type, message) = function_error(outcome);
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("NotMigrated", "Incorrect username or password"),
            "{user:?}"
        );
    }
    assert_eq!(
        psql(&url, &["-c", "SELECT count(*) FROM legacy_users"]),
        before
    );
    // And the real user still migrates.
    response(
        migration
            .invoke(migration_event("bcrypt2a", Some("legacy-bcrypt2a-pw")))
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn a_lost_database_connection_is_re_established() {
    // Its own application name, so terminating its connection leaves other tests' alone.
    let admin = legacy_database_url();
    let url = format!("{admin}?application_name=reconnect-test");
    let migration = host(
        "user-migration",
        &[
            ("LEGACY_SOURCE", "postgres"),
            ("LEGACY_DATABASE_URL", &url),
            ("LEGACY_USER_QUERY", QUERY),
        ],
        Arc::default(),
    );
    let sign_in = || migration_event("sha512", Some("legacy-sha512-pw"));
    response(migration.invoke(sign_in()).await.unwrap());
    // The database drops the function's connection (a restart, a failover, an idle timeout).
    let pid = migration.pid().await.unwrap();
    let terminated = psql(
        &admin,
        &[
            "-c",
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'reconnect-test'",
        ],
    );
    assert_ne!(terminated.trim(), "0", "no connection to terminate");
    // No pause: the next query may meet the dead connection and must retry on a new one.
    response(migration.invoke(sign_in()).await.unwrap());
    psql(
        &admin,
        &[
            "-c",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reconnect-test'",
        ],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    response(migration.invoke(sign_in()).await.unwrap());
    assert_eq!(
        migration.pid().await.unwrap(),
        pid,
        "the same process reconnected"
    );
}
