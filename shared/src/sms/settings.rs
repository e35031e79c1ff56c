//! The SMS settings (`SMS_*`, `PINPOINT_APPLICATION_ID`, `APP_NAME`), parsed by their own module:
//! which provider sends, with which identity, keyword and time budget, and the message text.

use std::time::Duration;

use super::texts::SmsTexts;
use crate::Error;
use crate::env::Environment;
use crate::otp::{LENGTH_RANGE, OtpPolicy};

/// Variables [`SmsSettings`] reads that the Lambda service sets, not the deployment: any of them means
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

impl SmsSettings {
    /// Whether this provider can place the calls a flow with `voice` in `OTP_CHANNELS` needs:
    /// End User Messaging with `VOICE_ORIGINATION_IDENTITY`, or the console.
    pub fn check_voice(&self) -> Result<(), Error> {
        match &self.provider {
            SmsProvider::Console => Ok(()),
            SmsProvider::EndUserMessaging { .. } if self.voice.origination_identity.is_some() => {
                Ok(())
            }
            SmsProvider::EndUserMessaging { .. } => Err(Error::config(
                "VOICE_ORIGINATION_IDENTITY",
                "is required when OTP_CHANNELS has voice: a voice-capable number (or its ARN) in End User Messaging",
            )),
            SmsProvider::Pinpoint { .. } => Err(Error::config(
                "OTP_CHANNELS",
                "voice needs SMS_PROVIDER=end-user-messaging (Pinpoint places no calls here)",
            )),
        }
    }
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

/// The default SMS text when `APP_NAME` is set.
pub const DEFAULT_MESSAGE_TEMPLATE: &str =
    "{code} is your {app} sign-in code. It expires in {minutes} minutes. Do not share it.";

/// The default SMS text when `APP_NAME` is not set.
pub const DEFAULT_MESSAGE_TEMPLATE_WITHOUT_APP: &str =
    "{code} is your sign-in code. It expires in {minutes} minutes. Do not share it.";

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

    /// Whether the text names the app (`{app}`).
    pub fn names_the_app(&self) -> bool {
        self.0.contains("{app}")
    }

    /// The message for one code.
    pub fn render(&self, code: &str, app: &str, minutes: u64) -> String {
        self.0
            .replace("{app}", app)
            .replace("{minutes}", &minutes.to_string())
            .replace("{code}", code)
    }
}

/// Everything the SMS senders and the message need.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// `SMS_PROVIDER` and its settings.
    pub provider: SmsProvider,
    /// `SMS_KEYWORD`: the registered keyword to send with (optional).
    pub keyword: Option<String>,
    /// `SMS_TIMEOUT_MS`: the most one send may take, retries included (default 3000, 500 to 3500:
    /// with the rest of the work, Create always answers well inside Cognito's 5 seconds).
    pub timeout: Duration,
    /// `SMS_MESSAGE_TEMPLATE`.
    pub template: MessageTemplate,
    /// `APP_NAME`: the `{app}` of the message (empty when unset: then the text does not name
    /// the app).
    pub app_name: String,
    /// The text in each language (built-in ones, `OTP_MESSAGES`), `template` for English, and
    /// the `OTP_WEB_ORIGIN` line.
    pub texts: SmsTexts,
    /// `VOICE_*` and the voice texts: codes by phone call, through the same provider.
    pub voice: super::VoiceSettings,
}

impl SmsSettings {
    /// Reads the SMS variables; the message must fit one send with the longest code `otp` allows.
    pub fn from_env(env: &Environment<'_>, otp: &OtpPolicy) -> Result<Self, Error> {
        let provider = SmsProvider::from_env(env)?;
        let app_name = env.get("APP_NAME");
        let configured = env.get("SMS_MESSAGE_TEMPLATE").is_some();
        let template = match (env.get("SMS_MESSAGE_TEMPLATE"), &app_name) {
            (Some(template), _) => MessageTemplate::parse(&template)
                .map_err(|reason| Error::config("SMS_MESSAGE_TEMPLATE", reason))?,
            (None, Some(_)) => MessageTemplate(DEFAULT_MESSAGE_TEMPLATE.to_owned()),
            (None, None) => MessageTemplate(DEFAULT_MESSAGE_TEMPLATE_WITHOUT_APP.to_owned()),
        };
        if template.names_the_app() && app_name.is_none() {
            return Err(Error::config(
                "SMS_MESSAGE_TEMPLATE",
                "uses {app}, and APP_NAME is not set",
            ));
        }
        let app_name = app_name.unwrap_or_default();
        let longest = template.render(
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
        let texts = SmsTexts::from_env(
            env,
            template.clone(),
            configured,
            &app_name,
            usize::from(otp.length),
            otp.ttl_seconds.div_ceil(60),
        )?;
        let voice = super::VoiceSettings::from_env(
            env,
            &app_name,
            usize::from(*LENGTH_RANGE.end()),
            otp.ttl_seconds.div_ceil(60),
        )?;
        Ok(Self {
            voice,
            provider,
            keyword: env.get("SMS_KEYWORD"),
            timeout: Duration::from_millis(env.number("SMS_TIMEOUT_MS", 3_000, 500..=3_500)?),
            template,
            app_name,
            texts,
        })
    }
}

impl SmsProvider {
    /// `SMS_PROVIDER` (default `end-user-messaging`) and the provider's own variables.
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        Ok(match env.get("SMS_PROVIDER").as_deref() {
            None | Some("end-user-messaging") => Self::EndUserMessaging {
                origination_identity: env.get("SMS_ORIGINATION_IDENTITY"),
                configuration_set: env.get("SMS_CONFIGURATION_SET"),
                protect_configuration_id: env.get("SMS_PROTECT_CONFIGURATION_ID"),
                max_price: max_price(env)?,
            },
            Some("pinpoint") => Self::Pinpoint {
                application_id: env.get("PINPOINT_APPLICATION_ID").ok_or_else(|| {
                    Error::config(
                        "PINPOINT_APPLICATION_ID",
                        "is required when SMS_PROVIDER=pinpoint",
                    )
                })?,
                origination_number: env.get("SMS_ORIGINATION_NUMBER"),
            },
            Some("console") => {
                refuse_console_on_lambda(env, "SMS_PROVIDER")?;
                Self::Console
            }
            Some(_) => {
                return Err(Error::config(
                    "SMS_PROVIDER",
                    "must be end-user-messaging, pinpoint or console",
                ));
            }
        })
    }
}

/// Refuses a console sender (`variable` names it) where Lambda's variables are set, unless the
/// local tool runs the function: it would print codes to the function's logs.
pub(crate) fn refuse_console_on_lambda(
    env: &Environment<'_>,
    variable: &'static str,
) -> Result<(), Error> {
    let on_lambda = RUNTIME_VARIABLES.iter().any(|name| env.get(name).is_some());
    if on_lambda && env.get(LOCAL_TOOL_MARKER).as_deref() != Some("1") {
        return Err(Error::config(
            variable,
            "`console` prints codes to the function's logs and is refused on AWS Lambda",
        ));
    }
    Ok(())
}

/// `SMS_MAX_PRICE`, in the API's own pattern: up to two integer digits, a point, one to five
/// decimals.
fn max_price(env: &Environment<'_>) -> Result<Option<String>, Error> {
    price(env, "SMS_MAX_PRICE")
}

/// A price variable in USD (`0.05`), as End User Messaging takes it.
pub(super) fn price(
    env: &Environment<'_>,
    variable: &'static str,
) -> Result<Option<String>, Error> {
    let Some(price) = env.get(variable) else {
        return Ok(None);
    };
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
            variable,
            "must be a price in USD like 0.05 (up to 2 digits, a point, 1 to 5 decimals)",
        ))
    }
}
