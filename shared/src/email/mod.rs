//! Codes by e-mail: addresses parsed once at the edge into [`EmailAddress`] (shown masked
//! everywhere), the settings (`EMAIL_*`), and the senders behind one trait, [`EmailSender`]:
//!
//! - [`SesSender`]: Amazon SES v2 `SendEmail` (needs the `aws-email` feature; only the create
//!   function enables it), with a text and an HTML part, from `EMAIL_FROM`, in
//!   `EMAIL_CONFIGURATION_SET` when set;
//! - [`ConsoleEmailSender`]: writes each message as one line to standard output, for local runs.
//!
//! Provider error texts go to the logs with the address masked and long digit runs replaced.

mod console;
#[cfg(feature = "aws-email")]
mod ses;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use console::{ConsoleEmailSender, LINE_PREFIX as CONSOLE_EMAIL_LINE_PREFIX};
#[cfg(feature = "aws-email")]
pub use ses::SesSender;

use crate::Error;
use crate::env::Environment;
use crate::sms::{LanguageTexts, MessageTemplate, SmsReceipt, document_texts};

/// An e-mail address as Cognito stores `email`: one `@`, a local part of 1 to 64 characters and
/// a domain with a dot, no spaces or control characters, at most 254 characters. `Display` and
/// `Debug` are masked (`a***@example.com`); only [`EmailAddress::as_str`] gives it whole.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address; `None` when it does not look like one.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (local, domain) = value.rsplit_once('@')?;
        let valid = value.len() <= 254
            && (1..=64).contains(&local.chars().count())
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && value.chars().all(|c| {
                !c.is_whitespace()
                    && !c.is_control()
                    && !is_invisible(c)
                    && !matches!(c, '<' | '>' | ',' | ';' | '"')
            });
        valid.then(|| Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The whole address, for the provider.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the sign-in page may show (`destination` with `PHONE_HINT=last4`): the first
    /// character of the local part and of the domain (`a***@e***`), no more, so a user name
    /// tells little of the address and an unknown user's stand-in looks alike.
    pub fn hint(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first = |text: &str| {
            text.chars()
                .next()
                .map(|c| c.to_lowercase().to_string())
                .unwrap_or_default()
        };
        format!("{}***@{}***", first(local), first(domain))
    }

    /// The first character of the local part, then `***@` and the domain.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

/// Format characters that change how text shows without showing themselves (zero-width, bidi
/// overrides, the byte-order mark): never part of an address, and a way to spoof log lines.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// One message to send.
#[derive(Clone)]
pub struct EmailMessage {
    /// The recipient.
    pub to: EmailAddress,
    /// The subject line.
    pub subject: String,
    /// The text part, code included: never logged (`Debug` leaves it out).
    pub text: String,
    /// The HTML part, code included.
    pub html: String,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailMessage")
            .field("to", &self.to)
            .field(
                "subject",
                &format_args!("<{} chars>", self.subject.chars().count()),
            )
            .field(
                "text",
                &format_args!("<{} chars>", self.text.chars().count()),
            )
            .field(
                "html",
                &format_args!("<{} chars>", self.html.chars().count()),
            )
            .finish()
    }
}

/// The future [`EmailSender::send`] returns.
pub type EmailFuture<'a> = Pin<Box<dyn Future<Output = Result<SmsReceipt, Error>> + Send + 'a>>;

/// Something that sends e-mail.
pub trait EmailSender: Send + Sync + fmt::Debug {
    /// The provider's name as `EMAIL_PROVIDER` spells it.
    fn provider(&self) -> &'static str;

    /// Sends one message; returns when the provider took it or refused it.
    fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a>;
}

/// Which provider sends e-mail (`EMAIL_PROVIDER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProvider {
    /// Amazon SES v2 `SendEmail` (the default).
    Ses,
    /// Prints the message to standard output. Local use only: refused on AWS Lambda.
    Console,
}

impl EmailProvider {
    /// The name used in `EMAIL_PROVIDER`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ses => "ses",
            Self::Console => "console",
        }
    }
}

/// The default subject (`EMAIL_SUBJECT`).
pub const DEFAULT_SUBJECT: &str = "{code} is your sign-in code";
/// The default subject with `APP_NAME`.
pub const DEFAULT_SUBJECT_WITH_APP: &str = "{code} is your {app} sign-in code";
/// The longest text part, rendered.
const MAX_TEXT_CHARS: usize = 4_000;
/// The default text part without `APP_NAME` (`EMAIL_TEXT_TEMPLATE`).
pub const DEFAULT_TEXT: &str = "{code} is your sign-in code.\n\nIt expires in {minutes} min. If you did not try to sign in, ignore this e-mail. Never share this code: we will never ask you for it.";
/// The default text part with `APP_NAME`.
pub const DEFAULT_TEXT_WITH_APP: &str = "{code} is your {app} sign-in code.\n\nIt expires in {minutes} min. If you did not try to sign in, ignore this e-mail. Never share this code: {app} will never ask you for it.";

/// Everything the e-mail sender and the message need.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `EMAIL_PROVIDER`.
    pub provider: EmailProvider,
    /// `EMAIL_FROM`: the verified SES identity to send from (`Name <address>` or an address).
    pub from: Option<String>,
    /// `EMAIL_CONFIGURATION_SET`: the SES configuration set (event destinations, suppression).
    pub configuration_set: Option<String>,
    /// The subject by language: `EMAIL_SUBJECT` (English), the built-in ones, and
    /// `email_subject` of `OTP_MESSAGES`.
    pub subject: LanguageTexts,
    /// The text part by language: `EMAIL_TEXT_TEMPLATE` (English), the built-in ones, and
    /// `email_text` of `OTP_MESSAGES`; the HTML part is the same text, escaped, with the code in
    /// large type.
    pub text: LanguageTexts,
    /// `EMAIL_TIMEOUT_MS`: the most one send may take (default 3000, 500 to 3500).
    pub timeout: Duration,
    /// `APP_NAME`.
    pub app_name: String,
}

impl EmailSettings {
    /// Reads the `EMAIL_*` variables (only the create function is given them; it checks with
    /// [`EmailSettings::check_sender`] that it can send when the flow needs it).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        let provider = match env.get("EMAIL_PROVIDER").as_deref() {
            None | Some("ses") => EmailProvider::Ses,
            Some("console") => {
                crate::sms::refuse_console_on_lambda(env, "EMAIL_PROVIDER")?;
                EmailProvider::Console
            }
            Some(_) => return Err(Error::config("EMAIL_PROVIDER", "must be ses or console")),
        };
        let from = env.get("EMAIL_FROM");
        if let Some(from) = &from {
            let address = from
                .rsplit_once('<')
                .and_then(|(_, rest)| rest.strip_suffix('>'))
                .unwrap_or(from);
            if EmailAddress::parse(address).is_none() || from.contains(['\r', '\n']) {
                return Err(Error::config(
                    "EMAIL_FROM",
                    "must be an address (or `Name <address>`) of an identity verified in SES",
                ));
            }
        }
        let app_name = env.get("APP_NAME").unwrap_or_default();
        let check = |variable: &'static str, label: &str, text: &str, subject: bool| {
            let template = MessageTemplate::parse(text)
                .map_err(|reason| Error::config(variable, format!("{label}{reason}")))?;
            if template.names_the_app() && app_name.is_empty() {
                return Err(Error::config(
                    variable,
                    format!("{label}uses {{app}}, and APP_NAME is not set"),
                ));
            }
            let rendered = template.render("0000000000", &app_name, 15);
            if subject {
                if rendered.chars().any(|c| c.is_control() || is_invisible(c)) {
                    return Err(Error::config(
                        variable,
                        format!(
                            "{label}holds a control or invisible character (with APP_NAME): a subject is one line"
                        ),
                    ));
                }
                if rendered.chars().count() > 200 {
                    return Err(Error::config(
                        variable,
                        format!("{label}renders longer than 200 characters"),
                    ));
                }
            } else if rendered.chars().count() > MAX_TEXT_CHARS {
                return Err(Error::config(
                    variable,
                    format!("{label}renders longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
            Ok::<_, Error>(template)
        };
        // English from its variable (or the defaults), then the built-in languages (with the
        // app's name when set), then the operator's `OTP_MESSAGES` entries.
        let texts = |variable: &'static str,
                     default: &str,
                     with_app: &str,
                     built_in: &[(&str, &str, &str)],
                     kind: &str,
                     subject: bool| {
            let english = env.get(variable).unwrap_or_else(|| {
                if app_name.is_empty() {
                    default
                } else {
                    with_app
                }
                .to_owned()
            });
            let configured = env.get(variable).is_some();
            let mut texts = LanguageTexts::new(check(variable, "", &english, subject)?);
            for (tag, named, plain) in built_in {
                let text = if app_name.is_empty() { plain } else { named };
                let label = format!("built-in {kind}.{tag} ");
                texts.insert(
                    (*tag).to_owned(),
                    check("OTP_MESSAGES", &label, text, subject)?,
                );
            }
            if let Some((document, entries)) = document_texts(env, kind)? {
                for (tag, text) in entries {
                    if tag == "en" && configured {
                        return Err(Error::config(
                            document,
                            format!("{kind}.en and {variable} both set the English text: keep one"),
                        ));
                    }
                    let label = format!("{kind}.{tag} ");
                    texts.insert(tag, check(document, &label, &text, subject)?);
                }
            }
            Ok::<_, Error>(texts)
        };
        let subject = texts(
            "EMAIL_SUBJECT",
            DEFAULT_SUBJECT,
            DEFAULT_SUBJECT_WITH_APP,
            crate::sms::EMAIL_SUBJECTS,
            "email_subject",
            true,
        )?;
        let text = texts(
            "EMAIL_TEXT_TEMPLATE",
            DEFAULT_TEXT,
            DEFAULT_TEXT_WITH_APP,
            crate::sms::EMAIL_TEXTS,
            "email_text",
            false,
        )?;
        Ok(Self {
            provider,
            from,
            configuration_set: env.get("EMAIL_CONFIGURATION_SET"),
            subject,
            text,
            timeout: Duration::from_millis(env.number("EMAIL_TIMEOUT_MS", 3_000, 500..=3_500)?),
            app_name,
        })
    }

    /// Whether these settings can send (`EMAIL_FROM` for SES): the create function checks at
    /// cold start when `AUTH_FLOW` sends codes by e-mail.
    pub fn check_sender(&self) -> Result<(), Error> {
        if self.provider == EmailProvider::Ses && self.from.is_none() {
            return Err(Error::config(
                "EMAIL_FROM",
                "is required when AUTH_FLOW sends codes by e-mail: a verified SES identity",
            ));
        }
        Ok(())
    }

    /// The message for one code, in the language of the user's `locale`.
    pub fn message(
        &self,
        to: EmailAddress,
        locale: Option<&str>,
        code: &str,
        minutes: u64,
    ) -> EmailMessage {
        let text = self
            .text
            .for_locale(locale)
            .0
            .render(code, &self.app_name, minutes);
        let escaped = escape_html(&text);
        let paragraphs: String = escaped
            .split("\n\n")
            .map(|paragraph| format!("<p>{}</p>", paragraph.replace('\n', "<br>")))
            .collect();
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><p style=\"font-size:28px;font-weight:bold;letter-spacing:4px\">{code}</p>{paragraphs}</body></html>"
        );
        EmailMessage {
            to,
            subject: self
                .subject
                .for_locale(locale)
                .0
                .render(code, &self.app_name, minutes),
            text,
            html,
        }
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Builds the sender `settings` names, with its SDK client (once per cold start).
pub async fn build_email_sender(settings: &EmailSettings) -> Result<Arc<dyn EmailSender>, Error> {
    match settings.provider {
        EmailProvider::Console => Ok(Arc::new(ConsoleEmailSender::stdout())),
        #[cfg(feature = "aws-email")]
        EmailProvider::Ses => {
            let sdk_config =
                crate::aws::load_sdk_config(crate::aws::sdk_config_loader(settings.timeout)?)
                    .await?;
            Ok(Arc::new(SesSender::new(&sdk_config, settings)))
        }
        #[cfg(not(feature = "aws-email"))]
        EmailProvider::Ses => Err(Error::config(
            "EMAIL_PROVIDER",
            "`ses` needs the aws-email feature of the cognito-passwordless crate",
        )),
    }
}

/// Provider text made safe to log: every word with an `@` in it masked (the recipient in
/// whatever case the provider quotes it, and any other address), runs of six or more digits
/// replaced.
#[cfg(any(feature = "aws-email", test))]
pub(crate) fn scrub(text: &str, to: &EmailAddress) -> String {
    let recipient = to.as_str().to_lowercase();
    let masked: Vec<String> = text
        .split(' ')
        .map(|word| match word.split_once('@') {
            Some((local, _)) if !local.is_empty() => {
                if word.to_lowercase().contains(&recipient) {
                    to.masked()
                } else {
                    "<address>".to_owned()
                }
            }
            _ => word.to_owned(),
        })
        .collect();
    crate::sms::mask_digit_runs(&masked.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)], required: bool) -> Result<EmailSettings, Error> {
        let checked = |settings: EmailSettings| {
            if required {
                settings.check_sender()?;
            }
            Ok(settings)
        };
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        EmailSettings::from_env(&Environment::new(&lookup)).and_then(checked)
    }

    #[test]
    fn addresses_are_parsed_once_and_shown_masked() {
        let address = EmailAddress::parse(" Alice.Smith@Example.COM ").unwrap();
        assert_eq!(address.as_str(), "Alice.Smith@example.com");
        assert_eq!(address.to_string(), "A***@example.com");
        assert_eq!(format!("{address:?}"), "EmailAddress(A***@example.com)");
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "alice@.example.com",
            "alice@example.com.",
            "al ice@example.com",
            "a@b@example.com",
            "alice@exa\nmple.com",
            "<alice@example.com>",
            "ali\u{200b}ce@example.com",
            "alice@exam\u{202e}ple.com",
        ] {
            assert!(EmailAddress::parse(bad).is_none(), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse(&long_local).is_none());
    }

    #[test]
    fn the_settings_are_checked_at_cold_start() {
        let defaults = settings(&[], false).unwrap();
        assert_eq!(defaults.provider, EmailProvider::Ses);
        assert_eq!(defaults.timeout, Duration::from_millis(3_000));
        let missing = settings(&[], true).unwrap_err().to_string();
        assert!(missing.contains("EMAIL_FROM"), "{missing}");
        assert!(settings(&[("EMAIL_PROVIDER", "console")], true).is_ok());
        for (name, value) in [
            ("EMAIL_PROVIDER", "smtp"),
            ("EMAIL_FROM", "not an address"),
            ("EMAIL_FROM", "Example <no-reply@example.com"),
            (
                "EMAIL_FROM",
                "Example\r\nBcc: x@example.com <no-reply@example.com>",
            ),
            ("EMAIL_SUBJECT", "no code"),
            ("EMAIL_SUBJECT", "{code} {app}"),
            ("EMAIL_SUBJECT", "{code}\r\nBcc: x@example.com"),
            ("EMAIL_TEXT_TEMPLATE", "{code} {name}"),
            ("EMAIL_TIMEOUT_MS", "100"),
        ] {
            let error = settings(&[(name, value)], false).unwrap_err().to_string();
            assert!(error.contains(name), "{name}={value:?}: {error}");
        }
        let named = settings(&[("EMAIL_FROM", "Example <no-reply@example.com>")], true).unwrap();
        assert_eq!(
            named.from.as_deref(),
            Some("Example <no-reply@example.com>")
        );
        // The console sender never runs where Lambda runs the function.
        let lambda = settings(
            &[
                ("EMAIL_PROVIDER", "console"),
                ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ],
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(lambda.contains("refused on AWS Lambda"), "{lambda}");
    }

    #[test]
    fn the_message_holds_the_code_in_both_parts_and_escapes_the_app_name() {
        let settings = settings(&[("APP_NAME", "Tom & <Jerry>")], false).unwrap();
        let to = EmailAddress::parse("alice@example.com").unwrap();
        let message = settings.message(to.clone(), None, "123456", 5);
        assert_eq!(message.subject, "123456 is your Tom & <Jerry> sign-in code");
        assert!(
            message
                .text
                .starts_with("123456 is your Tom & <Jerry> sign-in code.")
        );
        assert!(message.text.contains("It expires in 5 min."));
        assert!(message.html.contains(">123456</p>"));
        assert!(message.html.contains("Tom &amp; &lt;Jerry&gt;"));
        assert!(!message.html.contains("<Jerry>"));
        let debug = format!("{message:?}");
        assert!(
            !debug.contains("123456") && !debug.contains("alice@"),
            "{debug}"
        );
        // In the user's language: the exact tag, then the language, then English.
        let french = settings.message(to.clone(), Some("fr-CA"), "123456", 5);
        assert_eq!(
            french.subject,
            "123456 est votre code de connexion à Tom & <Jerry>"
        );
        assert!(french.text.contains("5 min"));
        assert!(french.html.contains("Tom &amp; &lt;Jerry&gt;"));
        let taiwan = settings.message(to.clone(), Some("zh-Hant-HK"), "123456", 5);
        assert!(taiwan.subject.contains("登入驗證碼"), "{}", taiwan.subject);
        let unknown = settings.message(to, Some("sv-SE"), "123456", 5);
        assert_eq!(unknown.subject, message.subject);
    }

    #[test]
    fn every_language_has_its_own_email_and_operators_may_override_it() {
        let plain = settings(&[], false).unwrap();
        let to = EmailAddress::parse("alice@example.com").unwrap();
        for locale in [
            "es", "fr", "de", "it", "pt-BR", "pt-PT", "nl", "pl", "tr", "ja", "zh", "zh-TW", "ar",
        ] {
            let message = plain.message(to.clone(), Some(locale), "987654", 7);
            assert_ne!(message.subject, "987654 is your sign-in code", "{locale}");
            assert_eq!(message.subject.matches("987654").count(), 1, "{locale}");
            assert!(message.text.starts_with("987654"), "{locale}");
            assert!(message.text.contains('7'), "{locale}");
            assert!(!message.text.contains('{'), "{locale}");
        }
        let document =
            r#"{"email_subject": {"de": "Code {code}"}, "email_text": {"de": "Ihr Code: {code}"}}"#;
        let custom = settings(&[("OTP_MESSAGES", document)], false).unwrap();
        let german = custom.message(to, Some("de-AT"), "111111", 5);
        assert_eq!(german.subject, "Code 111111");
        assert_eq!(german.text, "Ihr Code: 111111");
        let refused = |document: &str| {
            settings(&[("OTP_MESSAGES", document)], false)
                .unwrap_err()
                .to_string()
        };
        assert!(
            refused(r#"{"email_subject": {"de": "{code}\nBcc: x"}}"#)
                .contains("email_subject.de holds a control")
        );
        assert!(
            refused(r#"{"email_text": {"de": "{app} {code}"}}"#)
                .contains("email_text.de uses {app}")
        );
        assert!(
            refused(r#"{"email_text": {"de": "kein Code"}}"#)
                .contains("email_text.de must contain")
        );
        let both = settings(
            &[
                ("OTP_MESSAGES", r#"{"email_subject": {"en": "{code}"}}"#),
                ("EMAIL_SUBJECT", "{code} code"),
            ],
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(
            both.contains("email_subject.en and EMAIL_SUBJECT"),
            "{both}"
        );
    }

    #[test]
    fn provider_words_are_scrubbed() {
        let to = EmailAddress::parse("alice@example.com").unwrap();
        assert_eq!(
            scrub(
                "Email address is not verified: alice@example.com (code 123456, 42)",
                &to
            ),
            "Email address is not verified: a***@example.com (code <digits>, 42)"
        );
        // In another case, or another address altogether: masked too.
        assert_eq!(
            scrub("Rejected ALICE@EXAMPLE.COM and bob@example.org", &to),
            "Rejected a***@example.com and <address>"
        );
    }
}
