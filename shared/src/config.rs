//! Configuration: read once from the environment at cold start into one typed [`Config`]. A bad
//! value fails with [`Error::Config`] naming the variable. Every function reads the same variables,
//! so one environment block serves all three triggers. The README lists them all.

use std::time::Duration;

use crate::Error;
use crate::captcha::{CaptchaConfig, CaptchaProvider, Expectations, Secret, SecretSource};
use crate::flow::{AttemptLimits, AuthFlow, ChallengeStep};
use crate::otp::{LENGTH_RANGE, OtpPolicy};

/// Every variable a deployment sets for the functions, in the order the README lists them. The
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
];

/// Variables [`Config`] reads that the Lambda service sets, not the deployment.
pub const RUNTIME_VARIABLES: &[&str] = &["AWS_EXECUTION_ENV"];

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
    /// keyed hash of the user name with this secret (`PHONE_HINT_SECRET`), stable across attempts
    /// and unguessable without the secret.
    LastFour {
        /// The key for the stand-in digits.
        secret: String,
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
                if env
                    .get("AWS_EXECUTION_ENV")
                    .is_some_and(|value| value.starts_with("AWS_Lambda"))
                {
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
            Some("last4") => match env.get("PHONE_HINT_SECRET") {
                Some(secret) if secret.len() >= 32 => PhoneHint::LastFour { secret },
                Some(_) => {
                    return Err(Error::config(
                        "PHONE_HINT_SECRET",
                        "must be at least 32 characters",
                    ));
                }
                None => {
                    return Err(Error::config(
                        "PHONE_HINT_SECRET",
                        "is required when PHONE_HINT=last4 (without it, unknown users could be told apart)",
                    ));
                }
            },
            Some(_) => return Err(Error::config("PHONE_HINT", "must be none or last4")),
        };
        let attempts = AttemptLimits {
            default: max_attempts,
            captcha: env.number("CAPTCHA_MAX_ATTEMPTS", max_attempts, 1..=10)?,
        };
        let captcha = env.captcha(flow.contains(ChallengeStep::Captcha))?;
        Ok(Self {
            flow,
            attempts,
            otp,
            sms_provider,
            sms_keyword: env.get("SMS_KEYWORD"),
            sms_timeout: Duration::from_millis(env.number("SMS_TIMEOUT_MS", 3_000, 500..=3_500)?),
            message_template,
            app_name,
            phone_hint,
            captcha,
        })
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
        let secret = match (self.get("CAPTCHA_SECRET"), self.get("CAPTCHA_SECRET_ARN")) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "CAPTCHA_SECRET_ARN",
                    "set either CAPTCHA_SECRET or CAPTCHA_SECRET_ARN, not both",
                ));
            }
            (Some(secret), None) => Some(SecretSource::Value(Secret::new(secret))),
            (None, Some(arn)) => Some(SecretSource::SecretsManager {
                variable: "CAPTCHA_SECRET_ARN",
                arn,
            }),
            (None, None) => None,
        };
        let site_key = self.get("CAPTCHA_SITE_KEY");
        let widget = provider.default_verify_url().is_some();
        if required && widget {
            if site_key.is_none() {
                return Err(Error::config(
                    "CAPTCHA_SITE_KEY",
                    format!("is required when CAPTCHA_PROVIDER={provider}"),
                ));
            }
            if secret.is_none() {
                return Err(Error::config(
                    "CAPTCHA_SECRET",
                    format!(
                        "CAPTCHA_SECRET or CAPTCHA_SECRET_ARN is required when CAPTCHA_PROVIDER={provider}"
                    ),
                ));
            }
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
                hostnames: self
                    .get("CAPTCHA_EXPECTED_HOSTNAMES")
                    .map(|list| {
                        list.split(',')
                            .map(|host| host.trim().to_owned())
                            .filter(|host| !host.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
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
        assert_eq!(
            variable_of(config(&[flow, turnstile, site_key])),
            "CAPTCHA_SECRET"
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
                ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            ])),
            "SMS_PROVIDER"
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
        // Every branch: each provider, the phone hint with its secret.
        for provider in ["end-user-messaging", "pinpoint", "console"] {
            let vars: HashMap<&str, &str> = [
                ("SMS_PROVIDER", provider),
                ("PINPOINT_APPLICATION_ID", "app"),
                ("PHONE_HINT", "last4"),
                ("PHONE_HINT_SECRET", secret.as_str()),
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
    fn empty_values_count_as_unset() {
        let config = config(&[("AUTH_FLOW", ""), ("MAX_ATTEMPTS", "  ")]).unwrap();
        assert_eq!(config.attempts, AttemptLimits::from(3));
        assert_eq!(config.captcha, CaptchaConfig::default());
        assert_eq!(config.captcha.provider, CaptchaProvider::Image);
        assert_eq!(config.captcha.ttl_seconds, 300);
        assert_eq!(config.captcha.expectations.min_score, 0.5);
    }
}
