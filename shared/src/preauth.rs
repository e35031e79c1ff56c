//! Pre-authentication policies: pure decisions over what the PreAuthentication event says about
//! the sign-in. Each policy is off unless configured.
//!
//! Unknown users (`userNotFound`) are judged only by the policies that do not depend on the user
//! (the app client, the validation data): denying them for having no verified phone or no blocked
//! flag would tell an attacker which user names exist. The configured flow fails them later.

use std::fmt;

use crate::env::Environment;
use crate::event::{StringMap, is_truthy};

/// The default text a denied user sees (`PREAUTH_DENY_MESSAGE`).
pub const DEFAULT_DENY_MESSAGE: &str = "Sign-in is not allowed for this account";

/// The pre-authentication policies (`PREAUTH_*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreAuthPolicy {
    /// `PREAUTH_ALLOWED_CLIENT_IDS`: only these app clients may sign in (any when `None`).
    pub allowed_client_ids: Option<Vec<String>>,
    /// `PREAUTH_BLOCKED_ATTRIBUTE`: an attribute (e.g. `custom:blocked`) whose truthy value
    /// (`true`, `1`, `yes`, `y`, `on`, `blocked`; any case) denies sign-in.
    pub blocked_attribute: Option<String>,
    /// `PREAUTH_REQUIRE_VERIFIED_PHONE`: deny users without a verified `phone_number`.
    pub require_verified_phone: bool,
    /// `PREAUTH_REQUIRED_VALIDATION_KEYS`: keys the client must send in `validationData`
    /// (`ClientMetadata` of InitiateAuth) with a non-empty value.
    pub required_validation_keys: Vec<String>,
    /// `PREAUTH_DENY_MESSAGE`: what a denied user sees.
    pub deny_message: String,
}

impl PreAuthPolicy {
    /// The `PREAUTH_*` variables (each policy off unless set).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, crate::Error> {
        use crate::Error;
        let allowed_client_ids = env.list("PREAUTH_ALLOWED_CLIENT_IDS");
        if allowed_client_ids.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::config(
                "PREAUTH_ALLOWED_CLIENT_IDS",
                "lists no app client id",
            ));
        }
        // Cognito ends the message with its own full stop: one in the text would show twice.
        let deny_message = env
            .get("PREAUTH_DENY_MESSAGE")
            .map(|message| message.trim_end().trim_end_matches('.').to_owned())
            .unwrap_or_else(|| DEFAULT_DENY_MESSAGE.to_owned());
        if deny_message.trim().is_empty()
            || deny_message.chars().count() > 200
            || deny_message.chars().any(char::is_control)
        {
            return Err(Error::config(
                "PREAUTH_DENY_MESSAGE",
                "must be one line of 1 to 200 characters",
            ));
        }
        Ok(Self {
            allowed_client_ids,
            blocked_attribute: env.get("PREAUTH_BLOCKED_ATTRIBUTE"),
            require_verified_phone: env.flag("PREAUTH_REQUIRE_VERIFIED_PHONE")?,
            required_validation_keys: env
                .list("PREAUTH_REQUIRED_VALIDATION_KEYS")
                .unwrap_or_default(),
            deny_message,
        })
    }
}

impl PreAuthPolicy {
    /// Whether any policy is on.
    pub fn is_active(&self) -> bool {
        self.allowed_client_ids.is_some()
            || self.blocked_attribute.is_some()
            || self.require_verified_phone
            || !self.required_validation_keys.is_empty()
    }
}

/// What the PreAuthentication event says about one sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SignInFacts<'a> {
    /// The app client (`callerContext.clientId`).
    pub client_id: Option<&'a str>,
    /// The user's attributes (empty for an unknown user).
    pub attributes: &'a StringMap,
    /// `validationData`.
    pub validation_data: Option<&'a StringMap>,
    /// `clientMetadata`, when Cognito sends it under that name.
    pub client_metadata: Option<&'a StringMap>,
    /// `userNotFound`.
    pub user_not_found: bool,
}

/// Why a sign-in was denied (for the logs; the user sees only the deny message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The app client is not in `PREAUTH_ALLOWED_CLIENT_IDS`.
    ClientNotAllowed,
    /// The blocked attribute is set.
    Blocked,
    /// No verified phone number.
    NoVerifiedPhone,
    /// A required validation key is missing or empty.
    MissingValidationKey(String),
}

impl DenyReason {
    /// A short stable name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ClientNotAllowed => "client_not_allowed",
            Self::Blocked => "blocked",
            Self::NoVerifiedPhone => "no_verified_phone",
            Self::MissingValidationKey(_) => "missing_validation_key",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientNotAllowed => f.write_str("app client not in PREAUTH_ALLOWED_CLIENT_IDS"),
            Self::Blocked => f.write_str("the blocked attribute is set"),
            Self::NoVerifiedPhone => f.write_str("no verified phone number"),
            Self::MissingValidationKey(key) => {
                write!(f, "validationData lacks `{key}`")
            }
        }
    }
}

/// The first policy that denies this sign-in, or `Ok` when all allow it.
pub fn evaluate(policy: &PreAuthPolicy, facts: &SignInFacts<'_>) -> Result<(), DenyReason> {
    if let Some(allowed) = &policy.allowed_client_ids
        && !facts
            .client_id
            .is_some_and(|client| allowed.iter().any(|id| id == client))
    {
        return Err(DenyReason::ClientNotAllowed);
    }
    for key in &policy.required_validation_keys {
        let present = [facts.validation_data, facts.client_metadata]
            .into_iter()
            .flatten()
            .any(|data| data.get(key).is_some_and(|value| !value.trim().is_empty()));
        if !present {
            return Err(DenyReason::MissingValidationKey(key.clone()));
        }
    }
    if facts.user_not_found {
        return Ok(());
    }
    if let Some(attribute) = &policy.blocked_attribute
        && facts
            .attributes
            .get(attribute)
            .is_some_and(|value| is_truthy(value))
    {
        return Err(DenyReason::Blocked);
    }
    if policy.require_verified_phone {
        let has_phone = facts
            .attributes
            .get("phone_number")
            .is_some_and(|number| !number.trim().is_empty());
        let verified = facts
            .attributes
            .get("phone_number_verified")
            .map(String::as_str)
            == Some("true");
        if !(has_phone && verified) {
            return Err(DenyReason::NoVerifiedPhone);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn facts<'a>(attributes: &'a StringMap, validation: Option<&'a StringMap>) -> SignInFacts<'a> {
        SignInFacts {
            client_id: Some("client-a"),
            attributes,
            validation_data: validation,
            client_metadata: None,
            user_not_found: false,
        }
    }

    #[test]
    fn no_policy_allows_everyone() {
        let policy = PreAuthPolicy::default();
        assert!(!policy.is_active());
        let empty = StringMap::new();
        assert_eq!(evaluate(&policy, &facts(&empty, None)), Ok(()));
        let unknown = SignInFacts {
            client_id: None,
            user_not_found: true,
            ..facts(&empty, None)
        };
        assert_eq!(evaluate(&policy, &unknown), Ok(()));
    }

    #[test]
    fn only_listed_clients_may_sign_in() {
        let policy = PreAuthPolicy {
            allowed_client_ids: Some(vec!["client-a".into(), "client-b".into()]),
            ..PreAuthPolicy::default()
        };
        let attributes = StringMap::new();
        assert_eq!(evaluate(&policy, &facts(&attributes, None)), Ok(()));
        for client in [Some("client-c"), Some("client-a "), Some(""), None] {
            let other = SignInFacts {
                client_id: client,
                ..facts(&attributes, None)
            };
            assert_eq!(
                evaluate(&policy, &other),
                Err(DenyReason::ClientNotAllowed),
                "{client:?}"
            );
            // Unknown users are held to the same client rule.
            let unknown = SignInFacts {
                user_not_found: true,
                ..other
            };
            assert_eq!(
                evaluate(&policy, &unknown),
                Err(DenyReason::ClientNotAllowed)
            );
        }
    }

    #[test]
    fn a_truthy_blocked_attribute_denies() {
        let policy = PreAuthPolicy {
            blocked_attribute: Some("custom:blocked".into()),
            ..PreAuthPolicy::default()
        };
        for value in ["true", "TRUE", " 1 ", "yes", "Y", "on", "blocked"] {
            let attributes = map(&[("custom:blocked", value)]);
            assert_eq!(
                evaluate(&policy, &facts(&attributes, None)),
                Err(DenyReason::Blocked),
                "{value}"
            );
        }
        for value in ["false", "0", "no", "", "maybe"] {
            let attributes = map(&[("custom:blocked", value)]);
            assert_eq!(
                evaluate(&policy, &facts(&attributes, None)),
                Ok(()),
                "{value}"
            );
        }
        assert_eq!(evaluate(&policy, &facts(&StringMap::new(), None)), Ok(()));
    }

    #[test]
    fn a_verified_phone_can_be_required() {
        let policy = PreAuthPolicy {
            require_verified_phone: true,
            ..PreAuthPolicy::default()
        };
        let verified = map(&[
            ("phone_number", "+12065550100"),
            ("phone_number_verified", "true"),
        ]);
        assert_eq!(evaluate(&policy, &facts(&verified, None)), Ok(()));
        for attributes in [
            map(&[
                ("phone_number", "+12065550100"),
                ("phone_number_verified", "false"),
            ]),
            map(&[("phone_number", "+12065550100")]),
            map(&[("phone_number_verified", "true")]),
            map(&[("phone_number", " "), ("phone_number_verified", "true")]),
            StringMap::new(),
        ] {
            assert_eq!(
                evaluate(&policy, &facts(&attributes, None)),
                Err(DenyReason::NoVerifiedPhone),
                "{attributes:?}"
            );
        }
    }

    #[test]
    fn user_policies_never_deny_unknown_users() {
        let policy = PreAuthPolicy {
            blocked_attribute: Some("custom:blocked".into()),
            require_verified_phone: true,
            ..PreAuthPolicy::default()
        };
        let empty = StringMap::new();
        let unknown = SignInFacts {
            user_not_found: true,
            ..facts(&empty, None)
        };
        assert_eq!(evaluate(&policy, &unknown), Ok(()));
    }

    #[test]
    fn required_validation_keys_must_be_present_and_non_empty() {
        let policy = PreAuthPolicy {
            required_validation_keys: vec!["deviceId".into(), "appVersion".into()],
            ..PreAuthPolicy::default()
        };
        let attributes = StringMap::new();
        let full = map(&[("deviceId", "d-1"), ("appVersion", "2.3")]);
        assert_eq!(evaluate(&policy, &facts(&attributes, Some(&full))), Ok(()));
        let partial = map(&[("deviceId", "d-1"), ("appVersion", " ")]);
        assert_eq!(
            evaluate(&policy, &facts(&attributes, Some(&partial))),
            Err(DenyReason::MissingValidationKey("appVersion".into()))
        );
        assert_eq!(
            evaluate(&policy, &facts(&attributes, None)),
            Err(DenyReason::MissingValidationKey("deviceId".into()))
        );
        // Keys may also arrive as clientMetadata.
        let metadata = SignInFacts {
            client_metadata: Some(&full),
            ..facts(&attributes, None)
        };
        assert_eq!(evaluate(&policy, &metadata), Ok(()));
        // And unknown users need them too.
        let unknown = SignInFacts {
            user_not_found: true,
            ..facts(&attributes, None)
        };
        assert!(evaluate(&policy, &unknown).is_err());
    }

    #[test]
    fn each_policy_alone_makes_the_policies_active() {
        let base = PreAuthPolicy::default();
        for (name, policy) in [
            (
                "clients",
                PreAuthPolicy {
                    allowed_client_ids: Some(vec!["a".into()]),
                    ..base.clone()
                },
            ),
            (
                "blocked",
                PreAuthPolicy {
                    blocked_attribute: Some("custom:blocked".into()),
                    ..base.clone()
                },
            ),
            (
                "phone",
                PreAuthPolicy {
                    require_verified_phone: true,
                    ..base.clone()
                },
            ),
            (
                "validation",
                PreAuthPolicy {
                    required_validation_keys: vec!["k".into()],
                    ..base.clone()
                },
            ),
        ] {
            assert!(policy.is_active(), "{name}");
        }
    }

    #[test]
    fn deny_reasons_read_as_the_logs_show_them() {
        for (reason, kind, text) in [
            (
                DenyReason::ClientNotAllowed,
                "client_not_allowed",
                "app client not in PREAUTH_ALLOWED_CLIENT_IDS",
            ),
            (
                DenyReason::Blocked,
                "blocked",
                "the blocked attribute is set",
            ),
            (
                DenyReason::NoVerifiedPhone,
                "no_verified_phone",
                "no verified phone number",
            ),
            (
                DenyReason::MissingValidationKey("captcha".into()),
                "missing_validation_key",
                "validationData lacks `captcha`",
            ),
        ] {
            assert_eq!(reason.kind(), kind);
            assert_eq!(reason.to_string(), text);
        }
    }
}
