//! `local-cognito serve`'s request decoding: any `X-Amz-Target` and body (the first line of the
//! input is the target, the rest the body; seeds from the client tests' requests, see
//! scripts/fuzz).
//!
//! Invariants: a request is refused with one of Cognito's validation exceptions or decoded into
//! exactly the fields the body holds (read here independently); `ClientMetadata` is a map of
//! strings; an admin request names a user; no user is created with Cognito's own attributes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use local_cognito::serve::request::{
    ApiRequest, AuthFlowRequest, ChallengeAnswer, TARGET_PREFIX, decode,
};
use serde_json::Value;

fn field<'a>(body: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(body, |node, key| node.get(key))?
        .as_str()
}

fn text(body: &Value, name: &str) -> String {
    field(body, &[name]).unwrap_or_default().to_owned()
}

fuzz_target!(|data: &[u8]| {
    let (target, body) = match data.iter().position(|&byte| byte == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let target = String::from_utf8_lossy(target);
    let decoded = decode(&target, body);
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let request = match decoded {
        Ok(request) => request,
        Err(error) => {
            assert!(
                [
                    "UnknownOperationException",
                    "SerializationException",
                    "InvalidParameterException"
                ]
                .contains(&error.kind)
            );
            assert!(!error.message.is_empty() && error.message.len() <= 1024);
            if error.kind == "SerializationException" {
                assert!(json.is_none());
            }
            return;
        }
    };
    assert!(target.starts_with(TARGET_PREFIX));
    let body = json.expect("a decoded request has a JSON body");
    match request {
        ApiRequest::InitiateAuth(initiate) => {
            assert_eq!(initiate.client_id, text(&body, "ClientId"));
            let parameter = |name| field(&body, &["AuthParameters", name]);
            match &initiate.flow {
                AuthFlowRequest::CustomAuth { username, srp_a } => {
                    assert_eq!(field(&body, &["AuthFlow"]), Some("CUSTOM_AUTH"));
                    assert_eq!(Some(username.as_str()), parameter("USERNAME"));
                    // SRP_A only with CHALLENGE_NAME: SRP_A, and then always.
                    assert_eq!(srp_a.as_deref(), parameter("SRP_A"));
                    assert_eq!(parameter("CHALLENGE_NAME"), srp_a.as_ref().map(|_| "SRP_A"));
                }
                AuthFlowRequest::UserSrp { username, srp_a } => {
                    assert_eq!(field(&body, &["AuthFlow"]), Some("USER_SRP_AUTH"));
                    assert_eq!(Some(username.as_str()), parameter("USERNAME"));
                    assert_eq!(Some(srp_a.as_str()), parameter("SRP_A"));
                }
                AuthFlowRequest::UserPassword { username, password } => {
                    assert_eq!(field(&body, &["AuthFlow"]), Some("USER_PASSWORD_AUTH"));
                    assert_eq!(Some(username.as_str()), parameter("USERNAME"));
                    assert_eq!(Some(password.as_str()), parameter("PASSWORD"));
                }
                AuthFlowRequest::RefreshToken { token } => {
                    assert_eq!(token, parameter("REFRESH_TOKEN").unwrap_or_default());
                }
            }
            if let Some(metadata) = &initiate.client_metadata {
                assert!(metadata.values().all(Value::is_string));
                assert_eq!(
                    body.get("ClientMetadata"),
                    Some(&Value::Object(metadata.clone()))
                );
            }
        }
        ApiRequest::RespondToAuthChallenge(respond) => {
            assert_eq!(respond.client_id, text(&body, "ClientId"));
            assert_eq!(respond.session, text(&body, "Session"));
            let response = |name| field(&body, &["ChallengeResponses", name]);
            match &respond.answer {
                ChallengeAnswer::Custom(answer) => {
                    assert_eq!(field(&body, &["ChallengeName"]), Some("CUSTOM_CHALLENGE"));
                    assert_eq!(Some(answer.as_str()), response("ANSWER"));
                }
                ChallengeAnswer::PasswordVerifier {
                    secret_block,
                    signature,
                    timestamp,
                } => {
                    assert_eq!(field(&body, &["ChallengeName"]), Some("PASSWORD_VERIFIER"));
                    assert_eq!(
                        Some(secret_block.as_str()),
                        response("PASSWORD_CLAIM_SECRET_BLOCK")
                    );
                    assert_eq!(
                        Some(signature.as_str()),
                        response("PASSWORD_CLAIM_SIGNATURE")
                    );
                    assert_eq!(Some(timestamp.as_str()), response("TIMESTAMP"));
                }
            }
            assert_eq!(
                Some(respond.username.as_str()),
                field(&body, &["ChallengeResponses", "USERNAME"])
            );
            if let Some(metadata) = &respond.client_metadata {
                assert!(metadata.values().all(Value::is_string));
            }
        }
        ApiRequest::AdminCreateUser(create) => {
            assert!(!create.username.is_empty());
            assert_eq!(Some(create.username.as_str()), field(&body, &["Username"]));
            assert!(
                create
                    .attributes
                    .keys()
                    .all(|name| name != "sub" && !name.starts_with("cognito:"))
            );
        }
        ApiRequest::GetUser { access_token } | ApiRequest::GlobalSignOut { access_token } => {
            assert!(!access_token.is_empty());
            assert_eq!(Some(access_token.as_str()), field(&body, &["AccessToken"]));
        }
        ApiRequest::UpdateUserAttributes {
            access_token,
            attributes,
        } => {
            assert_eq!(Some(access_token.as_str()), field(&body, &["AccessToken"]));
            assert!(!access_token.is_empty() && !attributes.is_empty());
            assert!(
                attributes
                    .keys()
                    .all(|name| name != "sub" && !name.starts_with("cognito:"))
            );
        }
        ApiRequest::ForgotPassword {
            client_id,
            username,
            client_metadata,
        } => {
            assert_eq!(Some(client_id.as_str()), field(&body, &["ClientId"]));
            assert_eq!(Some(username.as_str()), field(&body, &["Username"]));
            assert!(!username.is_empty());
            if let Some(metadata) = client_metadata {
                assert!(metadata.values().all(Value::is_string));
            }
        }
        ApiRequest::ConfirmForgotPassword {
            client_id,
            username,
            code,
            password,
        } => {
            assert_eq!(Some(client_id.as_str()), field(&body, &["ClientId"]));
            assert_eq!(Some(username.as_str()), field(&body, &["Username"]));
            assert_eq!(Some(code.as_str()), field(&body, &["ConfirmationCode"]));
            assert_eq!(Some(password.as_str()), field(&body, &["Password"]));
            assert!(!password.is_empty() && !code.is_empty());
        }
        ApiRequest::RevokeToken { token, client_id } => {
            assert_eq!(Some(token.as_str()), field(&body, &["Token"]));
            assert_eq!(Some(client_id.as_str()), field(&body, &["ClientId"]));
            assert!(!token.is_empty() && !client_id.is_empty());
        }
        ApiRequest::AdminGetUser(user)
        | ApiRequest::AdminDeleteUser(user)
        | ApiRequest::AdminDisableUser(user)
        | ApiRequest::AdminEnableUser(user)
        | ApiRequest::AdminUserGlobalSignOut(user) => {
            assert!(!user.username.is_empty());
            assert_eq!(user.pool_id, text(&body, "UserPoolId"));
        }
        ApiRequest::SignUp(sign_up) => {
            assert!(!sign_up.username.is_empty());
            assert_eq!(Some(sign_up.username.as_str()), field(&body, &["Username"]));
            assert_eq!(sign_up.client_id, text(&body, "ClientId"));
            assert_eq!(sign_up.password.as_deref(), field(&body, &["Password"]));
            assert!(
                sign_up
                    .attributes
                    .keys()
                    .all(|name| name != "sub" && !name.starts_with("cognito:"))
            );
            for map in [&sign_up.validation_data, &sign_up.client_metadata]
                .into_iter()
                .flatten()
            {
                assert!(map.values().all(Value::is_string));
            }
        }
        ApiRequest::AdminUpdateUserAttributes(update) => {
            assert!(!update.username.is_empty());
            assert!(!update.attributes.is_empty());
            assert_eq!(update.pool_id, text(&body, "UserPoolId"));
            assert!(
                update
                    .attributes
                    .keys()
                    .all(|name| name != "sub" && !name.starts_with("cognito:"))
            );
        }
        ApiRequest::ListUsers { pool_id } => assert_eq!(pool_id, text(&body, "UserPoolId")),
    }
});
