//! Amazon Pinpoint `SendMessages` (legacy path; Pinpoint's SMS APIs live on under End User
//! Messaging). The call can succeed while delivery failed, so each address's `DeliveryStatus` is
//! checked.

use aws_sdk_pinpoint::Client;
use aws_sdk_pinpoint::types::{
    AddressConfiguration, ChannelType, DeliveryStatus, DirectMessageConfiguration, MessageRequest,
    MessageType, SmsMessage as PinpointSms,
};

use super::{SendFuture, SmsMessage, SmsReceipt, SmsSender, aws};
use crate::Error;
use crate::error::SmsFailure;
use crate::sms::{SmsProvider, SmsSettings};

/// Sends with Pinpoint `SendMessages` as a `TRANSACTIONAL` SMS.
#[derive(Debug, Clone)]
pub struct PinpointSender {
    client: Client,
    application_id: String,
    origination_number: Option<String>,
    keyword: Option<String>,
}

impl PinpointSender {
    /// A sender with a client built from `sdk_config` and `settings`.
    pub fn new(sdk_config: &aws_config::SdkConfig, settings: &SmsSettings) -> Self {
        let (application_id, origination_number) = match &settings.provider {
            SmsProvider::Pinpoint {
                application_id,
                origination_number,
            } => (application_id.clone(), origination_number.clone()),
            _ => (String::new(), None),
        };
        Self {
            client: Client::new(sdk_config),
            application_id,
            origination_number,
            keyword: settings.keyword.clone(),
        }
    }

    fn failure(failure: SmsFailure, detail: String) -> Error {
        Error::Sms {
            provider: "pinpoint",
            failure,
            detail,
        }
    }
}

impl SmsSender for PinpointSender {
    fn provider(&self) -> &'static str {
        "pinpoint"
    }

    fn send<'a>(&'a self, message: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            let address = message.to.e164();
            let sms = PinpointSms::builder()
                .body(&message.body)
                .message_type(MessageType::Transactional)
                .set_origination_number(self.origination_number.clone())
                .set_keyword(self.keyword.clone())
                .build();
            let request = MessageRequest::builder()
                .addresses(
                    address,
                    AddressConfiguration::builder()
                        .channel_type(ChannelType::Sms)
                        .build(),
                )
                .message_configuration(
                    DirectMessageConfiguration::builder()
                        .sms_message(sms)
                        .build(),
                )
                .build();
            let output = self
                .client
                .send_messages()
                .application_id(&self.application_id)
                .message_request(request)
                .send()
                .await
                .map_err(|error| {
                    let (failure, detail) =
                        aws::classify(&error, &|text| super::scrub(text, &message.to));
                    Self::failure(failure, detail)
                })?;
            let result = output
                .message_response()
                .and_then(|response| response.result())
                .and_then(|results| results.get(address))
                .ok_or_else(|| {
                    Self::failure(
                        SmsFailure::Unavailable,
                        "no result for the address".to_owned(),
                    )
                })?;
            let status = result.delivery_status();
            let failure = match status {
                Some(DeliveryStatus::Successful) => {
                    return Ok(SmsReceipt {
                        message_id: result.message_id().map(str::to_owned),
                    });
                }
                Some(DeliveryStatus::Throttled) => SmsFailure::Throttled,
                Some(DeliveryStatus::OptOut) => SmsFailure::OptedOut,
                Some(DeliveryStatus::TemporaryFailure) => SmsFailure::Unavailable,
                _ => SmsFailure::Rejected,
            };
            Err(Self::failure(
                failure,
                format!(
                    "delivery status {} (status code {})",
                    status.map_or("missing", DeliveryStatus::as_str),
                    result.status_code().unwrap_or_default()
                ),
            ))
        })
    }
}
