//! The endpoint's requests, decoded: `X-Amz-Target` and the JSON body become one typed request
//! per operation, or Cognito's validation error, before any state is touched (a malformed
//! request never uses up a session). Checks against the pool (does the client, the pool, the
//! session exist) are the operations' own.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The prefix of every operation's `X-Amz-Target`.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// A request the endpoint plays.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiRequest {
    /// `InitiateAuth`.
    InitiateAuth(InitiateAuth),
    /// `RespondToAuthChallenge` with `CUSTOM_CHALLENGE`.
    RespondToAuthChallenge(RespondToAuthChallenge),
    /// `AdminCreateUser`.
    AdminCreateUser(AdminCreateUser),
    /// `AdminGetUser`.
    AdminGetUser(AdminUser),
    /// `AdminDeleteUser`.
    AdminDeleteUser(AdminUser),
    /// `SignUp`.
    SignUp(SignUp),
    /// `AdminUpdateUserAttributes`.
    AdminUpdateUserAttributes(AdminUpdateUserAttributes),
    /// `GetUser`.
    GetUser {
        /// `AccessToken`.
        access_token: String,
    },
    /// `UpdateUserAttributes`.
    UpdateUserAttributes {
        /// `AccessToken`.
        access_token: String,
        /// `UserAttributes` (at least one; never `sub` or `cognito:…`).
        attributes: BTreeMap<String, String>,
    },
    /// `GlobalSignOut`.
    GlobalSignOut {
        /// `AccessToken`.
        access_token: String,
    },
    /// `RevokeToken`.
    RevokeToken {
        /// `Token` (a refresh token).
        token: String,
        /// `ClientId`.
        client_id: String,
    },
    /// `ForgotPassword`.
    ForgotPassword {
        /// `ClientId`.
        client_id: String,
        /// `Username` (not empty).
        username: String,
        /// `ClientMetadata`, a map of strings.
        client_metadata: Option<Map<String, Value>>,
    },
    /// `ConfirmForgotPassword`.
    ConfirmForgotPassword {
        /// `ClientId`.
        client_id: String,
        /// `Username` (not empty).
        username: String,
        /// `ConfirmationCode`.
        code: String,
        /// `Password`: the new one.
        password: String,
    },
    /// `AdminDisableUser`.
    AdminDisableUser(AdminUser),
    /// `AdminEnableUser`.
    AdminEnableUser(AdminUser),
    /// `AdminUserGlobalSignOut`.
    AdminUserGlobalSignOut(AdminUser),
    /// `ListUsers` (every user: no `Filter`).
    ListUsers {
        /// `UserPoolId` (empty when missing: no pool has that id).
        pool_id: String,
    },
}

impl ApiRequest {
    /// Whether the operation may change what `serve --data` keeps (users, refresh tokens,
    /// disabled users): every one but the reads.
    pub fn changes_state(&self) -> bool {
        !matches!(
            self,
            Self::AdminGetUser(_) | Self::ListUsers { .. } | Self::GetUser { .. }
        )
    }
}

/// `InitiateAuth`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitiateAuth {
    /// `ClientId` (empty when missing: no client has that id).
    pub client_id: String,
    /// `AuthFlow` with the `AuthParameters` it needs.
    pub flow: AuthFlowRequest,
    /// `ClientMetadata`, a map of strings.
    pub client_metadata: Option<Map<String, Value>>,
}

/// An `AuthFlow` the endpoint plays, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFlowRequest {
    /// `CUSTOM_AUTH`, starting with the password when the client sends `SRP_A` (with
    /// `CHALLENGE_NAME: SRP_A`).
    CustomAuth {
        /// `USERNAME`.
        username: String,
        /// `SRP_A` (hex), for a flow that starts with the password.
        srp_a: Option<String>,
    },
    /// `USER_SRP_AUTH`.
    UserSrp {
        /// `USERNAME`.
        username: String,
        /// `SRP_A` (hex).
        srp_a: String,
    },
    /// `USER_PASSWORD_AUTH`.
    UserPassword {
        /// `USERNAME`.
        username: String,
        /// `PASSWORD`.
        password: String,
    },
    /// `REFRESH_TOKEN_AUTH` (or `REFRESH_TOKEN`).
    RefreshToken {
        /// `REFRESH_TOKEN` (empty when missing: no token is empty).
        token: String,
    },
}

impl AuthFlowRequest {
    /// The flow's name, as the client sent it (`REFRESH_TOKEN` reads as `REFRESH_TOKEN_AUTH`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::CustomAuth { .. } => "CUSTOM_AUTH",
            Self::UserSrp { .. } => "USER_SRP_AUTH",
            Self::UserPassword { .. } => "USER_PASSWORD_AUTH",
            Self::RefreshToken { .. } => "REFRESH_TOKEN_AUTH",
        }
    }
}

/// `RespondToAuthChallenge` with `ChallengeName: CUSTOM_CHALLENGE` or `PASSWORD_VERIFIER`.
#[derive(Debug, Clone, PartialEq)]
pub struct RespondToAuthChallenge {
    /// `ClientId`.
    pub client_id: String,
    /// `Session` (empty when missing: no session is empty).
    pub session: String,
    /// `ChallengeResponses.USERNAME`.
    pub username: String,
    /// The answer to the challenge.
    pub answer: ChallengeAnswer,
    /// `ClientMetadata`, a map of strings.
    pub client_metadata: Option<Map<String, Value>>,
}

/// What a `RespondToAuthChallenge` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeAnswer {
    /// `CUSTOM_CHALLENGE`: `ChallengeResponses.ANSWER`.
    Custom(String),
    /// `PASSWORD_VERIFIER`: the SRP password claim.
    PasswordVerifier {
        /// `PASSWORD_CLAIM_SECRET_BLOCK`.
        secret_block: String,
        /// `PASSWORD_CLAIM_SIGNATURE`.
        signature: String,
        /// `TIMESTAMP`.
        timestamp: String,
    },
}

/// `AdminCreateUser`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminCreateUser {
    /// `UserPoolId`.
    pub pool_id: String,
    /// `Username` (not empty).
    pub username: String,
    /// `UserAttributes` (never `sub` or `cognito:…`, which are Cognito's own).
    pub attributes: BTreeMap<String, String>,
    /// `TemporaryPassword`.
    pub temporary_password: Option<String>,
}

/// `SignUp`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignUp {
    /// `ClientId`.
    pub client_id: String,
    /// `Username` (not empty).
    pub username: String,
    /// `Password` (optional, as for pools that allow passwordless sign-in).
    pub password: Option<String>,
    /// `UserAttributes` (never `sub` or `cognito:…`).
    pub attributes: BTreeMap<String, String>,
    /// `ValidationData`, as a map of strings.
    pub validation_data: Option<Map<String, Value>>,
    /// `ClientMetadata`, a map of strings.
    pub client_metadata: Option<Map<String, Value>>,
}

/// `AdminUpdateUserAttributes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUpdateUserAttributes {
    /// `UserPoolId`.
    pub pool_id: String,
    /// `Username` (not empty).
    pub username: String,
    /// `UserAttributes` to set (at least one; never `sub` or `cognito:…`).
    pub attributes: BTreeMap<String, String>,
}

/// The pool and user an admin operation names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    /// `UserPoolId`.
    pub pool_id: String,
    /// `Username` (not empty).
    pub username: String,
}

/// A request refused as Cognito refuses it: the exception's name and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// `UnknownOperationException`, `SerializationException` or `InvalidParameterException`.
    pub kind: &'static str,
    /// What is wrong.
    pub message: String,
}

fn invalid(message: impl Into<String>) -> RequestError {
    RequestError {
        kind: "InvalidParameterException",
        message: message.into(),
    }
}

/// A string field, or empty when missing or not a string (an id no resource has).
fn text(body: &Value, name: &str) -> String {
    body.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Decodes a request: the operation from `target` (`X-Amz-Target`), its fields from `body`.
pub fn decode(target: &str, body: &[u8]) -> Result<ApiRequest, RequestError> {
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .ok_or_else(|| RequestError {
            kind: "UnknownOperationException",
            message: format!(
                "unknown target {:?}",
                target.chars().take(80).collect::<String>()
            ),
        })?;
    let body: Value = serde_json::from_slice(body).map_err(|_| RequestError {
        kind: "SerializationException",
        message: "the body is not JSON".to_owned(),
    })?;
    match operation {
        "InitiateAuth" => initiate_auth(&body).map(ApiRequest::InitiateAuth),
        "RespondToAuthChallenge" => {
            respond_to_auth_challenge(&body).map(ApiRequest::RespondToAuthChallenge)
        }
        "AdminCreateUser" => admin_create_user(&body).map(ApiRequest::AdminCreateUser),
        "SignUp" => sign_up(&body).map(ApiRequest::SignUp),
        "AdminUpdateUserAttributes" => {
            let attributes = user_attributes(&body)?;
            if attributes.is_empty() {
                return Err(invalid("Missing required parameter UserAttributes"));
            }
            Ok(ApiRequest::AdminUpdateUserAttributes(
                AdminUpdateUserAttributes {
                    pool_id: text(&body, "UserPoolId"),
                    username: username(&body)?,
                    attributes,
                },
            ))
        }
        "GetUser" => Ok(ApiRequest::GetUser {
            access_token: required(&body, "AccessToken")?,
        }),
        "UpdateUserAttributes" => {
            let attributes = user_attributes(&body)?;
            if attributes.is_empty() {
                return Err(invalid("Missing required parameter UserAttributes"));
            }
            Ok(ApiRequest::UpdateUserAttributes {
                access_token: required(&body, "AccessToken")?,
                attributes,
            })
        }
        "GlobalSignOut" => Ok(ApiRequest::GlobalSignOut {
            access_token: required(&body, "AccessToken")?,
        }),
        "RevokeToken" => Ok(ApiRequest::RevokeToken {
            token: required(&body, "Token")?,
            client_id: required(&body, "ClientId")?,
        }),
        "ForgotPassword" => Ok(ApiRequest::ForgotPassword {
            client_id: required(&body, "ClientId")?,
            username: username(&body)?,
            client_metadata: client_metadata(&body)?,
        }),
        "ConfirmForgotPassword" => Ok(ApiRequest::ConfirmForgotPassword {
            client_id: required(&body, "ClientId")?,
            username: username(&body)?,
            code: required(&body, "ConfirmationCode")?,
            password: required(&body, "Password")?,
        }),
        "AdminDisableUser" => admin_user(&body).map(ApiRequest::AdminDisableUser),
        "AdminEnableUser" => admin_user(&body).map(ApiRequest::AdminEnableUser),
        "AdminUserGlobalSignOut" => admin_user(&body).map(ApiRequest::AdminUserGlobalSignOut),
        "AdminGetUser" => admin_user(&body).map(ApiRequest::AdminGetUser),
        "AdminDeleteUser" => admin_user(&body).map(ApiRequest::AdminDeleteUser),
        "ListUsers" => {
            if body
                .get("Filter")
                .is_some_and(|filter| filter.as_str() != Some(""))
            {
                return Err(invalid(
                    "the local endpoint lists all users; Filter is not supported",
                ));
            }
            Ok(ApiRequest::ListUsers {
                pool_id: text(&body, "UserPoolId"),
            })
        }
        other => Err(RequestError {
            kind: "UnknownOperationException",
            message: format!(
                "the local endpoint does not play {}",
                other.chars().take(80).collect::<String>()
            ),
        }),
    }
}

fn initiate_auth(body: &Value) -> Result<InitiateAuth, RequestError> {
    let parameters = body.get("AuthParameters").unwrap_or(&Value::Null);
    let parameter = |name: &str| parameters.get(name).and_then(Value::as_str);
    let flow = match body.get("AuthFlow").and_then(Value::as_str) {
        Some("CUSTOM_AUTH") => {
            let username = parameter("USERNAME")
                .ok_or_else(|| invalid("Missing required parameter USERNAME"))?;
            let srp_a = match (parameter("SRP_A"), parameter("CHALLENGE_NAME")) {
                (Some(srp_a), Some("SRP_A")) => Some(checked_srp_a(srp_a)?),
                (None, None) => None,
                _ => {
                    return Err(invalid(
                        "SRP_A and CHALLENGE_NAME: SRP_A go together (a flow that starts with the password)",
                    ));
                }
            };
            AuthFlowRequest::CustomAuth {
                username: username.to_owned(),
                srp_a,
            }
        }
        Some("USER_SRP_AUTH") => {
            let (Some(username), Some(srp_a)) = (parameter("USERNAME"), parameter("SRP_A")) else {
                return Err(invalid("Missing required parameter USERNAME or SRP_A"));
            };
            AuthFlowRequest::UserSrp {
                username: username.to_owned(),
                srp_a: checked_srp_a(srp_a)?,
            }
        }
        Some("USER_PASSWORD_AUTH") => {
            let (Some(username), Some(password)) = (parameter("USERNAME"), parameter("PASSWORD"))
            else {
                return Err(invalid("Missing required parameter USERNAME or PASSWORD"));
            };
            AuthFlowRequest::UserPassword {
                username: username.to_owned(),
                password: password.to_owned(),
            }
        }
        Some("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN") => AuthFlowRequest::RefreshToken {
            token: parameter("REFRESH_TOKEN").unwrap_or_default().to_owned(),
        },
        Some(other) => {
            return Err(invalid(format!(
                "the local endpoint plays CUSTOM_AUTH, USER_SRP_AUTH, USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, not {}",
                other.chars().take(80).collect::<String>()
            )));
        }
        None => return Err(invalid("Missing required parameter AuthFlow")),
    };
    Ok(InitiateAuth {
        client_id: text(body, "ClientId"),
        flow,
        client_metadata: client_metadata(body)?,
    })
}

fn respond_to_auth_challenge(body: &Value) -> Result<RespondToAuthChallenge, RequestError> {
    let responses = body.get("ChallengeResponses").unwrap_or(&Value::Null);
    let response = |name: &str| responses.get(name).and_then(Value::as_str);
    let answer = match body.get("ChallengeName").and_then(Value::as_str) {
        Some("CUSTOM_CHALLENGE") => ChallengeAnswer::Custom(
            response("ANSWER")
                .ok_or_else(|| invalid("Missing required parameter ANSWER or USERNAME"))?
                .to_owned(),
        ),
        Some("PASSWORD_VERIFIER") => {
            let (Some(secret_block), Some(signature), Some(timestamp)) = (
                response("PASSWORD_CLAIM_SECRET_BLOCK"),
                response("PASSWORD_CLAIM_SIGNATURE"),
                response("TIMESTAMP"),
            ) else {
                return Err(invalid(
                    "Missing required parameter PASSWORD_CLAIM_SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE or TIMESTAMP",
                ));
            };
            ChallengeAnswer::PasswordVerifier {
                secret_block: secret_block.to_owned(),
                signature: signature.to_owned(),
                timestamp: timestamp.to_owned(),
            }
        }
        _ => {
            return Err(invalid(
                "the local endpoint answers CUSTOM_CHALLENGE and PASSWORD_VERIFIER",
            ));
        }
    };
    let Some(username) = response("USERNAME") else {
        return Err(invalid("Missing required parameter ANSWER or USERNAME"));
    };
    Ok(RespondToAuthChallenge {
        client_id: text(body, "ClientId"),
        session: text(body, "Session"),
        username: username.to_owned(),
        answer,
        client_metadata: client_metadata(body)?,
    })
}

/// `SRP_A`, refused before anything runs when it is not a usable SRP value.
fn checked_srp_a(srp_a: &str) -> Result<String, RequestError> {
    crate::srp::check_a(srp_a)
        .map(|()| srp_a.to_owned())
        .map_err(|error| invalid(error.to_string()))
}

/// A string field that must be there and not be empty.
fn required(body: &Value, name: &str) -> Result<String, RequestError> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("Missing required parameter {name}")))
}

fn username(body: &Value) -> Result<String, RequestError> {
    body.get("Username")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| invalid("Missing required parameter Username"))
}

fn admin_user(body: &Value) -> Result<AdminUser, RequestError> {
    Ok(AdminUser {
        pool_id: text(body, "UserPoolId"),
        username: username(body)?,
    })
}

/// `UserAttributes`: `[{"Name": …, "Value": …}]` (entries without both strings skipped), never
/// `sub` or `cognito:…`, which are Cognito's own.
fn user_attributes(body: &Value) -> Result<BTreeMap<String, String>, RequestError> {
    let attributes: BTreeMap<String, String> = body
        .get("UserAttributes")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|attribute| {
                    Some((
                        attribute.get("Name")?.as_str()?.to_owned(),
                        attribute.get("Value")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if attributes
        .keys()
        .any(|name| name == "sub" || name.starts_with("cognito:"))
    {
        return Err(invalid("sub and cognito: attributes are Cognito's own"));
    }
    Ok(attributes)
}

fn sign_up(body: &Value) -> Result<SignUp, RequestError> {
    let validation_data = match body.get("ValidationData") {
        None | Some(Value::Null) => None,
        Some(list) => Some(
            list.as_array()
                .ok_or_else(|| invalid("ValidationData must be a list of attributes"))?
                .iter()
                .filter_map(|attribute| {
                    Some((
                        attribute.get("Name")?.as_str()?.to_owned(),
                        Value::String(attribute.get("Value")?.as_str()?.to_owned()),
                    ))
                })
                .collect(),
        ),
    };
    Ok(SignUp {
        client_id: text(body, "ClientId"),
        username: username(body)?,
        password: body
            .get("Password")
            .and_then(Value::as_str)
            .map(str::to_owned),
        attributes: user_attributes(body)?,
        validation_data,
        client_metadata: client_metadata(body)?,
    })
}

fn admin_create_user(body: &Value) -> Result<AdminCreateUser, RequestError> {
    Ok(AdminCreateUser {
        pool_id: text(body, "UserPoolId"),
        username: username(body)?,
        attributes: user_attributes(body)?,
        temporary_password: body
            .get("TemporaryPassword")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// The request's `ClientMetadata`: a map of strings, as Cognito's API model has it (anything else
/// is refused, as Cognito refuses it).
fn client_metadata(body: &Value) -> Result<Option<Map<String, Value>>, RequestError> {
    match body.get("ClientMetadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if map.values().all(Value::is_string) => Ok(Some(map.clone())),
        Some(_) => Err(invalid(
            "1 validation error detected: Value at 'clientMetadata' failed to satisfy constraint: Map value must be a string",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn request(operation: &str, body: &Value) -> Result<ApiRequest, RequestError> {
        decode(
            &format!("{TARGET_PREFIX}{operation}"),
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn client_metadata_is_a_map_of_strings_or_refused() {
        assert!(client_metadata(&json!({})).unwrap().is_none());
        assert!(
            client_metadata(&json!({"ClientMetadata": null}))
                .unwrap()
                .is_none()
        );
        let body = json!({"ClientMetadata": {"otpAction": "resend"}});
        assert_eq!(
            client_metadata(&body).unwrap().unwrap()["otpAction"],
            "resend"
        );
        for refused in [
            json!({"ClientMetadata": {"otpAction": 1}}),
            json!({"ClientMetadata": {"otpAction": {"nested": "x"}}}),
            json!({"ClientMetadata": ["otpAction"]}),
            json!({"ClientMetadata": "resend"}),
        ] {
            assert!(client_metadata(&refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn operations_decode_into_their_fields() {
        let initiate = request(
            "InitiateAuth",
            &json!({"ClientId": "c", "AuthFlow": "CUSTOM_AUTH",
                    "AuthParameters": {"USERNAME": "alice"},
                    "ClientMetadata": {"otpAction": "resend"}}),
        )
        .unwrap();
        let ApiRequest::InitiateAuth(initiate) = initiate else {
            panic!("{initiate:?}")
        };
        assert_eq!(initiate.client_id, "c");
        assert_eq!(
            initiate.flow,
            AuthFlowRequest::CustomAuth {
                username: "alice".to_owned(),
                srp_a: None,
            }
        );
        assert_eq!(initiate.client_metadata.unwrap()["otpAction"], "resend");
        let refresh = request(
            "InitiateAuth",
            &json!({"AuthFlow": "REFRESH_TOKEN", "AuthParameters": {"REFRESH_TOKEN": "t"}}),
        )
        .unwrap();
        assert!(matches!(
            refresh,
            ApiRequest::InitiateAuth(InitiateAuth { flow: AuthFlowRequest::RefreshToken { ref token }, .. }) if token == "t"
        ));
        let respond = request(
            "RespondToAuthChallenge",
            &json!({"ClientId": "c", "ChallengeName": "CUSTOM_CHALLENGE", "Session": "s",
                    "ChallengeResponses": {"USERNAME": "alice", "ANSWER": "123456"}}),
        )
        .unwrap();
        assert_eq!(
            respond,
            ApiRequest::RespondToAuthChallenge(RespondToAuthChallenge {
                client_id: "c".to_owned(),
                session: "s".to_owned(),
                username: "alice".to_owned(),
                answer: ChallengeAnswer::Custom("123456".to_owned()),
                client_metadata: None,
            })
        );
        let create = request(
            "AdminCreateUser",
            &json!({"UserPoolId": "p", "Username": "bob", "TemporaryPassword": "pw",
                    "UserAttributes": [{"Name": "email", "Value": "b@example.com"}, {"Name": "x"}]}),
        )
        .unwrap();
        assert_eq!(
            create,
            ApiRequest::AdminCreateUser(AdminCreateUser {
                pool_id: "p".to_owned(),
                username: "bob".to_owned(),
                attributes: [("email".to_owned(), "b@example.com".to_owned())].into(),
                temporary_password: Some("pw".to_owned()),
            })
        );
        assert_eq!(
            request("ListUsers", &json!({"UserPoolId": "p", "Filter": ""})).unwrap(),
            ApiRequest::ListUsers {
                pool_id: "p".to_owned()
            }
        );
    }

    #[test]
    fn sign_up_and_attribute_updates_are_decoded_into_their_fields() {
        let sign_up = request(
            "SignUp",
            &json!({
                "ClientId": "c", "Username": "dana", "Password": "p",
                "UserAttributes": [{"Name": "phone_number", "Value": "+12065550123"}],
                "ValidationData": [{"Name": "deviceId", "Value": "d1"}],
                "ClientMetadata": {"locale": "en"}
            }),
        )
        .unwrap();
        let ApiRequest::SignUp(sign_up) = sign_up else {
            panic!("{sign_up:?}")
        };
        assert_eq!(sign_up.username, "dana");
        assert_eq!(sign_up.password.as_deref(), Some("p"));
        assert_eq!(
            sign_up.attributes.get("phone_number").map(String::as_str),
            Some("+12065550123")
        );
        assert_eq!(
            sign_up.validation_data.unwrap().get("deviceId"),
            Some(&json!("d1"))
        );
        assert_eq!(
            sign_up.client_metadata.unwrap().get("locale"),
            Some(&json!("en"))
        );
        let update = request(
            "AdminUpdateUserAttributes",
            &json!({"UserPoolId": "p", "Username": "dana",
                    "UserAttributes": [{"Name": "phone_number_verified", "Value": "true"}]}),
        )
        .unwrap();
        let ApiRequest::AdminUpdateUserAttributes(update) = update else {
            panic!("{update:?}")
        };
        assert_eq!(
            (update.pool_id.as_str(), update.username.as_str()),
            ("p", "dana")
        );
        assert_eq!(
            update
                .attributes
                .get("phone_number_verified")
                .map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn srp_requests_are_decoded_into_their_fields() {
        let custom = request(
            "InitiateAuth",
            &json!({"ClientId": "c", "AuthFlow": "CUSTOM_AUTH",
                    "AuthParameters": {"USERNAME": "alice", "SRP_A": "abc1", "CHALLENGE_NAME": "SRP_A"}}),
        )
        .unwrap();
        let ApiRequest::InitiateAuth(InitiateAuth { flow, .. }) = custom else {
            panic!("{custom:?}")
        };
        assert_eq!(
            flow,
            AuthFlowRequest::CustomAuth {
                username: "alice".to_owned(),
                srp_a: Some("abc1".to_owned())
            }
        );
        let user_srp = request(
            "InitiateAuth",
            &json!({"ClientId": "c", "AuthFlow": "USER_SRP_AUTH",
                    "AuthParameters": {"USERNAME": "alice", "SRP_A": "abc1"}}),
        )
        .unwrap();
        let ApiRequest::InitiateAuth(InitiateAuth { flow, .. }) = user_srp else {
            panic!("{user_srp:?}")
        };
        assert_eq!(flow.name(), "USER_SRP_AUTH");
        let claim = request(
            "RespondToAuthChallenge",
            &json!({"ClientId": "c", "ChallengeName": "PASSWORD_VERIFIER",
                    "ChallengeResponses": {"USERNAME": "alice", "PASSWORD_CLAIM_SECRET_BLOCK": "b",
                                           "PASSWORD_CLAIM_SIGNATURE": "s", "TIMESTAMP": "t"}}),
        )
        .unwrap();
        let ApiRequest::RespondToAuthChallenge(respond) = claim else {
            panic!("{claim:?}")
        };
        assert_eq!(
            respond.answer,
            ChallengeAnswer::PasswordVerifier {
                secret_block: "b".to_owned(),
                signature: "s".to_owned(),
                timestamp: "t".to_owned()
            }
        );
        assert_eq!(respond.session, "");
        for body in [
            json!({"AuthFlow": "CUSTOM_AUTH", "AuthParameters": {"USERNAME": "a", "CHALLENGE_NAME": "SRP_A"}}),
            json!({"AuthFlow": "CUSTOM_AUTH", "AuthParameters": {"USERNAME": "a", "SRP_A": "1", "CHALLENGE_NAME": "PASSWORD_VERIFIER"}}),
            json!({"AuthFlow": "USER_SRP_AUTH", "AuthParameters": {"USERNAME": "a"}}),
        ] {
            assert_eq!(
                request("InitiateAuth", &body).unwrap_err().kind,
                "InvalidParameterException",
                "{body}"
            );
        }
        let incomplete = json!({"ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {"USERNAME": "a", "PASSWORD_CLAIM_SIGNATURE": "s", "TIMESTAMP": "t"}});
        assert_eq!(
            request("RespondToAuthChallenge", &incomplete)
                .unwrap_err()
                .kind,
            "InvalidParameterException"
        );
    }

    #[test]
    fn malformed_requests_are_refused_with_cognitos_exceptions() {
        let kind = |operation: &str, body: Value| request(operation, &body).unwrap_err().kind;
        assert_eq!(
            decode("Other.InitiateAuth", b"{}").unwrap_err().kind,
            "UnknownOperationException"
        );
        assert_eq!(
            decode(
                "AWSCognitoIdentityProviderService.AssociateSoftwareToken",
                b"{}"
            )
            .unwrap_err()
            .kind,
            "UnknownOperationException"
        );
        assert_eq!(
            decode("AWSCognitoIdentityProviderService.InitiateAuth", b"{")
                .unwrap_err()
                .kind,
            "SerializationException"
        );
        for (operation, body) in [
            ("InitiateAuth", json!({})),
            ("InitiateAuth", json!({"AuthFlow": "USER_SRP_AUTH"})),
            ("InitiateAuth", json!({"AuthFlow": "CUSTOM_AUTH"})),
            (
                "InitiateAuth",
                json!({"AuthFlow": "CUSTOM_AUTH", "AuthParameters": {"USERNAME": "a", "SRP_A": "1"}}),
            ),
            (
                "InitiateAuth",
                json!({"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "a"}}),
            ),
            (
                "InitiateAuth",
                json!({"AuthFlow": "CUSTOM_AUTH", "AuthParameters": {"USERNAME": "a"}, "ClientMetadata": {"k": 1}}),
            ),
            // Every flow's ClientMetadata is a map of strings, as Cognito's API model has it.
            (
                "InitiateAuth",
                json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": "t"}, "ClientMetadata": {"k": 1}}),
            ),
            (
                "RespondToAuthChallenge",
                json!({"ChallengeName": "SMS_MFA", "ChallengeResponses": {"USERNAME": "a", "ANSWER": "1"}}),
            ),
            (
                "RespondToAuthChallenge",
                json!({"ChallengeName": "CUSTOM_CHALLENGE", "ChallengeResponses": {"USERNAME": "a"}}),
            ),
            ("AdminGetUser", json!({"UserPoolId": "p", "Username": ""})),
            ("AdminDeleteUser", json!({"UserPoolId": "p"})),
            (
                "AdminCreateUser",
                json!({"Username": "a", "UserAttributes": [{"Name": "sub", "Value": "x"}]}),
            ),
            (
                "AdminCreateUser",
                json!({"Username": "a", "UserAttributes": [{"Name": "cognito:user_status", "Value": "x"}]}),
            ),
            ("ListUsers", json!({"Filter": "email = \"a\""})),
            ("SignUp", json!({"ClientId": "c", "Password": "p"})),
            (
                "SignUp",
                json!({"ClientId": "c", "Username": "a", "UserAttributes": [{"Name": "sub", "Value": "x"}]}),
            ),
            (
                "SignUp",
                json!({"ClientId": "c", "Username": "a", "ValidationData": {"k": "v"}}),
            ),
            (
                "SignUp",
                json!({"ClientId": "c", "Username": "a", "ClientMetadata": {"k": 1}}),
            ),
            (
                "AdminUpdateUserAttributes",
                json!({"UserPoolId": "p", "Username": "a", "UserAttributes": []}),
            ),
            (
                "AdminUpdateUserAttributes",
                json!({"UserPoolId": "p", "Username": "a", "UserAttributes": [{"Name": "cognito:user_status", "Value": "x"}]}),
            ),
            (
                "AdminUpdateUserAttributes",
                json!({"UserPoolId": "p", "UserAttributes": [{"Name": "email", "Value": "x"}]}),
            ),
            ("GetUser", json!({})),
            ("GetUser", json!({"AccessToken": ""})),
            ("GlobalSignOut", json!({"AccessToken": 1})),
            ("RevokeToken", json!({"Token": "t"})),
            (
                "UpdateUserAttributes",
                json!({"AccessToken": "a", "UserAttributes": []}),
            ),
            (
                "UpdateUserAttributes",
                json!({"AccessToken": "a", "UserAttributes": [{"Name": "sub", "Value": "x"}]}),
            ),
            ("AdminDisableUser", json!({"UserPoolId": "p"})),
            (
                "AdminUserGlobalSignOut",
                json!({"UserPoolId": "p", "Username": ""}),
            ),
        ] {
            assert_eq!(
                kind(operation, body.clone()),
                "InvalidParameterException",
                "{operation} {body}"
            );
        }
    }
}
