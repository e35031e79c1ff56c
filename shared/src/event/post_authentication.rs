//! The PostAuthentication trigger (`PostAuthentication_Authentication`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{StringMap, Trigger, TriggerEvent, null_as_default};

/// `request` of PostAuthentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostAuthenticationRequest {
    /// The signed-in user's attributes (with `cognito:user_status`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_attributes: StringMap,
    /// Whether the user signed in from a device Cognito had not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_device_used: Option<bool>,
    /// `ClientMetadata` of the call that finished the sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of PostAuthentication: always `{}` (a refusal is an error, not a response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostAuthenticationResponse {
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A PostAuthentication event.
pub type PostAuthenticationEvent =
    TriggerEvent<PostAuthenticationRequest, PostAuthenticationResponse>;

impl Trigger for PostAuthenticationEvent {
    const NAME: &'static str = "PostAuthentication";
    const SOURCES: &'static [&'static str] = &["PostAuthentication_Authentication"];
}
