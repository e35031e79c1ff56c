//! `VERIFY_ON_FIRST_SIGN_IN` across the three triggers that carry it: Create sends to an
//! unverified destination and says what a right answer proves, Verify notes the proof, and
//! PostAuthentication takes the note and marks the destination verified.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{CreateAuthChallenge, Handler, PostAuthentication, VerifyAuthChallenge};
use crate::config::Config;
use crate::state::{FailureMode, MemoryStore, StateStore, UserRef, proven_note, test_guard};
use crate::user_pool::{AdminFuture, UserPoolAdmin};

const POOL: &str = "us-east-1_EXAMPLE1";
const SUB: &str = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

/// One `mark_verified` call: the pool, the user name, the proved attributes and values.
type AdminCall = (String, String, Vec<(&'static str, String)>);

/// Records each `mark_verified` call; fails them when asked to.
#[derive(Debug, Default)]
struct Admin {
    calls: Mutex<Vec<AdminCall>>,
    fail: bool,
}

impl UserPoolAdmin for Admin {
    fn mark_verified<'a>(
        &'a self,
        pool_id: &'a str,
        user_name: &'a str,
        proved: &'a [(&'static str, &'a str)],
    ) -> AdminFuture<'a> {
        self.calls.lock().unwrap().push((
            pool_id.to_owned(),
            user_name.to_owned(),
            proved
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
        ));
        let fail = self.fail;
        Box::pin(async move {
            if fail {
                Err("AliasExistsException".to_owned())
            } else {
                Ok(())
            }
        })
    }
}

#[derive(Clone, Default)]
struct Outbox(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Outbox {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Outbox {
    /// The code in the last message (the first run of six digits after the recipient).
    fn last_code(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).to_string();
        let line = text.lines().last()?.to_owned();
        let body = line.split_once('|')?.1.to_owned();
        body.split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == 6)
            .map(str::to_owned)
    }
    fn messages(&self) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .count()
    }
}

struct World {
    create: CreateAuthChallenge,
    verify: VerifyAuthChallenge,
    post: PostAuthentication,
    store: Arc<MemoryStore>,
    admin: Arc<Admin>,
    outbox: Outbox,
}

fn world(verify_on_first_sign_in: bool, failing_admin: bool) -> World {
    let flag = if verify_on_first_sign_in {
        "true"
    } else {
        "false"
    };
    let config = Config::from_pairs(&[
        ("SMS_PROVIDER", "console"),
        ("STATE_TABLE", "state"),
        ("SEAL_KEY", "0123456789abcdef0123456789abcdef"),
        ("VERIFY_ON_FIRST_SIGN_IN", flag),
    ])
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    let guard = || Some(test_guard(store.clone(), FailureMode::Closed));
    let outbox = Outbox::default();
    let admin = Arc::new(Admin {
        fail: failing_admin,
        ..Admin::default()
    });
    World {
        create: CreateAuthChallenge::new(
            &config,
            Arc::new(crate::sms::ConsoleSender::new(Box::new(outbox.clone()))),
        )
        .unwrap()
        .with_guard(guard()),
        verify: VerifyAuthChallenge::new(&config, None)
            .unwrap()
            .with_guard(guard()),
        post: PostAuthentication::new(&config)
            .unwrap()
            .with_guard(guard())
            .with_verifier(Some(admin.clone() as Arc<dyn UserPoolAdmin>)),
        store,
        admin,
        outbox,
    }
}

fn attributes(phone: &str, verified: &str) -> Value {
    json!({
        "sub": SUB, "cognito:user_status": "CONFIRMED",
        "phone_number": phone, "phone_number_verified": verified
    })
}

fn envelope(source: &str, attributes: &Value, request: Value) -> Value {
    let mut request = request;
    request["userAttributes"] = attributes.clone();
    json!({
        "version": "1", "region": "us-east-1", "userPoolId": POOL, "userName": "bob",
        "callerContext": {"awsSdkVersion": "x", "clientId": "web"},
        "triggerSource": source, "request": request, "response": {}
    })
}

/// Create's first round for the user with `attributes`: its private parameters and metadata.
async fn first_round(world: &World, attributes: &Value, now: u64) -> (Value, String) {
    let event = envelope(
        "CreateAuthChallenge_Authentication",
        attributes,
        json!({"challengeName": "CUSTOM_CHALLENGE", "session": []}),
    );
    let created = world.create.invoke(event, now).await.unwrap();
    let created = serde_json::to_value(created).unwrap();
    (
        created["response"]["privateChallengeParameters"].clone(),
        created["response"]["challengeMetadata"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn answer(world: &World, attributes: &Value, private: &Value, code: &str, now: u64) -> bool {
    let event = envelope(
        "VerifyAuthChallengeResponse_Authentication",
        attributes,
        json!({"privateChallengeParameters": private, "challengeAnswer": code}),
    );
    let verified = world.verify.invoke(event, now).await.unwrap();
    verified.response.answer_correct == Some(true)
}

async fn signed_in(world: &World, attributes: &Value, now: u64) {
    let event = envelope(
        "PostAuthentication_Authentication",
        attributes,
        json!({"newDeviceUsed": false}),
    );
    world.post.invoke(event, now).await.unwrap();
}

fn calls(world: &World) -> Vec<AdminCall> {
    world.admin.calls.lock().unwrap().clone()
}

#[tokio::test]
async fn the_first_right_code_to_an_unverified_phone_verifies_it_once() {
    let world = world(true, false);
    let bob = attributes("+12065550142", "false");
    let (private, metadata) = first_round(&world, &bob, 1_000).await;
    assert_eq!(
        world.outbox.messages(),
        1,
        "the code went to the unverified phone"
    );
    assert!(
        private["proves"]
            .as_str()
            .unwrap()
            .starts_with("phone_number.")
    );
    assert!(metadata.contains(";proves=phone_number."), "{metadata}");
    let code = world.outbox.last_code().unwrap();
    assert!(answer(&world, &bob, &private, &code, 1_010).await);
    signed_in(&world, &bob, 1_011).await;
    assert_eq!(
        calls(&world),
        vec![(
            POOL.to_owned(),
            "bob".to_owned(),
            vec![("phone_number", "+12065550142".to_owned())]
        )]
    );
    // The note is taken: another sign-in's PostAuthentication verifies nothing more.
    signed_in(&world, &bob, 1_012).await;
    assert_eq!(calls(&world).len(), 1);
}

#[tokio::test]
async fn no_proof_without_a_right_answer_or_for_another_value_or_user() {
    let world = world(true, false);
    let bob = attributes("+12065550142", "false");
    let (private, _) = first_round(&world, &bob, 1_000).await;
    let code = world.outbox.last_code().unwrap();
    let wrong = crate::otp::wrong_answer_for(&code);
    assert!(!answer(&world, &bob, &private, &wrong, 1_010).await);
    signed_in(&world, &bob, 1_011).await;
    assert!(calls(&world).is_empty(), "a wrong answer proves nothing");

    // The number changed between the send and the answer: the right code proves the old
    // number only, so nothing is noted for the new one.
    let changed = attributes("+12065550199", "false");
    assert!(answer(&world, &changed, &private, &code, 1_020).await);
    signed_in(&world, &changed, 1_021).await;
    signed_in(&world, &bob, 1_022).await;
    assert!(calls(&world).is_empty(), "{:?}", calls(&world));

    // A note for this user and the old number never verifies the new one.
    let known: crate::event::StringMap = [("sub".to_owned(), SUB.to_owned())].into();
    let owner = UserRef::from_event("bob", &known, false);
    let (pk, sk) = proven_note(POOL, &owner, "phone_number", "+12065550142");
    world.store.put_note(&pk, &sk, 5_000).await.unwrap();
    signed_in(&world, &changed, 1_030).await;
    assert!(calls(&world).is_empty());
}

#[tokio::test]
async fn the_number_changed_after_the_answer_is_not_verified_by_it() {
    let world = world(true, false);
    let bob = attributes("+12065550142", "false");
    let (private, _) = first_round(&world, &bob, 1_000).await;
    let code = world.outbox.last_code().unwrap();
    assert!(answer(&world, &bob, &private, &code, 1_010).await);
    let changed = attributes("+12065550199", "false");
    signed_in(&world, &changed, 1_011).await;
    assert!(calls(&world).is_empty());
    // The note expires with the sign-in.
    signed_in(&world, &bob, 1_010 + crate::state::PROVEN_NOTE_SECONDS).await;
    assert!(calls(&world).is_empty());
}

#[tokio::test]
async fn verified_destinations_and_the_flag_off_prove_nothing() {
    let world = world(true, false);
    let alice = attributes("+12065550100", "true");
    let (private, metadata) = first_round(&world, &alice, 1_000).await;
    assert!(private.get("proves").is_none() && !metadata.contains("proves"));

    let off = world_off().await;
    let bob = attributes("+12065550142", "false");
    let (private, metadata) = first_round(&off, &bob, 1_000).await;
    assert_eq!(off.outbox.messages(), 0, "no code to an unverified phone");
    assert_eq!(private["seal"], "decoy");
    assert!(private.get("proves").is_none() && !metadata.contains("proves"));
}

async fn world_off() -> World {
    world(false, false)
}

#[tokio::test]
async fn a_failing_update_never_fails_the_sign_in() {
    let world = world(true, true);
    let bob = attributes("+12065550142", "false");
    let (private, _) = first_round(&world, &bob, 1_000).await;
    let code = world.outbox.last_code().unwrap();
    assert!(answer(&world, &bob, &private, &code, 1_010).await);
    signed_in(&world, &bob, 1_011).await;
    assert_eq!(calls(&world).len(), 1);
}

#[tokio::test]
async fn a_retry_round_keeps_the_proof_of_its_code() {
    let world = world(true, false);
    let bob = attributes("+12065550142", "false");
    let (private, metadata) = first_round(&world, &bob, 1_000).await;
    let event = envelope(
        "CreateAuthChallenge_Authentication",
        &bob,
        json!({"challengeName": "CUSTOM_CHALLENGE", "session": [
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false,
             "challengeMetadata": metadata}
        ]}),
    );
    let retry = world.create.invoke(event, 1_020).await.unwrap();
    let retry = serde_json::to_value(retry).unwrap();
    assert_eq!(world.outbox.messages(), 1, "a retry sends nothing");
    assert_eq!(
        retry["response"]["privateChallengeParameters"]["proves"],
        private["proves"]
    );
    assert_eq!(
        retry["response"]["challengeMetadata"].as_str(),
        Some(metadata.as_str())
    );
}

#[test]
fn the_flag_needs_a_state_table_and_no_verified_phone_policy() {
    let error = Config::from_pairs(&[("VERIFY_ON_FIRST_SIGN_IN", "true")]).unwrap_err();
    assert!(
        error.to_string().contains("VERIFY_ON_FIRST_SIGN_IN"),
        "{error}"
    );
    assert!(error.to_string().contains("STATE_TABLE"), "{error}");
    let error = Config::from_pairs(&[
        ("VERIFY_ON_FIRST_SIGN_IN", "true"),
        ("STATE_TABLE", "state"),
        ("PREAUTH_REQUIRE_VERIFIED_PHONE", "true"),
    ])
    .unwrap_err();
    assert!(
        error.to_string().contains("PREAUTH_REQUIRE_VERIFIED_PHONE"),
        "{error}"
    );
    assert!(Config::from_pairs(&[("VERIFY_ON_FIRST_SIGN_IN", "yes please")]).is_err());
    for migration in [
        "LEGACY_SOURCE",
        "MIGRATION_CLIENT_IDS",
        "MIGRATION_CLIENT_IDS_ARN",
    ] {
        let value = if migration == "LEGACY_SOURCE" {
            "http"
        } else if migration == "MIGRATION_CLIENT_IDS" {
            "migration-client"
        } else {
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"
        };
        let error = Config::from_pairs(&[
            ("VERIFY_ON_FIRST_SIGN_IN", "true"),
            ("STATE_TABLE", "state"),
            (migration, value),
        ])
        .map(drop)
        .unwrap_err();
        assert!(
            error.to_string().contains("VERIFY_ON_FIRST_SIGN_IN"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_code_shared_with_another_call_proves_nothing() {
    // A second Create at the same place within seconds (a retry, or a parallel sign-in) shares
    // the first call's code; the number changed in between, so the shared code went to the old
    // number and must not prove the new one.
    let world = world(true, false);
    let bob = attributes("+12065550142", "false");
    let (first, _) = first_round(&world, &bob, 1_000).await;
    let changed = attributes("+12065550199", "false");
    let (shared, metadata) = first_round(&world, &changed, 1_002).await;
    assert_eq!(world.outbox.messages(), 1, "one code for both calls");
    assert_eq!(shared["seal"], first["seal"]);
    assert!(shared.get("proves").is_none() && !metadata.contains("proves"));
    let code = world.outbox.last_code().unwrap();
    assert!(answer(&world, &changed, &shared, &code, 1_010).await);
    signed_in(&world, &changed, 1_011).await;
    assert!(calls(&world).is_empty(), "{:?}", calls(&world));
}

#[tokio::test]
async fn once_a_destination_is_verified_the_unverified_ones_get_no_codes() {
    // A user with a verified e-mail address and an unverified (stale, mistyped) phone: the phone
    // is not another way in, whatever the flag says.
    let world = world(true, false);
    let mut carol = attributes("+12065550142", "false");
    carol["email"] = json!("carol@example.com");
    carol["email_verified"] = json!("true");
    let (private, metadata) = first_round(&world, &carol, 1_000).await;
    assert_eq!(
        world.outbox.messages(),
        0,
        "no code to the unverified phone"
    );
    assert_eq!(private["seal"], "decoy");
    assert!(private.get("proves").is_none() && !metadata.contains("proves"));
}

#[tokio::test]
async fn before_any_is_verified_only_the_first_destination_gets_codes() {
    // otp with sms then e-mail, and a sign-up that gave both, neither verified: only the phone
    // (the first channel) is a way in; a switch to the e-mail sends nothing there.
    let config = Config::from_pairs(&[
        ("AUTH_FLOW", "otp"),
        ("OTP_CHANNELS", "sms,email"),
        ("SMS_PROVIDER", "console"),
        ("EMAIL_PROVIDER", "console"),
        ("STATE_TABLE", "state"),
        ("SEAL_KEY", "0123456789abcdef0123456789abcdef"),
        ("VERIFY_ON_FIRST_SIGN_IN", "true"),
    ])
    .unwrap();
    let outbox = Outbox::default();
    let create = CreateAuthChallenge::new(
        &config,
        Arc::new(crate::sms::ConsoleSender::new(Box::new(outbox.clone()))),
    )
    .unwrap()
    .with_email_sender(Arc::new(crate::email::ConsoleEmailSender::new(Box::new(
        outbox.clone(),
    ))));
    let mut both = attributes("+12065550142", "false");
    both["email"] = json!("dana@example.com");
    both["email_verified"] = json!("false");
    let event = envelope(
        "CreateAuthChallenge_Authentication",
        &both,
        json!({"challengeName": "CUSTOM_CHALLENGE", "session": []}),
    );
    let first = serde_json::to_value(create.invoke(event, 1_000).await.unwrap()).unwrap();
    assert_eq!(outbox.messages(), 1);
    assert_eq!(
        first["response"]["publicChallengeParameters"]["channel"],
        "sms"
    );
    assert!(
        first["response"]["privateChallengeParameters"]["proves"]
            .as_str()
            .unwrap()
            .starts_with("phone_number.")
    );
    let metadata = first["response"]["challengeMetadata"].clone();
    let switch = envelope(
        "CreateAuthChallenge_Authentication",
        &both,
        json!({"challengeName": "CUSTOM_CHALLENGE",
               "session": [{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false,
                            "challengeMetadata": metadata}],
               "clientMetadata": {"otpAction": "switch", "otpChannel": "email"}}),
    );
    let switched = serde_json::to_value(create.invoke(switch, 1_040).await.unwrap()).unwrap();
    assert_eq!(
        outbox.messages(),
        1,
        "nothing went to the unverified address"
    );
    assert!(
        switched["response"]["privateChallengeParameters"]
            .get("proves")
            .is_none()
    );
    // With only an e-mail address, that is the one.
    let mut email_only =
        json!({"sub": SUB, "email": "dana@example.com", "email_verified": "false"});
    email_only["cognito:user_status"] = json!("CONFIRMED");
    let event = envelope(
        "CreateAuthChallenge_Authentication",
        &email_only,
        json!({"challengeName": "CUSTOM_CHALLENGE", "session": []}),
    );
    let answered = serde_json::to_value(create.invoke(event, 2_000).await.unwrap()).unwrap();
    assert_eq!(outbox.messages(), 2);
    assert_eq!(
        answered["response"]["publicChallengeParameters"]["channel"],
        "email"
    );
}
