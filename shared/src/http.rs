//! A small HTTPS client for the few JSON/form calls the triggers make themselves (the CAPTCHA
//! providers' `siteverify`, a legacy user service): hyper with rustls and ring (the TLS stack the AWS SDK
//! clients already use), the system's root certificates, pooled keep-alive connections, one
//! deadline for the whole call (connect, TLS, request and body) and a cap on the answer's size.
//! Plain `http://` URLs work too, for local services and tests.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::Error;
use crate::secret::Secret;

/// The largest answer body read (bigger answers are a failure).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body (at most [`MAX_RESPONSE_BYTES`]).
    pub body: Bytes,
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpFailure {
    /// No complete answer within the deadline.
    #[error("no answer within {0} ms")]
    Timeout(u128),
    /// The request could not be made or the connection failed.
    #[error("request failed: {0}")]
    Transport(String),
    /// The answer was larger than [`MAX_RESPONSE_BYTES`].
    #[error("answer larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// A client built once per cold start.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client whose every call ends within `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = crate::tls::required()?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Http(format!("TLS set-up: {error}")))?
            .with_root_certificates(roots.store())
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Ok(Self { client, timeout })
    }

    /// The deadline of every call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs `body` as `content_type` to `url`, with `Authorization: Bearer <token>` when given.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        bearer: Option<&Secret>,
        body: Vec<u8>,
    ) -> Result<HttpResponse, HttpFailure> {
        let mut request = hyper::Request::post(url)
            .header(hyper::header::CONTENT_TYPE, content_type)
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, "cognito-passwordless-triggers");
        if let Some(token) = bearer {
            request = request.header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", token.expose()),
            );
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| HttpFailure::Transport(format!("bad request: {error}")))?;
        let call = async {
            let response =
                self.client.request(request).await.map_err(|error| {
                    HttpFailure::Transport(crate::error::describe_chain(&error))
                })?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|error| {
                    if error.is::<http_body_util::LengthLimitError>() {
                        HttpFailure::TooLarge
                    } else {
                        HttpFailure::Transport(format!("reading the answer: {error}"))
                    }
                })?
                .to_bytes();
            Ok(HttpResponse { status, body })
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(HttpFailure::Timeout(self.timeout.as_millis())))
    }
}
