//! Configuration: read once from the environment at cold start into one typed [`Config`]. A bad
//! value fails with [`Error::Config`] naming the variable. Each component parses its own
//! variables (`OtpPolicy::from_env`, `SmsSettings::from_env`, `CaptchaConfig::from_env`, …, all
//! through [`Environment`]); [`Config`] only composes them and checks what spans two components.
//! Every function parses the same variables, but the deployments give each function only those
//! it uses ([`variables_for`]: [`SCOPED_VARIABLES`] go to one function, [`SHARED_BY`] to a few).
//! docs/configuration.md lists them all.

use crate::Error;
use crate::abuse::AbusePolicy;
use crate::captcha::CaptchaConfig;
use crate::email::EmailSettings;
pub use crate::env::{Environment, is_safe_url};
use crate::flow::{AttemptLimits, AuthFlow, ChallengeStep, Channel};
use crate::legacy::MigrationConfig;
use crate::otp::OtpPolicy;
pub use crate::phone::PhoneHint;
use crate::preauth::PreAuthPolicy;
use crate::seal::SealKey;
use crate::secret::SecretSource;
use crate::signup::SignUpPolicy;
pub use crate::sms::{
    DEFAULT_MESSAGE_TEMPLATE, DEFAULT_MESSAGE_TEMPLATE_WITHOUT_APP, LOCAL_TOOL_MARKER,
    MAX_MESSAGE_LENGTH, MessageTemplate, RUNTIME_VARIABLES, SmsProvider, SmsSettings,
};
use crate::state::StateConfig;

/// Every variable a deployment sets for the functions, in the order docs/configuration.md lists them. The
/// deployment descriptors (`template.yaml`, `serverless.yml`) must set exactly these on every
/// function (a test checks), so a new variable cannot silently miss one.
pub const VARIABLES: &[&str] = &[
    "AUTH_FLOW",
    "OTP_CHANNELS",
    "OTP_PREFERRED_CHANNEL_ATTRIBUTE",
    "MAX_ATTEMPTS",
    "OTP_MAX_RESENDS",
    "OTP_LENGTH",
    "OTP_TTL_SECONDS",
    "SMS_PROVIDER",
    "SMS_ORIGINATION_IDENTITY",
    "SMS_CONFIGURATION_SET",
    "SMS_PROTECT_CONFIGURATION_ID",
    "SMS_MAX_PRICE",
    "PINPOINT_APPLICATION_ID",
    "SMS_ORIGINATION_NUMBER",
    "SMS_KEYWORD",
    "SMS_MESSAGE_TEMPLATE",
    "VOICE_ORIGINATION_IDENTITY",
    "VOICE_ID",
    "VOICE_MAX_PRICE_PER_MINUTE",
    "VOICE_ALLOWED_COUNTRIES",
    "OTP_MESSAGES",
    "OTP_MESSAGES_FILE",
    "OTP_WEB_ORIGIN",
    "APP_NAME",
    "EMAIL_PROVIDER",
    "EMAIL_FROM",
    "EMAIL_CONFIGURATION_SET",
    "EMAIL_SUBJECT",
    "EMAIL_TEXT_TEMPLATE",
    "EMAIL_TIMEOUT_MS",
    "SMS_TIMEOUT_MS",
    "PHONE_HINT",
    "PHONE_HINT_SECRET",
    "PHONE_HINT_SECRET_ARN",
    "SEAL_KEY",
    "SEAL_KEY_ARN",
    "CAPTCHA_PROVIDER",
    "CAPTCHA_MAX_ATTEMPTS",
    "CAPTCHA_TTL_SECONDS",
    "CAPTCHA_SITE_KEY",
    "CAPTCHA_SECRET",
    "CAPTCHA_SECRET_ARN",
    "CAPTCHA_VERIFY_URL",
    "CAPTCHA_EXPECTED_HOSTNAMES",
    "CAPTCHA_EXPECTED_ACTION",
    "CAPTCHA_MIN_SCORE",
    "CAPTCHA_TIMEOUT_MS",
    "PREAUTH_ALLOWED_CLIENT_IDS",
    "PREAUTH_BLOCKED_ATTRIBUTE",
    "PREAUTH_REQUIRE_VERIFIED_PHONE",
    "PREAUTH_REQUIRED_VALIDATION_KEYS",
    "PREAUTH_DENY_MESSAGE",
    "SIGNUP_ALLOWED_CLIENT_IDS",
    "SIGNUP_REQUIRED_ATTRIBUTES",
    "VERIFY_ON_FIRST_SIGN_IN",
    "LEGACY_SOURCE",
    "LEGACY_HTTP_URL",
    "LEGACY_HTTP_TOKEN",
    "LEGACY_HTTP_TOKEN_ARN",
    "LEGACY_DATABASE_URL",
    "LEGACY_DATABASE_URL_ARN",
    "LEGACY_DATABASE_CA_FILE",
    "LEGACY_USER_QUERY",
    "LEGACY_TIMEOUT_MS",
    "LEGACY_DUMMY_HASH",
    "MIGRATION_MARK_VERIFIED",
    "MIGRATION_ENABLE_SMS_MFA",
    "MIGRATION_CUSTOM_ATTRIBUTES",
    "MIGRATION_FORGOT_PASSWORD",
    "MIGRATION_CLIENT_IDS",
    "MIGRATION_CLIENT_IDS_ARN",
    "STATE_TABLE",
    "STATE_FAILURE_MODE",
    "STATE_TIMEOUT_MS",
    "SMS_MIN_INTERVAL_SECONDS",
    "SMS_MAX_PER_HOUR",
    "SMS_MAX_PER_DAY",
    "SMS_ALLOWED_COUNTRIES",
    "SMS_ALLOWED_NUMBER_TYPES",
    "LOCKOUT_THRESHOLD",
    "LOCKOUT_WINDOW_SECONDS",
];

/// Variables only one function gets (the binary's name): secrets stay with the function that
/// uses them, and each trigger's own settings with that trigger. Every other variable goes to
/// every function.
pub const SCOPED_VARIABLES: &[(&str, &str)] = &[
    ("PHONE_HINT_SECRET", "create-auth-challenge"),
    ("OTP_MESSAGES", "create-auth-challenge"),
    ("OTP_MESSAGES_FILE", "create-auth-challenge"),
    ("OTP_WEB_ORIGIN", "create-auth-challenge"),
    ("OTP_PREFERRED_CHANNEL_ATTRIBUTE", "create-auth-challenge"),
    ("VOICE_ORIGINATION_IDENTITY", "create-auth-challenge"),
    ("VOICE_ID", "create-auth-challenge"),
    ("VOICE_MAX_PRICE_PER_MINUTE", "create-auth-challenge"),
    ("VOICE_ALLOWED_COUNTRIES", "create-auth-challenge"),
    ("EMAIL_PROVIDER", "create-auth-challenge"),
    ("EMAIL_FROM", "create-auth-challenge"),
    ("EMAIL_CONFIGURATION_SET", "create-auth-challenge"),
    ("EMAIL_SUBJECT", "create-auth-challenge"),
    ("EMAIL_TEXT_TEMPLATE", "create-auth-challenge"),
    ("EMAIL_TIMEOUT_MS", "create-auth-challenge"),
    ("PHONE_HINT_SECRET_ARN", "create-auth-challenge"),
    ("CAPTCHA_SECRET", "verify-auth-challenge"),
    ("CAPTCHA_SECRET_ARN", "verify-auth-challenge"),
    ("PREAUTH_ALLOWED_CLIENT_IDS", "pre-authentication"),
    ("PREAUTH_BLOCKED_ATTRIBUTE", "pre-authentication"),
    ("PREAUTH_REQUIRE_VERIFIED_PHONE", "pre-authentication"),
    ("PREAUTH_REQUIRED_VALIDATION_KEYS", "pre-authentication"),
    ("PREAUTH_DENY_MESSAGE", "pre-authentication"),
    ("SIGNUP_ALLOWED_CLIENT_IDS", "pre-sign-up"),
    ("SIGNUP_REQUIRED_ATTRIBUTES", "pre-sign-up"),
    ("LEGACY_SOURCE", "user-migration"),
    ("LEGACY_HTTP_URL", "user-migration"),
    ("LEGACY_HTTP_TOKEN", "user-migration"),
    ("LEGACY_HTTP_TOKEN_ARN", "user-migration"),
    ("LEGACY_DATABASE_URL", "user-migration"),
    ("LEGACY_DATABASE_URL_ARN", "user-migration"),
    ("LEGACY_DATABASE_CA_FILE", "user-migration"),
    ("LEGACY_USER_QUERY", "user-migration"),
    ("LEGACY_TIMEOUT_MS", "user-migration"),
    ("LEGACY_DUMMY_HASH", "user-migration"),
    ("MIGRATION_MARK_VERIFIED", "user-migration"),
    ("MIGRATION_ENABLE_SMS_MFA", "user-migration"),
    ("MIGRATION_CUSTOM_ATTRIBUTES", "user-migration"),
    ("MIGRATION_FORGOT_PASSWORD", "user-migration"),
];

/// Variables that go to several functions but not to all: the seal key only to the two that make
/// and check seals, the migration clients to the two that guard them.
pub const SHARED_BY: &[(&str, &[&str])] = &[
    (
        "SEAL_KEY",
        &["create-auth-challenge", "verify-auth-challenge"],
    ),
    (
        "SEAL_KEY_ARN",
        &["create-auth-challenge", "verify-auth-challenge"],
    ),
    (
        "MIGRATION_CLIENT_IDS",
        &["post-authentication", "user-migration"],
    ),
    (
        "MIGRATION_CLIENT_IDS_ARN",
        &["post-authentication", "user-migration"],
    ),
];

/// The variables a deployment sets on the function built from `binary`, in [`VARIABLES`] order.
pub fn variables_for(binary: &str) -> Vec<&'static str> {
    VARIABLES
        .iter()
        .copied()
        .filter(|variable| {
            SCOPED_VARIABLES
                .iter()
                .find(|(scoped, _)| scoped == variable)
                .is_none_or(|(_, function)| *function == binary)
                && SHARED_BY
                    .iter()
                    .find(|(shared, _)| shared == variable)
                    .is_none_or(|(_, functions)| functions.contains(&binary))
        })
        .collect()
}

/// Everything the triggers read from the environment: one value per component, each parsed by
/// its own module.
#[derive(Debug, Clone)]
pub struct Config {
    /// `AUTH_FLOW`: the steps of a sign-in (default `sms_otp`).
    pub flow: AuthFlow,
    /// `MAX_ATTEMPTS`: wrong answers to a step that end the sign-in (default 3, 1 to 10), and
    /// `CAPTCHA_MAX_ATTEMPTS` for the CAPTCHA step (default `MAX_ATTEMPTS`).
    pub attempts: AttemptLimits,
    /// `OTP_LENGTH` (default 6, 6 to 10) and `OTP_TTL_SECONDS` (default 300, 30 to 900).
    pub otp: OtpPolicy,
    /// `SMS_*` (the provider, its identity, keyword, time budget and the message), `APP_NAME`.
    pub sms: SmsSettings,
    /// `EMAIL_*`: the e-mail sender and message (checked only when `AUTH_FLOW` has
    /// `email_otp`).
    pub email: EmailSettings,
    /// `PHONE_HINT` and `PHONE_HINT_SECRET`.
    pub phone_hint: PhoneHint,
    /// `OTP_PREFERRED_CHANNEL_ATTRIBUTE`: the user attribute (such as `custom:otp_channel`)
    /// whose value (`sms`, `email`, `voice`) picks the `otp` step's first channel.
    pub preferred_channel_attribute: Option<String>,
    /// `CAPTCHA_*`: the CAPTCHA step (checked only when `AUTH_FLOW` has `captcha`).
    pub captcha: CaptchaConfig,
    /// `PREAUTH_*`: the pre-authentication policies (each off unless set).
    pub preauth: PreAuthPolicy,
    /// `SIGNUP_*`: what the `pre-sign-up` trigger lets in.
    pub signup: SignUpPolicy,
    /// `VERIFY_ON_FIRST_SIGN_IN` (default false): codes may go to a user's unverified phone or
    /// e-mail address, and the first right answer there marks it verified (PostAuthentication).
    /// Needs `STATE_TABLE` (the sends are throttled, and the proof is noted there).
    pub verify_on_first_sign_in: bool,
    /// `LEGACY_*` and `MIGRATION_*`: the user-migration trigger (`None` without `LEGACY_SOURCE`).
    pub migration: Option<MigrationConfig>,
    /// `STATE_TABLE`, `STATE_FAILURE_MODE`, `STATE_TIMEOUT_MS`: abuse protection's DynamoDB
    /// table (`None`: idempotent sends, throttles and lockout are off).
    pub state: Option<StateConfig>,
    /// Send throttles, lockout, allowed countries and number types (with `STATE_TABLE`).
    pub abuse: AbusePolicy,
    /// `SEAL_KEY` / `SEAL_KEY_ARN`: the key of seals and phone digests (unkeyed when `None`).
    pub seal_key: Option<SecretSource>,
    /// `MIGRATION_CLIENT_IDS` (or `MIGRATION_CLIENT_IDS_ARN`, a Secrets Manager secret holding
    /// the list: how a template hands a client's id to a trigger of the same pool without a
    /// dependency cycle): app clients that exist only to migrate legacy users
    /// (`USER_PASSWORD_AUTH`). PostAuthentication refuses a sign-in through them unless the
    /// migration trigger moved that user in during this very sign-in, so a password alone never
    /// skips the configured steps.
    pub migration_client_ids: Option<SecretSource>,
}

/// `VERIFY_ON_FIRST_SIGN_IN`: only with a state table (sends to destinations nobody has proved
/// yet must be throttled, and the proof is noted there for PostAuthentication), not with
/// `PREAUTH_REQUIRE_VERIFIED_PHONE`, which would deny the very sign-in that verifies, and not
/// with legacy migration.
fn verify_on_first_sign_in(env: &Environment<'_>) -> Result<bool, Error> {
    let on = env.flag("VERIFY_ON_FIRST_SIGN_IN")?;
    if on && env.get("STATE_TABLE").is_none() {
        return Err(Error::config(
            "VERIFY_ON_FIRST_SIGN_IN",
            "needs STATE_TABLE: codes to unverified destinations are throttled there, and the proof is noted there",
        ));
    }
    // Migrated users (and the clients that migrate them) would have every unverified legacy
    // number become a way in: the flag is for pools that sign users up.
    if on
        && [
            "LEGACY_SOURCE",
            "MIGRATION_CLIENT_IDS",
            "MIGRATION_CLIENT_IDS_ARN",
        ]
        .iter()
        .any(|name| env.get(name).is_some())
    {
        return Err(Error::config(
            "VERIFY_ON_FIRST_SIGN_IN",
            "cannot be combined with migrating legacy users (LEGACY_SOURCE, MIGRATION_CLIENT_IDS): an unverified legacy number would become a way in",
        ));
    }
    if on && env.flag("PREAUTH_REQUIRE_VERIFIED_PHONE")? {
        return Err(Error::config(
            "VERIFY_ON_FIRST_SIGN_IN",
            "cannot be combined with PREAUTH_REQUIRE_VERIFIED_PHONE=true, which denies the sign-in that verifies the phone",
        ));
    }
    Ok(on)
}

/// `OTP_PREFERRED_CHANNEL_ATTRIBUTE`: a user attribute's name, as Cognito spells them (`custom:`
/// and letters, digits, `_`, `-`; at most 64 characters).
fn preferred_channel_attribute(env: &Environment<'_>) -> Result<Option<String>, Error> {
    let Some(name) = env.get("OTP_PREFERRED_CHANNEL_ATTRIBUTE") else {
        return Ok(None);
    };
    let valid = name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
    if !valid {
        return Err(Error::config(
            "OTP_PREFERRED_CHANNEL_ATTRIBUTE",
            "must be a user attribute's name, such as custom:otp_channel",
        ));
    }
    Ok(Some(name))
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration from `(name, value)` pairs alone (tests, benchmarks and tools that
    /// configure a handler in code): a name given twice takes its last value; names not given
    /// are unset.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, Error> {
        Self::from_lookup(|name| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let env = Environment::new(&lookup);
        let flow = AuthFlow::from_env(&env)?;
        let otp = OtpPolicy::from_env(&env)?;
        let sms = SmsSettings::from_env(&env, &otp)?;
        let email = EmailSettings::from_env(&env)?;
        // The send the flow's code step makes, inside the state budget's share of 5 seconds.
        // (The longest of the channels the flow may send by.)
        let send_timeout = match (
            flow.may_send_by(Channel::Email),
            flow.may_send_by(Channel::Sms) || flow.may_send_by(Channel::Voice),
        ) {
            (true, true) => email.timeout.max(sms.timeout),
            (true, false) => email.timeout,
            (false, _) => sms.timeout,
        };
        let seal_key = env.secret("SEAL_KEY", "SEAL_KEY_ARN")?;
        if let Some(SecretSource::Value(key)) = &seal_key {
            SealKey::new(key.expose()).map_err(|reason| Error::config("SEAL_KEY", reason))?;
        }
        Ok(Self {
            attempts: AttemptLimits::from_env(&env)?,
            phone_hint: PhoneHint::from_env(&env)?,
            preferred_channel_attribute: preferred_channel_attribute(&env)?,
            email,
            captcha: CaptchaConfig::from_env(&env, flow.contains(ChallengeStep::Captcha))?,
            preauth: PreAuthPolicy::from_env(&env)?,
            signup: SignUpPolicy::from_env(&env, &flow)?,
            verify_on_first_sign_in: verify_on_first_sign_in(&env)?,
            migration: MigrationConfig::from_env(&env)?,
            state: StateConfig::from_env(&env, send_timeout)?,
            abuse: AbusePolicy::from_env(&env)?,
            migration_client_ids: env.secret("MIGRATION_CLIENT_IDS", "MIGRATION_CLIENT_IDS_ARN")?,
            flow,
            otp,
            sms,
            seal_key,
        })
    }

    /// The configuration from the environment with the trigger secrets its `…_ARN` variables name
    /// read from Secrets Manager: what every trigger that uses one starts from at cold start.
    #[cfg(feature = "aws-secrets")]
    pub async fn from_env_with_secrets() -> Result<Self, Error> {
        let mut config = Self::from_env()?;
        config.resolve_secrets().await?;
        Ok(config)
    }

    /// Reads, once at cold start, the secrets the triggers use that a `…_ARN` variable names
    /// (`SEAL_KEY_ARN`, `PHONE_HINT_SECRET_ARN`, `MIGRATION_CLIENT_IDS_ARN`), and puts their
    /// values in place, checked as the plain variables are. (A function reads only what it was
    /// given: the descriptors hand each variable to the functions that use it.)
    #[cfg(feature = "aws-secrets")]
    pub async fn resolve_secrets(&mut self) -> Result<(), Error> {
        use crate::secrets::resolve;
        if let Some(source @ SecretSource::SecretsManager { .. }) = &self.seal_key {
            let key = resolve(source, "SEAL_KEY").await?;
            SealKey::new(key.expose())
                .map_err(|reason| Error::config("SEAL_KEY_ARN", format!("the secret {reason}")))?;
            self.seal_key = Some(SecretSource::Value(key));
        }
        if let PhoneHint::LastFour {
            secret: source @ SecretSource::SecretsManager { .. },
        } = &self.phone_hint
        {
            let secret = resolve(source, "PHONE_HINT_SECRET").await?;
            if secret.expose().len() < 32 {
                return Err(Error::config(
                    "PHONE_HINT_SECRET_ARN",
                    "the secret must be at least 32 characters",
                ));
            }
            self.phone_hint = PhoneHint::LastFour {
                secret: SecretSource::Value(secret),
            };
        }
        if let Some(source @ SecretSource::SecretsManager { .. }) = &self.migration_client_ids {
            let list = resolve(source, "MIGRATION_CLIENT_IDS").await?;
            self.migration_client_ids = Some(SecretSource::Value(list));
        }
        Ok(())
    }

    /// The migration-only app clients (`MIGRATION_CLIENT_IDS`), comma-separated. A
    /// `MIGRATION_CLIENT_IDS_ARN` must have been read first ([`Config::resolve_secrets`], at
    /// cold start).
    pub fn migration_client_ids(&self) -> Result<Vec<String>, Error> {
        match &self.migration_client_ids {
            None => Ok(Vec::new()),
            Some(SecretSource::Value(list)) => Ok(list
                .expose()
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect()),
            Some(SecretSource::SecretsManager { variable, .. }) => Err(Error::config(
                variable,
                "the secret was not read at cold start",
            )),
        }
    }

    /// The seal key as configured. A `SEAL_KEY_ARN` must have been read first
    /// ([`Config::resolve_secrets`], at cold start): until then it is an error, never a silent
    /// fall back to unkeyed seals.
    pub fn seal_key(&self) -> Result<SealKey, Error> {
        match &self.seal_key {
            None => Ok(SealKey::none()),
            Some(SecretSource::Value(key)) => {
                SealKey::new(key.expose()).map_err(|reason| Error::config("SEAL_KEY", reason))
            }
            Some(SecretSource::SecretsManager { variable, .. }) => Err(Error::config(
                variable,
                "the secret was not read at cold start",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abuse::{LockoutPolicy, NumberTypePolicy, SendLimits};
    use crate::captcha::{CaptchaProvider, Expectations};
    use crate::legacy::{DEFAULT_USER_QUERY, LegacySourceConfig, MigrationSettings};
    use crate::preauth::DEFAULT_DENY_MESSAGE;
    use crate::secret::Secret;
    use crate::state::FailureMode;
    use std::collections::HashMap;
    use std::time::Duration;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        Config::from_pairs(vars)
    }

    fn variable_of(result: Result<Config, Error>) -> &'static str {
        match result {
            Err(Error::Config { variable, .. }) => variable,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = config(&[]).unwrap();
        assert_eq!(config.flow, AuthFlow::sms_otp());
        assert_eq!(
            config.attempts,
            AttemptLimits {
                resends: 2,
                ..AttemptLimits::from(3)
            }
        );
        assert_eq!(config.captcha, CaptchaConfig::default());
        assert_eq!(config.captcha.provider, CaptchaProvider::Image);
        assert_eq!(config.captcha.ttl_seconds, 300);
        assert_eq!(config.captcha.expectations.min_score, 0.5);
        assert_eq!(
            config.otp,
            OtpPolicy {
                length: 6,
                ttl_seconds: 300
            }
        );
        assert_eq!(config.sms.provider.name(), "end-user-messaging");
        assert_eq!(config.sms.timeout, Duration::from_millis(3_000));
        assert_eq!(config.phone_hint, PhoneHint::None);
        assert_eq!(
            config
                .sms
                .template
                .render("123456", &config.sms.app_name, 5),
            "123456 is your sign-in code. It expires in 5 minutes. Do not share it."
        );
        // With APP_NAME, the default text names the app; a text that names it needs it.
        let named = Config::from_pairs(&[("APP_NAME", "Example")]).unwrap();
        assert_eq!(
            named.sms.template.render("123456", &named.sms.app_name, 5),
            "123456 is your Example sign-in code. It expires in 5 minutes. Do not share it."
        );
        assert_eq!(
            variable_of(Config::from_pairs(&[(
                "SMS_MESSAGE_TEMPLATE",
                "{code} for {app}"
            )])),
            "SMS_MESSAGE_TEMPLATE"
        );
        let own = Config::from_pairs(&[("SMS_MESSAGE_TEMPLATE", "Code {code}")]).unwrap();
        assert_eq!(own.sms.template.render("123456", "", 5), "Code 123456");
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        for (name, value) in [
            ("AUTH_FLOW", "sms"),
            ("MAX_ATTEMPTS", "0"),
            ("MAX_ATTEMPTS", "three"),
            ("OTP_MAX_RESENDS", "6"),
            ("OTP_MAX_RESENDS", "-1"),
            ("OTP_LENGTH", "5"),
            ("OTP_LENGTH", "11"),
            ("OTP_TTL_SECONDS", "901"),
            ("OTP_TTL_SECONDS", "-1"),
            ("SMS_PROVIDER", "sns"),
            ("SMS_MAX_PRICE", "1"),
            ("SMS_MAX_PRICE", "100.0"),
            ("SMS_MAX_PRICE", "0.123456"),
            ("SMS_TIMEOUT_MS", "3600"),
            ("SMS_MESSAGE_TEMPLATE", "Your code"),
            ("SMS_MESSAGE_TEMPLATE", "{code} {code}"),
            ("SMS_MESSAGE_TEMPLATE", "{code} for {user}"),
            ("SMS_MESSAGE_TEMPLATE", "{code} {app"),
            ("PHONE_HINT", "all"),
            ("CAPTCHA_PROVIDER", "funcaptcha"),
            ("CAPTCHA_MAX_ATTEMPTS", "0"),
            ("CAPTCHA_TTL_SECONDS", "10"),
            ("CAPTCHA_MIN_SCORE", "1.5"),
            ("CAPTCHA_MIN_SCORE", "high"),
            ("CAPTCHA_TIMEOUT_MS", "5000"),
            ("CAPTCHA_VERIFY_URL", "http://siteverify.example.com/"),
            ("CAPTCHA_VERIFY_URL", "ftp://x"),
            ("STATE_FAILURE_MODE", "ajar"),
            ("STATE_TIMEOUT_MS", "5000"),
            ("STATE_TABLE", "a b"),
            ("SMS_MIN_INTERVAL_SECONDS", "-1"),
            ("SMS_MAX_PER_HOUR", "0"),
            ("SMS_MAX_PER_DAY", "2"),
            ("SMS_ALLOWED_COUNTRIES", "US,USA"),
            ("LOCKOUT_THRESHOLD", "101"),
            ("LOCKOUT_THRESHOLD", "0"),
            ("LOCKOUT_WINDOW_SECONDS", "10"),
        ] {
            assert_eq!(
                variable_of(config(&[(name, value)])),
                name,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn a_widget_captcha_needs_its_site_key_and_one_secret() {
        let flow = ("AUTH_FLOW", "captcha,sms_otp");
        let turnstile = ("CAPTCHA_PROVIDER", "turnstile");
        assert_eq!(variable_of(config(&[flow, turnstile])), "CAPTCHA_SITE_KEY");
        // The message names the provider as CAPTCHA_PROVIDER spells it.
        for name in ["recaptcha", "hcaptcha", "turnstile"] {
            let error = config(&[flow, ("CAPTCHA_PROVIDER", name)]).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid configuration: CAPTCHA_SITE_KEY: is required when CAPTCHA_PROVIDER={name}"
                )
            );
        }
        let site_key = ("CAPTCHA_SITE_KEY", "0x4AAA");
        // The secret is the verify function's business only (checked at its cold start).
        assert!(config(&[flow, turnstile, site_key]).is_ok());
        // Without a CAPTCHA step, a widget provider needs nothing; the image CAPTCHA never
        // needs a site key.
        assert!(config(&[turnstile]).is_ok());
        assert!(config(&[flow]).is_ok());
        // An expected action is refused for hCaptcha only (it reports none).
        let action = ("CAPTCHA_EXPECTED_ACTION", "login");
        assert!(config(&[flow, turnstile, site_key, action]).is_ok());
        assert!(config(&[flow, ("CAPTCHA_PROVIDER", "hcaptcha"), site_key]).is_ok());
        assert_eq!(
            variable_of(config(&[
                flow,
                ("CAPTCHA_PROVIDER", "hcaptcha"),
                site_key,
                ("CAPTCHA_EXPECTED_ACTION", "login")
            ])),
            "CAPTCHA_EXPECTED_ACTION"
        );
        let both = [
            flow,
            turnstile,
            site_key,
            ("CAPTCHA_SECRET", "s"),
            (
                "CAPTCHA_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:x",
            ),
        ];
        assert_eq!(variable_of(config(&both)), "CAPTCHA_SECRET_ARN");
        let config = config(&[
            flow,
            turnstile,
            site_key,
            ("CAPTCHA_SECRET_ARN", "captcha-secret"),
            (
                "CAPTCHA_EXPECTED_HOSTNAMES",
                " login.example.com, ,app.example.com ",
            ),
            ("CAPTCHA_EXPECTED_ACTION", "login"),
            ("CAPTCHA_MIN_SCORE", "0.7"),
            ("CAPTCHA_MAX_ATTEMPTS", "5"),
            ("CAPTCHA_VERIFY_URL", "http://127.0.0.1:9/siteverify"),
        ])
        .unwrap();
        assert_eq!(
            config.captcha.secret,
            Some(SecretSource::SecretsManager {
                variable: "CAPTCHA_SECRET_ARN",
                arn: "captcha-secret".into()
            })
        );
        assert_eq!(
            config.captcha.expectations,
            Expectations {
                hostnames: vec!["login.example.com".into(), "app.example.com".into()],
                action: Some("login".into()),
                min_score: 0.7
            }
        );
        assert_eq!(
            config.attempts,
            AttemptLimits {
                default: 3,
                captcha: 5,
                resends: AttemptLimits::DEFAULT_RESENDS,
            }
        );
        // Without a CAPTCHA step, its settings are not required.
        assert!(
            super::Config::from_lookup(
                |name| (name == "CAPTCHA_PROVIDER").then(|| "recaptcha".to_owned())
            )
            .is_ok()
        );
    }

    #[test]
    fn only_https_or_local_http_urls_are_safe() {
        for safe in [
            "https://www.google.com/recaptcha/api/siteverify",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://[::1]:9/",
        ] {
            assert!(is_safe_url(safe), "{safe}");
        }
        for unsafe_url in [
            "http://example.com/",
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com:80/",
            "https://",
            "file:///etc/passwd",
            "",
        ] {
            assert!(!is_safe_url(unsafe_url), "{unsafe_url}");
        }
    }

    #[test]
    fn pinpoint_needs_its_application() {
        assert_eq!(
            variable_of(config(&[("SMS_PROVIDER", "pinpoint")])),
            "PINPOINT_APPLICATION_ID"
        );
        let config = config(&[
            ("SMS_PROVIDER", "pinpoint"),
            ("PINPOINT_APPLICATION_ID", "abc"),
        ])
        .unwrap();
        assert_eq!(
            config.sms.provider,
            SmsProvider::Pinpoint {
                application_id: "abc".into(),
                origination_number: None
            }
        );
    }

    #[test]
    fn console_sender_is_refused_on_lambda() {
        assert!(config(&[("SMS_PROVIDER", "console")]).is_ok());
        assert_eq!(
            variable_of(config(&[
                ("SMS_PROVIDER", "console"),
                ("AWS_EXECUTION_ENV", "AWS_Lambda_java21")
            ])),
            "SMS_PROVIDER"
        );
        // What Lambda really sets for a function on provided.al2023: no AWS_EXECUTION_ENV.
        let lambda = [
            ("SMS_PROVIDER", "console"),
            ("AWS_LAMBDA_FUNCTION_NAME", "cognito-create-auth-challenge"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/cognito-create-auth-challenge",
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/01/[$LATEST]0123456789abcdef",
            ),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
            ("_HANDLER", "bootstrap"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("TZ", ":UTC"),
        ];
        assert_eq!(variable_of(config(&lambda)), "SMS_PROVIDER");
        // Each of the variables alone gives Lambda away.
        for variable in RUNTIME_VARIABLES {
            assert_eq!(
                variable_of(config(&[("SMS_PROVIDER", "console"), (variable, "x")])),
                "SMS_PROVIDER",
                "{variable}"
            );
        }
        // Only the local tool's marker, exactly, lets a Lambda-like environment print codes.
        let mut local = lambda.to_vec();
        local.push((LOCAL_TOOL_MARKER, "1"));
        assert!(config(&local).is_ok());
        let mut almost = lambda.to_vec();
        almost.push((LOCAL_TOOL_MARKER, "true"));
        assert_eq!(variable_of(config(&almost)), "SMS_PROVIDER");
    }

    #[test]
    fn the_seal_key_is_long_or_read_from_secrets_manager() {
        assert!(!config(&[]).unwrap().seal_key().unwrap().is_keyed());
        assert_eq!(variable_of(config(&[("SEAL_KEY", "short")])), "SEAL_KEY");
        let keyed = config(&[("SEAL_KEY", &"k".repeat(32))]).unwrap();
        assert!(keyed.seal_key().unwrap().is_keyed());
        let arn = config(&[(
            "SEAL_KEY_ARN",
            "arn:aws:secretsmanager:us-east-1:1:secret:seal-AbCdEf",
        )])
        .unwrap();
        // An ARN not yet read is an error, never unkeyed seals.
        assert!(matches!(
            arn.seal_key(),
            Err(Error::Config {
                variable: "SEAL_KEY_ARN",
                ..
            })
        ));
        assert_eq!(
            variable_of(config(&[
                ("SEAL_KEY", &"k".repeat(32)),
                (
                    "SEAL_KEY_ARN",
                    "arn:aws:secretsmanager:us-east-1:1:secret:x"
                )
            ])),
            "SEAL_KEY_ARN"
        );
        assert!(!format!("{keyed:?}").contains("kkkk"));
    }

    #[test]
    fn new_security_settings_are_checked() {
        let hint = config(&[
            ("PHONE_HINT", "last4"),
            (
                "PHONE_HINT_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:hint-AbCdEf",
            ),
        ])
        .unwrap();
        assert!(matches!(
            hint.phone_hint,
            PhoneHint::LastFour {
                secret: SecretSource::SecretsManager { .. }
            }
        ));
        assert_eq!(
            variable_of(config(&[("SMS_ALLOWED_NUMBER_TYPES", "mobile,premium")])),
            "SMS_ALLOWED_NUMBER_TYPES"
        );
        assert_eq!(
            config(&[]).unwrap().abuse.allowed_number_types,
            NumberTypePolicy::default()
        );
        let legacy = [
            ("LEGACY_SOURCE", "http"),
            ("LEGACY_HTTP_URL", "https://legacy.example.com/auth"),
        ];
        for bad in ["role", "custom:", "custom:a b"] {
            let mut vars = legacy.to_vec();
            vars.push(("MIGRATION_CUSTOM_ATTRIBUTES", bad));
            assert_eq!(
                variable_of(config(&vars)),
                "MIGRATION_CUSTOM_ATTRIBUTES",
                "{bad}"
            );
        }
        let mut vars = legacy.to_vec();
        vars.push(("MIGRATION_CUSTOM_ATTRIBUTES", "custom:tier, custom:plan"));
        vars.push(("LEGACY_DUMMY_HASH", "$2b$12$abc"));
        let migration = config(&vars).unwrap().migration.unwrap();
        assert_eq!(
            migration.settings.custom_attributes,
            vec!["custom:tier".to_owned(), "custom:plan".to_owned()]
        );
        assert_eq!(migration.dummy_hash.as_deref(), Some("$2b$12$abc"));
        assert_eq!(
            config(&[("MIGRATION_CLIENT_IDS", "m1, m2")])
                .unwrap()
                .migration_client_ids()
                .unwrap(),
            vec!["m1".to_owned(), "m2".to_owned()]
        );
        let by_name =
            config(&[("MIGRATION_CLIENT_IDS_ARN", "my-stack/migration-client-ids")]).unwrap();
        assert!(
            by_name.migration_client_ids().is_err(),
            "read at cold start first"
        );
    }

    #[test]
    fn phone_hint_needs_a_long_secret() {
        assert_eq!(
            variable_of(config(&[("PHONE_HINT", "last4")])),
            "PHONE_HINT_SECRET"
        );
        assert_eq!(
            variable_of(config(&[
                ("PHONE_HINT", "last4"),
                ("PHONE_HINT_SECRET", "short")
            ])),
            "PHONE_HINT_SECRET"
        );
        let secret = "k".repeat(32);
        let config = config(&[("PHONE_HINT", "last4"), ("PHONE_HINT_SECRET", &secret)]).unwrap();
        assert!(!format!("{config:?}").contains(&secret));
    }

    #[test]
    fn a_template_too_long_to_send_is_refused() {
        let long = format!("{{code}} {}", "x".repeat(1_600));
        assert_eq!(
            variable_of(config(&[("SMS_MESSAGE_TEMPLATE", &long)])),
            "SMS_MESSAGE_TEMPLATE"
        );
    }

    #[test]
    fn valid_prices_pass() {
        for price in ["0.05", "1.0", "10.12345", ".5"] {
            assert!(config(&[("SMS_MAX_PRICE", price)]).is_ok(), "{price}");
        }
    }

    #[test]
    fn variables_lists_exactly_what_the_config_reads() {
        use std::cell::RefCell;
        use std::collections::BTreeSet;
        let asked = RefCell::new(BTreeSet::new());
        let secret = "k".repeat(32);
        // Every branch: each provider, the phone hint with its secret, each legacy source.
        for (provider, legacy) in [
            ("end-user-messaging", "http"),
            ("pinpoint", "postgres"),
            ("console", "postgres"),
        ] {
            let vars: HashMap<&str, &str> = [
                ("SMS_PROVIDER", provider),
                ("PINPOINT_APPLICATION_ID", "app"),
                ("PHONE_HINT", "last4"),
                ("PHONE_HINT_SECRET", secret.as_str()),
                ("LEGACY_SOURCE", legacy),
                ("LEGACY_HTTP_URL", "https://legacy.example.com/users"),
                ("LEGACY_DATABASE_URL", "postgres://u:p@db/legacy"),
            ]
            .into_iter()
            .collect();
            Config::from_lookup(|name| {
                asked.borrow_mut().insert(name.to_owned());
                vars.get(name).map(|v| (*v).to_owned())
            })
            .unwrap();
        }
        let expected: BTreeSet<String> = VARIABLES
            .iter()
            .chain(RUNTIME_VARIABLES)
            .map(|name| (*name).to_owned())
            .collect();
        assert_eq!(asked.into_inner(), expected);
    }

    #[test]
    fn preauth_policies_are_off_unless_set() {
        let config = config(&[]).unwrap();
        assert!(!config.preauth.is_active());
        assert_eq!(config.preauth.deny_message, DEFAULT_DENY_MESSAGE);
        assert_eq!(config.migration, None);
        let config = super::Config::from_lookup(|name| {
            Some(
                match name {
                    "PREAUTH_ALLOWED_CLIENT_IDS" => "a, b",
                    "PREAUTH_BLOCKED_ATTRIBUTE" => "custom:blocked",
                    "PREAUTH_REQUIRE_VERIFIED_PHONE" => "TRUE",
                    "PREAUTH_REQUIRED_VALIDATION_KEYS" => "deviceId",
                    "PREAUTH_DENY_MESSAGE" => "Ask support.",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .unwrap();
        assert_eq!(
            config.preauth,
            PreAuthPolicy {
                allowed_client_ids: Some(vec!["a".into(), "b".into()]),
                blocked_attribute: Some("custom:blocked".into()),
                require_verified_phone: true,
                required_validation_keys: vec!["deviceId".into()],
                // Cognito adds the full stop.
                deny_message: "Ask support".into(),
            }
        );
        // The deny message: one line of at most 200 characters.
        let longest = "x".repeat(200);
        assert_eq!(
            Config::from_pairs(&[("PREAUTH_DENY_MESSAGE", longest.as_str())])
                .unwrap()
                .preauth
                .deny_message,
            longest
        );
        let too_long = "x".repeat(201);
        assert_eq!(
            variable_of(Config::from_pairs(&[(
                "PREAUTH_DENY_MESSAGE",
                too_long.as_str()
            )])),
            "PREAUTH_DENY_MESSAGE"
        );
        for (name, value) in [
            ("PREAUTH_REQUIRE_VERIFIED_PHONE", "sometimes"),
            ("PREAUTH_ALLOWED_CLIENT_IDS", " , "),
            ("PREAUTH_DENY_MESSAGE", "two\nlines"),
            ("PREAUTH_DENY_MESSAGE", " ..."),
        ] {
            assert_eq!(
                variable_of(super::Config::from_lookup(
                    |n| (n == name).then(|| value.to_owned())
                )),
                name,
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_legacy_source_is_checked_when_set() {
        let http = config(&[
            ("LEGACY_SOURCE", "http"),
            ("LEGACY_HTTP_URL", "https://legacy.example.com/auth"),
            (
                "LEGACY_HTTP_TOKEN_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf",
            ),
            ("MIGRATION_MARK_VERIFIED", "email"),
            ("MIGRATION_ENABLE_SMS_MFA", "true"),
            ("MIGRATION_FORGOT_PASSWORD", "true"),
        ])
        .unwrap()
        .migration
        .unwrap();
        assert!(matches!(
            http.source,
            LegacySourceConfig::Http {
                token: Some(SecretSource::SecretsManager { .. }),
                ..
            }
        ));
        assert_eq!(
            http.settings,
            MigrationSettings {
                mark_email_verified: true,
                mark_phone_verified: false,
                enable_sms_mfa: true,
                forgot_password: true,
                custom_attributes: vec![],
            }
        );
        assert_eq!(http.timeout, Duration::from_millis(3_000));
        let postgres = config(&[
            ("LEGACY_SOURCE", "postgres"),
            (
                "LEGACY_DATABASE_URL",
                "postgres://app:pw@db:5432/legacy?sslmode=require",
            ),
        ])
        .unwrap()
        .migration
        .unwrap();
        assert_eq!(
            postgres.source,
            LegacySourceConfig::Postgres {
                url: SecretSource::Value(Secret::new(
                    "postgres://app:pw@db:5432/legacy?sslmode=require"
                )),
                query: DEFAULT_USER_QUERY.to_owned(),
                ca_file: None,
            }
        );
        for (vars, variable) in [
            (vec![("LEGACY_SOURCE", "ldap")], "LEGACY_SOURCE"),
            (vec![("LEGACY_SOURCE", "http")], "LEGACY_HTTP_URL"),
            (
                vec![
                    ("LEGACY_SOURCE", "http"),
                    ("LEGACY_HTTP_URL", "http://legacy.example.com/"),
                ],
                "LEGACY_HTTP_URL",
            ),
            (vec![("LEGACY_SOURCE", "postgres")], "LEGACY_DATABASE_URL"),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "mysql://x"),
                ],
                "LEGACY_DATABASE_URL",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    ("LEGACY_DATABASE_URL_ARN", "arn:x"),
                ],
                "LEGACY_DATABASE_URL_ARN",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    ("LEGACY_USER_QUERY", "DELETE FROM users WHERE name = $1"),
                ],
                "LEGACY_USER_QUERY",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    ("LEGACY_USER_QUERY", "SELECT * FROM users WHERE name = 'x'"),
                ],
                "LEGACY_USER_QUERY",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    ("LEGACY_USER_QUERY", "SELECT 1 WHERE $1 = $2"),
                ],
                "LEGACY_USER_QUERY",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    (
                        "LEGACY_USER_QUERY",
                        "SELECT 1 WHERE $1 = 'a'; DROP TABLE users",
                    ),
                ],
                "LEGACY_USER_QUERY",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    ("LEGACY_TIMEOUT_MS", "9000"),
                ],
                "LEGACY_TIMEOUT_MS",
            ),
            (
                vec![
                    ("LEGACY_SOURCE", "postgres"),
                    ("LEGACY_DATABASE_URL", "postgres://x"),
                    ("MIGRATION_MARK_VERIFIED", "all"),
                ],
                "MIGRATION_MARK_VERIFIED",
            ),
        ] {
            assert_eq!(variable_of(config(&vars)), variable, "{vars:?}");
        }
    }

    #[test]
    fn abuse_protection_defaults_and_budget() {
        let config = config(&[]).unwrap();
        assert_eq!(config.state, None);
        assert_eq!(config.abuse.send_limits, SendLimits::default());
        assert_eq!(
            (
                config.abuse.send_limits.min_interval_seconds,
                config.abuse.send_limits.max_per_hour,
                config.abuse.send_limits.max_per_day
            ),
            (30, 5, 10)
        );
        assert_eq!(
            config.abuse.lockout,
            LockoutPolicy {
                threshold: 10,
                window_seconds: 900
            }
        );
        assert_eq!(config.abuse.allowed_countries, None);
        let with_table = config_with_table(&[]).unwrap();
        assert_eq!(
            with_table.state,
            Some(StateConfig {
                table: "cognito-state".into(),
                failure_mode: FailureMode::Closed,
                timeout: Duration::from_millis(800),
            })
        );
        // The state budget and the SMS timeout must leave Create time inside 5 seconds.
        assert_eq!(
            variable_of(config_with_table(&[
                ("STATE_TIMEOUT_MS", "1500"),
                ("SMS_TIMEOUT_MS", "3000")
            ])),
            "STATE_TIMEOUT_MS"
        );
        assert!(
            config_with_table(&[("STATE_TIMEOUT_MS", "1100"), ("SMS_TIMEOUT_MS", "3000")]).is_ok()
        );
        // As many codes a day as an hour is allowed; fewer is not.
        assert!(
            Config::from_pairs(&[("SMS_MAX_PER_HOUR", "10"), ("SMS_MAX_PER_DAY", "10")]).is_ok()
        );
        assert_eq!(
            variable_of(Config::from_pairs(&[
                ("SMS_MAX_PER_HOUR", "10"),
                ("SMS_MAX_PER_DAY", "9")
            ])),
            "SMS_MAX_PER_DAY"
        );
        assert_eq!(
            config_with_table(&[("STATE_FAILURE_MODE", "open")])
                .unwrap()
                .state
                .unwrap()
                .failure_mode,
            FailureMode::Open
        );
    }

    fn config_with_table(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let mut all = vec![("STATE_TABLE", "cognito-state")];
        all.extend_from_slice(vars);
        config(&all)
    }

    #[test]
    fn scoped_variables_go_to_their_function_only() {
        let verify = variables_for("verify-auth-challenge");
        assert!(verify.contains(&"CAPTCHA_SECRET_ARN"));
        assert!(!verify.contains(&"LEGACY_DATABASE_URL"));
        let migration = variables_for("user-migration");
        assert!(migration.contains(&"LEGACY_DATABASE_URL"));
        assert!(!migration.contains(&"CAPTCHA_SECRET"));
        assert!(migration.contains(&"AUTH_FLOW"));
        for (variable, _) in SCOPED_VARIABLES {
            assert!(VARIABLES.contains(variable), "{variable}");
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = config(&[("AUTH_FLOW", ""), ("MAX_ATTEMPTS", "  ")]).unwrap();
        assert_eq!(
            config.attempts,
            AttemptLimits {
                resends: 2,
                ..AttemptLimits::from(3)
            }
        );
        assert_eq!(config.captcha, CaptchaConfig::default());
        assert_eq!(config.captcha.provider, CaptchaProvider::Image);
        assert_eq!(config.captcha.ttl_seconds, 300);
        assert_eq!(config.captcha.expectations.min_score, 0.5);
    }
}
