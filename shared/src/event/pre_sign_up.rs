//! The PreSignUp trigger (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`,
//! `PreSignUp_ExternalProvider`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{StringMap, Trigger, TriggerEvent, null_as_default};

/// `request` of PreSignUp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreSignUpRequest {
    /// The attributes the new user would have.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_attributes: StringMap,
    /// `ValidationData` of SignUp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_data: Option<StringMap>,
    /// `ClientMetadata` of SignUp or AdminCreateUser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of PreSignUp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreSignUpResponse {
    /// Confirm the user without a confirmation code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_confirm_user: Option<bool>,
    /// Mark the phone number verified (this project never does: a code proves it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_verify_phone: Option<bool>,
    /// Mark the e-mail address verified (this project never does: a code proves it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_verify_email: Option<bool>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A PreSignUp event.
pub type PreSignUpEvent = TriggerEvent<PreSignUpRequest, PreSignUpResponse>;

impl Trigger for PreSignUpEvent {
    const NAME: &'static str = "PreSignUp";
    const SOURCES: &'static [&'static str] = &[
        "PreSignUp_SignUp",
        "PreSignUp_AdminCreateUser",
        "PreSignUp_ExternalProvider",
    ];
}
