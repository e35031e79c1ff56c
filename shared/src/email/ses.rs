//! Amazon SES v2 `SendEmail` (REST JSON, `POST /v2/email/outbound-emails`).

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::{EmailFuture, EmailMessage, EmailSender, EmailSettings};
use crate::Error;
use crate::sms::SmsReceipt;

/// Sends with `SendEmail`: a simple message (subject, text and HTML parts, UTF-8) from
/// `EMAIL_FROM`, in `EMAIL_CONFIGURATION_SET` when set.
#[derive(Debug, Clone)]
pub struct SesSender {
    client: Client,
    from: Option<String>,
    configuration_set: Option<String>,
}

impl SesSender {
    /// A sender with a client built from `sdk_config` and `settings`.
    pub fn new(sdk_config: &aws_config::SdkConfig, settings: &EmailSettings) -> Self {
        Self {
            client: Client::new(sdk_config),
            from: settings.from.clone(),
            configuration_set: settings.configuration_set.clone(),
        }
    }
}

fn content(text: &str) -> Result<Content, Error> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|error| Error::Email {
            provider: "ses",
            failure: crate::error::SmsFailure::Rejected,
            detail: error.to_string(),
        })
}

impl EmailSender for SesSender {
    fn provider(&self) -> &'static str {
        "ses"
    }

    fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a> {
        Box::pin(async move {
            let body = Body::builder()
                .text(content(&message.text)?)
                .html(content(&message.html)?)
                .build();
            let email = Message::builder()
                .subject(content(&message.subject)?)
                .body(body)
                .build();
            let output = self
                .client
                .send_email()
                .set_from_email_address(self.from.clone())
                .destination(
                    Destination::builder()
                        .to_addresses(message.to.as_str())
                        .build(),
                )
                .content(EmailContent::builder().simple(email).build())
                .set_configuration_set_name(self.configuration_set.clone())
                .send()
                .await
                .map_err(|error| {
                    let (failure, detail) =
                        crate::sms::aws::classify(&error, &|text| super::scrub(text, &message.to));
                    Error::Email {
                        provider: "ses",
                        failure,
                        detail,
                    }
                })?;
            Ok(SmsReceipt {
                message_id: output.message_id().map(str::to_owned),
            })
        })
    }
}
