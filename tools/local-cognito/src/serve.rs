//! A Cognito-compatible user-pool endpoint on 127.0.0.1, backed by the real trigger binaries: the
//! JSON 1.1 protocol real clients speak (`POST /`, `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Operation>`), RS256 tokens with Cognito's claims, and the
//! public keys at `/<pool id>/.well-known/jwks.json`.
//!
//! Operations: `InitiateAuth` (`CUSTOM_AUTH`, `USER_PASSWORD_AUTH` — with the migration trigger
//! for unknown users when wired — and `REFRESH_TOKEN_AUTH`), `RespondToAuthChallenge`
//! (`CUSTOM_CHALLENGE`), and `AdminCreateUser`, `AdminGetUser`, `AdminDeleteUser`, `ListUsers`
//! to set users up. PreAuthentication runs where Cognito runs it, when wired. Cognito's visible semantics are kept: a new opaque `Session` each round,
//! single use, expiring after 3 minutes; `ChallengeParameters` are the public challenge
//! parameters plus `USERNAME`; errors in Cognito's JSON shape (`__type`, `message`), so SDKs raise
//! the right exception. `GET /local/sms` lists the console SMS messages (a local inbox).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::cognito::{AuthSession, AuthStep, CognitoError, LocalPool};
use crate::lambda_host::OutputLog;
use crate::users::LocalUser;

/// How long a `Session` may be answered (Cognito's default `AuthSessionValidity`).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(180);
/// Lifetime of ID and access tokens, in seconds.
pub const TOKEN_LIFETIME: u64 = 3_600;

/// Signs tokens with an RSA key made at start, and publishes its public half.
pub struct TokenSigner {
    key: SigningKey<Sha256>,
    public: RsaPublicKey,
    kid: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A fresh 2048-bit key.
    pub fn generate() -> Result<Self, String> {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("cannot make an RSA key: {e}"))?;
        let public = private.to_public_key();
        let mut id = [0u8; 12];
        getrandom::fill(&mut id).map_err(|e| e.to_string())?;
        Ok(Self {
            key: SigningKey::<Sha256>::new(private),
            public,
            kid: URL_SAFE_NO_PAD.encode(id),
        })
    }

    /// A compact JWS (RS256) over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The JSON Web Key Set clients verify tokens with.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kid": self.kid,
            "alg": "RS256",
            "kty": "RSA",
            "use": "sig",
            "e": URL_SAFE_NO_PAD.encode(self.public.e().to_bytes_be()),
            "n": URL_SAFE_NO_PAD.encode(self.public.n().to_bytes_be()),
        }]})
    }
}

/// Open sessions: the id handed to the client → the sign-in, when it was handed out, to which app
/// client.
type Sessions = HashMap<String, (AuthSession, Instant, String)>;

/// A user who passed: who, and when (for `auth_time` on refreshed tokens).
#[derive(Debug, Clone)]
struct SignedIn {
    username: String,
    attributes: Map<String, Value>,
    auth_time: u64,
    client_id: String,
    /// Shared by the tokens of one sign-in and their refreshes.
    origin_jti: String,
}

/// The endpoint's state.
pub struct Endpoint {
    pool: LocalPool,
    signer: TokenSigner,
    issuer: String,
    output: Arc<OutputLog>,
    sessions: Mutex<Sessions>,
    refresh_tokens: Mutex<HashMap<String, SignedIn>>,
    demo_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Cognito's error: an HTTP status, a `__type` and a message.
#[derive(Debug)]
struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"__type": self.1, "message": self.2}).to_string();
        (
            self.0,
            [
                (header::CONTENT_TYPE, "application/x-amz-json-1.1"),
                (header::HeaderName::from_static("x-amzn-errortype"), self.1),
            ],
            body,
        )
            .into_response()
    }
}

fn bad_request(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, kind, message.into())
}

impl From<CognitoError> for ApiError {
    fn from(error: CognitoError) -> Self {
        match error {
            CognitoError::NotAuthorized(message) => bad_request("NotAuthorizedException", message),
            CognitoError::UserNotFound => {
                bad_request("UserNotFoundException", "User does not exist.")
            }
            CognitoError::UserLambdaValidation(message) => {
                bad_request("UserLambdaValidationException", message)
            }
            CognitoError::InvalidLambdaResponse(message) => {
                bad_request("InvalidLambdaResponseException", message)
            }
            CognitoError::UnexpectedLambda(message) => {
                bad_request("UnexpectedLambdaException", message)
            }
            CognitoError::UsernameExists => {
                bad_request("UsernameExistsException", "User account already exists")
            }
            CognitoError::Local(message) => ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalErrorException",
                message,
            ),
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn random_token(bytes: usize) -> Result<String, ApiError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|_| internal("the random number generator"))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

impl Endpoint {
    /// An endpoint for `pool`, issuing tokens as `http://127.0.0.1:<port>/<pool id>`.
    pub fn new(pool: LocalPool, signer: TokenSigner, port: u16, output: Arc<OutputLog>) -> Self {
        let issuer = format!("http://127.0.0.1:{port}/{}", pool.settings().pool_id);
        Self {
            pool,
            signer,
            issuer,
            output,
            sessions: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            demo_dir: None,
        }
    }

    /// Serves the static files of `dir` (the demo page) under `/demo/`.
    pub fn with_demo(mut self, dir: std::path::PathBuf) -> Self {
        self.demo_dir = Some(dir);
        self
    }

    /// The token issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The routes: `POST /` (the API), the JWKS, the local SMS inbox and the demo page. Browsers
    /// on other local origins may call it (CORS, as Cognito allows); requests must name this
    /// machine in `Host`, so a web page cannot reach the admin calls through DNS rebinding.
    pub fn router(self: Arc<Self>) -> Router {
        let jwks_path = format!("/{}/.well-known/jwks.json", self.pool.settings().pool_id);
        Router::new()
            .route("/", post(api))
            .route(&jwks_path, get(jwks))
            .route("/local/sms", get(sms_inbox))
            .route(
                "/demo",
                get(|| async { axum::response::Redirect::permanent("/demo/") }),
            )
            .route("/demo/", get(demo_index))
            .route("/demo/{*path}", get(demo_file))
            .route("/{pool}/.well-known/openid-configuration", get(openid))
            .route("/", axum::routing::options(preflight))
            .layer(axum::middleware::from_fn(local_only_with_cors))
            .with_state(self)
    }

    fn check_client(&self, body: &Value) -> Result<String, ApiError> {
        let client = body.get("ClientId").and_then(Value::as_str).unwrap_or("");
        if client != self.pool.settings().client_id {
            return Err(bad_request(
                "ResourceNotFoundException",
                format!("User pool client {client} does not exist."),
            ));
        }
        Ok(client.to_owned())
    }

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
                let id = random_token(48)?;
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

    fn lock_sessions(&self) -> Result<std::sync::MutexGuard<'_, Sessions>, ApiError> {
        self.sessions.lock().map_err(|_| internal("sessions"))
    }

    /// ID and access tokens with Cognito's claims.
    fn tokens(&self, user: &SignedIn) -> Result<Map<String, Value>, ApiError> {
        let issued = now();
        let sub = user
            .attributes
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or(&user.username)
            .to_owned();
        let origin = user.origin_jti.clone();
        let mut id_claims = Map::new();
        for (name, value) in &user.attributes {
            if name.starts_with("cognito:") {
                continue;
            }
            // Cognito writes the verification flags as JSON booleans in ID tokens.
            let value = match (name.as_str(), value.as_str()) {
                ("email_verified" | "phone_number_verified", Some(flag)) => {
                    Value::Bool(flag == "true")
                }
                _ => value.clone(),
            };
            id_claims.insert(name.clone(), value);
        }
        for (name, value) in [
            ("sub", json!(sub)),
            ("iss", json!(self.issuer)),
            ("cognito:username", json!(user.username)),
            ("aud", json!(user.client_id)),
            ("origin_jti", json!(origin)),
            ("event_id", json!(random_token(16)?)),
            ("token_use", json!("id")),
            ("auth_time", json!(user.auth_time)),
            ("iat", json!(issued)),
            ("exp", json!(issued + TOKEN_LIFETIME)),
            ("jti", json!(random_token(16)?)),
        ] {
            id_claims.insert(name.to_owned(), value);
        }
        let access_claims = json!({
            "sub": sub,
            "iss": self.issuer,
            "client_id": user.client_id,
            "origin_jti": origin,
            "event_id": random_token(16)?,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": user.auth_time,
            "iat": issued,
            "exp": issued + TOKEN_LIFETIME,
            "jti": random_token(16)?,
            "username": user.username,
        });
        let mut result = Map::new();
        result.insert(
            "AccessToken".to_owned(),
            json!(self.signer.sign(&access_claims)),
        );
        result.insert("ExpiresIn".to_owned(), json!(TOKEN_LIFETIME));
        result.insert("TokenType".to_owned(), json!("Bearer"));
        result.insert(
            "IdToken".to_owned(),
            json!(self.signer.sign(&Value::Object(id_claims))),
        );
        Ok(result)
    }

    async fn initiate_auth(&self, body: &Value) -> Result<Value, ApiError> {
        let client_id = self.check_client(body)?;
        let parameters = body.get("AuthParameters").cloned().unwrap_or(Value::Null);
        let parameter = |name: &str| parameters.get(name).and_then(Value::as_str);
        match body.get("AuthFlow").and_then(Value::as_str) {
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
                let metadata = body.get("ClientMetadata").and_then(Value::as_object);
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
                let metadata = body.get("ClientMetadata").and_then(Value::as_object);
                let step = self
                    .pool
                    .password_auth(username, password, metadata)
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

    async fn respond_to_auth_challenge(&self, body: &Value) -> Result<Value, ApiError> {
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
            .respond_to_custom_challenge(session, answer)
            .await?;
        self.answer(step, &client_id)
    }
}

impl Endpoint {
    fn check_pool(&self, body: &Value) -> Result<(), ApiError> {
        let pool = body.get("UserPoolId").and_then(Value::as_str).unwrap_or("");
        if pool != self.pool.settings().pool_id {
            return Err(bad_request(
                "ResourceNotFoundException",
                format!("User pool {pool} does not exist."),
            ));
        }
        Ok(())
    }

    fn username(body: &Value) -> Result<&str, ApiError> {
        body.get("Username")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                bad_request(
                    "InvalidParameterException",
                    "Missing required parameter Username",
                )
            })
    }

    fn admin_create_user(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        let username = Self::username(body)?;
        let attributes: std::collections::BTreeMap<String, String> = body
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
            .any(|name: &String| name == "sub" || name.starts_with("cognito:"))
        {
            return Err(bad_request(
                "InvalidParameterException",
                "sub and cognito: attributes are Cognito's own",
            ));
        }
        let user = self.pool.create_user(LocalUser {
            username: username.to_owned(),
            attributes,
            password: body
                .get("TemporaryPassword")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })?;
        Ok(json!({"User": user_type(&user, "Attributes")}))
    }

    fn admin_get_user(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        let user = self
            .pool
            .user(Self::username(body)?)
            .ok_or_else(|| ApiError::from(CognitoError::UserNotFound))?;
        Ok(user_type(&user, "UserAttributes"))
    }

    fn admin_delete_user(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        self.pool.delete_user(Self::username(body)?)?;
        Ok(json!({}))
    }

    fn list_users(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        if body
            .get("Filter")
            .is_some_and(|filter| filter.as_str() != Some(""))
        {
            return Err(bad_request(
                "InvalidParameterException",
                "the local endpoint lists all users; Filter is not supported",
            ));
        }
        let users: Vec<Value> = self
            .pool
            .users()
            .iter()
            .map(|user| user_type(user, "Attributes"))
            .collect();
        Ok(json!({"Users": users}))
    }
}

/// Cognito's `UserType` (or `AdminGetUser`'s answer, whose attribute list has another name).
fn user_type(user: &LocalUser, attributes_key: &str) -> Value {
    let attributes: Vec<Value> = user
        .attributes
        .iter()
        .filter(|(name, _)| !name.starts_with("cognito:"))
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect();
    let status = user
        .attributes
        .get("cognito:user_status")
        .cloned()
        .unwrap_or_else(|| "CONFIRMED".to_owned());
    let created = now();
    let mut answer = Map::new();
    answer.insert("Username".to_owned(), json!(user.username));
    answer.insert(attributes_key.to_owned(), json!(attributes));
    answer.insert("UserStatus".to_owned(), json!(status));
    answer.insert("Enabled".to_owned(), json!(true));
    answer.insert("UserCreateDate".to_owned(), json!(created));
    answer.insert("UserLastModifiedDate".to_owned(), json!(created));
    Value::Object(answer)
}

fn internal(what: &str) -> ApiError {
    ApiError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalErrorException",
        format!("{what} unavailable"),
    )
}

async fn api(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let operation = target
        .strip_prefix("AWSCognitoIdentityProviderService.")
        .ok_or_else(|| {
            bad_request(
                "UnknownOperationException",
                format!("unknown target {target:?}"),
            )
        })?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| bad_request("SerializationException", "the body is not JSON"))?;
    let answer = match operation {
        "InitiateAuth" => endpoint.initiate_auth(&body).await?,
        "RespondToAuthChallenge" => endpoint.respond_to_auth_challenge(&body).await?,
        "AdminCreateUser" => endpoint.admin_create_user(&body)?,
        "AdminGetUser" => endpoint.admin_get_user(&body)?,
        "AdminDeleteUser" => endpoint.admin_delete_user(&body)?,
        "ListUsers" => endpoint.list_users(&body)?,
        other => {
            return Err(bad_request(
                "UnknownOperationException",
                format!("the local endpoint does not play {other}"),
            ));
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
        answer.to_string(),
    )
        .into_response())
}

async fn jwks(State(endpoint): State<Arc<Endpoint>>) -> Response {
    axum::Json(endpoint.signer.jwks()).into_response()
}

async fn openid(
    State(endpoint): State<Arc<Endpoint>>,
    Path(pool): Path<String>,
) -> Result<Response, ApiError> {
    if pool != endpoint.pool.settings().pool_id {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "no such pool".into(),
        ));
    }
    Ok(axum::Json(json!({
        "issuer": endpoint.issuer,
        "jwks_uri": format!("{}/.well-known/jwks.json", endpoint.issuer),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response())
}

async fn sms_inbox(State(endpoint): State<Arc<Endpoint>>) -> Response {
    let messages: Vec<Value> = endpoint
        .output
        .sms_messages()
        .into_iter()
        .map(|(to, body)| json!({"to": to, "body": body}))
        .collect();
    axum::Json(json!({"messages": messages})).into_response()
}

async fn demo_index(State(endpoint): State<Arc<Endpoint>>) -> Response {
    static_file(&endpoint, "index.html").await
}

async fn demo_file(State(endpoint): State<Arc<Endpoint>>, Path(path): Path<String>) -> Response {
    static_file(&endpoint, &path).await
}

/// A file of the demo directory; only plain relative paths (no `..`, no absolute paths).
async fn static_file(endpoint: &Endpoint, path: &str) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let Some(dir) = &endpoint.demo_dir else {
        return not_found();
    };
    let safe = !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != "." && !part.contains('\\'));
    if !safe {
        return not_found();
    }
    let content_type = match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(dir.join(path)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => not_found(),
    }
}

/// The answer to a CORS preflight (the headers come from [`local_only_with_cors`]).
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Whether a browser's `Origin` is a page served from this machine (`http(s)://127.0.0.1`,
/// `localhost` or `[::1]`, any port). `null` (files, sandboxed frames) and every other site are
/// not: a web page open in the developer's browser must not read the SMS inbox or call the admin
/// operations.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => rest,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Refuses requests whose `Host` is not this machine (DNS rebinding) and requests from browser
/// pages of other sites (an `Origin` that is not on this machine), and adds the CORS headers
/// Cognito's API sends — for local origins only — so browser apps on other local ports can call
/// it.
async fn local_only_with_cors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
        return (
            StatusCode::FORBIDDEN,
            "the local endpoint answers 127.0.0.1 only",
        )
            .into_response();
    }
    let origin = match request.headers().get(header::ORIGIN) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(origin) if is_loopback_origin(origin) => Some(value.clone()),
            _ => {
                return (
                    StatusCode::FORBIDDEN,
                    "the local endpoint answers pages served from this machine only",
                )
                    .into_response();
            }
        },
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::VARY, header::HeaderValue::from_static("origin"));
    let Some(origin) = origin else {
        // Not a browser page: no CORS headers needed.
        return response;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    for (name, value) in [
        ("access-control-allow-methods", "POST, GET, OPTIONS"),
        (
            "access-control-allow-headers",
            "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, x-amz-security-token",
        ),
        (
            "access-control-expose-headers",
            "x-amzn-errortype, x-amzn-requestid",
        ),
        ("access-control-max-age", "600"),
    ] {
        headers.insert(
            header::HeaderName::from_static(name),
            header::HeaderValue::from_static(value),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_from_this_machine_are_local_origins() {
        for origin in [
            "http://127.0.0.1:9229",
            "http://localhost:5173",
            "http://localhost",
            "https://localhost:8443",
            "http://[::1]:3000",
        ] {
            assert!(is_loopback_origin(origin), "{origin}");
        }
        for origin in [
            "null",
            "",
            "https://evil.example",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example:80",
            "http://evil.example/http://localhost",
            "http://localhost:80@evil.example",
            "file://",
            "http://127.0.0.2:9229",
            "http://localhost:",
            "http://localhost:123456",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }
}
