//! A legacy user service over HTTP: `POST LEGACY_HTTP_URL` with `{"username", "password"}` (no
//! `password` for forgot-password) and an optional bearer token.
//!
//! | answer | meaning |
//! |---|---|
//! | `200 {"attributes": {...}}` | the user (and the password, when sent) checks out |
//! | `401`, `403` | wrong password |
//! | `404` | no such user |
//! | anything else, a timeout, unreadable JSON | the service failed |

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{LegacyRecord, LegacyUserSource, Lookup, LookupFuture, SourceFailure, attribute_text};
use crate::event::Password;
use crate::http::HttpClient;
use crate::secret::Secret;

/// [`LegacyUserSource`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpLegacySource {
    client: HttpClient,
    url: String,
    token: Option<Secret>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

impl HttpLegacySource {
    /// A source posting to `url`, with `token` as bearer token when given.
    pub fn new(client: HttpClient, url: String, token: Option<Secret>) -> Self {
        Self { client, url, token }
    }

    async fn ask(&self, body: Value) -> Result<Lookup, SourceFailure> {
        let response = self
            .client
            .post(
                &self.url,
                "application/json",
                self.token.as_ref(),
                body.to_string().into_bytes(),
            )
            .await
            .map_err(|failure| SourceFailure(failure.to_string()))?;
        match response.status {
            200 => {
                // serde's message would quote the body (personal data): say only where it broke.
                let answer: Answer = serde_json::from_slice(&response.body).map_err(|error| {
                    SourceFailure(format!(
                        "HTTP 200 with an unreadable body (line {}, column {})",
                        error.line(),
                        error.column()
                    ))
                })?;
                let attributes = answer.attributes.ok_or_else(|| {
                    SourceFailure("HTTP 200 without an `attributes` object".to_owned())
                })?;
                Ok(Lookup::Found(LegacyRecord {
                    attributes: attributes
                        .iter()
                        .filter_map(|(name, value)| Some((name.clone(), attribute_text(value)?)))
                        .collect(),
                }))
            }
            401 | 403 => Ok(Lookup::WrongPassword),
            404 => Ok(Lookup::NotFound),
            status => Err(SourceFailure(format!("HTTP {status}"))),
        }
    }
}

impl LegacyUserSource for HttpLegacySource {
    fn name(&self) -> &'static str {
        "http"
    }

    fn authenticate<'a>(&'a self, username: &'a str, password: &'a Password) -> LookupFuture<'a> {
        Box::pin(self.ask(json!({"username": username, "password": password.expose()})))
    }

    fn find<'a>(&'a self, username: &'a str) -> LookupFuture<'a> {
        Box::pin(self.ask(json!({"username": username})))
    }
}
