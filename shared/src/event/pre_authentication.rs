//! The PreAuthentication trigger (`PreAuthentication_Authentication`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{StringMap, Trigger, TriggerEvent, null_as_default};

/// `request` of PreAuthentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreAuthenticationRequest {
    /// The user's attributes (with `cognito:user_status`; empty for an unknown user).
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_attributes: StringMap,
    /// `ClientMetadata` of InitiateAuth (Cognito calls it `validationData` here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_data: Option<StringMap>,
    /// `ClientMetadata`, where Cognito sends it under this name too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Set when the user does not exist and the pool prevents user-existence errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_not_found: Option<bool>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of PreAuthentication: always `{}` (a denial is an error, not a response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthenticationResponse {
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A PreAuthentication event.
pub type PreAuthenticationEvent = TriggerEvent<PreAuthenticationRequest, PreAuthenticationResponse>;

impl Trigger for PreAuthenticationEvent {
    const NAME: &'static str = "PreAuthentication";
    const SOURCES: &'static [&'static str] = &["PreAuthentication_Authentication"];
}
