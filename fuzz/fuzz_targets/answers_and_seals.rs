//! Answers, seals and challenge metadata: what Verify reads from the client and from Cognito.
//!
//! Invariants:
//! - a code sealed here is accepted as itself (around ASCII spaces), for its owner only (not
//!   another user, not another pool), within its lifetime, and under the key it was sealed with
//!   only; another code is wrong;
//! - a seal read from arbitrary text never accepts anything under a key (seals cannot be forged)
//!   and reads back the same after encoding;
//! - an image CAPTCHA accepts its own text (case and spaces aside) and no text that reads as
//!   another;
//! - session entries and client metadata read as the protocol says (docs/flows.md).
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use cognito_passwordless::captcha::image::read_as;
use cognito_passwordless::captcha::{ImageChallenge, ImageCheck, check_image_answer};
use cognito_passwordless::flow::{
    ChallengeStep, Channel, OtpAction, SessionChallenge, SessionEntry,
};
use cognito_passwordless::otp::{OtpCheck, OtpCode, OtpPolicy, OtpSeal};
use cognito_passwordless::seal::{SealBinding, SealKey};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_763_769_610;
const KEY: &str = "a-seal-key-of-at-least-32-characters";

#[derive(Debug, Arbitrary)]
struct Input {
    length: u8,
    ttl: u16,
    keyed: bool,
    other_key: String,
    pool: String,
    user: String,
    other_user: String,
    padding: (u8, u8),
    answer: String,
    seal_text: String,
    age: u16,
    image_answer: String,
    challenge_name: String,
    metadata: Option<String>,
    passed: bool,
    client_metadata: Vec<(String, String)>,
}

fn image() -> &'static (ImageChallenge, SealKey) {
    static IMAGE: OnceLock<(ImageChallenge, SealKey)> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let key = SealKey::new(KEY).expect("key");
        let binding = SealBinding {
            pool_id: "us-east-1_Example",
            user: "name:alice",
        };
        (
            ImageChallenge::generate(&key, NOW, binding).expect("image"),
            key,
        )
    })
}

fuzz_target!(|input: Input| {
    let key = if input.keyed {
        SealKey::new(KEY).expect("key")
    } else {
        SealKey::none()
    };
    let policy = OtpPolicy {
        length: 6 + input.length % 5,
        ttl_seconds: 30 + u64::from(input.ttl) % 871,
    };
    let owner = SealBinding {
        pool_id: &input.pool,
        user: &input.user,
    };
    let Ok(code) = OtpCode::generate(policy.length) else {
        return;
    };
    let seal = OtpSeal::new(&key, &code, NOW, owner).expect("seal");
    let encoded = seal.encode();
    let seal = OtpSeal::decode(&encoded).expect("a seal reads back");
    assert_eq!(seal.encode(), encoded);

    // The code itself, padded with ASCII spaces within the answer limit (64 bytes).
    let room = (64 - code.expose().len()) / 2 + 1;
    let padded = format!(
        "{}{}{}",
        " ".repeat(usize::from(input.padding.0) % room),
        code.expose(),
        "\t".repeat(usize::from(input.padding.1) % room)
    );
    assert_eq!(
        seal.check(&key, &padded, policy, NOW, owner),
        OtpCheck::Correct
    );
    // Any answer: right only if it is the code.
    if seal.check(&key, &input.answer, policy, NOW, owner) == OtpCheck::Correct {
        assert_eq!(
            input.answer.trim_matches(|c: char| c.is_ascii_whitespace()),
            code.expose()
        );
    }
    // Another code, someone else's code, another pool's, another key, too late: never right.
    let other_code = code.different();
    assert_eq!(
        seal.check(&key, other_code.expose(), policy, NOW, owner),
        OtpCheck::Wrong
    );
    if input.user != input.other_user {
        let other = SealBinding {
            pool_id: &input.pool,
            user: &input.other_user,
        };
        assert_ne!(
            seal.check(&key, code.expose(), policy, NOW, other),
            OtpCheck::Correct
        );
    }
    if input.pool != input.other_user {
        let other_pool = SealBinding {
            pool_id: &input.other_user,
            user: &input.user,
        };
        assert_ne!(
            seal.check(&key, code.expose(), policy, NOW, other_pool),
            OtpCheck::Correct
        );
    }
    // (HMAC pads keys with zero bytes: a key that differs only by trailing NULs is the same key.)
    let other_key = match SealKey::new(&input.other_key) {
        Ok(other) if input.other_key.trim_end_matches('\0') != KEY => other,
        _ if input.keyed => SealKey::none(),
        _ => SealKey::new(KEY).expect("key"),
    };
    assert_ne!(
        seal.check(&other_key, code.expose(), policy, NOW, owner),
        OtpCheck::Correct
    );
    let late = NOW + policy.ttl_seconds + 1 + u64::from(input.age);
    assert_eq!(
        seal.check(&key, code.expose(), policy, late, owner),
        OtpCheck::Expired
    );

    // A seal from arbitrary text: never right under the key; stable through encoding.
    if let Some(forged) = OtpSeal::decode(&input.seal_text) {
        let again = OtpSeal::decode(&forged.encode()).expect("an encoded seal reads back");
        assert_eq!(again.encode(), forged.encode());
        let keyed = SealKey::new(KEY).expect("key");
        for answer in [input.answer.as_str(), code.expose()] {
            assert_ne!(
                forged.check(&keyed, answer, policy, forged.issued_at(), owner),
                OtpCheck::Correct,
                "a forged seal"
            );
        }
    }

    // The image CAPTCHA: right only for its text.
    let (challenge, image_key) = image();
    let binding = SealBinding {
        pool_id: "us-east-1_Example",
        user: "name:alice",
    };
    let sealed = challenge.seal.encode();
    let text = challenge.expose_text();
    assert_eq!(
        check_image_answer(image_key, &sealed, &text.to_lowercase(), 300, NOW, binding),
        ImageCheck::Correct
    );
    if check_image_answer(image_key, &sealed, &input.image_answer, 300, NOW, binding)
        == ImageCheck::Correct
    {
        let typed = input
            .image_answer
            .chars()
            .filter(|c| !c.is_whitespace())
            .count();
        assert_eq!(typed, text.chars().count());
    }
    // A text of the same length, each character one that reads as another, is wrong.
    let wrong: String = text
        .chars()
        .map(|shown| {
            ('A'..='Z')
                .find(|&other| read_as(other) != read_as(shown))
                .unwrap_or('A')
        })
        .collect();
    assert_eq!(
        check_image_answer(image_key, &sealed, &wrong, 300, NOW, binding),
        ImageCheck::Wrong
    );
    let forged = check_image_answer(image_key, &input.seal_text, text, 300, NOW, binding);
    assert_ne!(forged, ImageCheck::Correct, "a forged CAPTCHA seal");

    // Session entries: tags, flags.
    let entry = SessionEntry::from_cognito(
        &input.challenge_name,
        input.passed,
        input.metadata.as_deref(),
    );
    assert_eq!(entry.passed, input.passed);
    match entry.challenge {
        SessionChallenge::SrpA => assert_eq!(input.challenge_name, "SRP_A"),
        SessionChallenge::PasswordVerifier => assert_eq!(input.challenge_name, "PASSWORD_VERIFIER"),
        SessionChallenge::Custom(step) => {
            assert_eq!(input.challenge_name, "CUSTOM_CHALLENGE");
            let tag = input.metadata.as_deref().and_then(|m| m.split(':').next());
            assert_eq!(tag, step.tag());
            assert_eq!(ChallengeStep::from_tag(tag.unwrap_or_default()), Some(step));
        }
        SessionChallenge::UntaggedCustom => assert_eq!(input.challenge_name, "CUSTOM_CHALLENGE"),
        SessionChallenge::Other => {
            assert!(
                !["SRP_A", "PASSWORD_VERIFIER", "CUSTOM_CHALLENGE"]
                    .contains(&input.challenge_name.as_str())
            );
        }
    }
    if entry.resent {
        assert!(matches!(entry.challenge, SessionChallenge::Custom(_)));
        let flags = input.metadata.as_deref().unwrap_or_default();
        assert!(flags.split(';').skip(1).any(|flag| flag == "resent"));
    }

    // Client metadata: the action the client asked for.
    let metadata: std::collections::BTreeMap<String, String> =
        input.client_metadata.into_iter().collect();
    let action = OtpAction::from_client_metadata(&metadata);
    let asked = metadata.get("otpAction").map(|value| value.trim());
    match action {
        None => assert!(asked.is_none_or(str::is_empty)),
        Some(OtpAction::Resend) => assert_eq!(asked, Some("resend")),
        Some(OtpAction::Switch(channel)) => {
            assert_eq!(asked, Some("switch"));
            let named = metadata.get("otpChannel").map(|value| value.trim());
            assert_eq!(named.and_then(Channel::from_name), Some(channel));
        }
        Some(OtpAction::Unsupported) => {
            assert!(asked.is_some_and(|asked| !asked.is_empty() && asked != "resend"));
        }
    }
});
