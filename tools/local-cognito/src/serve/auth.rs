//! The sign-in operations: `InitiateAuth` and `RespondToAuthChallenge`, with Cognito's sessions
//! (new and single-use each round, expiring after [`super::SESSION_LIFETIME`]).

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::request::{AuthFlowRequest, InitiateAuth, RespondToAuthChallenge};
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
                // A user disabled while signing in gets no tokens either.
                self.refuse_disabled(&username)?;
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

    pub(super) async fn initiate_auth(&self, request: InitiateAuth) -> Result<Value, ApiError> {
        let client_id = request.client_id;
        self.check_client(&client_id)?;
        self.check_flow(&client_id, request.flow.name())?;
        let metadata = request.client_metadata.as_ref();
        match request.flow {
            AuthFlowRequest::CustomAuth { username } => {
                self.refuse_disabled(&username)?;
                let step = self
                    .pool
                    .initiate_custom_auth_with_metadata(&username, metadata)
                    .await?;
                self.answer(step, &client_id)
            }
            AuthFlowRequest::UserPassword { username, password } => {
                self.refuse_disabled(&username)?;
                let step = self
                    .pool
                    .password_auth(&client_id, &username, &password, metadata)
                    .await?;
                self.answer(step, &client_id)
            }
            AuthFlowRequest::RefreshToken { token } => {
                let user = self
                    .refresh_tokens
                    .lock()
                    .map_err(|_| internal("refresh tokens"))?
                    .get(&token)
                    .cloned()
                    .filter(|user| !token.is_empty() && user.client_id == client_id)
                    .ok_or_else(|| {
                        bad_request("NotAuthorizedException", "Invalid Refresh Token")
                    })?;
                self.refuse_disabled(&user.username)?;
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
        }
    }

    pub(super) async fn respond_to_auth_challenge(
        &self,
        request: RespondToAuthChallenge,
    ) -> Result<Value, ApiError> {
        let client_id = request.client_id;
        self.check_client(&client_id)?;
        let id = request.session;
        // Single use: the session is gone once presented, whatever happens next.
        let entry = self.lock_sessions()?.remove(&id);
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
        if request.username != session.username {
            return Err(bad_request(
                "NotAuthorizedException",
                "Invalid session for the user.",
            ));
        }
        let step = self
            .pool
            .respond_to_custom_challenge_with_metadata(
                session,
                &request.answer,
                request.client_metadata.as_ref(),
            )
            .await?;
        self.answer(step, &client_id)
    }
}
