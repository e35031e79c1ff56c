//! What the endpoint serves besides the API: the JWKS and OpenID configuration, the local SMS
//! inbox and the demo page's files.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, Endpoint};

pub(super) async fn jwks(State(endpoint): State<Arc<Endpoint>>) -> Response {
    axum::Json(endpoint.signer.jwks()).into_response()
}

pub(super) async fn openid(
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

pub(super) async fn sms_inbox(State(endpoint): State<Arc<Endpoint>>) -> Response {
    let messages: Vec<Value> = endpoint
        .output
        .sms_messages()
        .into_iter()
        .map(|(to, body)| json!({"to": to, "body": body}))
        .collect();
    axum::Json(json!({"messages": messages})).into_response()
}

pub(super) async fn demo_index(State(endpoint): State<Arc<Endpoint>>) -> Response {
    static_file(&endpoint, "index.html").await
}

pub(super) async fn demo_file(
    State(endpoint): State<Arc<Endpoint>>,
    Path(path): Path<String>,
) -> Response {
    static_file(&endpoint, &path).await
}

/// A file of the demo directory; only plain relative paths (no `..`, no absolute paths).
pub(super) async fn static_file(endpoint: &Endpoint, path: &str) -> Response {
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
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(dir.join(path)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => not_found(),
    }
}
