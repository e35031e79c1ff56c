//! The sign-in operations: `InitiateAuth` and `RespondToAuthChallenge`, with Cognito's sessions
//! (new and single-use each round, expiring after [`super::SESSION_LIFETIME`]).

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{
    ApiError, Endpoint, SESSION_LIFETIME, SignedIn, bad_request, internal, now, random_token,
    session_token,
};
use crate::cognito::AuthStep;

impl Endpoint {
    /// Turns a sign-in step into Cognito's answer: a challenge with a new session, or tokens.
    fn answer(&self, step: AuthStep, client_id: &str) -> Result<Value, ApiError> {
        match step {
            AuthStep::Challenge {
                challenge_name,
                parameters,
                session,
            } => {
                if challenge_name != "CUSTOM_CHALLENGE" {
                    return Err(bad_request(
                        "InvalidParameterException",
                        "the local endpoint plays CUSTOM_AUTH without SRP; password-first flows run with `local-cognito sign-in`",
                    ));
                }
                let id = session_token()?;
                let mut sessions = self.lock_sessions()?;
                // Expired sessions go as new ones come.
                sessions.retain(|_, (_, created, _)| created.elapsed() <= SESSION_LIFETIME);
                sessions.insert(id.clone(), (session, Instant::now(), client_id.to_owned()));
                let parameters: Map<String, Value> = parameters
                    .into_iter()
                    .map(|(key, value)| match value {
                        Value::String(_) => (key, value),
                        other => (key, Value::String(other.to_string())),
                    })
                    .collect();
                Ok(json!({
                    "ChallengeName": challenge_name,
                    "Session": id,
                    "ChallengeParameters": parameters,
                }))
            }
            AuthStep::Authenticated {
                username,
                attributes,
            } => {
                // A user deleted while signing in gets no tokens.
                if self.pool.user(&username).is_none() {
                    return Err(bad_request(
                        "NotAuthorizedException",
                        "Incorrect username or password.",
                    ));
                }
                let signed_in = SignedIn {
                    username,
                    attributes,
                    auth_time: now(),
                    client_id: client_id.to_owned(),
                    origin_jti: random_token(16)?,
                };
                let refresh = random_token(64)?;
                self.refresh_tokens
                    .lock()
                    .map_err(|_| internal("refresh tokens"))?
                    .insert(refresh.clone(), signed_in.clone());
                let mut result = self.tokens(&signed_in)?;
                result.insert("RefreshToken".to_owned(), Value::String(refresh));
                Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
            }
        }
    }

    pub(super) async fn initiate_auth(&self, body: &Value) -> Result<Value, ApiError> {
        let client_id = self.check_client(body)?;
        let parameters = body.get("AuthParameters").cloned().unwrap_or(Value::Null);
        let parameter = |name: &str| parameters.get(name).and_then(Value::as_str);
        let flow = body.get("AuthFlow").and_then(Value::as_str);
        if let Some(flow) = flow {
            self.check_flow(&client_id, flow)?;
        }
        match flow {
            Some("CUSTOM_AUTH") => {
                let username = parameter("USERNAME").ok_or_else(|| {
                    bad_request(
                        "InvalidParameterException",
                        "Missing required parameter USERNAME",
                    )
                })?;
                if parameter("SRP_A").is_some() {
                    return Err(bad_request(
                        "InvalidParameterException",
                        "the local endpoint does not play SRP; password-first flows run with `local-cognito sign-in`",
                    ));
                }
                let metadata = client_metadata(body)?;
                let step = self
                    .pool
                    .initiate_custom_auth_with_metadata(username, metadata)
                    .await?;
                self.answer(step, &client_id)
            }
            Some("USER_PASSWORD_AUTH") => {
                let (Some(username), Some(password)) =
                    (parameter("USERNAME"), parameter("PASSWORD"))
                else {
                    return Err(bad_request(
                        "InvalidParameterException",
                        "Missing required parameter USERNAME or PASSWORD",
                    ));
                };
                let metadata = client_metadata(body)?;
                let step = self
                    .pool
                    .password_auth(&client_id, username, password, metadata)
                    .await?;
                self.answer(step, &client_id)
            }
            Some("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN") => {
                let token = parameter("REFRESH_TOKEN").unwrap_or("");
                let user = self
                    .refresh_tokens
                    .lock()
                    .map_err(|_| internal("refresh tokens"))?
                    .get(token)
                    .cloned()
                    .filter(|user| !token.is_empty() && user.client_id == client_id)
                    .ok_or_else(|| {
                        bad_request("NotAuthorizedException", "Invalid Refresh Token")
                    })?;
                // A deleted user's refresh tokens stop working; attributes are read afresh.
                let current = self.pool.user(&user.username).ok_or_else(|| {
                    bad_request("NotAuthorizedException", "Invalid Refresh Token")
                })?;
                let user = SignedIn {
                    attributes: current
                        .attributes
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                    ..user
                };
                Ok(json!({"AuthenticationResult": self.tokens(&user)?, "ChallengeParameters": {}}))
            }
            Some(other) => Err(bad_request(
                "InvalidParameterException",
                format!(
                    "the local endpoint plays CUSTOM_AUTH, USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, not {other}"
                ),
            )),
            None => Err(bad_request(
                "InvalidParameterException",
                "Missing required parameter AuthFlow",
            )),
        }
    }

    pub(super) async fn respond_to_auth_challenge(&self, body: &Value) -> Result<Value, ApiError> {
        let client_id = self.check_client(body)?;
        if body.get("ChallengeName").and_then(Value::as_str) != Some("CUSTOM_CHALLENGE") {
            return Err(bad_request(
                "InvalidParameterException",
                "the local endpoint answers CUSTOM_CHALLENGE only",
            ));
        }
        let responses = body
            .get("ChallengeResponses")
            .cloned()
            .unwrap_or(Value::Null);
        let response = |name: &str| responses.get(name).and_then(Value::as_str);
        // A malformed request is refused before it can use up the session.
        let (Some(answer), Some(username)) = (response("ANSWER"), response("USERNAME")) else {
            return Err(bad_request(
                "InvalidParameterException",
                "Missing required parameter ANSWER or USERNAME",
            ));
        };
        let metadata = client_metadata(body)?;
        let id = body.get("Session").and_then(Value::as_str).unwrap_or("");
        // Single use: the session is gone once presented, whatever happens next.
        let entry = self.lock_sessions()?.remove(id);
        let Some((session, created, session_client)) = entry.filter(|_| !id.is_empty()) else {
            return Err(bad_request(
                "NotAuthorizedException",
                "Invalid session for the user.",
            ));
        };
        if created.elapsed() > SESSION_LIFETIME || session_client != client_id {
            return Err(bad_request(
                "NotAuthorizedException",
                "Invalid session for the user, session is expired.",
            ));
        }
        if username != session.username {
            return Err(bad_request(
                "NotAuthorizedException",
                "Invalid session for the user.",
            ));
        }
        let step = self
            .pool
            .respond_to_custom_challenge_with_metadata(session, answer, metadata)
            .await?;
        self.answer(step, &client_id)
    }
}

/// The request's `ClientMetadata`: a map of strings, as Cognito's API model has it (anything else
/// is refused before a session is used up, as Cognito refuses it).
fn client_metadata(body: &Value) -> Result<Option<&serde_json::Map<String, Value>>, ApiError> {
    match body.get("ClientMetadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if map.values().all(Value::is_string) => Ok(Some(map)),
        Some(_) => Err(bad_request(
            "InvalidParameterException",
            "1 validation error detected: Value at 'clientMetadata' failed to satisfy constraint: Map value must be a string",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
