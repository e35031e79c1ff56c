//! The sample events in `events/`: each parses into its typed model and serializes back to the
//! same JSON (nulls, absent keys and unknown keys as they were), and each gives the documented
//! answer when its handler runs in-process with a fixed clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{console_config, events_dir, fixture};
use std::io::Write;
use std::sync::{Arc, Mutex};

use cognito_passwordless::event::{
    CreateAuthChallengeEvent, DefineAuthChallengeEvent, PreAuthenticationEvent, UserMigrationEvent,
    VerifyAuthChallengeEvent,
};
use cognito_passwordless::sms::ConsoleSender;
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, Handler, VerifyAuthChallenge,
};
use serde_json::{Value, json};

/// When the sample seals were issued (2025-11-22T00:00:00Z).
const SEALED_AT: u64 = 1_763_769_600;

#[test]
fn every_sample_event_round_trips_exactly() {
    let mut count = 0;
    for trigger in std::fs::read_dir(events_dir()).unwrap() {
        for file in std::fs::read_dir(trigger.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let raw: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let back = match raw["triggerSource"].as_str().unwrap() {
                "DefineAuthChallenge_Authentication" => {
                    serde_json::to_value(DefineAuthChallengeEvent::parse(raw.clone()).unwrap())
                }
                "CreateAuthChallenge_Authentication" => {
                    serde_json::to_value(CreateAuthChallengeEvent::parse(raw.clone()).unwrap())
                }
                "VerifyAuthChallengeResponse_Authentication" => {
                    serde_json::to_value(VerifyAuthChallengeEvent::parse(raw.clone()).unwrap())
                }
                "PreAuthentication_Authentication" => {
                    serde_json::to_value(PreAuthenticationEvent::parse(raw.clone()).unwrap())
                }
                "PostAuthentication_Authentication" => serde_json::to_value(
                    cognito_passwordless::event::PostAuthenticationEvent::parse(raw.clone())
                        .unwrap(),
                ),
                "PreSignUp_SignUp" | "PreSignUp_AdminCreateUser" | "PreSignUp_ExternalProvider" => {
                    serde_json::to_value(
                        cognito_passwordless::event::PreSignUpEvent::parse(raw.clone()).unwrap(),
                    )
                }
                "UserMigration_Authentication" | "UserMigration_ForgotPassword" => {
                    serde_json::to_value(UserMigrationEvent::parse(raw.clone()).unwrap())
                }
                other => panic!("{}: no model for {other}", path.display()),
            }
            .unwrap();
            assert_eq!(back, raw, "{}", path.display());
            count += 1;
        }
    }
    assert!(count >= 40, "only {count} sample events");
}

#[tokio::test]
async fn unknown_keys_and_absent_responses_survive() {
    let mut raw = fixture("define-auth-challenge/first-call.json");
    raw["someFutureField"] = json!({"nested": [1, 2]});
    raw["request"]["anotherNewKey"] = json!("kept");
    raw.as_object_mut().unwrap().remove("response");
    let event = DefineAuthChallengeEvent::parse(raw.clone()).unwrap();
    let answered = serde_json::to_value(
        DefineAuthChallenge::new(&console_config())
            .handle(event, SEALED_AT)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(answered["someFutureField"], raw["someFutureField"]);
    assert_eq!(answered["request"]["anotherNewKey"], "kept");
    assert_eq!(answered["response"]["challengeName"], "CUSTOM_CHALLENGE");
}

#[tokio::test]
async fn verify_accepts_the_sealed_sample_code_while_it_is_fresh() {
    let verify = VerifyAuthChallenge::new(&console_config(), None).unwrap();
    let answer = async |file: &str, now: u64| {
        let event = verify
            .invoke(fixture(&format!("verify-auth-challenge/{file}.json")), now)
            .await
            .unwrap();
        event.response.answer_correct
    };
    assert_eq!(answer("right-code", SEALED_AT + 10).await, Some(true));
    assert_eq!(answer("right-code", SEALED_AT + 300).await, Some(true));
    assert_eq!(
        answer("right-code", SEALED_AT + 301).await,
        Some(false),
        "expired"
    );
    assert_eq!(answer("wrong-code", SEALED_AT + 10).await, Some(false));
    assert_eq!(
        answer("malformed-answer", SEALED_AT + 10).await,
        Some(false)
    );
    assert_eq!(answer("user-not-found", SEALED_AT + 10).await, Some(false));
}

/// Verify's answer to `raw` at a time when the sample seals are fresh.
async fn verify_answer(raw: Value) -> Option<bool> {
    let verify = VerifyAuthChallenge::new(&console_config(), None).unwrap();
    verify
        .invoke(raw, SEALED_AT + 10)
        .await
        .unwrap()
        .response
        .answer_correct
}

#[tokio::test]
async fn verify_refuses_a_code_sealed_for_another_user_or_pool() {
    // The sample's code is alice's. On a case-sensitive pool `Alice` is another user (another
    // sub), and whoever gets alice's seal into their own sign-in still cannot pass with it.
    for (name, sub) in [
        ("Alice", "7c1d9e2f-0a4b-4c6d-8e0f-1a2b3c4d5e6f"),
        ("alice", "7c1d9e2f-0a4b-4c6d-8e0f-1a2b3c4d5e6f"),
    ] {
        let mut raw = fixture("verify-auth-challenge/right-code.json");
        raw["userName"] = json!(name);
        raw["request"]["userAttributes"]["sub"] = json!(sub);
        assert_eq!(verify_answer(raw).await, Some(false), "{name}");
    }
    let mut raw = fixture("verify-auth-challenge/right-code.json");
    raw["userPoolId"] = json!("us-east-1_OTHER");
    assert_eq!(verify_answer(raw).await, Some(false));
    // The same holds for the image CAPTCHA.
    let verify =
        VerifyAuthChallenge::new(&config_with(&[("AUTH_FLOW", "captcha,sms_otp")]), None).unwrap();
    let mut raw = fixture("verify-auth-challenge/captcha-image-right.json");
    raw["request"]["userAttributes"]["sub"] = json!("7c1d9e2f-0a4b-4c6d-8e0f-1a2b3c4d5e6f");
    let answered = verify.invoke(raw, SEALED_AT + 10).await.unwrap();
    assert_eq!(answered.response.answer_correct, Some(false));
    // And the seal itself names its user: the untouched sample still passes.
    let raw = fixture("verify-auth-challenge/right-code.json");
    assert_eq!(verify_answer(raw).await, Some(true));
}

#[tokio::test]
async fn verify_refuses_a_real_seal_for_an_unknown_user() {
    let mut raw = fixture("verify-auth-challenge/right-code.json");
    raw["request"]["userNotFound"] = json!(true);
    assert_eq!(verify_answer(raw).await, Some(false));
}

#[tokio::test]
async fn verify_treats_odd_private_parameters_as_wrong() {
    for private in [
        json!(null),
        json!({}),
        json!({"challenge": "CAPTCHA", "seal": "x"}),
        json!({"challenge": "CAPTCHA", "provider": "image", "seal": "x"}),
        json!({"challenge": "CAPTCHA", "provider": "turnstile"}),
        json!({"challenge": "SMS_OTP", "seal": "v1.garbage"}),
    ] {
        let mut raw = fixture("verify-auth-challenge/right-code.json");
        raw["request"]["privateChallengeParameters"] = private.clone();
        assert_eq!(verify_answer(raw).await, Some(false), "{private}");
    }
}

#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<u8>>>);

impl Inbox {
    /// How many messages the console sender wrote (one line each).
    fn count(&self) -> usize {
        self.text().lines().count()
    }

    /// Everything written so far.
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// The digits that start the newest message's text (after its last ` | `).
    fn latest_code(&self) -> String {
        self.text()
            .rsplit(" | ")
            .next()
            .unwrap()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect()
    }
}

impl Write for Inbox {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn create_then_verify_accepts_only_the_sent_code() {
    let inbox = Inbox::default();
    let config = console_config();
    let create = CreateAuthChallenge::new(
        &config,
        Arc::new(ConsoleSender::new(Box::new(inbox.clone()))),
    )
    .unwrap();
    let verify = VerifyAuthChallenge::new(&config, None).unwrap();
    let now = 1_800_000_000;

    let created = create
        .invoke(fixture("create-auth-challenge/first-round.json"), now)
        .await
        .unwrap();
    let sent = inbox.text();
    let code = inbox.latest_code();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{sent}"
    );

    let mut attempt = fixture("verify-auth-challenge/right-code.json");
    attempt["userPoolId"] = json!(created.user_pool_id);
    attempt["request"]["privateChallengeParameters"] =
        serde_json::to_value(created.response.private_challenge_parameters.clone()).unwrap();
    for (answer, now, expected) in [
        (code.as_str(), now + 1, true),
        ("000000", now + 1, code == "000000"),
        (code.as_str(), now + 301, false),
    ] {
        attempt["request"]["challengeAnswer"] = json!(answer);
        assert_eq!(
            verify
                .invoke(attempt.clone(), now)
                .await
                .unwrap()
                .response
                .answer_correct,
            Some(expected)
        );
    }
}

#[tokio::test]
async fn create_for_a_password_first_session_with_the_sms_only_flow_is_refused() {
    let create = CreateAuthChallenge::new(
        &console_config(),
        Arc::new(ConsoleSender::new(Box::new(std::io::sink()))),
    )
    .unwrap();
    let mut raw = fixture("create-auth-challenge/first-round.json");
    raw["request"]["session"] =
        json!([{"challengeName": "SRP_A", "challengeResult": true, "challengeMetadata": null}]);
    let error = create.invoke(raw, SEALED_AT).await.unwrap_err();
    assert_eq!(error.user_message(), "The sign-in request was not valid");
    let mut raw = fixture("create-auth-challenge/first-round.json");
    raw["request"]["challengeName"] = json!("PASSWORD_VERIFIER");
    assert!(create.invoke(raw, SEALED_AT).await.is_err());
}

fn config_with(vars: &[(&str, &str)]) -> cognito_passwordless::config::Config {
    cognito_passwordless::config::Config::from_pairs(
        &[&[("SMS_PROVIDER", "console")][..], vars].concat(),
    )
    .unwrap()
}

#[tokio::test]
async fn define_answers_every_flow_sample() {
    let custom = (Some("CUSTOM_CHALLENGE"), false, false);
    let verifier = (Some("PASSWORD_VERIFIER"), false, false);
    let tokens = (None, true, false);
    let fail = (None, false, true);
    for (file, flow, expected) in [
        ("first-call", "captcha,sms_otp", custom),
        ("captcha-sms-after-wrong-captcha", "captcha,sms_otp", custom),
        ("captcha-sms-after-captcha", "captcha,sms_otp", custom),
        (
            "captcha-sms-after-captcha-and-code",
            "captcha,sms_otp",
            tokens,
        ),
        // The same session under the SMS-only flow: a CAPTCHA round it never asked for.
        ("captcha-sms-after-captcha", "sms_otp", fail),
        ("after-right-code", "captcha,sms_otp", fail),
        ("password-first", "password,captcha", verifier),
        (
            "password-captcha-after-password",
            "password,captcha",
            custom,
        ),
        ("password-captcha-after-captcha", "password,captcha", tokens),
        ("password-verifier-failed", "password,captcha", fail),
        ("password-verifier-failed", "password,sms_otp", fail),
        ("password-first", "password,sms_otp", verifier),
        ("password-sms-after-code", "password,sms_otp", tokens),
        (
            "password-captcha-sms-after-captcha",
            "password,captcha,sms_otp",
            custom,
        ),
        (
            "password-captcha-after-captcha",
            "password,captcha,sms_otp",
            custom,
        ),
        ("password-sms-after-code", "password,captcha,sms_otp", fail),
        ("first-call", "password,captcha", fail),
        ("first-call", "email_otp", custom),
        ("after-email-code", "email_otp", tokens),
        // An e-mail round under the SMS flow, and the other way round: out of place.
        ("after-email-code", "sms_otp", fail),
        ("after-right-code", "email_otp", fail),
    ] {
        let define = DefineAuthChallenge::new(&config_with(&[("AUTH_FLOW", flow)]));
        let answered = define
            .invoke(
                fixture(&format!("define-auth-challenge/{file}.json")),
                SEALED_AT,
            )
            .await
            .unwrap();
        let (challenge, issue, fail) = expected;
        assert_eq!(
            serde_json::to_value(&answered.response).unwrap(),
            json!({"challengeName": challenge, "issueTokens": issue, "failAuthentication": fail}),
            "{file} under {flow}"
        );
    }
}

#[tokio::test]
async fn verify_accepts_the_image_sample_in_any_case_until_it_expires() {
    let verify =
        VerifyAuthChallenge::new(&config_with(&[("AUTH_FLOW", "captcha,sms_otp")]), None).unwrap();
    let answer = async |file: &str, now: u64| {
        verify
            .invoke(fixture(&format!("verify-auth-challenge/{file}.json")), now)
            .await
            .unwrap()
            .response
            .answer_correct
    };
    assert_eq!(
        answer("captcha-image-right", SEALED_AT + 10).await,
        Some(true)
    );
    assert_eq!(
        answer("captcha-image-right", SEALED_AT + 300).await,
        Some(true)
    );
    assert_eq!(
        answer("captcha-image-right", SEALED_AT + 301).await,
        Some(false)
    );
    assert_eq!(
        answer("captcha-image-wrong", SEALED_AT + 10).await,
        Some(false)
    );
    // A widget round never passes an image-configured Verify.
    assert_eq!(
        answer("captcha-widget-token", SEALED_AT + 10).await,
        Some(false)
    );
}

#[tokio::test]
async fn create_asks_the_captcha_after_the_password_and_sends_nothing() {
    let inbox = Inbox::default();
    let create = CreateAuthChallenge::new(
        &config_with(&[("AUTH_FLOW", "password,captcha")]),
        Arc::new(ConsoleSender::new(Box::new(inbox.clone()))),
    )
    .unwrap();
    let answered = create
        .invoke(
            fixture("create-auth-challenge/captcha-after-password.json"),
            SEALED_AT,
        )
        .await
        .unwrap();
    let public = answered.response.public_challenge_parameters.unwrap();
    assert_eq!(public["challenge"], "CAPTCHA");
    assert!(public["captchaImage"].starts_with("data:image/png;base64,"));
    assert_eq!(
        answered.response.challenge_metadata.as_deref(),
        Some("CAPTCHA:image")
    );
    assert!(inbox.0.lock().unwrap().is_empty());
    // The SMS-only sample session cannot get a CAPTCHA under this flow.
    assert!(
        create
            .invoke(fixture("create-auth-challenge/first-round.json"), SEALED_AT)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn pre_authentication_answers_every_sample_by_policy() {
    let strict = config_with(&[
        ("PREAUTH_ALLOWED_CLIENT_IDS", "1example23456789abcdefghij"),
        ("PREAUTH_BLOCKED_ATTRIBUTE", "custom:blocked"),
        ("PREAUTH_REQUIRE_VERIFIED_PHONE", "true"),
        ("PREAUTH_REQUIRED_VALIDATION_KEYS", "deviceId"),
    ]);
    let strict = cognito_passwordless::triggers::PreAuthentication::new(&strict);
    let open = cognito_passwordless::triggers::PreAuthentication::new(&console_config());
    for (file, allowed_when_strict) in [
        ("allowed", true),
        ("blocked-user", false),
        ("no-verified-phone", false),
        ("unknown-client", false),
        ("no-validation-data", false),
        // An unknown user is not denied for what it lacks: that would tell it does not exist.
        ("user-not-found", true),
    ] {
        let raw = fixture(&format!("pre-authentication/{file}.json"));
        let answered = open.invoke(raw.clone(), SEALED_AT).await.unwrap();
        assert_eq!(
            serde_json::to_value(&answered).unwrap(),
            raw,
            "{file}: the event comes back as it came"
        );
        match strict.invoke(raw.clone(), SEALED_AT).await {
            Ok(answered) => {
                assert!(allowed_when_strict, "{file} allowed");
                assert_eq!(serde_json::to_value(&answered.response).unwrap(), json!({}));
            }
            Err(error) => {
                assert!(!allowed_when_strict, "{file} denied: {error}");
                assert_eq!(
                    error.user_message(),
                    "Sign-in is not allowed for this account"
                );
                assert_eq!(error.error_type(), "SignInDenied");
            }
        }
    }
}

/// A legacy store in memory: `bcrypt2a` with its password and a verified e-mail.
#[derive(Debug)]
struct MemoryStore;

impl cognito_passwordless::legacy::LegacyUserSource for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a cognito_passwordless::event::Password,
    ) -> cognito_passwordless::legacy::LookupFuture<'a> {
        Box::pin(async move {
            Ok(match (username, password.expose()) {
                ("bcrypt2a", "legacy-bcrypt2a-pw") => {
                    cognito_passwordless::legacy::Lookup::Found(record())
                }
                ("bcrypt2a", _) => cognito_passwordless::legacy::Lookup::WrongPassword,
                _ => cognito_passwordless::legacy::Lookup::NotFound,
            })
        })
    }
    fn find<'a>(&'a self, username: &'a str) -> cognito_passwordless::legacy::LookupFuture<'a> {
        Box::pin(async move {
            Ok(if username == "bcrypt2a" {
                cognito_passwordless::legacy::Lookup::Found(record())
            } else {
                cognito_passwordless::legacy::Lookup::NotFound
            })
        })
    }
}

fn record() -> cognito_passwordless::legacy::LegacyRecord {
    cognito_passwordless::legacy::LegacyRecord {
        attributes: [
            ("email", "bcrypt2a@example.com"),
            ("email_verified", "true"),
            ("given_name", "Ada"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
    }
}

#[tokio::test]
async fn user_migration_answers_every_sample() {
    let config = config_with(&[
        ("LEGACY_SOURCE", "http"),
        ("LEGACY_HTTP_URL", "https://legacy.example.com/auth"),
        ("MIGRATION_FORGOT_PASSWORD", "true"),
    ]);
    let migration = cognito_passwordless::triggers::UserMigration::new(
        config.migration.as_ref().unwrap(),
        Arc::new(MemoryStore),
    );
    let answered = migration
        .invoke(fixture("user-migration/authentication.json"), 1_800_000_000)
        .await
        .unwrap();
    let response = serde_json::to_value(&answered.response).unwrap();
    assert_eq!(
        response,
        json!({
            "userAttributes": {"email": "bcrypt2a@example.com", "email_verified": "true", "given_name": "Ada"},
            "finalUserStatus": "CONFIRMED",
            "messageAction": "SUPPRESS",
            "desiredDeliveryMediums": null,
            "forceAliasCreation": null,
            "enableSMSMFA": null
        })
    );
    let forgot = migration
        .invoke(
            fixture("user-migration/forgot-password.json"),
            1_800_000_000,
        )
        .await
        .unwrap();
    assert_eq!(forgot.response.final_user_status, None);
    assert!(forgot.response.user_attributes.is_some());
    // Unknown user and wrong password: one error, one text.
    for file in ["wrong-password", "unknown-user"] {
        let error = migration
            .invoke(
                fixture(&format!("user-migration/{file}.json")),
                1_800_000_000,
            )
            .await
            .unwrap_err();
        assert_eq!(
            error.user_message(),
            "Incorrect username or password",
            "{file}"
        );
        assert_eq!(error.error_type(), "NotMigrated", "{file}");
        assert!(!format!("{error:?}").contains("not-the-password"));
    }
    // A sign-in event without a password is malformed, not a lookup.
    let mut raw = fixture("user-migration/authentication.json");
    raw["request"].as_object_mut().unwrap().remove("password");
    assert_eq!(
        migration
            .invoke(raw, 1_800_000_000)
            .await
            .unwrap_err()
            .error_type(),
        "MalformedEvent"
    );
    // Debug output of a parsed event never shows the password.
    let event = UserMigrationEvent::parse(fixture("user-migration/authentication.json")).unwrap();
    assert!(!format!("{event:?}").contains("legacy-bcrypt2a-pw"));
}

/// A Create handler with the console sender, configured by `pairs` on top of it.
fn create_with(pairs: &[(&str, &str)]) -> CreateAuthChallenge {
    let config = cognito_passwordless::config::Config::from_lookup(|name| {
        if name == "SMS_PROVIDER" {
            return Some("console".to_owned());
        }
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .unwrap();
    CreateAuthChallenge::new(
        &config,
        Arc::new(ConsoleSender::new(Box::new(Inbox::default()))),
    )
    .unwrap()
}

#[tokio::test]
async fn a_retry_after_a_decoy_round_is_a_decoy_and_unreadable_metadata_is_refused() {
    let create = create_with(&[]);
    let mut retry = fixture("create-auth-challenge/retry-after-wrong-code.json");
    retry["request"]["userNotFound"] = json!(true);
    retry["request"]["session"][0]["challengeMetadata"] = json!("SMS_OTP:decoy");
    let created = create.invoke(retry.clone(), SEALED_AT + 10).await.unwrap();
    assert_eq!(
        created.response.challenge_metadata.as_deref(),
        Some("SMS_OTP:decoy")
    );
    for unreadable in [
        "SMS_OTP:garbage",
        "SMS_OTP",
        "CAPTCHA:decoy",
        "SMS_OTPdecoy",
    ] {
        retry["request"]["session"][0]["challengeMetadata"] = json!(unreadable);
        assert!(
            create.invoke(retry.clone(), SEALED_AT + 10).await.is_err(),
            "{unreadable}"
        );
    }
}

#[tokio::test]
async fn the_phone_hint_shows_an_unverified_phones_own_digits() {
    // A user whose phone is not verified gets no code, but the hint (PHONE_HINT=last4) shows the
    // number on file, as for a verified one: the hint alone must not tell them apart.
    let create = create_with(&[
        ("PHONE_HINT", "last4"),
        ("PHONE_HINT_SECRET", &"k".repeat(32)),
    ]);
    let created = create
        .invoke(
            fixture("create-auth-challenge/unverified-phone.json"),
            SEALED_AT,
        )
        .await
        .unwrap();
    let public = created.response.public_challenge_parameters.unwrap();
    assert_eq!(public["maskedPhone"], "+*******0142");
    // And a verified one's, the number the code goes to.
    let created = create
        .invoke(fixture("create-auth-challenge/first-round.json"), SEALED_AT)
        .await
        .unwrap();
    let public = created.response.public_challenge_parameters.unwrap();
    assert_eq!(public["maskedPhone"], "+*******0100");
}

#[tokio::test]
async fn an_answer_that_comes_with_an_action_is_never_compared() {
    // The right code, fresh: it passes alone, and is wrong when it comes with a request for a
    // new code (asking is never a free guess).
    let verify = VerifyAuthChallenge::new(&console_config(), None).unwrap();
    let answer = async |event: Value| {
        verify
            .invoke(event, SEALED_AT + 10)
            .await
            .unwrap()
            .response
            .answer_correct
    };
    let right = fixture("verify-auth-challenge/right-code.json");
    let with_action = fixture("verify-auth-challenge/resend-action.json");
    assert_eq!(
        with_action["request"]["challengeAnswer"],
        right["request"]["challengeAnswer"]
    );
    assert_eq!(answer(right.clone()).await, Some(true));
    assert_eq!(answer(with_action).await, Some(false));
    // Any action value, not only the ones Define knows.
    let mut other = right.clone();
    other["request"]["clientMetadata"] = json!({"otpAction": "switch"});
    assert_eq!(answer(other).await, Some(false));
    // Other client metadata changes nothing.
    let mut unrelated = right;
    unrelated["request"]["clientMetadata"] = json!({"locale": "en-US", "otpAction": " "});
    assert_eq!(answer(unrelated).await, Some(true));
}

#[tokio::test]
async fn define_goes_on_after_a_resend_request_and_refuses_one_past_the_limit() {
    let answer = async |pairs: &[(&str, &str)], file: &str| {
        DefineAuthChallenge::new(&config_with(pairs))
            .invoke(
                fixture(&format!("define-auth-challenge/{file}.json")),
                SEALED_AT,
            )
            .await
            .map(|event| serde_json::to_value(event.response).unwrap())
    };
    assert_eq!(
        answer(&[], "resend-requested").await.unwrap(),
        json!({"challengeName": "CUSTOM_CHALLENGE", "issueTokens": false, "failAuthentication": false})
    );
    assert_eq!(
        answer(&[], "after-resent-code").await.unwrap(),
        json!({"challengeName": null, "issueTokens": true, "failAuthentication": false})
    );
    // Wrong, a request, wrong: two wrong answers, a third try. Read without the `;resent` flag,
    // it would be three wrong answers and a failure.
    assert_eq!(
        answer(&[], "wrong-resend-wrong").await.unwrap(),
        json!({"challengeName": "CUSTOM_CHALLENGE", "issueTokens": false, "failAuthentication": false})
    );
    let mut unflagged = fixture("define-auth-challenge/wrong-resend-wrong.json");
    unflagged["request"]["session"][2]["challengeMetadata"] = json!(
        unflagged["request"]["session"][2]["challengeMetadata"]
            .as_str()
            .unwrap()
            .trim_end_matches(";resent")
    );
    let failed = DefineAuthChallenge::new(&config_with(&[]))
        .invoke(unflagged, SEALED_AT)
        .await
        .unwrap();
    assert_eq!(failed.response.fail_authentication, Some(true));
    let refused = answer(&[("OTP_MAX_RESENDS", "0")], "resend-requested")
        .await
        .unwrap_err();
    assert_eq!(refused.error_type(), "TooManyResends");
    assert_eq!(
        refused.user_message(),
        "No more codes can be sent for this sign-in"
    );
    // Without the request, the same session is a wrong answer, whatever the limit.
    assert_eq!(
        answer(&[("OTP_MAX_RESENDS", "0")], "after-wrong-code")
            .await
            .unwrap()["challengeName"],
        "CUSTOM_CHALLENGE"
    );
}

#[tokio::test]
async fn create_sends_a_new_code_for_a_resend_and_marks_the_round() {
    let inbox = Inbox::default();
    let config = config_with(&[]);
    let create = CreateAuthChallenge::new(
        &config,
        Arc::new(ConsoleSender::new(Box::new(inbox.clone()))),
    )
    .unwrap();
    let event = fixture("create-auth-challenge/resend.json");
    let previous = event["request"]["session"][0]["challengeMetadata"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = create.invoke(event.clone(), SEALED_AT + 60).await.unwrap();
    let metadata = created.response.challenge_metadata.clone().unwrap();
    assert!(
        metadata.starts_with("SMS_OTP:v2.") && metadata.ends_with(";resent"),
        "{metadata}"
    );
    assert_ne!(metadata, format!("{previous};resent"), "a new code");
    let private = created.response.private_challenge_parameters.unwrap();
    assert_eq!(
        Some(private["seal"].as_str()),
        metadata
            .strip_prefix("SMS_OTP:")
            .and_then(|rest| rest.strip_suffix(";resent"))
    );
    let public = created.response.public_challenge_parameters.unwrap();
    assert_eq!(
        public["attemptsLeft"], "3",
        "the request used up no attempt"
    );
    assert_eq!(public["resendsLeft"], "1");
    assert_eq!(public["channel"], "sms");
    assert_eq!(inbox.count(), 1, "one SMS for the resend");

    // The same request without the action is a retry: the earlier code, no SMS.
    let mut retry = event.clone();
    retry["request"]
        .as_object_mut()
        .unwrap()
        .remove("clientMetadata");
    let created = create.invoke(retry, SEALED_AT + 60).await.unwrap();
    assert_eq!(
        created.response.challenge_metadata.as_deref(),
        Some(previous.as_str())
    );
    assert_eq!(inbox.count(), 1);

    // An unknown user's resend is a decoy, marked the same way, with no SMS.
    let mut unknown = event;
    unknown["request"]["userNotFound"] = json!(true);
    unknown["request"]["session"][0]["challengeMetadata"] = json!("SMS_OTP:decoy");
    let created = create.invoke(unknown, SEALED_AT + 60).await.unwrap();
    assert_eq!(
        created.response.challenge_metadata.as_deref(),
        Some("SMS_OTP:decoy;resent")
    );
    assert_eq!(inbox.count(), 1);
}

#[tokio::test]
async fn the_sms_is_in_the_users_language_and_bound_to_the_web_origin() {
    let inbox = Inbox::default();
    let config = config_with(&[("OTP_WEB_ORIGIN", "https://login.example.com")]);
    let create = CreateAuthChallenge::new(
        &config,
        Arc::new(ConsoleSender::new(Box::new(inbox.clone()))),
    )
    .unwrap();
    let mut event = fixture("create-auth-challenge/first-round.json");
    event["request"]["userAttributes"]["locale"] = json!("es-MX");
    create.invoke(event.clone(), SEALED_AT).await.unwrap();
    let spanish = inbox.text();
    let code = inbox.latest_code();
    assert_eq!(code.len(), 6, "{spanish}");
    assert!(
        spanish.contains(&format!("{code} es su clave de acceso.")),
        "{spanish}"
    );
    // The console shows the body's line breaks escaped: the last line is the origin-bound one.
    assert!(
        spanish
            .trim_end()
            .ends_with(&format!("\\n\\n@login.example.com #{code}")),
        "{spanish}"
    );
    // A locale without a text of its own: English.
    event["request"]["userAttributes"]["locale"] = json!("sw");
    create.invoke(event, SEALED_AT).await.unwrap();
    let both = inbox.text();
    assert!(
        both.lines()
            .nth(1)
            .unwrap()
            .contains(" is your sign-in code."),
        "{both}"
    );
}

#[tokio::test]
async fn the_email_step_sends_one_code_to_a_verified_address_and_only_that_code_passes() {
    use cognito_passwordless::email::ConsoleEmailSender;
    let inbox = Inbox::default();
    let sms = Inbox::default();
    let config = config_with(&[("AUTH_FLOW", "email_otp"), ("EMAIL_PROVIDER", "console")]);
    let create =
        CreateAuthChallenge::new(&config, Arc::new(ConsoleSender::new(Box::new(sms.clone()))))
            .unwrap()
            .with_email_sender(Arc::new(ConsoleEmailSender::new(Box::new(inbox.clone()))));
    let verify = VerifyAuthChallenge::new(&config, None).unwrap();
    let created = create
        .invoke(fixture("create-auth-challenge/first-round.json"), SEALED_AT)
        .await
        .unwrap();
    let metadata = created.response.challenge_metadata.clone().unwrap();
    assert!(metadata.starts_with("EMAIL_OTP:v2."), "{metadata}");
    let public = created
        .response
        .public_challenge_parameters
        .clone()
        .unwrap();
    assert_eq!(public["challenge"], "EMAIL_OTP");
    assert_eq!(public["channel"], "email");
    assert!(!public.contains_key("maskedPhone"));
    assert_eq!(sms.count(), 0, "no SMS");
    assert_eq!(inbox.count(), 1, "one e-mail");
    let sent = inbox.text();
    assert!(
        sent.starts_with("[console-email] to=a***@example.com | "),
        "{sent}"
    );
    let code = inbox.latest_code();
    assert_eq!(code.len(), 6, "{sent}");
    let mut answer = fixture("verify-auth-challenge/right-code.json");
    answer["request"]["privateChallengeParameters"] =
        serde_json::to_value(created.response.private_challenge_parameters.clone()).unwrap();
    for (given, expected) in [
        (cognito_passwordless::otp::wrong_answer_for(&code), false),
        (code.clone(), true),
    ] {
        answer["request"]["challengeAnswer"] = json!(given);
        let verdict = verify.invoke(answer.clone(), SEALED_AT + 5).await.unwrap();
        assert_eq!(verdict.response.answer_correct, Some(expected));
    }
    // An address that is not verified, or none, or an unknown user: the same challenge, a
    // decoy, no e-mail.
    let decoys = [
        fixture("create-auth-challenge/unverified-email.json"),
        {
            let mut none = fixture("create-auth-challenge/first-round.json");
            none["request"]["userAttributes"]
                .as_object_mut()
                .unwrap()
                .remove("email");
            none
        },
        fixture("create-auth-challenge/user-not-found.json"),
    ];
    for event in decoys {
        let created = create.invoke(event, SEALED_AT).await.unwrap();
        assert_eq!(
            created.response.challenge_metadata.as_deref(),
            Some("EMAIL_OTP:decoy")
        );
        let shape = created.response.public_challenge_parameters.unwrap();
        assert_eq!(
            shape.keys().collect::<Vec<_>>(),
            public.keys().collect::<Vec<_>>()
        );
    }
    assert_eq!(inbox.count(), 1, "still one e-mail");
    // Without an e-mail sender, the e-mail flow cannot send: an error, never a silent decoy.
    let unwired =
        CreateAuthChallenge::new(&config, Arc::new(ConsoleSender::new(Box::new(sms.clone()))))
            .unwrap();
    let error = unwired
        .invoke(fixture("create-auth-challenge/first-round.json"), SEALED_AT)
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "ConfigurationError");
}

/// The `otp` step's samples: a switch to e-mail asked for after an SMS round; a first round for a
/// user who prefers calls.
#[tokio::test]
async fn the_otp_step_samples_switch_channels_and_follow_the_preference() {
    let config = config_with(&[
        ("AUTH_FLOW", "otp"),
        ("OTP_CHANNELS", "sms,email,voice"),
        ("SEAL_KEY", "a-seal-key-of-at-least-32-characters"),
        ("EMAIL_PROVIDER", "console"),
        ("OTP_PREFERRED_CHANNEL_ATTRIBUTE", "custom:otp_channel"),
    ]);
    // Define: the switch is a request, not a wrong answer.
    let decided = DefineAuthChallenge::new(&config)
        .invoke(
            fixture("define-auth-challenge/otp-switch-requested.json"),
            SEALED_AT,
        )
        .await
        .unwrap();
    assert_eq!(
        decided.response.challenge_name.as_deref(),
        Some("CUSTOM_CHALLENGE")
    );
    assert_eq!(decided.response.fail_authentication, Some(false));

    let sms = Inbox::default();
    let email = Inbox::default();
    let create =
        CreateAuthChallenge::new(&config, Arc::new(ConsoleSender::new(Box::new(sms.clone()))))
            .unwrap()
            .with_email_sender(Arc::new(
                cognito_passwordless::email::ConsoleEmailSender::new(Box::new(email.clone())),
            ));
    let created = create
        .invoke(
            fixture("create-auth-challenge/otp-switch-to-email.json"),
            SEALED_AT + 60,
        )
        .await
        .unwrap();
    let metadata = created.response.challenge_metadata.unwrap();
    assert!(
        metadata.starts_with("OTP:v2") && metadata.ends_with(";via=email;resent"),
        "{metadata}"
    );
    let public = created.response.public_challenge_parameters.unwrap();
    assert_eq!(public["channel"], "email");
    assert_eq!(public["channels"], "sms,voice");
    assert_eq!(public["attemptsLeft"], "3");
    assert_eq!(public["resendsLeft"], "1");
    assert_eq!(
        (sms.count(), email.count()),
        (0, 1),
        "one e-mail, nothing else"
    );

    // A user who prefers calls, in French: the call reads the French text in a French voice.
    let created = create
        .invoke(
            fixture("create-auth-challenge/otp-first-round-prefers-voice.json"),
            SEALED_AT,
        )
        .await
        .unwrap();
    let public = created.response.public_challenge_parameters.unwrap();
    assert_eq!(public["channel"], "voice");
    assert_eq!(public["channels"], "sms,email");
    assert!(
        created
            .response
            .challenge_metadata
            .unwrap()
            .ends_with(";via=voice")
    );
    let call = sms.text();
    assert!(
        call.starts_with(
            "[console-voice] to=+*******0100 voice=LEA | Votre code de connexion est "
        ),
        "{call}"
    );
}
