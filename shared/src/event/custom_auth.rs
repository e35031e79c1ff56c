//! The three custom-authentication triggers: DefineAuthChallenge, CreateAuthChallenge and
//! VerifyAuthChallengeResponse.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{StringMap, Trigger, TriggerEvent, null_as_default};

/// One round of the sign-in so far, as Cognito lists it in `request.session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResult {
    /// `CUSTOM_CHALLENGE`, `SRP_A`, `PASSWORD_VERIFIER`, or another name Cognito uses.
    pub challenge_name: String,
    /// Whether the round was passed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub challenge_result: bool,
    /// What CreateAuthChallenge put in `challengeMetadata` for this round (custom rounds only).
    #[serde(default)]
    pub challenge_metadata: Option<String>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `request` of DefineAuthChallenge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefineAuthChallengeRequest {
    /// The user's attributes (empty for an unknown user).
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_attributes: StringMap,
    /// The rounds so far, oldest first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub session: Vec<ChallengeResult>,
    /// `ClientMetadata` of RespondToAuthChallenge (never that of InitiateAuth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Set when the user does not exist and the pool prevents user-existence errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_not_found: Option<bool>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of DefineAuthChallenge. Every field arrives as `null` and is sent back, set or `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefineAuthChallengeResponse {
    /// The next challenge: `CUSTOM_CHALLENGE` or `PASSWORD_VERIFIER`.
    pub challenge_name: Option<String>,
    /// Whether Cognito should issue tokens now.
    pub issue_tokens: Option<bool>,
    /// Whether Cognito should end the sign-in as failed.
    pub fail_authentication: Option<bool>,
}

/// `request` of CreateAuthChallenge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthChallengeRequest {
    /// The user's attributes (empty for an unknown user).
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_attributes: StringMap,
    /// The challenge DefineAuthChallenge asked for (always `CUSTOM_CHALLENGE` in practice).
    #[serde(default)]
    pub challenge_name: Option<String>,
    /// The rounds so far, oldest first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub session: Vec<ChallengeResult>,
    /// `ClientMetadata` of RespondToAuthChallenge (never that of InitiateAuth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Set when the user does not exist and the pool prevents user-existence errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_not_found: Option<bool>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of CreateAuthChallenge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthChallengeResponse {
    /// Sent to the client as `ChallengeParameters` (unencrypted: never a secret).
    pub public_challenge_parameters: Option<StringMap>,
    /// Passed to VerifyAuthChallengeResponse only.
    pub private_challenge_parameters: Option<StringMap>,
    /// Kept in the session for later Define and Create calls.
    pub challenge_metadata: Option<String>,
}

/// `request` of VerifyAuthChallengeResponse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAuthChallengeRequest {
    /// The user's attributes (empty for an unknown user).
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_attributes: StringMap,
    /// What CreateAuthChallenge put in `privateChallengeParameters`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub private_challenge_parameters: StringMap,
    /// The client's answer: untrusted, any length.
    #[serde(default)]
    pub challenge_answer: Option<String>,
    /// `ClientMetadata` of RespondToAuthChallenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Set when the user does not exist and the pool prevents user-existence errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_not_found: Option<bool>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of VerifyAuthChallengeResponse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAuthChallengeResponse {
    /// Whether the answer was right.
    pub answer_correct: Option<bool>,
}

/// A DefineAuthChallenge event.
pub type DefineAuthChallengeEvent =
    TriggerEvent<DefineAuthChallengeRequest, DefineAuthChallengeResponse>;
/// A CreateAuthChallenge event.
pub type CreateAuthChallengeEvent =
    TriggerEvent<CreateAuthChallengeRequest, CreateAuthChallengeResponse>;
/// A VerifyAuthChallengeResponse event.
pub type VerifyAuthChallengeEvent =
    TriggerEvent<VerifyAuthChallengeRequest, VerifyAuthChallengeResponse>;

impl Trigger for DefineAuthChallengeEvent {
    const NAME: &'static str = "DefineAuthChallenge";
    const SOURCES: &'static [&'static str] = &["DefineAuthChallenge_Authentication"];
}

impl Trigger for CreateAuthChallengeEvent {
    const NAME: &'static str = "CreateAuthChallenge";
    const SOURCES: &'static [&'static str] = &["CreateAuthChallenge_Authentication"];
}

impl Trigger for VerifyAuthChallengeEvent {
    const NAME: &'static str = "VerifyAuthChallengeResponse";
    const SOURCES: &'static [&'static str] = &["VerifyAuthChallengeResponse_Authentication"];
}
