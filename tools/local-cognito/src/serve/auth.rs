//! The sign-in operations: `InitiateAuth` and `RespondToAuthChallenge`, with Cognito's sessions
//! (new and single-use each round, expiring after [`super::SESSION_LIFETIME`]).

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::request::{AuthFlowRequest, ChallengeAnswer, InitiateAuth, RespondToAuthChallenge};
use super::{
    ApiError, Endpoint, Pending, SESSION_LIFETIME, SignedIn, bad_request, internal, now,
    random_token, session_token,
};
use crate::cognito::AuthStep;
use crate::srp::{PasswordClaim, SrpError, SrpExchange};

fn incorrect() -> ApiError {
    bad_request("NotAuthorizedException", "Incorrect username or password.")
}

impl From<SrpError> for ApiError {
    fn from(error: SrpError) -> Self {
        match error {
            SrpError::InvalidA => bad_request("InvalidParameterException", error.to_string()),
            SrpError::Random => internal("the random number generator"),
        }
    }
}

impl Endpoint {
    /// The pool's name in SRP: the part of its id after `_`.
    fn srp_pool_name(&self) -> String {
        let pool_id = &self.pool.settings().pool_id;
        pool_id
            .split_once('_')
            .map_or(pool_id.as_str(), |(_, name)| name)
            .to_owned()
    }

    /// A new `Session` for `pending`, and Cognito's challenge answer with `parameters`.
    fn challenge(
        &self,
        challenge_name: &str,
        parameters: Map<String, Value>,
        pending: Pending,
        client_id: &str,
    ) -> Result<Value, ApiError> {
        let id = session_token()?;
        let mut sessions = self.lock_sessions()?;
        // Expired sessions go as new ones come.
        sessions.retain(|_, (_, created, _)| created.elapsed() <= SESSION_LIFETIME);
        sessions.insert(id.clone(), (pending, Instant::now(), client_id.to_owned()));
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

    /// The SRP exchange for `username` (`known`: a user of the pool, whose password it proves).
    fn srp_exchange(
        &self,
        username: &str,
        known: bool,
        srp_a: &str,
    ) -> Result<SrpExchange, ApiError> {
        let password = known
            .then(|| self.pool.user(username))
            .flatten()
            .and_then(|user| user.password);
        Ok(SrpExchange::start(
            &self.srp_pool_name(),
            username,
            password.as_deref(),
            srp_a,
        )?)
    }

    /// The `PASSWORD_VERIFIER` challenge's parameters: `USERNAME` and the exchange's.
    fn srp_parameters(username: &str, exchange: &SrpExchange) -> Map<String, Value> {
        let mut parameters = Map::new();
        parameters.insert("USERNAME".to_owned(), Value::String(username.to_owned()));
        for (name, value) in exchange.parameters() {
            parameters.insert(name.to_owned(), Value::String(value));
        }
        parameters
    }

    /// Turns a sign-in step into Cognito's answer: a challenge with a new session, or tokens.
    /// `srp_a`: the client's `SRP_A`, when the flow starts with the password.
    fn answer(
        &self,
        step: AuthStep,
        client_id: &str,
        srp_a: Option<&str>,
    ) -> Result<Value, ApiError> {
        match step {
            AuthStep::Challenge {
                challenge_name,
                parameters,
                session,
            } => match (challenge_name.as_str(), srp_a) {
                ("CUSTOM_CHALLENGE", _) => self.challenge(
                    &challenge_name,
                    parameters,
                    Pending::Custom(session),
                    client_id,
                ),
                ("PASSWORD_VERIFIER", Some(srp_a)) => {
                    let exchange =
                        self.srp_exchange(&session.username, !session.user_not_found(), srp_a)?;
                    let parameters = Self::srp_parameters(&session.username, &exchange);
                    self.challenge(
                        &challenge_name,
                        parameters,
                        Pending::CustomPassword(session, exchange),
                        client_id,
                    )
                }
                _ => Err(bad_request(
                    "InvalidLambdaResponseException",
                    "Unrecognizable lambda output",
                )),
            },
            AuthStep::Authenticated {
                username,
                attributes,
            } => {
                // A user disabled while signing in gets no tokens either.
                self.refuse_disabled(&username)?;
                // A user deleted while signing in gets no tokens; the tokens carry the user's
                // attributes as they are now (PostAuthentication may have just changed them: a
                // destination its first code verified).
                let Some(current) = self.pool.user(&username) else {
                    return Err(bad_request(
                        "NotAuthorizedException",
                        "Incorrect username or password.",
                    ));
                };
                let attributes: Map<String, Value> = if current.attributes.is_empty() {
                    attributes
                } else {
                    current
                        .attributes
                        .iter()
                        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                        .collect()
                };
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
            AuthFlowRequest::CustomAuth { username, srp_a } => {
                self.refuse_disabled(&username)?;
                let step = match &srp_a {
                    Some(_) => {
                        self.pool
                            .initiate_custom_auth_with_srp_and_metadata(&username, metadata)
                            .await?
                    }
                    None => {
                        self.pool
                            .initiate_custom_auth_with_metadata(&username, metadata)
                            .await?
                    }
                };
                self.answer(step, &client_id, srp_a.as_deref())
            }
            AuthFlowRequest::UserSrp { username, srp_a } => {
                self.refuse_disabled(&username)?;
                let user = self
                    .pool
                    .start_password_proof(&client_id, &username, metadata)
                    .await?;
                let exchange = self.srp_exchange(&username, user.is_some(), &srp_a)?;
                let parameters = Self::srp_parameters(&username, &exchange);
                self.challenge(
                    "PASSWORD_VERIFIER",
                    parameters,
                    Pending::UserPassword {
                        username,
                        known: user.is_some(),
                        exchange,
                    },
                    &client_id,
                )
            }
            AuthFlowRequest::UserPassword { username, password } => {
                self.refuse_disabled(&username)?;
                let step = self
                    .pool
                    .password_auth(&client_id, &username, &password, metadata)
                    .await?;
                self.answer(step, &client_id, None)
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
                let current = self
                    .pool
                    .user(&user.username)
                    // The token's user, not another one of the same name made since.
                    .filter(|current| {
                        current.attributes.get("sub").map(String::as_str)
                            == user.attributes.get("sub").and_then(Value::as_str)
                    })
                    .ok_or_else(|| {
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
        let mut id = request.session.clone();
        if id.is_empty()
            && let ChallengeAnswer::PasswordVerifier { secret_block, .. } = &request.answer
        {
            // USER_SRP_AUTH's PASSWORD_VERIFIER may come without the Session (Cognito's secret
            // block carries the exchange): the exchange that gave out this block, if any.
            id = self
                .lock_sessions()?
                .iter()
                .find(|(_, (pending, _, _))| {
                    matches!(pending, Pending::UserPassword { exchange, .. }
                        if exchange.holds_secret_block(secret_block))
                })
                .map(|(id, _)| id.clone())
                .unwrap_or_default();
        }
        // Single use: the session is gone once presented, whatever happens next.
        let entry = self.lock_sessions()?.remove(&id);
        let Some((pending, created, session_client)) = entry.filter(|_| !id.is_empty()) else {
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
        let invalid = || bad_request("NotAuthorizedException", "Invalid session for the user.");
        let session_user = match &pending {
            Pending::Custom(session) | Pending::CustomPassword(session, _) => &session.username,
            Pending::UserPassword { username, .. } => username,
        };
        if request.username != *session_user {
            return Err(invalid());
        }
        let claim_of = |answer: &ChallengeAnswer| match answer {
            ChallengeAnswer::PasswordVerifier {
                secret_block,
                signature,
                timestamp,
            } => Some((secret_block.clone(), signature.clone(), timestamp.clone())),
            ChallengeAnswer::Custom(_) => None,
        };
        let verified =
            |exchange: &SrpExchange,
             (secret_block, signature, timestamp): (String, String, String)| {
                exchange.verify(PasswordClaim {
                    secret_block: &secret_block,
                    timestamp: &timestamp,
                    signature: &signature,
                })
            };
        let step = match (pending, &request.answer) {
            (Pending::Custom(session), ChallengeAnswer::Custom(answer)) => {
                self.pool
                    .respond_to_custom_challenge_with_metadata(
                        session,
                        answer,
                        request.client_metadata.as_ref(),
                    )
                    .await?
            }
            (Pending::CustomPassword(session, exchange), answer) => {
                let claim = claim_of(answer).ok_or_else(invalid)?;
                let correct = verified(&exchange, claim);
                self.pool
                    .password_verified(session, correct, request.client_metadata.as_ref())
                    .await?
            }
            (
                Pending::UserPassword {
                    username,
                    known,
                    exchange,
                },
                answer,
            ) => {
                let claim = claim_of(answer).ok_or_else(invalid)?;
                // Checked for unknown users too: the same work, the same time.
                let proved = verified(&exchange, claim);
                if !(proved && known) {
                    return Err(incorrect());
                }
                self.pool.password_proved(&client_id, &username).await?
            }
            (Pending::Custom(_), ChallengeAnswer::PasswordVerifier { .. }) => {
                return Err(invalid());
            }
        };
        self.answer(step, &client_id, None)
    }
}
