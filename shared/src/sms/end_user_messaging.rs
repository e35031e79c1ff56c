//! AWS End User Messaging SMS (`pinpoint-sms-voice-v2`) `SendTextMessage`.

use aws_sdk_pinpointsmsvoicev2::Client;
use aws_sdk_pinpointsmsvoicev2::types::{MessageType, VoiceId, VoiceMessageBodyTextType};

use super::{SendFuture, SmsMessage, SmsReceipt, SmsSender, VoiceMessage, aws};
use crate::Error;
use crate::sms::{SmsProvider, SmsSettings};

/// Sends with `SendTextMessage`: `TRANSACTIONAL`, `TimeToLive` set to the code's lifetime, and the
/// origination identity, configuration set, protect configuration, keyword and price cap when
/// configured.
#[derive(Debug, Clone)]
pub struct EndUserMessagingSender {
    client: Client,
    origination_identity: Option<String>,
    configuration_set: Option<String>,
    protect_configuration_id: Option<String>,
    max_price: Option<String>,
    keyword: Option<String>,
    voice_origination_identity: Option<String>,
    voice_max_price_per_minute: Option<String>,
}

impl EndUserMessagingSender {
    /// A sender with a client built from `sdk_config` and `settings`.
    pub fn new(sdk_config: &aws_config::SdkConfig, settings: &SmsSettings) -> Self {
        let (origination_identity, configuration_set, protect_configuration_id, max_price) =
            match &settings.provider {
                SmsProvider::EndUserMessaging {
                    origination_identity,
                    configuration_set,
                    protect_configuration_id,
                    max_price,
                } => (
                    origination_identity.clone(),
                    configuration_set.clone(),
                    protect_configuration_id.clone(),
                    max_price.clone(),
                ),
                _ => (None, None, None, None),
            };
        Self {
            client: Client::new(sdk_config),
            origination_identity,
            configuration_set,
            protect_configuration_id,
            max_price,
            keyword: settings.keyword.clone(),
            voice_origination_identity: settings.voice.origination_identity.clone(),
            voice_max_price_per_minute: settings.voice.max_price_per_minute.clone(),
        }
    }
}

impl SmsSender for EndUserMessagingSender {
    fn provider(&self) -> &'static str {
        "end-user-messaging"
    }

    fn send<'a>(&'a self, message: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            // The API accepts 5 seconds to 72 hours.
            let time_to_live =
                i32::try_from(message.time_to_live_seconds.clamp(5, 259_200)).unwrap_or(259_200);
            let output = self
                .client
                .send_text_message()
                .destination_phone_number(message.to.e164())
                .message_body(&message.body)
                .message_type(MessageType::Transactional)
                .time_to_live(time_to_live)
                .context("purpose", "sign-in-code")
                .set_origination_identity(self.origination_identity.clone())
                .set_configuration_set_name(self.configuration_set.clone())
                .set_protect_configuration_id(self.protect_configuration_id.clone())
                .set_max_price(self.max_price.clone())
                .set_keyword(self.keyword.clone())
                .send()
                .await
                .map_err(|error| {
                    let (failure, detail) =
                        aws::classify(&error, &|text| super::scrub(text, &message.to));
                    Error::Sms {
                        provider: "end-user-messaging",
                        failure,
                        detail,
                    }
                })?;
            Ok(SmsReceipt {
                message_id: output.message_id().map(str::to_owned),
            })
        })
    }

    fn send_voice<'a>(&'a self, message: &'a VoiceMessage) -> SendFuture<'a> {
        Box::pin(async move {
            // The API accepts 30 seconds to 72 hours.
            let time_to_live =
                i32::try_from(message.time_to_live_seconds.clamp(30, 259_200)).unwrap_or(259_200);
            let output = self
                .client
                .send_voice_message()
                .destination_phone_number(message.to.e164())
                .set_origination_identity(self.voice_origination_identity.clone())
                .message_body(&message.ssml)
                .message_body_text_type(VoiceMessageBodyTextType::Ssml)
                .voice_id(VoiceId::from(message.voice_id))
                .time_to_live(time_to_live)
                .context("purpose", "sign-in-code")
                .set_configuration_set_name(self.configuration_set.clone())
                .set_protect_configuration_id(self.protect_configuration_id.clone())
                .set_max_price_per_minute(self.voice_max_price_per_minute.clone())
                .send()
                .await
                .map_err(|error| {
                    // A provider quoting the message would quote the code digit by digit, out of
                    // reach of the digit-run masking: the SSML goes before anything else.
                    let (failure, detail) = aws::classify(&error, &|text| {
                        super::scrub(&super::without_ssml(text), &message.to)
                    });
                    Error::Sms {
                        provider: "end-user-messaging",
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
