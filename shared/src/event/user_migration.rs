//! The UserMigration trigger (`UserMigration_Authentication`, `UserMigration_ForgotPassword`).
//!
//! The request holds the password the user typed: [`Password`] never prints it, and the event as
//! a whole must never be logged.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{StringMap, Trigger, TriggerEvent};

/// A password from the event. `Debug` shows nothing of it; there is no `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password, for the one check that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `request` of UserMigration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMigrationRequest {
    /// The password the user signed in with (absent for forgot-password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// `ClientMetadata` of the sign-in call, as `validationData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_data: Option<StringMap>,
    /// `ClientMetadata` of the sign-in or forgot-password call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    /// Keys this model does not know, kept as they came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `response` of UserMigration: the user Cognito creates. Every field arrives as `null` and is
/// sent back, set or `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMigrationResponse {
    /// The new user's attributes (`email`, `phone_number`, `custom:…`, verification flags).
    #[serde(default)]
    pub user_attributes: Option<StringMap>,
    /// `CONFIRMED` (sign-in with the migrated password), or `RESET_REQUIRED`.
    #[serde(default)]
    pub final_user_status: Option<String>,
    /// `SUPPRESS`: no welcome message.
    #[serde(default)]
    pub message_action: Option<String>,
    /// Where a welcome message would go (`SMS`, `EMAIL`).
    #[serde(default)]
    pub desired_delivery_mediums: Option<Vec<String>>,
    /// Whether an alias (email, phone) taken by another user moves to this one.
    #[serde(default)]
    pub force_alias_creation: Option<bool>,
    /// Whether SMS MFA is turned on for the new user.
    #[serde(default, rename = "enableSMSMFA")]
    pub enable_sms_mfa: Option<bool>,
}

/// A UserMigration event.
pub type UserMigrationEvent = TriggerEvent<UserMigrationRequest, UserMigrationResponse>;

impl Trigger for UserMigrationEvent {
    const NAME: &'static str = "UserMigration";
    const SOURCES: &'static [&'static str] = &[
        "UserMigration_Authentication",
        "UserMigration_ForgotPassword",
    ];
}
