//! The user-migration binary against a real MariaDB server (`LEGACY_SOURCE=mysql`), with the
//! users of `tests/fixtures/legacy_users_mysql.sql`: every hash format PHP applications write,
//! right and wrong; an unknown user and an unknown format answered alike; SQL-injection names;
//! the server dropping the connection; a query that hangs; and the cold-start checks of the URL
//! and the query.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::{
    fixture, function_error, host, legacy_mysql_url, log_text, mysql, response,
};
use local_cognito::lambda_host::{Invocation, OutputLog};
use serde_json::{Value, json};

/// The fixture's columns under Cognito's names.
const QUERY: &str = "SELECT password_hash, email, email_verified, phone_number, given_name, \
    family_name, logins AS `custom:logins` FROM legacy_users WHERE username = ?";

/// Every user of the fixture whose hash this function checks, with its format.
const FORMATS: &[(&str, &str)] = &[
    ("wordpress", "phpass $P$"),
    ("phpbb", "phpass $H$"),
    ("wordpress68", "WordPress 6.8 bcrypt"),
    ("drupal7", "Drupal 7"),
    ("md5crypt", "MD5 crypt"),
    ("sha256crypt", "SHA-256 crypt"),
    ("sha256rounds", "SHA-256 crypt, 10000 rounds"),
    ("phpbcrypt", "PHP password_hash bcrypt"),
    ("phpargon2id", "PHP password_hash Argon2id"),
];

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

fn vars<'a>(url: &'a str, query: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("LEGACY_SOURCE", "mysql"),
        ("LEGACY_DATABASE_URL", url),
        ("LEGACY_USER_QUERY", query),
        ("MIGRATION_CUSTOM_ATTRIBUTES", "custom:logins"),
        ("MIGRATION_FORGOT_PASSWORD", "true"),
    ]
}

/// A refused sign-in, as a wrong password is refused.
fn refused(outcome: Invocation) -> (String, String) {
    function_error(outcome)
}

#[tokio::test]
async fn migration_from_mysql_checks_every_php_application_format() {
    let url = legacy_mysql_url();
    let output = Arc::new(OutputLog::default());
    let migration = host("user-migration", &vars(&url, QUERY), output.clone());
    for (user, format) in FORMATS {
        let password = format!("legacy-{user}-pw");
        let answer = response(
            migration
                .invoke(migration_event(user, Some(&password)))
                .await
                .unwrap(),
        );
        assert_eq!(
            answer["response"]["userAttributes"]["email"],
            format!("{user}@example.com"),
            "{format}"
        );
        assert_eq!(
            answer["response"]["finalUserStatus"], "CONFIRMED",
            "{format}"
        );
        let (error_type, message) = refused(
            migration
                .invoke(migration_event(user, Some(&format!("{password}x"))))
                .await
                .unwrap(),
        );
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("NotMigrated", "Incorrect username or password"),
            "{format}: wrong password"
        );
    }
    // Columns map to attributes: TINYINT(1) booleans and integers written out, NULLs left out.
    let answer = response(
        migration
            .invoke(migration_event("wordpress", Some("legacy-wordpress-pw")))
            .await
            .unwrap(),
    );
    assert_eq!(
        answer["response"]["userAttributes"],
        json!({
            "email": "wordpress@example.com",
            "email_verified": "true",
            "phone_number": "+12065550142",
            "phone_number_verified": "false",
            "given_name": "Wordpress",
            "family_name": "Legacy",
            "custom:logins": "9"
        })
    );
    // An unknown format and an unknown user fail like a wrong password.
    for (user, password) in [("unknownfmt", "legacy-unknownfmt-pw"), ("nobody", "x")] {
        let (error_type, message) = refused(
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
    // Forgot-password: a verified address moves the user in; drupal7's is not verified.
    response(
        migration
            .invoke(migration_event("phpbb", None))
            .await
            .unwrap(),
    );
    let (error_type, _) = refused(
        migration
            .invoke(migration_event("drupal7", None))
            .await
            .unwrap(),
    );
    assert_eq!(error_type, "NotMigrated");
    let logs = log_text(&output);
    assert!(
        !logs.contains("legacy-wordpress-pw") && !logs.contains("$P$"),
        "{logs}"
    );
    assert!(
        !logs.contains(url.split('@').next().unwrap()),
        "the URL's password in the logs"
    );
}

#[tokio::test]
async fn sql_injection_in_the_user_name_does_nothing() {
    let url = legacy_mysql_url();
    let migration = host("user-migration", &vars(&url, QUERY), Arc::default());
    let count = || mysql(&url, "SELECT count(*) FROM legacy_users");
    let before = count();
    for user in [
        "' OR '1'='1",
        "wordpress'-- ",
        "wordpress' OR username LIKE '%",
        "x'; DROP TABLE legacy_users; -- ",
        "x\\'; DELETE FROM legacy_users; #",
        "?",
        "wordpress\0",
        "WORDPRESS",
    ] {
        let (error_type, message) = refused(
            migration
                .invoke(migration_event(user, Some("legacy-wordpress-pw")))
                .await
                .unwrap(),
        );
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("NotMigrated", "Incorrect username or password"),
            "{user:?}"
        );
    }
    assert_eq!(count(), before);
    response(
        migration
            .invoke(migration_event("wordpress", Some("legacy-wordpress-pw")))
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn a_dropped_connection_is_re_made_and_a_hung_query_is_dropped_within_the_budget() {
    // A database user of its own, so killing its connections leaves other tests' alone.
    let admin = legacy_mysql_url();
    let (prefix, location) = admin.split_once('@').unwrap();
    let password = prefix.rsplit(':').next().unwrap();
    mysql(
        &admin,
        &format!(
            "CREATE USER IF NOT EXISTS 'reconnect'@'127.0.0.1' IDENTIFIED BY '{password}';
             GRANT SELECT ON legacy.* TO 'reconnect'@'127.0.0.1';"
        ),
    );
    let url = format!("mysql://reconnect:{password}@{location}");
    let migration = host("user-migration", &vars(&url, QUERY), Arc::default());
    let sign_in = || migration_event("md5crypt", Some("legacy-md5crypt-pw"));
    response(migration.invoke(sign_in()).await.unwrap());
    let pid = migration.pid().await.unwrap();
    let kill_all = || {
        let ids = mysql(
            &admin,
            "SELECT id FROM information_schema.processlist WHERE user = 'reconnect'",
        );
        let ids: Vec<&str> = ids.lines().filter(|id| !id.trim().is_empty()).collect();
        for id in &ids {
            mysql(&admin, &format!("KILL CONNECTION {id}"));
        }
        ids.len()
    };
    assert_ne!(kill_all(), 0, "no connection to kill");
    // No pause: the next query meets the dead connection and must retry on a new one.
    response(migration.invoke(sign_in()).await.unwrap());
    assert_ne!(kill_all(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    response(migration.invoke(sign_in()).await.unwrap());
    assert_eq!(
        migration.pid().await.unwrap(),
        pid,
        "the same process reconnected"
    );

    // A query that hangs (a lock, an overloaded server): refused within LEGACY_TIMEOUT_MS, and
    // the next call starts on a new connection.
    let slow = "SELECT password_hash, email FROM legacy_users WHERE username = ? AND SLEEP(IF(username = 'phpbb', 10, 0)) = 0";
    let mut slow_vars = vars(&url, slow);
    slow_vars.push(("LEGACY_TIMEOUT_MS", "1000"));
    let migration = host("user-migration", &slow_vars, Arc::default());
    response(
        migration
            .invoke(migration_event("md5crypt", Some("legacy-md5crypt-pw")))
            .await
            .unwrap(),
    );
    let started = Instant::now();
    let (error_type, _) = refused(
        migration
            .invoke(migration_event("phpbb", Some("legacy-phpbb-pw")))
            .await
            .unwrap(),
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(
        error_type, "NotMigrated",
        "a store failure, not a wrong password"
    );
    response(
        migration
            .invoke(migration_event("md5crypt", Some("legacy-md5crypt-pw")))
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn the_url_and_the_query_are_checked_at_cold_start() {
    let url = legacy_mysql_url();
    for (vars, variable) in [
        (
            vec![
                ("LEGACY_SOURCE", "mysql"),
                ("LEGACY_DATABASE_URL", "postgres://a:b@127.0.0.1/legacy"),
            ],
            "LEGACY_DATABASE_URL",
        ),
        (
            vec![
                ("LEGACY_SOURCE", "mysql"),
                ("LEGACY_DATABASE_URL", "mysql://a:b@db.example.com/legacy"),
            ],
            "LEGACY_DATABASE_URL",
        ),
        (
            vec![
                ("LEGACY_SOURCE", "mysql"),
                ("LEGACY_DATABASE_URL", url.as_str()),
                (
                    "LEGACY_USER_QUERY",
                    "SELECT password_hash FROM legacy_users WHERE username = $1",
                ),
            ],
            "LEGACY_USER_QUERY",
        ),
        (
            vec![
                ("LEGACY_SOURCE", "mysql"),
                ("LEGACY_DATABASE_URL", url.as_str()),
                (
                    "LEGACY_USER_QUERY",
                    "SELECT password_hash FROM legacy_users WHERE username = ? OR email = ?",
                ),
            ],
            "LEGACY_USER_QUERY",
        ),
    ] {
        let migration = host("user-migration", &vars, Arc::default());
        match migration
            .invoke(migration_event("x", Some("y")))
            .await
            .unwrap()
        {
            Invocation::ProcessExited { detail } => {
                assert!(detail.contains(variable), "{vars:?}: {detail}");
                assert!(!detail.contains(":b@"), "{detail}");
            }
            other => panic!("expected a failed cold start, got {other:?}"),
        }
    }
    // A query without the hash column is refused by the store (the first call says so).
    let migration = host(
        "user-migration",
        &vars(&url, "SELECT email FROM legacy_users WHERE username = ?"),
        Arc::default(),
    );
    let (error_type, _) = refused(
        migration
            .invoke(migration_event("wordpress", Some("legacy-wordpress-pw")))
            .await
            .unwrap(),
    );
    assert_ne!(error_type, "NotMigrated");
}

#[tokio::test]
async fn over_tls_the_server_is_checked_against_the_ca_file() {
    let admin = legacy_mysql_url();
    let ca = std::env::var("LEGACY_TEST_MYSQL_CA")
        .expect("LEGACY_TEST_MYSQL_CA: run ./scripts/test (its MariaDB serves TLS with a test CA)");
    let (prefix, location) = admin.split_once('@').unwrap();
    let password = prefix.rsplit(':').next().unwrap();
    // A database user that may only connect over TLS: a migration through it proves the
    // connection was encrypted.
    mysql(
        &admin,
        &format!(
            "CREATE USER IF NOT EXISTS 'tlsonly'@'127.0.0.1' IDENTIFIED BY '{password}' REQUIRE SSL;
             GRANT SELECT ON legacy.* TO 'tlsonly'@'127.0.0.1';"
        ),
    );
    let url = format!("mysql://tlsonly:{password}@{location}?require_ssl=true");
    let mut with_ca = vars(&url, QUERY);
    with_ca.push(("LEGACY_DATABASE_CA_FILE", ca.as_str()));
    let migration = host("user-migration", &with_ca, Arc::default());
    response(
        migration
            .invoke(migration_event("phpbcrypt", Some("legacy-phpbcrypt-pw")))
            .await
            .unwrap(),
    );
    // Without the CA the server's certificate is not trusted: the store fails (it is not a
    // wrong password), and nothing is sent in the clear.
    let output = Arc::new(OutputLog::default());
    let migration = host("user-migration", &vars(&url, QUERY), output.clone());
    let (error_type, _) = refused(
        migration
            .invoke(migration_event("phpbcrypt", Some("legacy-phpbcrypt-pw")))
            .await
            .unwrap(),
    );
    assert_ne!(error_type, "NotMigrated");
    let logs = log_text(&output);
    assert!(
        logs.contains("connecting") && logs.to_lowercase().contains("certificate"),
        "{logs}"
    );
    // And without TLS this user is refused by the server itself.
    let plain = format!("mysql://tlsonly:{password}@{location}");
    let migration = host("user-migration", &vars(&plain, QUERY), Arc::default());
    let (error_type, _) = refused(
        migration
            .invoke(migration_event("phpbcrypt", Some("legacy-phpbcrypt-pw")))
            .await
            .unwrap(),
    );
    assert_ne!(error_type, "NotMigrated");
}

#[tokio::test]
async fn a_query_cut_short_never_hands_its_answer_to_the_next_user() {
    // The handler's own deadline can cancel a query in flight (here: a reconnect, then a hang).
    // The late answer must not reach the next sign-in: it would be another user's row.
    let url = legacy_mysql_url();
    let slow = "SELECT password_hash, email FROM legacy_users WHERE username = ? AND SLEEP(IF(username = 'phpbb', 2, 0)) = 0";
    let mut slow_vars = vars(&url, slow);
    slow_vars.push(("LEGACY_TIMEOUT_MS", "1000"));
    let migration = host("user-migration", &slow_vars, Arc::default());
    response(
        migration
            .invoke(migration_event("md5crypt", Some("legacy-md5crypt-pw")))
            .await
            .unwrap(),
    );
    for _ in 0..2 {
        let (error_type, _) = refused(
            migration
                .invoke(migration_event("phpbb", Some("legacy-phpbb-pw")))
                .await
                .unwrap(),
        );
        assert_ne!(error_type, "NotMigrated");
        // Let the server finish the abandoned query and send its answer.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        for user in ["md5crypt", "sha256crypt"] {
            let answer = response(
                migration
                    .invoke(migration_event(user, Some(&format!("legacy-{user}-pw"))))
                    .await
                    .unwrap(),
            );
            assert_eq!(
                answer["response"]["userAttributes"]["email"],
                format!("{user}@example.com"),
                "{user} got another user's row"
            );
        }
    }
}

#[tokio::test]
async fn a_query_that_names_more_than_one_user_migrates_nobody() {
    // Looked up by e-mail, which two legacy accounts share (WordPress does not index it
    // uniquely): neither password may pick the account.
    let url = legacy_mysql_url();
    mysql(
        &url,
        "INSERT IGNORE INTO legacy_users (username, password_hash, email, email_verified) VALUES
           ('shared1', '$1$lPNDPl.T$7.Ss8cjdheC7euaB7IfQs0', 'shared@example.com', 1),
           ('shared2', '$1$lPNDPl.T$7.Ss8cjdheC7euaB7IfQs0', 'shared@example.com', 1)",
    );
    let by_email = "SELECT password_hash, email FROM legacy_users WHERE email = ?";
    let output = Arc::new(OutputLog::default());
    let migration = host("user-migration", &vars(&url, by_email), output.clone());
    let (error_type, message) = refused(
        migration
            .invoke(migration_event(
                "shared@example.com",
                Some("legacy-md5crypt-pw"),
            ))
            .await
            .unwrap(),
    );
    assert_eq!(
        (error_type.as_str(), message.as_str()),
        ("NotMigrated", "Incorrect username or password")
    );
    assert!(
        log_text(&output).contains("returned 2 rows"),
        "{}",
        log_text(&output)
    );
}
