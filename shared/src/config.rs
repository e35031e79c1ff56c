//! Configuration: read once from the environment at cold start into one typed [`Config`]. A bad
//! value fails with [`Error::Config`] naming the variable. Every function parses the same
//! variables, but the deployments give each function only those it uses ([`variables_for`]:
//! [`SCOPED_VARIABLES`] go to one function, [`SHARED_BY`] to a few). docs/configuration.md lists them all.

use std::time::Duration;

use crate::Error;
use crate::abuse::{CountryAllowList, LockoutPolicy, NumberTypePolicy, SendLimits};
use crate::captcha::{CaptchaConfig, CaptchaProvider, Expectations};
use crate::flow::{AttemptLimits, AuthFlow, ChallengeStep};
use crate::legacy::{DEFAULT_USER_QUERY, LegacySourceConfig, MigrationConfig, MigrationSettings};
use crate::otp::{LENGTH_RANGE, OtpPolicy};
use crate::preauth::{DEFAULT_DENY_MESSAGE, PreAuthPolicy};
use crate::seal::SealKey;
use crate::secret::{Secret, SecretSource};
use crate::state::{FailureMode, StateConfig};

/// Every variable a deployment sets for the functions, in the order docs/configuration.md lists them. The
/// deployment descriptors (`template.yaml`, `serverless.yml`) must set exactly these on every
/// function (a test checks), so a new variable cannot silently miss one.
pub const VARIABLES: &[&str] = &[
    "AUTH_FLOW",
    "MAX_ATTEMPTS",
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
    "APP_NAME",
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
    ("PHONE_HINT_SECRET_ARN", "create-auth-challenge"),
    ("CAPTCHA_SECRET", "verify-auth-challenge"),
    ("CAPTCHA_SECRET_ARN", "verify-auth-challenge"),
    ("PREAUTH_ALLOWED_CLIENT_IDS", "pre-authentication"),
    ("PREAUTH_BLOCKED_ATTRIBUTE", "pre-authentication"),
    ("PREAUTH_REQUIRE_VERIFIED_PHONE", "pre-authentication"),
    ("PREAUTH_REQUIRED_VALIDATION_KEYS", "pre-authentication"),
    ("PREAUTH_DENY_MESSAGE", "pre-authentication"),
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

/// Variables [`Config`] reads that the Lambda service sets, not the deployment: any of them means
/// the function runs on AWS Lambda (`AWS_EXECUTION_ENV` is not set on the OS-only runtimes such
/// as `provided.al2023`; the others are, for every runtime).
pub const RUNTIME_VARIABLES: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "AWS_EXECUTION_ENV",
];

/// Set only by the local tool (`local-cognito`) for the trigger processes it runs: the one place
/// where a Lambda-like environment may use the `console` sender. Never set it in a deployment.
pub const LOCAL_TOOL_MARKER: &str = "LOCAL_COGNITO_TOOL";

/// Which SMS provider sends the codes (`SMS_PROVIDER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProvider {
    /// AWS End User Messaging SMS `SendTextMessage` (the default).
    EndUserMessaging {
        /// `SMS_ORIGINATION_IDENTITY`: phone number, sender id, pool, or their ARN.
        origination_identity: Option<String>,
        /// `SMS_CONFIGURATION_SET`: configuration set name or ARN (event destinations).
        configuration_set: Option<String>,
        /// `SMS_PROTECT_CONFIGURATION_ID`: protect configuration (country rules, fraud filters).
        protect_configuration_id: Option<String>,
        /// `SMS_MAX_PRICE`: the most one message may cost, in USD (e.g. `0.05`).
        max_price: Option<String>,
    },
    /// Amazon Pinpoint `SendMessages` (legacy path).
    Pinpoint {
        /// `PINPOINT_APPLICATION_ID`: the Pinpoint project (required).
        application_id: String,
        /// `SMS_ORIGINATION_NUMBER`: the number to send from.
        origination_number: Option<String>,
    },
    /// Prints the message to standard output. Local use only: refused on AWS Lambda.
    Console,
}

impl SmsProvider {
    /// The name used in `SMS_PROVIDER`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::EndUserMessaging { .. } => "end-user-messaging",
            Self::Pinpoint { .. } => "pinpoint",
            Self::Console => "console",
        }
    }
}

/// The SMS text, with `{code}`, `{app}` and `{minutes}` placeholders (`SMS_MESSAGE_TEMPLATE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTemplate(String);

/// The default SMS text.
pub const DEFAULT_MESSAGE_TEMPLATE: &str =
    "{code} is your {app} sign-in code. It expires in {minutes} minutes. Do not share it.";

/// The longest SMS body End User Messaging accepts.
pub const MAX_MESSAGE_LENGTH: usize = 1600;

impl MessageTemplate {
    /// Checks a template: `{code}` exactly once, no other placeholder than `{app}` and `{minutes}`.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut rest = template;
        let mut code_count = 0;
        while let Some(start) = rest.find('{') {
            let after = rest.get(start + 1..).unwrap_or("");
            let Some(end) = after.find('}') else {
                return Err("has a `{` without a closing `}`".to_owned());
            };
            match after.get(..end).unwrap_or("") {
                "code" => code_count += 1,
                "app" | "minutes" => {}
                other => {
                    return Err(format!(
                        "has an unknown placeholder `{{{}}}` (known: {{code}}, {{app}}, {{minutes}})",
                        other.chars().take(20).collect::<String>()
                    ));
                }
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        if code_count != 1 {
            return Err("must contain `{code}` exactly once".to_owned());
        }
        Ok(Self(template.to_owned()))
    }

    /// The message for one code.
    pub fn render(&self, code: &str, app: &str, minutes: u64) -> String {
        self.0
            .replace("{app}", app)
            .replace("{minutes}", &minutes.to_string())
            .replace("{code}", code)
    }
}

/// Whether and how the challenge shows which phone the code went to (`PHONE_HINT`).
#[derive(Clone, PartialEq, Eq)]
pub enum PhoneHint {
    /// No `maskedPhone` parameter (the default): nothing to tell known and unknown users apart.
    None,
    /// `maskedPhone` = `+*******` and the last four digits of the user's `phone_number` (verified
    /// or not). For unknown users and users without any phone number, the digits come from a
    /// keyed hash of the user name with this secret (`PHONE_HINT_SECRET` or
    /// `PHONE_HINT_SECRET_ARN`), stable across attempts and unguessable without the secret.
    LastFour {
        /// The key for the stand-in digits.
        secret: SecretSource,
    },
}

impl std::fmt::Debug for PhoneHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::LastFour { .. } => f.write_str("LastFour { secret: <redacted> }"),
        }
    }
}

/// Everything the triggers read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `AUTH_FLOW`: the steps of a sign-in (default `sms_otp`).
    pub flow: AuthFlow,
    /// `MAX_ATTEMPTS`: wrong answers to a step that end the sign-in (default 3, 1 to 10), and
    /// `CAPTCHA_MAX_ATTEMPTS` for the CAPTCHA step (default `MAX_ATTEMPTS`).
    pub attempts: AttemptLimits,
    /// `OTP_LENGTH` (default 6, 6 to 10) and `OTP_TTL_SECONDS` (default 300, 30 to 900).
    pub otp: OtpPolicy,
    /// `SMS_PROVIDER` and its settings.
    pub sms_provider: SmsProvider,
    /// `SMS_KEYWORD`: the registered keyword to send with (optional).
    pub sms_keyword: Option<String>,
    /// `SMS_TIMEOUT_MS`: the most one send may take, retries included (default 3000, 500 to 3500:
    /// with the rest of the work, Create always answers well inside Cognito's 5 seconds).
    pub sms_timeout: Duration,
    /// `SMS_MESSAGE_TEMPLATE`.
    pub message_template: MessageTemplate,
    /// `APP_NAME`: the `{app}` of the message (default `our app`).
    pub app_name: String,
    /// `PHONE_HINT` and `PHONE_HINT_SECRET`.
    pub phone_hint: PhoneHint,
    /// `CAPTCHA_*`: the CAPTCHA step (checked only when `AUTH_FLOW` has `captcha`).
    pub captcha: CaptchaConfig,
    /// `PREAUTH_*`: the pre-authentication policies (each off unless set).
    pub preauth: PreAuthPolicy,
    /// `LEGACY_*` and `MIGRATION_*`: the user-migration trigger (`None` without `LEGACY_SOURCE`).
    pub migration: Option<MigrationConfig>,
    /// `LEGACY_DATABASE_CA_FILE`: extra PEM root certificates for the legacy database.
    pub legacy_database_ca_file: Option<std::path::PathBuf>,
    /// `STATE_TABLE`, `STATE_FAILURE_MODE`, `STATE_TIMEOUT_MS`: abuse protection's DynamoDB
    /// table (`None`: idempotent sends, throttles and lockout are off).
    pub state: Option<StateConfig>,
    /// `SMS_MIN_INTERVAL_SECONDS`, `SMS_MAX_PER_HOUR`, `SMS_MAX_PER_DAY` (with `STATE_TABLE`).
    pub send_limits: SendLimits,
    /// `LOCKOUT_THRESHOLD`, `LOCKOUT_WINDOW_SECONDS` (with `STATE_TABLE`).
    pub lockout: LockoutPolicy,
    /// `SMS_ALLOWED_COUNTRIES`: only numbers of these countries receive codes (any when `None`).
    pub allowed_countries: Option<CountryAllowList>,
    /// `SMS_ALLOWED_NUMBER_TYPES`: the kinds of number (by libphonenumber) that receive codes.
    pub allowed_number_types: NumberTypePolicy,
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

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let env = Env(&lookup);
        let flow = match env.get("AUTH_FLOW") {
            Some(value) => AuthFlow::parse(&value)
                .map_err(|invalid| Error::config("AUTH_FLOW", invalid.to_string()))?,
            None => AuthFlow::sms_otp(),
        };
        let max_attempts = env.number("MAX_ATTEMPTS", 3, 1..=10)?;
        let otp = OtpPolicy {
            length: env.number("OTP_LENGTH", 6, LENGTH_RANGE)?,
            ttl_seconds: env.number("OTP_TTL_SECONDS", 300, 30..=900)?,
        };
        let sms_provider = match env.get("SMS_PROVIDER").as_deref() {
            None | Some("end-user-messaging") => SmsProvider::EndUserMessaging {
                origination_identity: env.get("SMS_ORIGINATION_IDENTITY"),
                configuration_set: env.get("SMS_CONFIGURATION_SET"),
                protect_configuration_id: env.get("SMS_PROTECT_CONFIGURATION_ID"),
                max_price: env.max_price()?,
            },
            Some("pinpoint") => SmsProvider::Pinpoint {
                application_id: env.get("PINPOINT_APPLICATION_ID").ok_or_else(|| {
                    Error::config(
                        "PINPOINT_APPLICATION_ID",
                        "is required when SMS_PROVIDER=pinpoint",
                    )
                })?,
                origination_number: env.get("SMS_ORIGINATION_NUMBER"),
            },
            Some("console") => {
                let on_lambda = RUNTIME_VARIABLES
                    .iter()
                    .any(|variable| env.get(variable).is_some());
                if on_lambda && env.get(LOCAL_TOOL_MARKER).as_deref() != Some("1") {
                    return Err(Error::config(
                        "SMS_PROVIDER",
                        "`console` prints codes to the function's logs and is refused on AWS Lambda",
                    ));
                }
                SmsProvider::Console
            }
            Some(_) => {
                return Err(Error::config(
                    "SMS_PROVIDER",
                    "must be end-user-messaging, pinpoint or console",
                ));
            }
        };
        let app_name = env.get("APP_NAME").unwrap_or_else(|| "our app".to_owned());
        let message_template = match env.get("SMS_MESSAGE_TEMPLATE") {
            Some(template) => MessageTemplate::parse(&template)
                .map_err(|reason| Error::config("SMS_MESSAGE_TEMPLATE", reason))?,
            None => MessageTemplate(DEFAULT_MESSAGE_TEMPLATE.to_owned()),
        };
        let longest = message_template.render(
            &"0".repeat(usize::from(*LENGTH_RANGE.end())),
            &app_name,
            otp.ttl_seconds.div_ceil(60),
        );
        if longest.chars().count() > MAX_MESSAGE_LENGTH {
            return Err(Error::config(
                "SMS_MESSAGE_TEMPLATE",
                format!("renders longer than {MAX_MESSAGE_LENGTH} characters (with APP_NAME)"),
            ));
        }
        let phone_hint = match env.get("PHONE_HINT").as_deref() {
            None | Some("none") => PhoneHint::None,
            Some("last4") => match env.secret("PHONE_HINT_SECRET", "PHONE_HINT_SECRET_ARN")? {
                Some(SecretSource::Value(secret)) if secret.expose().len() < 32 => {
                    return Err(Error::config(
                        "PHONE_HINT_SECRET",
                        "must be at least 32 characters",
                    ));
                }
                Some(secret) => PhoneHint::LastFour { secret },
                None => {
                    return Err(Error::config(
                        "PHONE_HINT_SECRET",
                        "is required when PHONE_HINT=last4 (or PHONE_HINT_SECRET_ARN; without it, unknown users could be told apart)",
                    ));
                }
            },
            Some(_) => return Err(Error::config("PHONE_HINT", "must be none or last4")),
        };
        let seal_key = env.secret("SEAL_KEY", "SEAL_KEY_ARN")?;
        if let Some(SecretSource::Value(key)) = &seal_key {
            SealKey::new(key.expose()).map_err(|reason| Error::config("SEAL_KEY", reason))?;
        }
        let attempts = AttemptLimits {
            default: max_attempts,
            captcha: env.number("CAPTCHA_MAX_ATTEMPTS", max_attempts, 1..=10)?,
        };
        let captcha = env.captcha(flow.contains(ChallengeStep::Captcha))?;
        let preauth = env.preauth()?;
        let migration = env.migration()?;
        let sms_timeout =
            Duration::from_millis(env.number("SMS_TIMEOUT_MS", 3_000, 500..=3_500)?);
        let state = env.state(sms_timeout)?;
        let defaults = SendLimits::default();
        let send_limits = SendLimits {
            min_interval_seconds: env.number(
                "SMS_MIN_INTERVAL_SECONDS",
                defaults.min_interval_seconds,
                0..=3_600,
            )?,
            max_per_hour: env.number("SMS_MAX_PER_HOUR", defaults.max_per_hour, 1..=100)?,
            max_per_day: env.number("SMS_MAX_PER_DAY", defaults.max_per_day, 1..=1_000)?,
        };
        if send_limits.max_per_day < send_limits.max_per_hour {
            return Err(Error::config(
                "SMS_MAX_PER_DAY",
                "must be at least SMS_MAX_PER_HOUR",
            ));
        }
        let lockout_defaults = LockoutPolicy::default();
        let lockout = LockoutPolicy {
            threshold: env.number("LOCKOUT_THRESHOLD", lockout_defaults.threshold, 1..=100)?,
            window_seconds: env.number(
                "LOCKOUT_WINDOW_SECONDS",
                lockout_defaults.window_seconds,
                60..=86_400,
            )?,
        };
        let allowed_countries = match env.get("SMS_ALLOWED_COUNTRIES") {
            Some(list) => Some(
                CountryAllowList::parse(&list)
                    .map_err(|reason| Error::config("SMS_ALLOWED_COUNTRIES", reason))?,
            ),
            None => None,
        };
        let allowed_number_types = match env.get("SMS_ALLOWED_NUMBER_TYPES") {
            Some(list) => NumberTypePolicy::parse(&list)
                .map_err(|reason| Error::config("SMS_ALLOWED_NUMBER_TYPES", reason))?,
            None => NumberTypePolicy::default(),
        };
        Ok(Self {
            flow,
            attempts,
            otp,
            sms_provider,
            sms_keyword: env.get("SMS_KEYWORD"),
            sms_timeout,
            message_template,
            app_name,
            phone_hint,
            captcha,
            preauth,
            migration,
            legacy_database_ca_file: env
                .get("LEGACY_DATABASE_CA_FILE")
                .map(std::path::PathBuf::from),
            state,
            send_limits,
            lockout,
            allowed_countries,
            allowed_number_types,
            seal_key,
            migration_client_ids: env.secret("MIGRATION_CLIENT_IDS", "MIGRATION_CLIENT_IDS_ARN")?,
        })
    }

    /// The migration-only app clients (`MIGRATION_CLIENT_IDS`), comma-separated. A
    /// `MIGRATION_CLIENT_IDS_ARN` must have been read first
    /// ([`crate::secrets::resolve_trigger_secrets`], at cold start).
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
    /// ([`crate::secrets::resolve_trigger_secrets`], at cold start): until then it is an error,
    /// never a silent fall back to unkeyed seals.
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

/// Whether `url` is `https://…`, or `http://` to this machine (local services and tests).
pub fn is_safe_url(url: &str) -> bool {
    if url.starts_with("https://") && url.len() > "https://".len() {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, Error>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.parse::<T>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(Error::config(
                name,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// The `CAPTCHA_*` variables; with `required`, a widget provider must have its site key and
    /// secret.
    fn captcha(&self, required: bool) -> Result<CaptchaConfig, Error> {
        let defaults = CaptchaConfig::default();
        let provider = match self.get("CAPTCHA_PROVIDER") {
            None => defaults.provider,
            Some(name) => CaptchaProvider::from_name(&name).ok_or_else(|| {
                Error::config(
                    "CAPTCHA_PROVIDER",
                    "must be image, recaptcha, hcaptcha or turnstile",
                )
            })?,
        };
        let secret = self.secret("CAPTCHA_SECRET", "CAPTCHA_SECRET_ARN")?;
        let site_key = self.get("CAPTCHA_SITE_KEY");
        let widget = provider.default_verify_url().is_some();
        if required && widget && site_key.is_none() {
            return Err(Error::config(
                "CAPTCHA_SITE_KEY",
                format!("is required when CAPTCHA_PROVIDER={provider}"),
            ));
        }
        if provider == CaptchaProvider::Hcaptcha && self.get("CAPTCHA_EXPECTED_ACTION").is_some() {
            return Err(Error::config(
                "CAPTCHA_EXPECTED_ACTION",
                "hCaptcha reports no action: leave it unset with CAPTCHA_PROVIDER=hcaptcha",
            ));
        }
        let verify_url = self.get("CAPTCHA_VERIFY_URL");
        if let Some(url) = &verify_url
            && !is_safe_url(url)
        {
            return Err(Error::config(
                "CAPTCHA_VERIFY_URL",
                "must be an https:// URL (http:// only for localhost or 127.0.0.1)",
            ));
        }
        let min_score = match self.get("CAPTCHA_MIN_SCORE") {
            None => defaults.expectations.min_score,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|score| (0.0..=1.0).contains(score))
                .ok_or_else(|| {
                    Error::config("CAPTCHA_MIN_SCORE", "must be a number from 0.0 to 1.0")
                })?,
        };
        Ok(CaptchaConfig {
            provider,
            site_key,
            secret,
            verify_url,
            expectations: Expectations {
                hostnames: self.list("CAPTCHA_EXPECTED_HOSTNAMES").unwrap_or_default(),
                action: self.get("CAPTCHA_EXPECTED_ACTION"),
                min_score,
            },
            ttl_seconds: self.number("CAPTCHA_TTL_SECONDS", defaults.ttl_seconds, 30..=900)?,
            timeout: Duration::from_millis(self.number(
                "CAPTCHA_TIMEOUT_MS",
                3_000,
                500..=3_500,
            )?),
        })
    }

    /// `STATE_*`: the abuse-protection table, its failure mode and time budget. The budget and
    /// the SMS timeout together must leave Create time to answer inside Cognito's 5 seconds.
    fn state(&self, sms_timeout: Duration) -> Result<Option<StateConfig>, Error> {
        let failure_mode = match self.get("STATE_FAILURE_MODE").as_deref() {
            None | Some("closed") => FailureMode::Closed,
            Some("open") => FailureMode::Open,
            Some(_) => {
                return Err(Error::config(
                    "STATE_FAILURE_MODE",
                    "must be closed or open",
                ));
            }
        };
        let timeout = Duration::from_millis(self.number("STATE_TIMEOUT_MS", 800, 100..=1_500)?);
        let Some(table) = self.get("STATE_TABLE") else {
            return Ok(None);
        };
        let valid_name = (3..=255).contains(&table.len())
            && table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid_name && !table.starts_with("arn:") {
            return Err(Error::config(
                "STATE_TABLE",
                "must be a DynamoDB table name (3-255 of a-z, A-Z, 0-9, _ - .) or its ARN",
            ));
        }
        // Create may spend the state budget, the send (plus 200 ms of margin) and a claim
        // release (200 ms); the rest of Cognito's 5 seconds is for the function itself.
        if timeout + sms_timeout > Duration::from_millis(4_100) {
            return Err(Error::config(
                "STATE_TIMEOUT_MS",
                "together with SMS_TIMEOUT_MS must stay within 4100 ms (Cognito waits 5 s)",
            ));
        }
        Ok(Some(StateConfig {
            table,
            failure_mode,
            timeout,
        }))
    }

    /// A `true`/`false` variable (also `1`/`0`, `yes`/`no`).
    fn flag(&self, name: &'static str) -> Result<bool, Error> {
        match self
            .get(name)
            .map(|value| value.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(_) => Err(Error::config(name, "must be true or false")),
        }
    }

    /// A comma-separated list, blanks dropped; `None` when unset.
    fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|list| {
            list.split(',')
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        })
    }

    /// Either the plain variable or its `…_ARN` twin (Secrets Manager), not both.
    fn secret(
        &self,
        plain: &'static str,
        arn: &'static str,
    ) -> Result<Option<SecretSource>, Error> {
        match (self.get(plain), self.get(arn)) {
            (Some(_), Some(_)) => Err(Error::config(
                arn,
                format!("set either {plain} or {arn}, not both"),
            )),
            (Some(value), None) => Ok(Some(SecretSource::Value(Secret::new(value)))),
            (None, Some(arn_value)) => Ok(Some(SecretSource::SecretsManager {
                variable: arn,
                arn: arn_value,
            })),
            (None, None) => Ok(None),
        }
    }

    fn preauth(&self) -> Result<PreAuthPolicy, Error> {
        let allowed_client_ids = self.list("PREAUTH_ALLOWED_CLIENT_IDS");
        if allowed_client_ids.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::config(
                "PREAUTH_ALLOWED_CLIENT_IDS",
                "lists no app client id",
            ));
        }
        let deny_message = self
            .get("PREAUTH_DENY_MESSAGE")
            .unwrap_or_else(|| DEFAULT_DENY_MESSAGE.to_owned());
        if deny_message.chars().count() > 200 || deny_message.chars().any(char::is_control) {
            return Err(Error::config(
                "PREAUTH_DENY_MESSAGE",
                "must be one line of at most 200 characters",
            ));
        }
        Ok(PreAuthPolicy {
            allowed_client_ids,
            blocked_attribute: self.get("PREAUTH_BLOCKED_ATTRIBUTE"),
            require_verified_phone: self.flag("PREAUTH_REQUIRE_VERIFIED_PHONE")?,
            required_validation_keys: self
                .list("PREAUTH_REQUIRED_VALIDATION_KEYS")
                .unwrap_or_default(),
            deny_message,
        })
    }

    fn migration(&self) -> Result<Option<MigrationConfig>, Error> {
        let Some(kind) = self.get("LEGACY_SOURCE") else {
            return Ok(None);
        };
        let source = match kind.as_str() {
            "http" => {
                let url = self.get("LEGACY_HTTP_URL").ok_or_else(|| {
                    Error::config("LEGACY_HTTP_URL", "is required when LEGACY_SOURCE=http")
                })?;
                if !is_safe_url(&url) {
                    return Err(Error::config(
                        "LEGACY_HTTP_URL",
                        "must be an https:// URL (http:// only for localhost or 127.0.0.1)",
                    ));
                }
                LegacySourceConfig::Http {
                    url,
                    token: self.secret("LEGACY_HTTP_TOKEN", "LEGACY_HTTP_TOKEN_ARN")?,
                }
            }
            "postgres" => {
                let url = self
                    .secret("LEGACY_DATABASE_URL", "LEGACY_DATABASE_URL_ARN")?
                    .ok_or_else(|| {
                        Error::config(
                            "LEGACY_DATABASE_URL",
                            "LEGACY_DATABASE_URL or LEGACY_DATABASE_URL_ARN is required when LEGACY_SOURCE=postgres",
                        )
                    })?;
                if let SecretSource::Value(value) = &url
                    && !(value.expose().starts_with("postgres://")
                        || value.expose().starts_with("postgresql://"))
                {
                    return Err(Error::config(
                        "LEGACY_DATABASE_URL",
                        "must start with postgres:// or postgresql://",
                    ));
                }
                let query = self
                    .get("LEGACY_USER_QUERY")
                    .unwrap_or_else(|| DEFAULT_USER_QUERY.to_owned());
                let lower = query.to_ascii_lowercase();
                if !lower.trim_start().starts_with("select")
                    || !query.contains("$1")
                    || query.contains("$2")
                    || query.contains(';')
                {
                    return Err(Error::config(
                        "LEGACY_USER_QUERY",
                        "must be one SELECT statement with one parameter, $1 (the user name)",
                    ));
                }
                LegacySourceConfig::Postgres { url, query }
            }
            _ => {
                return Err(Error::config("LEGACY_SOURCE", "must be http or postgres"));
            }
        };
        let mut settings = MigrationSettings {
            enable_sms_mfa: self.flag("MIGRATION_ENABLE_SMS_MFA")?,
            forgot_password: self.flag("MIGRATION_FORGOT_PASSWORD")?,
            ..MigrationSettings::default()
        };
        for item in self.list("MIGRATION_MARK_VERIFIED").unwrap_or_default() {
            match item.as_str() {
                "none" => {}
                "email" => settings.mark_email_verified = true,
                "phone_number" => settings.mark_phone_verified = true,
                _ => {
                    return Err(Error::config(
                        "MIGRATION_MARK_VERIFIED",
                        "must list email and/or phone_number (or be none)",
                    ));
                }
            }
        }
        let custom_attributes = self.list("MIGRATION_CUSTOM_ATTRIBUTES").unwrap_or_default();
        if let Some(bad) = custom_attributes.iter().find(|name| {
            name.len() <= "custom:".len()
                || !name.starts_with("custom:")
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
            return Err(Error::config(
                "MIGRATION_CUSTOM_ATTRIBUTES",
                format!(
                    "lists `{}`: only custom: attribute names, comma-separated",
                    bad.chars().take(40).collect::<String>()
                ),
            ));
        }
        Ok(Some(MigrationConfig {
            source,
            timeout: Duration::from_millis(self.number("LEGACY_TIMEOUT_MS", 3_000, 500..=4_000)?),
            settings: MigrationSettings {
                custom_attributes,
                ..settings
            },
            dummy_hash: self.get("LEGACY_DUMMY_HASH"),
        }))
    }

    fn max_price(&self) -> Result<Option<String>, Error> {
        let Some(price) = self.get("SMS_MAX_PRICE") else {
            return Ok(None);
        };
        // The API's pattern: up to two integer digits, a point, one to five decimals.
        let valid = price.split_once('.').is_some_and(|(whole, fraction)| {
            whole.len() <= 2
                && (1..=5).contains(&fraction.len())
                && whole
                    .bytes()
                    .chain(fraction.bytes())
                    .all(|b| b.is_ascii_digit())
        });
        if valid {
            Ok(Some(price))
        } else {
            Err(Error::config(
                "SMS_MAX_PRICE",
                "must be a price in USD like 0.05 (up to 2 digits, a point, 1 to 5 decimals)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
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
        assert_eq!(config.attempts, AttemptLimits::from(3));
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
        assert_eq!(config.sms_provider.name(), "end-user-messaging");
        assert_eq!(config.sms_timeout, Duration::from_millis(3_000));
        assert_eq!(config.phone_hint, PhoneHint::None);
        assert_eq!(
            config
                .message_template
                .render("123456", &config.app_name, 5),
            "123456 is your our app sign-in code. It expires in 5 minutes. Do not share it."
        );
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        for (name, value) in [
            ("AUTH_FLOW", "sms"),
            ("MAX_ATTEMPTS", "0"),
            ("MAX_ATTEMPTS", "three"),
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
        let site_key = ("CAPTCHA_SITE_KEY", "0x4AAA");
        // The secret is the verify function's business only (checked at its cold start).
        assert!(config(&[flow, turnstile, site_key]).is_ok());
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
                captcha: 5
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
            config.sms_provider,
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
            config(&[]).unwrap().allowed_number_types,
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
                deny_message: "Ask support.".into(),
            }
        );
        for (name, value) in [
            ("PREAUTH_REQUIRE_VERIFIED_PHONE", "sometimes"),
            ("PREAUTH_ALLOWED_CLIENT_IDS", " , "),
            ("PREAUTH_DENY_MESSAGE", "two\nlines"),
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
                query: DEFAULT_USER_QUERY.to_owned()
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
        assert_eq!(config.send_limits, SendLimits::default());
        assert_eq!(
            (
                config.send_limits.min_interval_seconds,
                config.send_limits.max_per_hour,
                config.send_limits.max_per_day
            ),
            (30, 5, 10)
        );
        assert_eq!(
            config.lockout,
            LockoutPolicy {
                threshold: 10,
                window_seconds: 900
            }
        );
        assert_eq!(config.allowed_countries, None);
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
        assert_eq!(config.attempts, AttemptLimits::from(3));
        assert_eq!(config.captcha, CaptchaConfig::default());
        assert_eq!(config.captcha.provider, CaptchaProvider::Image);
        assert_eq!(config.captcha.ttl_seconds, 300);
        assert_eq!(config.captcha.expectations.min_score, 0.5);
    }
}
