//! A Cognito-compatible user-pool endpoint on 127.0.0.1, backed by the real trigger binaries: the
//! JSON 1.1 protocol real clients speak (`POST /`, `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Operation>`), RS256 tokens with Cognito's claims, and the
//! public keys at `/<pool id>/.well-known/jwks.json`.
//!
//! Operations: `InitiateAuth` (`CUSTOM_AUTH`, starting with `SRP_A` for flows that start with the
//! password; `USER_SRP_AUTH`; `USER_PASSWORD_AUTH` — with the migration trigger for unknown users
//! when wired — and `REFRESH_TOKEN_AUTH`), `RespondToAuthChallenge` (`CUSTOM_CHALLENGE`,
//! `PASSWORD_VERIFIER`: Cognito's SRP, [`crate::srp`]), `SignUp` (through PreSignUp), `GetUser`,
//! `UpdateUserAttributes`, `GlobalSignOut`, `RevokeToken`, `ForgotPassword`,
//! `ConfirmForgotPassword` (with UserMigration's forgot-password source for unknown users), and
//! `AdminCreateUser`, `AdminGetUser`,
//! `AdminUpdateUserAttributes` (what PostAuthentication calls to mark a proved destination
//! verified), `AdminDisableUser`, `AdminEnableUser`, `AdminUserGlobalSignOut`,
//! `AdminDeleteUser`, `ListUsers`. PreAuthentication runs where Cognito runs it, when wired. Cognito's visible semantics are kept: a new opaque `Session` each round,
//! single use, expiring after 3 minutes; `ChallengeParameters` are the public challenge
//! parameters plus `USERNAME`; errors in Cognito's JSON shape (`__type`, `message`), so SDKs raise
//! the right exception. `GET /local/sms` lists the console SMS messages (a local inbox).
//!
//! This module holds the endpoint, its routes, the operation dispatch and the local-only guard;
//! [`request`] decodes each request into a typed one (or Cognito's validation error) before any
//! state is touched; the operations live by group: `auth` (sign-in), `admin` (users), `tokens`
//! (JWTs and their key), `files` (JWKS, OpenID configuration, SMS inbox, demo page).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::cognito::{AuthSession, CognitoError, LocalPool};
use crate::lambda_host::OutputLog;
use crate::srp::SrpExchange;
use request::ApiRequest;

/// How long a `Session` may be answered (Cognito's default `AuthSessionValidity`).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(180);
/// Lifetime of ID and access tokens, in seconds.
pub const TOKEN_LIFETIME: u64 = 3_600;

mod account;
mod admin;
mod auth;
mod data;
mod files;
mod recovery;
pub mod request;
mod tokens;

pub use data::{DataFile, DataFileError};
pub use tokens::TokenSigner;

/// A sign-in between two calls, as its `Session` stands for it.
#[derive(Debug, Clone)]
enum Pending {
    /// A custom-auth sign-in waiting for the answer to a `CUSTOM_CHALLENGE`.
    Custom(AuthSession),
    /// A custom-auth sign-in that started with `SRP_A`, waiting for the password claim.
    CustomPassword(AuthSession, SrpExchange),
    /// `USER_SRP_AUTH`, waiting for the password claim of `username` (`known`: a user of the
    /// pool; the exchange of an unknown one never passes).
    UserPassword {
        username: String,
        known: bool,
        exchange: SrpExchange,
    },
}

/// Open sessions: the id handed to the client → the sign-in, when it was handed out, to which app
/// client.
type Sessions = HashMap<String, (Pending, Instant, String)>;

/// A user who passed: who, and when (for `auth_time` on refreshed tokens).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedIn {
    username: String,
    attributes: Map<String, Value>,
    auth_time: u64,
    client_id: String,
    /// Shared by the tokens of one sign-in and their refreshes.
    origin_jti: String,
}

/// An access token the endpoint issued and has not revoked: whose, and until when.
#[derive(Debug, Clone)]
struct AccessGrant {
    username: String,
    /// The user's `sub` when it was issued: a user made later under the same name is another.
    sub: Option<String>,
    /// The sign-in it came from (its refresh token shares it).
    origin_jti: String,
    expires_at: u64,
}

/// Where the endpoint reports each request (one line, see [`Endpoint::with_request_log`]).
type RequestLog = Box<dyn Fn(&str) + Send + Sync>;

/// The endpoint's state.
pub struct Endpoint {
    pool: LocalPool,
    signer: TokenSigner,
    issuer: String,
    output: Arc<OutputLog>,
    sessions: Mutex<Sessions>,
    refresh_tokens: Mutex<HashMap<String, SignedIn>>,
    /// Every live access token, so that signing out and revoking take effect at once.
    access_tokens: Mutex<HashMap<String, AccessGrant>>,
    /// Users `AdminDisableUser` disabled.
    disabled: Mutex<std::collections::HashSet<String>>,
    /// `ForgotPassword`'s codes, by user name.
    reset_codes: Mutex<HashMap<String, recovery::ResetCode>>,
    /// Keys the stand-in addresses unknown users are told a reset code went to.
    stand_in_key: [u8; 32],
    demo_dir: Option<std::path::PathBuf>,
    request_log: Option<RequestLog>,
    /// `--data FILE`: where the users and refresh tokens are kept (one writer at a time), and
    /// this process's hold on it.
    data: Option<Mutex<DataFile>>,
    data_lock: Option<data::DataLock>,
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

impl From<request::RequestError> for ApiError {
    fn from(error: request::RequestError) -> Self {
        bad_request(error.kind, error.message)
    }
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
            CognitoError::PasswordResetRequired => bad_request(
                "PasswordResetRequiredException",
                "Password reset required for the user",
            ),
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

/// A new `Session`: Cognito's shape (`AYABe` and URL-safe Base64, a few hundred characters), so
/// it never starts with `-` and command lines take it as a value.
fn session_token() -> Result<String, ApiError> {
    Ok(format!("AYABe{}", random_token(192)?))
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
            access_tokens: Mutex::new(HashMap::new()),
            disabled: Mutex::new(std::collections::HashSet::new()),
            reset_codes: Mutex::new(HashMap::new()),
            stand_in_key: {
                let mut key = [0u8; 32];
                // Without randomness the stand-ins are merely predictable, never wrong.
                let _ = getrandom::fill(&mut key);
                key
            },
            demo_dir: None,
            request_log: None,
            data: None,
            data_lock: None,
        }
    }

    /// Keeps the pool's users, refresh tokens and disabled users in `file` across restarts:
    /// what it holds replaces the users given at start (a new file is written from them).
    pub fn with_data(mut self, file: DataFile) -> Result<Self, DataFileError> {
        self.data_lock = Some(file.lock()?);
        if let Some(data) = file.load()? {
            self.pool.replace_users(data.users);
            if let Ok(mut tokens) = self.refresh_tokens.lock() {
                *tokens = data.refresh_tokens;
            }
            if let Ok(mut disabled) = self.disabled.lock() {
                *disabled = data.disabled.into_iter().collect();
            }
        }
        self.data = Some(Mutex::new(file));
        self.persist()?;
        Ok(self)
    }

    /// Writes the data file (with `--data`): the users, refresh tokens and disabled users now.
    fn persist(&self) -> Result<(), DataFileError> {
        let Some(data) = &self.data else {
            return Ok(());
        };
        // One writer at a time, and the snapshot taken under the same lock, so an older
        // snapshot never lands after a newer one.
        let file = data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let snapshot = data::PoolData::new(
            self.pool.users(),
            self.refresh_tokens
                .lock()
                .map(|tokens| tokens.clone())
                .unwrap_or_default(),
            self.disabled
                .lock()
                .map(|disabled| disabled.iter().cloned().collect())
                .unwrap_or_default(),
        );
        file.save(&snapshot)
    }

    /// Serves the static files of `dir` (the demo page) under `/demo/`.
    pub fn with_demo(mut self, dir: std::path::PathBuf) -> Self {
        self.demo_dir = Some(dir);
        self
    }

    /// Reports every request to `log` as one line: the operation (or method and path), the
    /// status and Cognito's error type; never a body (which holds answers and tokens).
    pub fn with_request_log(mut self, log: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.request_log = Some(Box::new(log));
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
            .route(&jwks_path, get(files::jwks))
            .route("/local/sms", get(files::sms_inbox))
            .route(
                "/demo",
                get(|| async { axum::response::Redirect::permanent("/demo/") }),
            )
            .route("/demo/", get(files::demo_index))
            .route("/demo/{*path}", get(files::demo_file))
            .route(
                "/{pool}/.well-known/openid-configuration",
                get(files::openid),
            )
            .route("/", axum::routing::options(preflight))
            .layer(axum::middleware::from_fn(local_only_with_cors))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                log_request,
            ))
            .with_state(self)
    }

    /// The app client the request names: the passwordless client, or the migration client
    /// when there is one.
    fn check_client(&self, client: &str) -> Result<(), ApiError> {
        let settings = self.pool.settings();
        if client != settings.client_id && settings.migration_client_id.as_deref() != Some(client) {
            return Err(bad_request(
                "ResourceNotFoundException",
                format!("User pool client {client} does not exist."),
            ));
        }
        Ok(())
    }

    /// Refuses `flow` on a client that does not allow it, as Cognito does: the passwordless
    /// client allows `CUSTOM_AUTH`, the migration client `USER_PASSWORD_AUTH`, both refresh
    /// tokens (the SAM template's `ExplicitAuthFlows`).
    fn check_flow(&self, client_id: &str, flow: &str) -> Result<(), ApiError> {
        let migration = self.pool.settings().migration_client_id.as_deref() == Some(client_id);
        // A password alone signs in only through the migration client, where PostAuthentication
        // refuses users already in the pool (as the template's clients: SRP included).
        let allowed = match flow {
            "CUSTOM_AUTH" => !migration,
            "USER_PASSWORD_AUTH" | "USER_SRP_AUTH" => migration,
            _ => true,
        };
        if allowed {
            Ok(())
        } else {
            Err(bad_request(
                "InvalidParameterException",
                format!("{flow} flow not enabled for this client"),
            ))
        }
    }

    fn lock_sessions(&self) -> Result<std::sync::MutexGuard<'_, Sessions>, ApiError> {
        self.sessions.lock().map_err(|_| internal("sessions"))
    }
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
    let request = request::decode(target, &body)?;
    let changes_state = request.changes_state();
    let answer = match request {
        ApiRequest::InitiateAuth(request) => endpoint.initiate_auth(request).await?,
        ApiRequest::RespondToAuthChallenge(request) => {
            endpoint.respond_to_auth_challenge(request).await?
        }
        ApiRequest::AdminCreateUser(request) => endpoint.admin_create_user(request)?,
        ApiRequest::SignUp(request) => endpoint.sign_up(request).await?,
        ApiRequest::AdminUpdateUserAttributes(request) => {
            endpoint.admin_update_user_attributes(&request)?
        }
        ApiRequest::GetUser { access_token } => endpoint.get_user(&access_token)?,
        ApiRequest::UpdateUserAttributes {
            access_token,
            attributes,
        } => endpoint.update_user_attributes(&access_token, &attributes)?,
        ApiRequest::GlobalSignOut { access_token } => endpoint.global_sign_out(&access_token)?,
        ApiRequest::RevokeToken { token, client_id } => {
            endpoint.revoke_token(&token, &client_id)?
        }
        ApiRequest::ForgotPassword {
            client_id,
            username,
            client_metadata,
        } => {
            endpoint
                .forgot_password(&client_id, &username, client_metadata.as_ref())
                .await?
        }
        ApiRequest::ConfirmForgotPassword {
            client_id,
            username,
            code,
            password,
        } => endpoint.confirm_forgot_password(&client_id, &username, &code, &password)?,
        ApiRequest::AdminDisableUser(request) => endpoint.admin_set_enabled(&request, false)?,
        ApiRequest::AdminEnableUser(request) => endpoint.admin_set_enabled(&request, true)?,
        ApiRequest::AdminUserGlobalSignOut(request) => {
            endpoint.admin_user_global_sign_out(&request)?
        }
        ApiRequest::AdminGetUser(request) => endpoint.admin_get_user(&request)?,
        ApiRequest::AdminDeleteUser(request) => endpoint.admin_delete_user(&request)?,
        ApiRequest::ListUsers { pool_id } => endpoint.list_users(&pool_id)?,
    };
    if changes_state {
        endpoint.persist().map_err(|error| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalErrorException",
                format!("the data file could not be written: {error}"),
            )
        })?;
    }
    Ok((
        [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
        answer.to_string(),
    )
        .into_response())
}

/// One line per request for [`Endpoint::with_request_log`].
async fn log_request(
    State(endpoint): State<Arc<Endpoint>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(log) = &endpoint.request_log else {
        return next.run(request).await;
    };
    let what = request_line(
        request.method().as_str(),
        request.uri().path(),
        request
            .headers()
            .get("x-amz-target")
            .and_then(|value| value.to_str().ok()),
    );
    let response = next.run(request).await;
    let error = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok())
        .map(|kind| format!(" {kind}"))
        .unwrap_or_default();
    log(&format!("{what} → {}{error}", response.status().as_u16()));
    response
}

/// What a request is, for the log: the API operation, or the method and path, cut short and
/// with anything but printable ASCII shown as `?` (a request cannot write control sequences to
/// the terminal).
fn request_line(method: &str, path: &str, target: Option<&str>) -> String {
    let printable = |text: &str, most: usize| -> String {
        text.chars()
            .take(most)
            .map(|c| if c.is_ascii_graphic() { c } else { '?' })
            .collect()
    };
    match target.and_then(|target| target.strip_prefix("AWSCognitoIdentityProviderService.")) {
        Some(operation) if method == "POST" && path == "/" => {
            format!("{method} {}", printable(operation, 64))
        }
        _ => format!("{} {}", printable(method, 16), printable(path, 128)),
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
    fn requests_are_logged_by_operation_or_path() {
        assert_eq!(
            request_line(
                "POST",
                "/",
                Some("AWSCognitoIdentityProviderService.InitiateAuth")
            ),
            "POST InitiateAuth"
        );
        assert_eq!(request_line("GET", "/local/sms", None), "GET /local/sms");
        assert_eq!(
            request_line("POST", "/", Some("Other.Thing")),
            "POST /",
            "an unknown target is not echoed"
        );
        assert_eq!(request_line("GET", &"/x".repeat(200), None).len(), 4 + 128);
        // No control sequence reaches the terminal, whatever the path or target holds.
        assert_eq!(
            request_line("GET", "/a\u{9b}31m\u{202e}b\u{1b}[2J", None),
            "GET /a?31m?b?[2J"
        );
        assert_eq!(
            request_line(
                "POST",
                "/",
                Some("AWSCognitoIdentityProviderService.Init\u{1b}]0;x\u{7}")
            ),
            "POST Init?]0;x?"
        );
    }

    #[test]
    fn sessions_have_cognitos_shape_and_never_start_with_a_dash() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2_000 {
            let session = session_token().unwrap();
            assert!(session.starts_with("AYABe"), "{session}");
            assert_eq!(session.len(), 5 + 256);
            assert!(
                session
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{session}"
            );
            assert!(seen.insert(session));
        }
    }

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
