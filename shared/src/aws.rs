//! The AWS SDK set-up every SDK client of this crate shares: one HTTP client (rustls with ring),
//! timeouts inside Cognito's 5-second budget, and at most two attempts.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};

use crate::Error;

/// A loader with this project's HTTP client (rustls + ring), timeouts and retries: the whole
/// send, retries included, ends within `operation_timeout`. Standard variables (`AWS_REGION`,
/// `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, credentials) still apply; tests add an
/// endpoint and static credentials on top. The trusted roots are [`crate::tls::roots`] (one
/// bundle file, read once); with none, or a TLS set-up the SDK refuses, this is a configuration
/// error at cold start.
///
/// The SDK parses the PEM it is given when the first request builds its connector and panics on
/// a certificate it cannot parse: the PEM must hold only certificates rustls accepts, which
/// [`crate::tls::RootCertificates`] guarantees (never pass it a file as read).
pub fn sdk_config_loader(operation_timeout: Duration) -> Result<ConfigLoader, Error> {
    let trust = TrustStore::empty().with_pem_certificate(crate::tls::required()?.pem());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|error| Error::config("SSL_CERT_FILE", format!("TLS set-up: {error}")))?;
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(800).min(operation_timeout / 2))
        .operation_attempt_timeout(operation_timeout.mul_f32(0.6))
        .operation_timeout(operation_timeout)
        .build();
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2)))
}

/// Loads the SDK configuration; a missing region is a configuration error now, not a failed
/// send later.
pub async fn load_sdk_config(loader: ConfigLoader) -> Result<SdkConfig, Error> {
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(Error::config(
            "AWS_REGION",
            "is not set (the AWS SDK clients need a region)",
        ));
    }
    Ok(config)
}
