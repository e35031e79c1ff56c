//! The widget providers' `siteverify` call over HTTPS ([`HttpSiteVerifier`]).

use crate::http::HttpClient;
use crate::secret::Secret;

use super::{CaptchaProvider, Rejection, SiteVerify, SiteVerifyResponse, VerifyFuture};

/// [`SiteVerify`] over HTTP: posts `secret` and `response` as a form to the provider's
/// `siteverify` URL (and, for hCaptcha, `sitekey`: its secrets belong to the account, so without
/// it a token solved for any other site of the account would pass).
#[derive(Debug, Clone)]
pub struct HttpSiteVerifier {
    client: HttpClient,
    provider: CaptchaProvider,
    url: String,
    secret: Secret,
    site_key: Option<String>,
}

impl HttpSiteVerifier {
    /// A verifier for `provider` at `url`, authenticating with `secret`, for the site `site_key`.
    pub fn new(
        client: HttpClient,
        provider: CaptchaProvider,
        url: String,
        secret: Secret,
        site_key: Option<String>,
    ) -> Self {
        Self {
            client,
            provider,
            url,
            secret,
            site_key,
        }
    }
}

impl SiteVerify for HttpSiteVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            let form = {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("secret", self.secret.expose())
                    .append_pair("response", token);
                if self.provider == CaptchaProvider::Hcaptcha
                    && let Some(site_key) = &self.site_key
                {
                    form.append_pair("sitekey", site_key);
                }
                form.finish()
            };
            let response = self
                .client
                .post(
                    &self.url,
                    "application/x-www-form-urlencoded",
                    None,
                    form.into_bytes(),
                )
                .await
                .map_err(|failure| Rejection::ProviderFailed(failure.to_string()))?;
            if response.status != 200 {
                return Err(Rejection::ProviderFailed(format!(
                    "{} answered HTTP {}",
                    self.provider, response.status
                )));
            }
            serde_json::from_slice::<SiteVerifyResponse>(&response.body).map_err(|error| {
                Rejection::ProviderFailed(format!(
                    "{} answered something unreadable: {error}",
                    self.provider
                ))
            })
        })
    }
}
