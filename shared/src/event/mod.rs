//! Typed models of the Cognito user-pool trigger events, exactly as Cognito sends them.
//!
//! Why not `aws_lambda_events`: its Cognito structs are `#[non_exhaustive]` (no construction in
//! tests), drop keys they do not know, fail on a `triggerSource` they do not know, turn absent maps
//! into `{}` on the way back, and miss fields real events carry (`userNotFound` and
//! `clientMetadata` on pre-authentication, `enableSMSMFA` on user migration). These models:
//!
//! - accept `null` wherever Cognito may send it (every response field on the way in);
//! - keep absent keys absent and unknown keys as they came, so an event serializes back to what
//!   Cognito sent plus the filled-in `response`;
//! - parse with [`TriggerEvent::parse`], which checks the trigger and never puts event values into
//!   its error (a value could be a password or an answer).
//!
//! This module only describes shapes; what the values mean is decided in [`crate::flow`] and
//! [`crate::triggers`].

mod custom_auth;
mod post_authentication;
mod pre_authentication;
mod pre_sign_up;
mod user_migration;

pub use custom_auth::{
    ChallengeResult, CreateAuthChallengeEvent, CreateAuthChallengeRequest,
    CreateAuthChallengeResponse, DefineAuthChallengeEvent, DefineAuthChallengeRequest,
    DefineAuthChallengeResponse, VerifyAuthChallengeEvent, VerifyAuthChallengeRequest,
    VerifyAuthChallengeResponse,
};
pub use post_authentication::{
    PostAuthenticationEvent, PostAuthenticationRequest, PostAuthenticationResponse,
};
pub use pre_authentication::{
    PreAuthenticationEvent, PreAuthenticationRequest, PreAuthenticationResponse,
};
pub use pre_sign_up::{PreSignUpEvent, PreSignUpRequest, PreSignUpResponse};
pub use user_migration::{
    Password, UserMigrationEvent, UserMigrationRequest, UserMigrationResponse,
};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::Error;

/// String-to-string maps as Cognito sends them (`userAttributes`, `clientMetadata`, parameters).
pub type StringMap = BTreeMap<String, String>;

/// Who called Cognito: the SDK and the app client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerContext {
    /// The SDK version of the client, as Cognito reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_sdk_version: Option<String>,
    /// The app client id the sign-in came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The envelope every Cognito user-pool trigger event shares; `Req` and `Resp` are the
/// trigger-specific `request` and `response`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "Req: Deserialize<'de>, Resp: Deserialize<'de> + Default")
)]
pub struct TriggerEvent<Req, Resp> {
    /// The event format version (`"1"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Which trigger and situation, e.g. `DefineAuthChallenge_Authentication`.
    pub trigger_source: String,
    /// The pool's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The pool's id.
    pub user_pool_id: String,
    /// The user name, or what the client typed when the user does not exist.
    pub user_name: String,
    /// The calling SDK and app client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_context: Option<CallerContext>,
    /// What Cognito asks.
    pub request: Req,
    /// What the function answers; arrives with `null` fields.
    #[serde(default, deserialize_with = "null_as_default")]
    pub response: Resp,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What a concrete event type knows about its trigger.
pub trait Trigger {
    /// The trigger's name as users and logs see it, e.g. `DefineAuthChallenge`.
    const NAME: &'static str;
    /// The `triggerSource` values this event type serves, e.g. `["DefineAuthChallenge_Authentication"]`.
    const SOURCES: &'static [&'static str];
}

impl<Req, Resp> TriggerEvent<Req, Resp>
where
    Self: Trigger + DeserializeOwned,
{
    /// Parses a raw event. The error names what is wrong (the JSON path and the kind of problem)
    /// but never repeats a value from the event.
    pub fn parse(raw: Value) -> Result<Self, Error> {
        parse(raw)
    }
}

/// Parses a raw event of trigger `E`: refuses another trigger's event, and names what is wrong
/// (the JSON path and the kind of problem) without repeating a value from the event.
pub fn parse<E: Trigger + DeserializeOwned>(raw: Value) -> Result<E, Error> {
    let trigger_source = raw
        .get("triggerSource")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(source) = trigger_source.as_deref()
        && !E::SOURCES.contains(&source)
    {
        return Err(Error::WrongTrigger {
            trigger: E::NAME,
            trigger_source: source.chars().take(64).collect(),
        });
    }
    serde_json::from_value(raw).map_err(|error| Error::MalformedEvent {
        trigger: E::NAME,
        detail: describe_without_values(&error),
    })
}

/// A serde error's category, without the offending value (serde quotes values in its messages).
fn describe_without_values(error: &serde_json::Error) -> String {
    let message = error.to_string();
    // serde_json's messages are `invalid type: string "…", expected …` or `missing field `x``.
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!(
            "missing field {}",
            rest.split_whitespace().next().unwrap_or("")
        );
    }
    if message.starts_with("invalid type") {
        let expected = message
            .rsplit_once(", expected ")
            .map_or("another type", |(_, expected)| expected);
        return format!("a field has the wrong type (expected {expected})");
    }
    match error.classify() {
        serde_json::error::Category::Data => "a field has an invalid value".to_owned(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "not valid JSON".to_owned()
        }
        serde_json::error::Category::Io => "could not be read".to_owned(),
    }
}

/// Deserializes `null` (or an absent key, with `#[serde(default)]`) as `T::default()`.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A sample event of `events/` (e.g. `define-auth-challenge/first-call.json`), for unit tests.
#[cfg(test)]
pub(crate) fn sample(path: &str) -> Value {
    let file = format!("{}/../events/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Whether an attribute or record value means "yes" (`true`, `1`, `yes`, `y`, `on`, `blocked`;
/// any case, surrounding spaces ignored): how the blocked attribute and a legacy store's
/// verification flags are read.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "y" | "on" | "blocked"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_errors_never_repeat_event_values() {
        let raw = json!({
            "triggerSource": "VerifyAuthChallengeResponse_Authentication",
            "userPoolId": "us-east-1_abc",
            "userName": "alice",
            "request": {"userAttributes": {}, "privateChallengeParameters": {}, "challengeAnswer": ["secret-answer"]},
            "response": {}
        });
        let error = VerifyAuthChallengeEvent::parse(raw).expect_err("an array is not an answer");
        let text = error.to_string();
        assert!(!text.contains("secret-answer"), "{text}");
        assert!(text.contains("wrong type"), "{text}");
    }

    #[test]
    fn missing_request_is_named() {
        let raw = json!({
            "triggerSource": "DefineAuthChallenge_Authentication",
            "userPoolId": "us-east-1_abc",
            "userName": "alice"
        });
        let error = DefineAuthChallengeEvent::parse(raw).expect_err("no request");
        assert_eq!(
            error.to_string(),
            "malformed DefineAuthChallenge event: missing field `request`"
        );
    }

    #[test]
    fn another_triggers_event_is_refused() {
        let raw = json!({
            "triggerSource": "CreateAuthChallenge_Authentication",
            "userPoolId": "us-east-1_abc",
            "userName": "alice",
            "request": {}
        });
        let error = DefineAuthChallengeEvent::parse(raw).expect_err("wrong trigger");
        assert!(matches!(error, Error::WrongTrigger { .. }));
    }
}
