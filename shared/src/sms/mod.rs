//! SMS senders behind one trait, [`SmsSender`].
//!
//! - [`EndUserMessagingSender`]: AWS End User Messaging SMS `SendTextMessage` (the default).
//! - [`PinpointSender`]: Amazon Pinpoint `SendMessages` (legacy), which checks each address's
//!   `DeliveryStatus`: a `200` that says `OPT_OUT` is a failure.
//! - [`ConsoleSender`]: writes the message to standard output, for local runs.
//!
//! The AWS senders need the `aws-sms` feature (only the create function enables it). Their clients
//! are built once per cold start by [`build_sender`], with operation, attempt and connect timeouts
//! inside Cognito's 5-second budget and at most two attempts. Provider error texts go to the logs
//! with any phone number in them masked; users see [`crate::Error::user_message`].

mod builtin;
mod console;
#[cfg(feature = "aws-sms")]
mod end_user_messaging;
#[cfg(feature = "aws-sms")]
mod pinpoint;
mod settings;
mod texts;
mod voice;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub(crate) use builtin::{EMAIL_SUBJECTS, EMAIL_TEXTS};
pub use console::{
    ConsoleSender, LINE_PREFIX as CONSOLE_LINE_PREFIX,
    VOICE_LINE_PREFIX as CONSOLE_VOICE_LINE_PREFIX,
};
#[cfg(feature = "aws-sms")]
pub use end_user_messaging::EndUserMessagingSender;
#[cfg(feature = "aws-sms")]
pub use pinpoint::PinpointSender;
pub(crate) use settings::refuse_console_on_lambda;
pub use settings::{
    DEFAULT_MESSAGE_TEMPLATE, DEFAULT_MESSAGE_TEMPLATE_WITHOUT_APP, LOCAL_TOOL_MARKER,
    MAX_MESSAGE_LENGTH, MessageTemplate, RUNTIME_VARIABLES, SmsProvider, SmsSettings,
};
pub(crate) use texts::document_texts;
pub use texts::{
    LanguageTexts, SmsEncoding, SmsSize, SmsTexts, TEXT_KINDS, language_tag, sms_size,
};
pub use voice::{
    DEFAULT_VOICE_TEXT, DEFAULT_VOICE_TEXT_WITH_APP, VOICES, VoiceMessage, VoiceSettings,
    default_voice,
};

use crate::Error;
use crate::phone::PhoneNumber;

/// One text message to send.
#[derive(Clone)]
pub struct SmsMessage {
    /// The recipient.
    pub to: PhoneNumber,
    /// The text, code included: never logged (`Debug` leaves it out).
    pub body: String,
    /// How long the provider should keep trying to deliver it (the code's lifetime).
    pub time_to_live_seconds: u64,
}

impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsMessage")
            .field("to", &self.to)
            .field(
                "body",
                &format_args!("<{} chars>", self.body.chars().count()),
            )
            .field("time_to_live_seconds", &self.time_to_live_seconds)
            .finish()
    }
}

/// What a provider said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsReceipt {
    /// The provider's message id, if it gave one.
    pub message_id: Option<String>,
}

/// The future [`SmsSender::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<SmsReceipt, Error>> + Send + 'a>>;

/// Something that sends text messages.
pub trait SmsSender: Send + Sync + fmt::Debug {
    /// The provider's name as `SMS_PROVIDER` spells it (for logs and errors).
    fn provider(&self) -> &'static str;

    /// Sends one message; returns when the provider took it or refused it.
    fn send<'a>(&'a self, message: &'a SmsMessage) -> SendFuture<'a>;

    /// Places one call reading a code; returns when the provider took it or refused it. A
    /// provider that cannot call refuses (the cold start refuses such a configuration first).
    fn send_voice<'a>(&'a self, message: &'a VoiceMessage) -> SendFuture<'a> {
        let _ = message;
        let provider = self.provider();
        Box::pin(async move {
            Err(Error::Sms {
                provider,
                failure: crate::error::SmsFailure::Rejected,
                detail: "this provider places no voice calls".to_owned(),
            })
        })
    }
}

/// Builds the sender `settings` names, with its SDK client (once per cold start).
pub async fn build_sender(settings: &SmsSettings) -> Result<Arc<dyn SmsSender>, Error> {
    match &settings.provider {
        SmsProvider::Console => Ok(Arc::new(ConsoleSender::stdout())),
        #[cfg(feature = "aws-sms")]
        SmsProvider::EndUserMessaging { .. } | SmsProvider::Pinpoint { .. } => {
            let sdk_config =
                aws::load_sdk_config(aws::sdk_config_loader(settings.timeout)?).await?;
            Ok(match &settings.provider {
                SmsProvider::Pinpoint { .. } => {
                    Arc::new(PinpointSender::new(&sdk_config, settings))
                }
                _ => Arc::new(EndUserMessagingSender::new(&sdk_config, settings)),
            })
        }
        #[cfg(not(feature = "aws-sms"))]
        other => Err(Error::config(
            "SMS_PROVIDER",
            format!(
                "`{}` needs the aws-sms feature of the cognito-passwordless crate",
                other.name()
            ),
        )),
    }
}

/// Shared AWS SDK set-up for the AWS senders (SMS and e-mail).
#[cfg(any(feature = "aws-sms", feature = "aws-email"))]
pub mod aws {
    pub use crate::aws::{load_sdk_config, sdk_config_loader};

    use crate::error::SmsFailure;

    /// Classifies an SDK error, with the provider's words made safe by `scrub` (the recipient
    /// masked) as the detail.
    pub(crate) fn classify<E>(
        error: &aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
        scrub: &dyn Fn(&str) -> String,
    ) -> (SmsFailure, String)
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
    {
        use aws_smithy_runtime_api::client::result::SdkError;
        match error {
            SdkError::TimeoutError(_) => (SmsFailure::Timeout, "no answer in time".to_owned()),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                (SmsFailure::Timeout, "connection timed out".to_owned())
            }
            SdkError::DispatchFailure(_) => (
                SmsFailure::Unavailable,
                "could not reach the provider".to_owned(),
            ),
            SdkError::ResponseError(_) => (
                SmsFailure::Unavailable,
                "unreadable answer from the provider".to_owned(),
            ),
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let code = inner.code().unwrap_or("Unknown");
                let message = inner.message().unwrap_or("");
                let failure = match code {
                    "ThrottlingException"
                    | "TooManyRequestsException"
                    | "ServiceQuotaExceededException" => SmsFailure::Throttled,
                    "InternalServerException"
                    | "InternalServerErrorException"
                    | "ServiceUnavailableException" => SmsFailure::Unavailable,
                    _ if message.contains("OPTED_OUT") || message.contains("opted out") => {
                        SmsFailure::OptedOut
                    }
                    _ if service.raw().status().is_server_error() => SmsFailure::Unavailable,
                    _ => SmsFailure::Rejected,
                };
                (failure, scrub(&format!("{code}: {message}")))
            }
            _ => (SmsFailure::Unavailable, "SDK error".to_owned()),
        }
    }
}

/// Provider text made safe to log: the number (with or without `+`) masked, and every run of six
/// or more digits (a code, or a number in another form) replaced, since providers may quote the
/// request's values in their errors.
#[cfg(any(feature = "aws-sms", test))]
pub(crate) fn scrub(text: &str, phone: &PhoneNumber) -> String {
    let masked = phone.masked();
    let digits = phone.e164().trim_start_matches('+');
    mask_digit_runs(&text.replace(phone.e164(), &masked).replace(digits, &masked))
}

/// `text` with every `<speak>…</speak>` (to the end of the text when it is cut short) replaced
/// by `<ssml>`.
#[cfg(any(feature = "aws-sms", test))]
pub(crate) fn without_ssml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<speak") {
        out.push_str(rest.get(..start).unwrap_or(""));
        out.push_str("<ssml>");
        rest = match rest.get(start..).and_then(|tail| {
            tail.find("</speak>")
                .map(|end| start + end + "</speak>".len())
        }) {
            Some(end) => rest.get(end..).unwrap_or(""),
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// `text` with every run of six or more digits (a code, or a number in some form) replaced.
#[cfg(any(feature = "aws-sms", feature = "aws-email", test))]
pub(crate) fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if run.len() >= 6 {
            out.push_str("<digits>");
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

#[cfg(all(test, feature = "aws-sms"))]
mod tests {
    use super::*;

    #[test]
    fn ssml_is_left_out_of_provider_words() {
        assert_eq!(
            without_ssml(
                "Invalid MessageBody <speak>code <say-as interpret-as=\"digits\">1</say-as></speak> rejected"
            ),
            "Invalid MessageBody <ssml> rejected"
        );
        assert_eq!(without_ssml("cut <speak>1 2 3"), "cut <ssml>");
        assert_eq!(
            without_ssml("<speak>a</speak><speak>b</speak>!"),
            "<ssml><ssml>!"
        );
        assert_eq!(without_ssml("no markup"), "no markup");
    }

    #[test]
    fn scrub_removes_numbers_and_codes_but_keeps_the_words() {
        let phone = PhoneNumber::parse("+12065550100").unwrap();
        let text =
            "Value '482913 is your code' at 'messageBody' for +12065550100 (12065550100), 1 of 25";
        assert_eq!(
            scrub(text, &phone),
            "Value '<digits> is your code' at 'messageBody' for +*******0100 (+*******0100), 1 of 25"
        );
    }
}
