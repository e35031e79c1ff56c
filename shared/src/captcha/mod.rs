//! The CAPTCHA step: a self-hosted image CAPTCHA, or a widget provider (reCAPTCHA, hCaptcha,
//! Cloudflare Turnstile) whose token the provider's `siteverify` endpoint checks.
//!
//! - [`ImageChallenge`]: CreateAuthChallenge draws a text from the CSPRNG, renders it
//!   ([`image::render_png`]) into a `data:image/png;base64,…` URL for the client, and keeps only a
//!   [`Seal`] of the upper-cased text (with its issue time) in the private parameters. Verify
//!   compares case-insensitively in constant time, with expiry. Each round gets a new image.
//! - Widget providers: Create hands the client the site key; the client's widget token is the
//!   answer; Verify posts it with the secret to `siteverify` through a [`SiteVerify`] implementation
//!   and [`judge`]s the answer. A failed or slow provider is a wrong answer, never an open door.

pub mod image;
#[cfg(feature = "http")]
mod siteverify;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

#[cfg(feature = "http")]
pub use siteverify::HttpSiteVerifier;

use crate::Error;
use crate::env::Environment;
use crate::random::random_bytes;
use crate::seal::{Seal, SealBinding, SealKey};
use crate::secret::SecretSource;

/// Who checks the CAPTCHA (`CAPTCHA_PROVIDER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaProvider {
    /// A distorted-text PNG made by CreateAuthChallenge itself (the default; no third party).
    Image,
    /// Google reCAPTCHA (v2 or v3; v3's `score` is checked against `CAPTCHA_MIN_SCORE`).
    Recaptcha,
    /// hCaptcha.
    Hcaptcha,
    /// Cloudflare Turnstile.
    Turnstile,
}

impl CaptchaProvider {
    /// Every provider, as `CAPTCHA_PROVIDER` names them.
    pub const ALL: [Self; 4] = [
        Self::Image,
        Self::Recaptcha,
        Self::Hcaptcha,
        Self::Turnstile,
    ];

    /// The name used in `CAPTCHA_PROVIDER`, public parameters and metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Recaptcha => "recaptcha",
            Self::Hcaptcha => "hcaptcha",
            Self::Turnstile => "turnstile",
        }
    }

    /// The provider `CAPTCHA_PROVIDER` names `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|provider| provider.name() == name)
    }

    /// The provider's own `siteverify` endpoint (`None` for the image CAPTCHA).
    pub fn default_verify_url(self) -> Option<&'static str> {
        match self {
            Self::Image => None,
            Self::Recaptcha => Some("https://www.google.com/recaptcha/api/siteverify"),
            Self::Hcaptcha => Some("https://api.hcaptcha.com/siteverify"),
            Self::Turnstile => Some("https://challenges.cloudflare.com/turnstile/v0/siteverify"),
        }
    }

    /// Whether `score` in the provider's answer is reCAPTCHA v3's "likely human" score (hCaptcha
    /// Enterprise's score means the opposite, so it is not compared).
    pub fn score_means_human(self) -> bool {
        self == Self::Recaptcha
    }
}

impl fmt::Display for CaptchaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a widget provider's answer must show (`CAPTCHA_EXPECTED_HOSTNAMES`,
/// `CAPTCHA_EXPECTED_ACTION`, `CAPTCHA_MIN_SCORE`).
#[derive(Debug, Clone, PartialEq)]
pub struct Expectations {
    /// Host names the widget may have been solved on (any when empty).
    pub hostnames: Vec<String>,
    /// The action the widget must report (not checked when `None`).
    pub action: Option<String>,
    /// The lowest reCAPTCHA v3 score that passes.
    pub min_score: f64,
}

/// Everything the CAPTCHA step is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptchaConfig {
    /// `CAPTCHA_PROVIDER` (default `image`).
    pub provider: CaptchaProvider,
    /// `CAPTCHA_SITE_KEY`: given to the client's widget (widget providers; required for them).
    pub site_key: Option<String>,
    /// `CAPTCHA_SECRET` or `CAPTCHA_SECRET_ARN` (widget providers; required for them).
    pub secret: Option<SecretSource>,
    /// `CAPTCHA_VERIFY_URL`: the `siteverify` endpoint (default: the provider's own).
    pub verify_url: Option<String>,
    /// What the provider's answer must show.
    pub expectations: Expectations,
    /// `CAPTCHA_TTL_SECONDS`: how long an image CAPTCHA may be answered (default 300).
    pub ttl_seconds: u64,
    /// `CAPTCHA_TIMEOUT_MS`: the most one `siteverify` call may take (default 3000).
    pub timeout: Duration,
}

impl CaptchaConfig {
    /// The `CAPTCHA_*` variables; with `required` (the flow has a CAPTCHA step), a widget
    /// provider must have its site key.
    pub fn from_env(env: &Environment<'_>, required: bool) -> Result<Self, Error> {
        let defaults = Self::default();
        let provider = match env.get("CAPTCHA_PROVIDER") {
            None => defaults.provider,
            Some(name) => CaptchaProvider::from_name(&name).ok_or_else(|| {
                Error::config(
                    "CAPTCHA_PROVIDER",
                    "must be image, recaptcha, hcaptcha or turnstile",
                )
            })?,
        };
        let secret = env.secret("CAPTCHA_SECRET", "CAPTCHA_SECRET_ARN")?;
        let site_key = env.get("CAPTCHA_SITE_KEY");
        let widget = provider.default_verify_url().is_some();
        if required && widget && site_key.is_none() {
            return Err(Error::config(
                "CAPTCHA_SITE_KEY",
                format!("is required when CAPTCHA_PROVIDER={provider}"),
            ));
        }
        if provider == CaptchaProvider::Hcaptcha && env.get("CAPTCHA_EXPECTED_ACTION").is_some() {
            return Err(Error::config(
                "CAPTCHA_EXPECTED_ACTION",
                "hCaptcha reports no action: leave it unset with CAPTCHA_PROVIDER=hcaptcha",
            ));
        }
        let verify_url = env.safe_url("CAPTCHA_VERIFY_URL")?;
        let min_score = match env.get("CAPTCHA_MIN_SCORE") {
            None => defaults.expectations.min_score,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|score| (0.0..=1.0).contains(score))
                .ok_or_else(|| {
                    Error::config("CAPTCHA_MIN_SCORE", "must be a number from 0.0 to 1.0")
                })?,
        };
        Ok(Self {
            provider,
            site_key,
            secret,
            verify_url,
            expectations: Expectations {
                hostnames: env.list("CAPTCHA_EXPECTED_HOSTNAMES").unwrap_or_default(),
                action: env.get("CAPTCHA_EXPECTED_ACTION"),
                min_score,
            },
            ttl_seconds: env.number("CAPTCHA_TTL_SECONDS", defaults.ttl_seconds, 30..=900)?,
            timeout: Duration::from_millis(env.number("CAPTCHA_TIMEOUT_MS", 3_000, 500..=3_500)?),
        })
    }
}

impl Default for CaptchaConfig {
    fn default() -> Self {
        Self {
            provider: CaptchaProvider::Image,
            site_key: None,
            secret: None,
            verify_url: None,
            expectations: Expectations {
                hostnames: Vec::new(),
                action: None,
                min_score: 0.5,
            },
            ttl_seconds: 300,
            timeout: Duration::from_millis(3000),
        }
    }
}

/// Characters in an image CAPTCHA.
pub const IMAGE_TEXT_LENGTH: usize = 6;

/// Answers longer than this are refused without any work (widget tokens are about 2 KB at most).
pub const MAX_ANSWER_BYTES: usize = 8 * 1024;

/// The seal domain of image CAPTCHA texts: the step they belong to, and the alphabet's version
/// (v3: 12 characters; a CAPTCHA drawn from another alphabet never passes).
const IMAGE_DOMAIN: &[u8] = b"cognito-step/CAPTCHA/image/v3\0";

/// A fresh image CAPTCHA: what the client sees and what Cognito keeps.
#[derive(Clone)]
pub struct ImageChallenge {
    text: String,
    /// The PNG as a `data:image/png;base64,…` URL.
    pub data_url: String,
    /// The seal of the upper-cased text, for the private parameters.
    pub seal: Seal,
}

impl fmt::Debug for ImageChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ImageChallenge({} characters, {} bytes of image, {:?})",
            self.text.len(),
            self.data_url.len(),
            self.seal
        )
    }
}

impl ImageChallenge {
    /// Draws a text from the CSPRNG, renders and seals it, issued at `now` for `binding`.
    pub fn generate(key: &SealKey, now: u64, binding: SealBinding<'_>) -> Result<Self, Error> {
        let text = random_text(IMAGE_TEXT_LENGTH)?;
        Self::for_text(key, text, now, binding)
    }

    fn for_text(
        key: &SealKey,
        text: String,
        now: u64,
        binding: SealBinding<'_>,
    ) -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        random_bytes(&mut seed)?;
        let png = image::render_png(&text, seed)
            .map_err(|error| Error::Captcha(format!("cannot render the image: {error}")))?;
        let seal = Seal::new(key, IMAGE_DOMAIN, binding, text.as_bytes(), now)?;
        Ok(Self {
            data_url: format!("data:image/png;base64,{}", STANDARD.encode(png)),
            text,
            seal,
        })
    }

    /// The text, for tests and tools that must answer correctly.
    #[doc(hidden)]
    pub fn expose_text(&self) -> &str {
        &self.text
    }
}

/// The character a random byte stands for, or `None` for a byte that must be drawn again: bytes
/// from the largest multiple of the alphabet's size below 256 up are dropped, so every character
/// comes from the same number of byte values (no modulo bias).
fn character_for_byte(byte: u8) -> Option<char> {
    let alphabet = image::ALPHABET;
    let size = alphabet.len();
    let byte = usize::from(byte);
    if byte >= 256 - 256 % size {
        return None;
    }
    alphabet
        .get(byte % size)
        .map(|&character| char::from(character))
}

/// Draws `length` characters uniformly from [`image::ALPHABET`] (rejection sampling).
fn random_text(length: usize) -> Result<String, Error> {
    let mut text = String::with_capacity(length);
    let mut buffer = [0u8; 32];
    while text.len() < length {
        random_bytes(&mut buffer)?;
        for character in buffer.iter().filter_map(|&byte| character_for_byte(byte)) {
            if text.len() == length {
                break;
            }
            text.push(character);
        }
    }
    Ok(text)
}

/// What Verify concluded about an image CAPTCHA answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageCheck {
    /// The answer is the text, in time.
    Correct,
    /// The answer is not the text.
    Wrong,
    /// The CAPTCHA's lifetime is over (whatever the answer).
    Expired,
    /// The private parameters hold no readable seal.
    Unreadable,
}

/// Checks an untrusted answer against the sealed text, case-insensitively, spaces ignored and
/// look-alikes read as the alphabet character they stand for ([`image::read_as`]), at `now`, for
/// `binding` (a CAPTCHA made for another pool or user never passes).
pub fn check_image_answer(
    key: &SealKey,
    seal: &str,
    answer: &str,
    ttl_seconds: u64,
    now: u64,
    binding: SealBinding<'_>,
) -> ImageCheck {
    let Some(seal) = Seal::decode(seal) else {
        return ImageCheck::Unreadable;
    };
    if !seal.is_fresh(ttl_seconds, now) {
        return ImageCheck::Expired;
    }
    if answer.len() > MAX_ANSWER_BYTES {
        return ImageCheck::Wrong;
    }
    let normalized: String = answer
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(image::read_as)
        .collect();
    if seal.matches(key, IMAGE_DOMAIN, binding, normalized.as_bytes()) {
        ImageCheck::Correct
    } else {
        ImageCheck::Wrong
    }
}

/// A widget provider's `siteverify` answer (the fields all three providers share).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SiteVerifyResponse {
    /// Whether the token is valid.
    #[serde(default)]
    pub success: bool,
    /// Where the widget was solved.
    #[serde(default)]
    pub hostname: Option<String>,
    /// The action the widget reported (reCAPTCHA v3, Turnstile).
    #[serde(default)]
    pub action: Option<String>,
    /// reCAPTCHA v3: how likely a human (0.0 to 1.0).
    #[serde(default)]
    pub score: Option<f64>,
    /// Why the token was refused.
    #[serde(default, rename = "error-codes")]
    pub error_codes: Vec<String>,
}

/// Why a widget token was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// The provider said no (`success: false`), with its error codes.
    ProviderRefused(Vec<String>),
    /// Solved on a host name not in `CAPTCHA_EXPECTED_HOSTNAMES`.
    WrongHostname(Option<String>),
    /// The widget reported another action than `CAPTCHA_EXPECTED_ACTION`.
    WrongAction(Option<String>),
    /// reCAPTCHA v3 scored it below `CAPTCHA_MIN_SCORE`.
    LowScore(f64),
    /// The provider could not be asked: unreachable, slow, an HTTP error or an unreadable answer.
    ProviderFailed(String),
    /// The answer is empty or too long to be a token.
    MalformedToken,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProviderRefused(codes) => write!(f, "provider refused the token {codes:?}"),
            Self::WrongHostname(host) => write!(f, "solved on an unexpected host name {host:?}"),
            Self::WrongAction(action) => write!(f, "unexpected action {action:?}"),
            Self::LowScore(score) => write!(f, "score {score} is below the minimum"),
            Self::ProviderFailed(detail) => write!(f, "provider failed: {detail}"),
            Self::MalformedToken => f.write_str("the answer is not a token"),
        }
    }
}

impl Rejection {
    /// A short stable name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ProviderRefused(_) => "refused",
            Self::WrongHostname(_) => "wrong_hostname",
            Self::WrongAction(_) => "wrong_action",
            Self::LowScore(_) => "low_score",
            Self::ProviderFailed(_) => "provider_failed",
            Self::MalformedToken => "malformed_token",
        }
    }
}

/// Whether a provider's answer passes: `success`, an expected host name, the expected action, and
/// (reCAPTCHA) a high enough score. A reCAPTCHA answer without a score is v2 and passes on
/// `success`.
pub fn judge(
    provider: CaptchaProvider,
    response: &SiteVerifyResponse,
    expectations: &Expectations,
) -> Result<(), Rejection> {
    if !response.success {
        return Err(Rejection::ProviderRefused(
            response
                .error_codes
                .iter()
                .take(5)
                .map(|code| code.chars().take(64).collect())
                .collect(),
        ));
    }
    if !expectations.hostnames.is_empty()
        && !response.hostname.as_ref().is_some_and(|host| {
            expectations
                .hostnames
                .iter()
                .any(|expected| expected.eq_ignore_ascii_case(host))
        })
    {
        return Err(Rejection::WrongHostname(
            response.hostname.as_ref().map(|host| short(host)),
        ));
    }
    if let Some(expected) = &expectations.action
        && response.action.as_deref() != Some(expected.as_str())
    {
        return Err(Rejection::WrongAction(
            response.action.as_ref().map(|action| short(action)),
        ));
    }
    if provider.score_means_human()
        && let Some(score) = response.score
        && (score.is_nan() || score < expectations.min_score)
    {
        return Err(Rejection::LowScore(score));
    }
    Ok(())
}

fn short(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The future a [`SiteVerify`] call returns.
pub type VerifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SiteVerifyResponse, Rejection>> + Send + 'a>>;

/// Asks a widget provider's `siteverify` endpoint about a token. The HTTP implementation is
/// [`HttpSiteVerifier`]; tests may use their own.
pub trait SiteVerify: Send + Sync + fmt::Debug {
    /// Posts `token` (with the configured secret) and returns the provider's answer, or
    /// [`Rejection::ProviderFailed`] when there is none in time.
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;
}

/// The `siteverify` client a Verify function needs: `None` unless the flow has a widget CAPTCHA.
/// Reads `CAPTCHA_SECRET_ARN` from Secrets Manager once (at cold start).
#[cfg(all(feature = "http", feature = "aws-secrets"))]
pub async fn build_site_verifier(
    captcha: &CaptchaConfig,
    flow: &crate::flow::AuthFlow,
) -> Result<Option<std::sync::Arc<dyn SiteVerify>>, Error> {
    let Some(default_url) = captcha.provider.default_verify_url() else {
        return Ok(None);
    };
    if !flow.contains(crate::flow::ChallengeStep::Captcha) {
        return Ok(None);
    }
    let source = captcha.secret.as_ref().ok_or_else(|| {
        Error::config(
            "CAPTCHA_SECRET",
            "CAPTCHA_SECRET or CAPTCHA_SECRET_ARN is required",
        )
    })?;
    let secret = crate::secrets::resolve(source, "CAPTCHA_SECRET").await?;
    let client = crate::http::HttpClient::new(captcha.timeout)?;
    let url = captcha
        .verify_url
        .clone()
        .unwrap_or_else(|| default_url.to_owned());
    Ok(Some(std::sync::Arc::new(HttpSiteVerifier::new(
        client,
        captcha.provider,
        url,
        secret,
        captcha.site_key.clone(),
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: SealBinding<'static> = SealBinding {
        pool_id: "pool",
        user: "sub:a",
    };
    const OTHER_USER: SealBinding<'static> = SealBinding {
        pool_id: "pool",
        user: "sub:b",
    };

    fn expectations() -> Expectations {
        Expectations {
            hostnames: vec!["login.example.com".into()],
            action: Some("login".into()),
            min_score: 0.5,
        }
    }

    fn passing() -> SiteVerifyResponse {
        SiteVerifyResponse {
            success: true,
            hostname: Some("login.example.com".into()),
            action: Some("login".into()),
            score: Some(0.9),
            error_codes: vec![],
        }
    }

    #[test]
    fn a_good_answer_passes_and_each_expectation_can_fail_it() {
        let provider = CaptchaProvider::Recaptcha;
        assert_eq!(judge(provider, &passing(), &expectations()), Ok(()));
        let refused = SiteVerifyResponse {
            success: false,
            error_codes: vec!["invalid-input-response".into()],
            ..passing()
        };
        assert_eq!(
            judge(provider, &refused, &expectations()),
            Err(Rejection::ProviderRefused(vec![
                "invalid-input-response".into()
            ]))
        );
        let elsewhere = SiteVerifyResponse {
            hostname: Some("evil.example".into()),
            ..passing()
        };
        assert!(matches!(
            judge(provider, &elsewhere, &expectations()),
            Err(Rejection::WrongHostname(_))
        ));
        let no_host = SiteVerifyResponse {
            hostname: None,
            ..passing()
        };
        assert!(matches!(
            judge(provider, &no_host, &expectations()),
            Err(Rejection::WrongHostname(None))
        ));
        let other_action = SiteVerifyResponse {
            action: Some("signup".into()),
            ..passing()
        };
        assert!(matches!(
            judge(provider, &other_action, &expectations()),
            Err(Rejection::WrongAction(_))
        ));
        let low = SiteVerifyResponse {
            score: Some(0.4),
            ..passing()
        };
        assert_eq!(
            judge(provider, &low, &expectations()),
            Err(Rejection::LowScore(0.4))
        );
        let not_a_number = SiteVerifyResponse {
            score: Some(f64::NAN),
            ..passing()
        };
        assert!(judge(provider, &not_a_number, &expectations()).is_err());
        // The minimum score itself passes.
        let at_minimum = SiteVerifyResponse {
            score: Some(0.5),
            ..passing()
        };
        assert_eq!(judge(provider, &at_minimum, &expectations()), Ok(()));
        // What the provider said is cut short before it reaches a log.
        let long = "h".repeat(100);
        let far = SiteVerifyResponse {
            hostname: Some(long.clone()),
            action: Some(long),
            ..passing()
        };
        assert_eq!(
            judge(provider, &far, &expectations()),
            Err(Rejection::WrongHostname(Some("h".repeat(64))))
        );
        let open = Expectations {
            hostnames: vec![],
            ..expectations()
        };
        assert_eq!(
            judge(provider, &far, &open),
            Err(Rejection::WrongAction(Some("h".repeat(64))))
        );
    }

    #[test]
    fn rejections_read_as_the_logs_show_them() {
        for (rejection, kind, text) in [
            (
                Rejection::ProviderRefused(vec!["bad".into()]),
                "refused",
                "provider refused the token [\"bad\"]",
            ),
            (
                Rejection::WrongHostname(Some("h".into())),
                "wrong_hostname",
                "solved on an unexpected host name Some(\"h\")",
            ),
            (
                Rejection::WrongAction(None),
                "wrong_action",
                "unexpected action None",
            ),
            (
                Rejection::LowScore(0.25),
                "low_score",
                "score 0.25 is below the minimum",
            ),
            (
                Rejection::ProviderFailed("timeout".into()),
                "provider_failed",
                "provider failed: timeout",
            ),
            (
                Rejection::MalformedToken,
                "malformed_token",
                "the answer is not a token",
            ),
        ] {
            assert_eq!(rejection.kind(), kind);
            assert_eq!(rejection.to_string(), text);
        }
    }

    #[cfg(all(feature = "http", feature = "aws-secrets"))]
    #[tokio::test]
    async fn a_site_verifier_exactly_for_a_flow_with_a_widget_captcha() {
        async fn build(pairs: &[(&str, &str)]) -> Option<std::sync::Arc<dyn SiteVerify>> {
            let config = crate::config::Config::from_lookup(|name| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            })
            .unwrap();
            build_site_verifier(&config.captcha, &config.flow)
                .await
                .unwrap()
        }
        let widget = [
            ("SMS_PROVIDER", "console"),
            ("AUTH_FLOW", "captcha,sms_otp"),
            ("CAPTCHA_PROVIDER", "turnstile"),
            ("CAPTCHA_SITE_KEY", "0x4AAAA"),
            ("CAPTCHA_SECRET", "secret"),
        ];
        assert!(build(&widget).await.is_some());
        let image = [
            ("SMS_PROVIDER", "console"),
            ("AUTH_FLOW", "captcha,sms_otp"),
        ];
        assert!(build(&image).await.is_none());
        assert!(build(&widget[2..]).await.is_none(), "no CAPTCHA step");
    }

    #[test]
    fn unset_expectations_are_not_checked_and_hcaptcha_scores_are_not_compared() {
        let open = Expectations {
            hostnames: vec![],
            action: None,
            min_score: 0.5,
        };
        let bare = SiteVerifyResponse {
            success: true,
            ..SiteVerifyResponse::default()
        };
        for provider in [
            CaptchaProvider::Recaptcha,
            CaptchaProvider::Hcaptcha,
            CaptchaProvider::Turnstile,
        ] {
            assert_eq!(judge(provider, &bare, &open), Ok(()), "{provider}");
        }
        let risky = SiteVerifyResponse {
            score: Some(0.1),
            ..bare.clone()
        };
        assert_eq!(judge(CaptchaProvider::Hcaptcha, &risky, &open), Ok(()));
        assert!(judge(CaptchaProvider::Recaptcha, &risky, &open).is_err());
        assert!(
            judge(
                CaptchaProvider::Turnstile,
                &SiteVerifyResponse::default(),
                &open
            )
            .is_err()
        );
    }

    #[test]
    fn host_names_compare_without_case() {
        let response = SiteVerifyResponse {
            hostname: Some("LOGIN.example.COM".into()),
            ..passing()
        };
        assert_eq!(
            judge(CaptchaProvider::Turnstile, &response, &expectations()),
            Ok(())
        );
    }

    #[test]
    fn provider_answers_parse_with_missing_and_extra_fields() {
        let response: SiteVerifyResponse = serde_json::from_str(
            r#"{"success":true,"challenge_ts":"2026-11-22T00:00:00Z","hostname":"h","error-codes":[],"cdata":"x"}"#,
        )
        .unwrap();
        assert!(response.success);
        assert_eq!(response.hostname.as_deref(), Some("h"));
        let refused: SiteVerifyResponse =
            serde_json::from_str(r#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#)
                .unwrap();
        assert_eq!(refused.error_codes, vec!["timeout-or-duplicate"]);
    }

    #[test]
    fn the_right_image_answer_passes_in_any_case_and_with_spaces() {
        let challenge = ImageChallenge::generate(&SealKey::none(), 1_000, POOL).unwrap();
        let seal = challenge.seal.encode();
        let text = challenge.expose_text().to_owned();
        assert_eq!(text.len(), IMAGE_TEXT_LENGTH);
        assert_eq!(
            check_image_answer(&SealKey::none(), &seal, &text, 300, 1_000, POOL),
            ImageCheck::Correct
        );
        let spaced: String = text
            .to_ascii_lowercase()
            .chars()
            .flat_map(|c| [c, ' '])
            .collect();
        assert_eq!(
            check_image_answer(&SealKey::none(), &seal, &spaced, 300, 1_100, POOL),
            ImageCheck::Correct
        );
        assert_eq!(
            check_image_answer(&SealKey::none(), &seal, &text, 300, 1_000, OTHER_USER),
            ImageCheck::Wrong
        );
    }

    #[test]
    fn a_look_alike_of_a_left_out_letter_is_read_as_the_one_it_stands_for() {
        let challenge =
            ImageChallenge::for_text(&SealKey::none(), "X4TCEH".to_owned(), 1_000, POOL).unwrap();
        let seal = challenge.seal.encode();
        for answer in ["X4TCEH", "ka7gfn", "YA7GFM", "x4tcew"] {
            assert_eq!(
                check_image_answer(&SealKey::none(), &seal, answer, 300, 1_000, POOL),
                ImageCheck::Correct,
                "{answer}"
            );
        }
        // Only look-alikes: another character is still wrong (`G` stands for `C`, not `6`).
        for answer in ["Z4TCEH", "XATCE", "X4TCEHH", "X4LCEH", "X4T6EH"] {
            assert_eq!(
                check_image_answer(&SealKey::none(), &seal, answer, 300, 1_000, POOL),
                ImageCheck::Wrong,
                "{answer}"
            );
        }
    }

    #[test]
    fn wrong_expired_and_unreadable_image_answers_fail() {
        let challenge = ImageChallenge::generate(&SealKey::none(), 1_000, POOL).unwrap();
        let seal = challenge.seal.encode();
        let text = challenge.expose_text();
        let wrong: String = text.chars().rev().collect::<String>() + "X";
        assert_eq!(
            check_image_answer(&SealKey::none(), &seal, &wrong, 300, 1_000, POOL),
            ImageCheck::Wrong
        );
        assert_eq!(
            check_image_answer(&SealKey::none(), &seal, "", 300, 1_000, POOL),
            ImageCheck::Wrong
        );
        assert_eq!(
            check_image_answer(
                &SealKey::none(),
                &seal,
                &"A".repeat(MAX_ANSWER_BYTES + 1),
                300,
                1_000,
                POOL
            ),
            ImageCheck::Wrong
        );
        assert_eq!(
            check_image_answer(&SealKey::none(), &seal, text, 300, 1_301, POOL),
            ImageCheck::Expired
        );
        assert_eq!(
            check_image_answer(&SealKey::none(), "decoy", text, 300, 1_000, POOL),
            ImageCheck::Unreadable
        );
    }

    #[test]
    fn image_challenges_are_small_pngs_and_never_repeat() {
        let first = ImageChallenge::generate(&SealKey::none(), 1, POOL).unwrap();
        let second = ImageChallenge::generate(&SealKey::none(), 1, POOL).unwrap();
        assert_ne!(first.expose_text(), second.expose_text());
        assert_ne!(first.data_url, second.data_url);
        for challenge in [first, second] {
            let encoded = challenge
                .data_url
                .strip_prefix("data:image/png;base64,")
                .unwrap();
            let png = STANDARD.decode(encoded).unwrap();
            assert!(png.len() <= 4096, "{} bytes", png.len());
            let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
            let reader = decoder.read_info().unwrap();
            assert_eq!(reader.info().width, image::WIDTH);
            assert_eq!(reader.info().height, image::HEIGHT);
            let debug = format!("{challenge:?}");
            assert!(!debug.contains(challenge.expose_text()), "{debug}");
            assert!(
                debug.starts_with("ImageChallenge(6 characters, "),
                "{debug}"
            );
        }
    }

    #[test]
    fn image_texts_use_every_character_of_the_alphabet_evenly() {
        let mut counts = std::collections::HashMap::new();
        for _ in 0..2_000 {
            for character in random_text(IMAGE_TEXT_LENGTH).unwrap().chars() {
                *counts.entry(character).or_insert(0u32) += 1;
            }
        }
        assert_eq!(counts.len(), image::ALPHABET.len());
        let expected = 12_000.0 / image::ALPHABET.len() as f64;
        for (character, count) in counts {
            let deviation = (f64::from(count) - expected).abs() / expected;
            assert!(deviation < 0.25, "{character}: {count} vs {expected}");
        }
    }

    #[test]
    fn every_character_comes_from_the_same_number_of_byte_values() {
        // The whole mapping: 20 characters from 12 byte values each (0..240); plain `byte % 20`
        // would give the first 16 characters 13 values each.
        let size = image::ALPHABET.len();
        let kept = 256 - 256 % size;
        let mut sources = std::collections::BTreeMap::new();
        for byte in 0..=u8::MAX {
            match character_for_byte(byte) {
                Some(character) => *sources.entry(character).or_insert(0) += 1,
                None => assert!(usize::from(byte) >= kept, "byte {byte} dropped"),
            }
        }
        assert_eq!(sources.len(), size);
        assert!(
            sources.values().all(|&count| count == kept / size),
            "{sources:?}"
        );
        assert_eq!(
            (0..=u8::MAX)
                .filter(|&byte| usize::from(byte) >= kept)
                .filter_map(character_for_byte)
                .count(),
            0
        );
    }

    #[test]
    fn answers_up_to_the_size_limit_are_checked_and_longer_ones_refused() {
        // Widget tokens run to a few kilobytes: the limit must not cut them off.
        let challenge = ImageChallenge::generate(&SealKey::none(), 1_000, POOL).unwrap();
        let seal = challenge.seal.encode();
        let text = challenge.expose_text();
        let padded = |length: usize| format!("{text}{}", " ".repeat(length - text.len()));
        for length in [4 * 1024, MAX_ANSWER_BYTES] {
            assert_eq!(
                check_image_answer(&SealKey::none(), &seal, &padded(length), 300, 1_000, POOL),
                ImageCheck::Correct,
                "{length}"
            );
        }
        assert_eq!(
            check_image_answer(
                &SealKey::none(),
                &seal,
                &padded(MAX_ANSWER_BYTES + 1),
                300,
                1_000,
                POOL
            ),
            ImageCheck::Wrong
        );
    }
}
