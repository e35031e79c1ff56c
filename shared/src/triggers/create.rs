//! CreateAuthChallenge: works out the round from the session, then
//! - for the SMS step, either re-uses the latest round's sealed code (a retry after a wrong answer:
//!   no new SMS) or draws a code, seals it and sends it — for the step's first round, and for a
//!   round the client asked to have sent again (`ClientMetadata` `{"otpAction": "resend"}`, see
//!   [`crate::flow::OtpAction`]; such a round is marked `;resent`). Unknown users and users without a verified
//!   phone get a decoy that looks the same from outside — same parameters, about the same time —
//!   and can never be passed;
//! - for the CAPTCHA step, renders a new image (sealing its text) or hands out the widget's site
//!   key. Every round of the CAPTCHA is new; it is the same for known and unknown users.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::round::{
    DECOY, ProofToken, RoundRecord, channel_in_metadata, proof_in_metadata, seal_in_metadata,
};
use super::{Handler, log_user, session_entries};
use crate::Error;
use crate::abuse::{CountryAllowList, NumberTypePolicy, SendLimits};
use crate::captcha::{CaptchaConfig, CaptchaProvider, IMAGE_TEXT_LENGTH, ImageChallenge};
use crate::config::{Config, PhoneHint};
use crate::email::{EmailAddress, EmailMessage, EmailSender, EmailSettings};
use crate::error::SmsFailure;
use crate::event::{CreateAuthChallengeEvent, CreateAuthChallengeResponse, StringMap, Trigger};
use crate::flow::{
    AttemptLimits, AuthFlow, CAPTCHA_TAG, ChallengeStep, Channel, OtpAction, Round, RoundKind,
    SMS_OTP_TAG, current_round,
};
use crate::otp::{OtpCode, OtpPolicy, OtpSeal};
use crate::phone::{PhoneNumber, mask_with_digits};
use crate::random::random_bytes;
use crate::seal::{SealBinding, SealKey};
use crate::secret::SecretSource;
use crate::sms::{SmsMessage, SmsSender, SmsTexts, VoiceMessage, VoiceSettings};
use crate::state::{
    ClaimOutcome, Guard, SendClaim, UserRef, claim_key, email_key, phone_key, user_key,
};

const TRIGGER: &str = CreateAuthChallengeEvent::NAME;

/// The CreateAuthChallenge handler.
#[derive(Debug)]
pub struct CreateAuthChallenge {
    flow: AuthFlow,
    attempts: AttemptLimits,
    otp: OtpPolicy,
    captcha: CaptchaConfig,
    texts: SmsTexts,
    voice: VoiceSettings,
    app_name: String,
    /// `PHONE_HINT=last4`: the key of the stand-in digits.
    phone_hint_secret: Option<String>,
    /// `OTP_PREFERRED_CHANNEL_ATTRIBUTE`: the user attribute naming the channel a user prefers.
    preferred_channel_attribute: Option<String>,
    seal_key: SealKey,
    send_budget: Duration,
    sender: Arc<dyn SmsSender>,
    send_timing: SendTiming,
    voice_timing: SendTiming,
    email: EmailSettings,
    /// The e-mail sender (a flow with `email_otp` needs one: [`CreateAuthChallenge::with_email_sender`]).
    email_sender: Option<Arc<dyn EmailSender>>,
    email_budget: Duration,
    email_timing: SendTiming,
    guard: Option<Guard>,
    send_limits: SendLimits,
    allowed_countries: Option<CountryAllowList>,
    allowed_number_types: NumberTypePolicy,
    /// `VERIFY_ON_FIRST_SIGN_IN`: codes may go to unverified destinations, and such a round says
    /// what its right answer proves.
    verify_on_first_sign_in: bool,
    voice_allowed_countries: Option<CountryAllowList>,
}

/// Why no code goes out for a round that would send one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecoyReason {
    UnknownUser,
    NoVerifiedPhone,
    NoPhone,
    InvalidPhone,
    CountryNotAllowed,
    NumberTypeNotAllowed,
    NoVerifiedEmail,
    NoEmail,
    InvalidEmail,
}

/// Where a code goes (a phone for SMS and voice).
#[derive(Debug, Clone)]
enum Destination {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

impl Destination {
    fn masked(&self) -> String {
        match self {
            Self::Phone(phone) => phone.masked(),
            Self::Email(email) => email.masked(),
        }
    }
}

/// The public `destination` without a hint (`PHONE_HINT=none`): the channel's shape, nothing of
/// the user's.
const PHONE_SHAPE: &str = "+*******";
const EMAIL_SHAPE: &str = "***@***";

impl CreateAuthChallenge {
    /// A handler for the configured flow, sending with `sender`. Secrets named by `…_ARN`
    /// variables must have been read ([`Config::resolve_secrets`]).
    pub fn new(config: &Config, sender: Arc<dyn SmsSender>) -> Result<Self, Error> {
        if config.flow.may_send_by(Channel::Email) {
            config.email.check_sender()?;
        }
        if config.flow.may_send_by(Channel::Voice) {
            config.sms.check_voice()?;
        }
        let seal_key = config.seal_key()?;
        if config.flow.contains(ChallengeStep::Otp)
            && config.flow.channels(ChallengeStep::Otp).len() > 1
            && !seal_key.is_keyed()
        {
            return Err(Error::config(
                "SEAL_KEY",
                "is required when AUTH_FLOW has otp with more than one channel (or SEAL_KEY_ARN): unknown users' stand-in channel is keyed with it, so nobody can compute it",
            ));
        }
        let phone_hint_secret = match &config.phone_hint {
            PhoneHint::None => None,
            PhoneHint::LastFour {
                secret: SecretSource::Value(secret),
            } => Some(secret.expose().to_owned()),
            PhoneHint::LastFour {
                secret: SecretSource::SecretsManager { variable, .. },
            } => {
                return Err(Error::config(
                    variable,
                    "the secret was not read at cold start",
                ));
            }
        };
        Ok(Self {
            flow: config.flow.clone(),
            attempts: config.attempts,
            otp: config.otp,
            captcha: config.captcha.clone(),
            texts: config.sms.texts.clone(),
            voice: config.sms.voice.clone(),
            app_name: config.sms.app_name.clone(),
            phone_hint_secret,
            preferred_channel_attribute: config.preferred_channel_attribute.clone(),
            seal_key,
            // The SDK enforces the timeout itself; this outer bound also covers any other sender.
            send_budget: config.sms.timeout + Duration::from_millis(200),
            sender,
            send_timing: SendTiming::default(),
            voice_timing: SendTiming::default(),
            email: config.email.clone(),
            email_sender: None,
            email_budget: config.email.timeout + Duration::from_millis(200),
            email_timing: SendTiming::default(),
            guard: None,
            send_limits: config.abuse.send_limits,
            allowed_countries: config.abuse.allowed_countries.clone(),
            allowed_number_types: config.abuse.allowed_number_types.clone(),
            verify_on_first_sign_in: config.verify_on_first_sign_in,
            voice_allowed_countries: config.abuse.voice_allowed_countries.clone(),
        })
    }

    /// Sends codes by e-mail with `sender` (a flow with `email_otp` needs one).
    pub fn with_email_sender(mut self, sender: Arc<dyn EmailSender>) -> Self {
        self.email_sender = Some(sender);
        self
    }

    /// The handler as the deployment configures it (the environment, the secrets its `…_ARN`
    /// variables name, the SMS sender, the e-mail sender when the flow sends codes by e-mail,
    /// and the state table, set up once).
    #[cfg(all(feature = "aws-secrets", feature = "dynamodb"))]
    pub async fn from_env() -> Result<Self, Error> {
        let config = Config::from_env_with_secrets().await?;
        let sender = crate::sms::build_sender(&config.sms).await?;
        let guard = crate::state::build_guard(config.state.as_ref()).await?;
        let mut handler = Self::new(&config, sender)?.with_guard(guard);
        if config.flow.may_send_by(Channel::Email) {
            handler =
                handler.with_email_sender(crate::email::build_email_sender(&config.email).await?);
        }
        Ok(handler)
    }

    /// The challenge for a parsed event at time `now` (Unix seconds).
    async fn create(
        &self,
        mut event: CreateAuthChallengeEvent,
        now: u64,
    ) -> Result<CreateAuthChallengeEvent, Error> {
        let request = &event.request;
        if request.challenge_name.as_deref() != Some("CUSTOM_CHALLENGE") {
            return Err(Error::UnexpectedChallenge(format!(
                "challengeName is {:?}, expected CUSTOM_CHALLENGE",
                request
                    .challenge_name
                    .as_deref()
                    .map(|name| name.chars().take(32).collect::<String>())
            )));
        }
        let action = request
            .client_metadata
            .as_ref()
            .and_then(OtpAction::from_client_metadata);
        let round = current_round(
            &self.flow,
            &session_entries(&request.session),
            self.attempts,
            action,
        )
        .map_err(|reason| Error::UnexpectedChallenge(reason.to_string()))?;
        event.response = match round.step {
            ChallengeStep::SmsOtp | ChallengeStep::EmailOtp | ChallengeStep::Otp => {
                self.code_round(&event, round, action, now).await?
            }
            ChallengeStep::Captcha => self.captcha_round(&event, round, now)?,
            ChallengeStep::Password => {
                return Err(Error::UnexpectedChallenge(
                    "the password step is not a custom challenge".to_owned(),
                ));
            }
        };
        Ok(event)
    }

    /// A round of a code step (SMS, e-mail, voice, or the user's channel).
    async fn code_round(
        &self,
        event: &CreateAuthChallengeEvent,
        round: Round,
        action: Option<OtpAction>,
        now: u64,
    ) -> Result<CreateAuthChallengeResponse, Error> {
        let request = &event.request;
        let user_not_found = request.user_not_found.unwrap_or(false);
        let user = log_user(&request.user_attributes, user_not_found);
        let tag = round.step.tag().unwrap_or(SMS_OTP_TAG);
        let offered = self.flow.channels(round.step);

        // What an earlier round of this step kept: its seal (a retry re-uses the latest code)
        // and, for the `otp` step, its channel.
        let earlier = |position: usize| {
            request
                .session
                .get(position)
                .and_then(|previous| previous.challenge_metadata.as_deref())
                .and_then(|metadata| {
                    let seal = seal_in_metadata(metadata, tag)
                        .filter(|seal| *seal == DECOY || OtpSeal::decode(seal).is_some())?;
                    // The channel the round recorded, if the step still offers it; a round of a
                    // one-channel step records none. Anything else fails closed.
                    let channel = match (channel_in_metadata(metadata), offered) {
                        (Some(recorded), _) if offered.contains(&recorded) => recorded,
                        (None, [only]) => *only,
                        _ => return None,
                    };
                    Some((seal.to_owned(), channel, proof_in_metadata(metadata)))
                })
                .ok_or_else(|| {
                    Error::UnexpectedChallenge(
                        "the previous round's metadata is unreadable".to_owned(),
                    )
                })
        };
        let mut resend_refused = false;
        // `proof`: what a right answer to the round's code proves (it follows the code: a round
        // that re-uses an earlier code re-uses its proof).
        let (seal, channel, proof) = match round.kind {
            RoundKind::Retry { previous } => {
                // A retry: the latest round's code stays valid; nothing is sent.
                let (seal, channel, proof) = earlier(previous)?;
                info!(
                    trigger = TRIGGER,
                    user,
                    step = tag,
                    attempt = round.attempt,
                    channel = channel.name(),
                    sms = "reused",
                    "retry round re-uses the latest code"
                );
                (seal, channel, proof)
            }
            RoundKind::First => {
                let channel = self.first_channel(event, offered);
                let (seal, proof) = self.new_code(event, round, channel, now, user).await?;
                (seal, channel, proof)
            }
            RoundKind::Resend { previous } => {
                let (latest, latest_channel, latest_proof) = earlier(previous)?;
                // `current_round` made this a resend only for an action this step allows (a
                // switch to a channel it offers: `OtpAction::is_request_for`).
                let channel = match action {
                    Some(OtpAction::Switch(channel)) => channel,
                    _ => latest_channel,
                };
                info!(
                    trigger = TRIGGER,
                    user,
                    step = tag,
                    attempt = round.attempt,
                    resends_left = round.resends_left,
                    channel = channel.name(),
                    "a new code at the client's request; the earlier one stops working"
                );
                match self.new_code(event, round, channel, now, user).await {
                    Ok((seal, proof)) => (seal, channel, proof),
                    // A send limit refuses the new code, but the sign-in keeps its place: the
                    // latest code (and its channel) stands and the client is told that nothing
                    // came (decoys are throttled alike; which limit it was stays in the logs).
                    // The request still counts against OTP_MAX_RESENDS.
                    Err(Error::TooManyCodes(_)) => {
                        resend_refused = true;
                        (latest, latest_channel, latest_proof)
                    }
                    // A provider refusing or failing the new code: the latest code stands, and
                    // the round looks like any other answered request (a decoy cannot fail, so
                    // an error here would tell registered users apart). The send's own log line
                    // says what happened.
                    Err(Error::Sms { .. } | Error::Email { .. }) => {
                        warn!(
                            trigger = TRIGGER,
                            user,
                            step = tag,
                            channel = channel.name(),
                            "the new code could not be sent; the latest code stays valid"
                        );
                        (latest, channel, latest_proof)
                    }
                    Err(error) => return Err(error),
                }
            }
        };

        let mut public = StringMap::new();
        public.insert("challenge".to_owned(), tag.to_owned());
        public.insert("codeLength".to_owned(), self.otp.length.to_string());
        public.insert("attemptsLeft".to_owned(), round.attempts_left.to_string());
        public.insert("channel".to_owned(), channel.name().to_owned());
        // The other channels the step offers: the same list for every user, known or not.
        let others: Vec<&str> = offered
            .iter()
            .filter(|other| **other != channel)
            .map(|other| other.name())
            .collect();
        public.insert("channels".to_owned(), others.join(","));
        public.insert("resendsLeft".to_owned(), round.resends_left.to_string());
        if resend_refused {
            public.insert("resendRefused".to_owned(), "throttled".to_owned());
        }
        let destination = self.destination_hint(event, channel);
        if channel == Channel::Sms && self.phone_hint_secret.is_some() {
            // The name this hint had before `destination` (kept for clients that read it).
            public.insert("maskedPhone".to_owned(), destination.clone());
        }
        public.insert("destination".to_owned(), destination);
        let mut record =
            RoundRecord::sms(tag, seal, matches!(round.kind, RoundKind::Resend { .. }));
        if offered.len() > 1 {
            record = record.via(channel);
        }
        let record = record.proving(proof);
        Ok(CreateAuthChallengeResponse {
            public_challenge_parameters: Some(public),
            private_challenge_parameters: Some(record.private_parameters()),
            challenge_metadata: Some(record.metadata()),
        })
    }

    /// The channel of a step's first round: the one the user prefers
    /// (`OTP_PREFERRED_CHANNEL_ATTRIBUTE`) if they can receive codes there, else the first of
    /// `offered` they can receive codes on, else the first. An unknown user gets a stand-in,
    /// stable for the name ([`stand_in_channel`]).
    fn first_channel(&self, event: &CreateAuthChallengeEvent, offered: &[Channel]) -> Channel {
        let Some(&first) = offered.first() else {
            return Channel::Sms;
        };
        if offered.len() == 1 {
            return first;
        }
        let request = &event.request;
        if request.user_not_found.unwrap_or(false) {
            let possible =
                possible_first_channels(offered, self.preferred_channel_attribute.is_some());
            return stand_in_channel(
                &self.seal_key,
                &event.user_pool_id,
                &event.user_name,
                &possible,
            );
        }
        let reachable = |channel: &Channel| {
            self.recipient(*channel, &request.user_attributes, false)
                .is_ok()
        };
        let preferred = self
            .preferred_channel_attribute
            .as_deref()
            .and_then(|attribute| request.user_attributes.get(attribute))
            .and_then(|value| Channel::from_name(value.trim()))
            .filter(|channel| offered.contains(channel) && reachable(channel));
        preferred
            .or_else(|| offered.iter().copied().find(|channel| reachable(channel)))
            .unwrap_or(first)
    }

    /// Where `channel` reaches the user, or why it does not (no code goes out then).
    fn recipient(
        &self,
        channel: Channel,
        attributes: &StringMap,
        user_not_found: bool,
    ) -> Result<Destination, DecoyReason> {
        match channel {
            Channel::Email => email_recipient(
                attributes,
                user_not_found,
                self.accepts_unverified(false, attributes),
            )
            .map(Destination::Email),
            Channel::Sms => self
                .phone_recipient(attributes, user_not_found)
                .map(Destination::Phone),
            // Calls also stay within VOICE_ALLOWED_COUNTRIES.
            Channel::Voice => self
                .phone_recipient(attributes, user_not_found)
                .and_then(|phone| match &self.voice_allowed_countries {
                    Some(allowed) => allowed
                        .check(&phone)
                        .map(|_| phone)
                        .map_err(|_| DecoyReason::CountryNotAllowed),
                    None => Ok(phone),
                })
                .map(Destination::Phone),
        }
    }

    /// Whether codes may go to the user's unverified phone (`phone`) or address: with
    /// `VERIFY_ON_FIRST_SIGN_IN`, only while the user has no verified destination at all (a new
    /// sign-up), and only to one of them — the first the flow's code step would use that the
    /// user has (`OTP_CHANNELS` order) — so that neither a stale or mistyped second destination
    /// nor a switch to it is another way in, before or after the first is verified.
    fn accepts_unverified(&self, phone: bool, attributes: &StringMap) -> bool {
        if !self.verify_on_first_sign_in
            || ["phone_number_verified", "email_verified"]
                .iter()
                .any(|flag| attributes.get(*flag).map(String::as_str) == Some("true"))
        {
            return false;
        }
        let has = |uses_phone: bool| {
            attributes
                .get(if uses_phone { "phone_number" } else { "email" })
                .is_some_and(|value| !value.trim().is_empty())
        };
        let first = self
            .flow
            .steps()
            .iter()
            .flat_map(|step| self.flow.channels(*step))
            .map(|channel| channel.uses_phone())
            .find(|uses_phone| has(*uses_phone));
        first == Some(phone)
    }

    /// What a right answer to `seal`, a code this call just sent by `channel`, proves: with
    /// `VERIFY_ON_FIRST_SIGN_IN`, the destination's attribute when it is not verified yet (with
    /// a digest of its value, see [`ProofToken`]); nothing for decoys and verified destinations.
    fn proof(
        &self,
        event: &CreateAuthChallengeEvent,
        channel: Channel,
        seal: &str,
    ) -> Option<ProofToken> {
        let request = &event.request;
        if !self.accepts_unverified(channel.uses_phone(), &request.user_attributes)
            || seal == DECOY
            || request.user_not_found.unwrap_or(false)
        {
            return None;
        }
        let (attribute, verified) = if channel.uses_phone() {
            ("phone_number", "phone_number_verified")
        } else {
            ("email", "email_verified")
        };
        if request.user_attributes.get(verified).map(String::as_str) == Some("true") {
            return None;
        }
        let value = request.user_attributes.get(attribute)?;
        let owner = UserRef::from_event(&event.user_name, &request.user_attributes, false);
        Some(ProofToken::new(
            &self.seal_key,
            &event.user_pool_id,
            &owner,
            attribute,
            value,
        ))
    }

    /// The public `destination`: with `PHONE_HINT=last4`, the masked phone or address
    /// (`+*******0100`, `a***@e***`) — for users without one on this channel and unknown users,
    /// keyed stand-ins of the same shape; without a hint, only the channel's shape.
    fn destination_hint(&self, event: &CreateAuthChallengeEvent, channel: Channel) -> String {
        let request = &event.request;
        let known = !request.user_not_found.unwrap_or(false);
        let Some(secret) = &self.phone_hint_secret else {
            return if channel.uses_phone() {
                PHONE_SHAPE
            } else {
                EMAIL_SHAPE
            }
            .to_owned();
        };
        if channel.uses_phone() {
            match phone_attribute(&request.user_attributes).filter(|_| known) {
                Some(phone) => phone.masked(),
                None => mask_with_digits(&stand_in_digits(
                    secret,
                    &event.user_pool_id,
                    &event.user_name,
                )),
            }
        } else {
            match request
                .user_attributes
                .get("email")
                .and_then(|address| EmailAddress::parse(address))
                .filter(|_| known)
            {
                Some(email) => email.hint(),
                None => stand_in_email_hint(secret, &event.user_pool_id, &event.user_name),
            }
        }
    }

    /// The verified phone to send an SMS code to, in an allowed country and of an allowed kind,
    /// or why there is none.
    fn phone_recipient(
        &self,
        attributes: &StringMap,
        user_not_found: bool,
    ) -> Result<PhoneNumber, DecoyReason> {
        recipient(
            attributes,
            user_not_found,
            self.accepts_unverified(true, attributes),
        )
        .and_then(|phone| match &self.allowed_countries {
            Some(allowed) => allowed
                .check(&phone)
                .map(|_| phone)
                .map_err(|_| DecoyReason::CountryNotAllowed),
            None => Ok(phone),
        })
        .and_then(|phone| {
            // Premium-rate and other non-personal ranges get no code, wherever they are.
            self.allowed_number_types
                .check(&phone)
                .map(|_| phone)
                .map_err(|_| DecoyReason::NumberTypeNotAllowed)
        })
    }

    fn captcha_round(
        &self,
        event: &CreateAuthChallengeEvent,
        round: Round,
        now: u64,
    ) -> Result<CreateAuthChallengeResponse, Error> {
        let request = &event.request;
        let user = log_user(
            &request.user_attributes,
            request.user_not_found.unwrap_or(false),
        );
        let tag = CAPTCHA_TAG;
        let provider = self.captcha.provider;
        let mut public = StringMap::new();
        public.insert("challenge".to_owned(), tag.to_owned());
        public.insert("provider".to_owned(), provider.name().to_owned());
        public.insert("attemptsLeft".to_owned(), round.attempts_left.to_string());
        let mut seal = None;
        if provider == CaptchaProvider::Image {
            let owner = UserRef::from_event(
                &event.user_name,
                &request.user_attributes,
                request.user_not_found.unwrap_or(false),
            );
            let binding = SealBinding {
                pool_id: &event.user_pool_id,
                user: owner.as_str(),
            };
            let challenge = ImageChallenge::generate(&self.seal_key, now, binding)?;
            public.insert("captchaImage".to_owned(), challenge.data_url);
            public.insert("answerLength".to_owned(), IMAGE_TEXT_LENGTH.to_string());
            seal = Some(challenge.seal.encode());
        } else {
            let site_key = self.captcha.site_key.clone().ok_or_else(|| {
                Error::config("CAPTCHA_SITE_KEY", "is required for a widget CAPTCHA")
            })?;
            public.insert("siteKey".to_owned(), site_key);
        }
        info!(
            trigger = TRIGGER,
            user,
            step = tag,
            attempt = round.attempt,
            provider = provider.name(),
            "CAPTCHA round created"
        );
        let record = RoundRecord::captcha(tag, provider.name(), seal);
        Ok(CreateAuthChallengeResponse {
            public_challenge_parameters: Some(public),
            private_challenge_parameters: Some(record.private_parameters()),
            challenge_metadata: Some(record.metadata()),
        })
    }

    /// A round of a code step with a new code by `channel` (the step's first, or one sent again):
    /// claim it (a retried or concurrent duplicate gets the first call's seal and sends nothing),
    /// check the throttles, then send — or a decoy.
    async fn new_code(
        &self,
        event: &CreateAuthChallengeEvent,
        round: Round,
        channel: Channel,
        now: u64,
        user: &str,
    ) -> Result<(String, Option<ProofToken>), Error> {
        let tag = round.step.tag().unwrap_or(SMS_OTP_TAG);
        let recipient = &self.recipient(
            channel,
            &event.request.user_attributes,
            event.request.user_not_found.unwrap_or(false),
        );
        // A step with several channels claims each apart (Cognito's retry of a call asks for
        // the same channel; another sign-in's round for another channel is not its duplicate).
        let claim_channel = (self.flow.channels(round.step).len() > 1).then_some(channel);
        let position = event.request.session.len();
        let owner = UserRef::from_event(
            &event.user_name,
            &event.request.user_attributes,
            event.request.user_not_found.unwrap_or(false),
        );
        match recipient {
            Ok(destination) => {
                let code = OtpCode::generate(self.otp.length)?;
                let binding = SealBinding {
                    pool_id: &event.user_pool_id,
                    user: owner.as_str(),
                };
                let seal = OtpSeal::new(&self.seal_key, &code, now, binding)?.encode();
                let claim = match &self.guard {
                    Some(guard) => {
                        match self
                            .protect(
                                guard,
                                event,
                                &owner,
                                (claim_channel, Some(destination)),
                                (tag, &seal),
                                position,
                                now,
                                user,
                            )
                            .await?
                        {
                            // Another call's code (a retried Create, or a sign-in at the same
                            // place within seconds): what it proves is that call's business,
                            // and its destination may have been another value.
                            Protection::Duplicate(first) => return Ok((first, None)),
                            Protection::Proceed(claim) => claim,
                        }
                    }
                    None => None,
                };
                let minutes = self.otp.ttl_seconds.div_ceil(60);
                let locale = event
                    .request
                    .user_attributes
                    .get("locale")
                    .map(String::as_str);
                let sent = match (destination, channel) {
                    (Destination::Phone(phone), Channel::Voice) => {
                        let message = self.voice.message(
                            phone.clone(),
                            locale,
                            code.expose(),
                            &self.app_name,
                            minutes,
                            self.otp.ttl_seconds,
                        );
                        self.send_voice(&message, tag, user).await
                    }
                    (Destination::Phone(phone), _) => {
                        let message = SmsMessage {
                            to: phone.clone(),
                            body: self
                                .texts
                                .render(locale, code.expose(), &self.app_name, minutes),
                            time_to_live_seconds: self.otp.ttl_seconds,
                        };
                        self.send(&message, tag, user).await
                    }
                    (Destination::Email(email), _) => {
                        let message =
                            self.email
                                .message(email.clone(), locale, code.expose(), minutes);
                        self.send_email(&message, tag, user).await
                    }
                };
                if let Err(error) = sent {
                    if let (Some(guard), Some(claim)) = (&self.guard, &claim) {
                        release(guard, claim).await;
                    }
                    return Err(error);
                }
                // What a right answer proves: the destination this very call sent to.
                let proof = self.proof(event, channel, &seal);
                Ok((seal, proof))
            }
            Err(reason) => {
                // Decoys are claimed and throttled like real sends, so limits cannot tell
                // unknown users from known ones.
                if let Some(guard) = &self.guard
                    && let Protection::Duplicate(_) = self
                        .protect(
                            guard,
                            event,
                            &owner,
                            (claim_channel, None),
                            (tag, DECOY),
                            position,
                            now,
                            user,
                        )
                        .await?
                {
                    return Ok((DECOY.to_owned(), None));
                }
                if *reason == DecoyReason::UnknownUser {
                    info!(
                        trigger = TRIGGER,
                        user,
                        step = tag,
                        attempt = round.attempt,
                        sms = "none",
                        reason = debug(&reason),
                        "decoy challenge for an unknown user"
                    );
                } else {
                    warn!(
                        trigger = TRIGGER,
                        user,
                        step = tag,
                        attempt = round.attempt,
                        sms = "none",
                        reason = debug(&reason),
                        "no code sent: no verified destination (for SMS, in an allowed country and of an allowed kind); the challenge cannot be passed"
                    );
                }
                let (timing, budget) = match channel {
                    Channel::Email => (&self.email_timing, self.email_budget),
                    Channel::Voice => (&self.voice_timing, self.send_budget),
                    Channel::Sms => (&self.send_timing, self.send_budget),
                };
                tokio::time::sleep(timing.decoy_delay().min(budget)).await;
                Ok((DECOY.to_owned(), None))
            }
        }
    }

    /// Claims the send and records it against the throttles of the user (and the phone).
    #[allow(clippy::too_many_arguments)]
    async fn protect(
        &self,
        guard: &Guard,
        event: &CreateAuthChallengeEvent,
        owner: &UserRef,
        (channel_of_claim, destination): (Option<Channel>, Option<&Destination>),
        (tag, seal): (&'static str, &str),
        position: usize,
        now: u64,
        user: &str,
    ) -> Result<Protection, Error> {
        let deadline = guard.deadline();
        // A step with several channels claims per channel: a retried call asks for the same one.
        let claimed_step = match channel_of_claim {
            Some(channel) => format!("{tag}.{channel}"),
            None => tag.to_owned(),
        };
        let (pk, sk) = claim_key(&event.user_pool_id, owner, &claimed_step, position);
        let claim = SendClaim {
            pk,
            sk,
            seal: seal.to_owned(),
            owner: owner.as_str().to_owned(),
            now,
            ttl_seconds: CLAIM_SECONDS,
        };
        let claimed = guard
            .run_logged(
                deadline,
                guard.store().claim_send(&claim),
                ClaimOutcome::Claimed,
                (TRIGGER, user),
                "sending without the duplicate check",
            )
            .await
            .inspect_err(|error| {
                warn!(
                    trigger = TRIGGER,
                    user,
                    sms = "refused",
                    state = "unavailable",
                    error = display(&error),
                    "no SMS: the duplicate check failed (STATE_FAILURE_MODE=closed)"
                )
            })?;
        // A claim that was not written (open mode fell back) is not ours to release later.
        let owned = claimed.failure().is_none();
        if let ClaimOutcome::Duplicate { seal } = claimed.into_value() {
            info!(
                trigger = TRIGGER,
                user,
                step = tag,
                sms = "duplicate",
                "a repeated call for a step already handled: same challenge, no SMS"
            );
            return Ok(Protection::Duplicate(seal));
        }
        let mut keys = vec![user_key(&event.user_pool_id, owner)];
        match destination {
            // SMS and calls to a number share its history: calls add no second allowance.
            Some(Destination::Phone(phone)) => keys.push(phone_key(&self.seal_key, phone)),
            Some(Destination::Email(email)) => keys.push(email_key(&self.seal_key, email)),
            None => {}
        }
        let recorded = match guard
            .run_logged(
                deadline,
                guard.store().record_send(&keys, now, self.send_limits),
                Ok(()),
                (TRIGGER, user),
                "sending without the throttle check",
            )
            .await
        {
            Ok(recorded) => recorded,
            Err(error) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    sms = "refused",
                    state = "unavailable",
                    error = display(&error),
                    "no SMS: the throttle check failed (STATE_FAILURE_MODE=closed)"
                );
                if owned {
                    release(guard, &claim).await;
                }
                return Err(error);
            }
        };
        match recorded.into_value() {
            Ok(()) => Ok(Protection::Proceed(owned.then_some(claim))),
            Err(limit) => {
                warn!(
                    trigger = TRIGGER,
                    user,
                    sms = "throttled",
                    limit = limit.kind(),
                    to = display(&destination.map(Destination::masked).unwrap_or_default()),
                    "no SMS: send limit reached"
                );
                if owned {
                    release(guard, &claim).await;
                }
                Err(Error::TooManyCodes(limit))
            }
        }
    }

    async fn send(&self, message: &SmsMessage, tag: &'static str, user: &str) -> Result<(), Error> {
        let provider = self.sender.provider();
        let (outcome, elapsed) = within(self.send_budget, self.sender.send(message), |detail| {
            Error::Sms {
                provider,
                failure: SmsFailure::Timeout,
                detail,
            }
        })
        .await;
        logged_send!(
            sms,
            tag,
            outcome,
            elapsed,
            &self.send_timing,
            provider,
            &message.to,
            user
        )
    }

    async fn send_voice(
        &self,
        message: &VoiceMessage,
        tag: &'static str,
        user: &str,
    ) -> Result<(), Error> {
        let provider = self.sender.provider();
        let (outcome, elapsed) = within(
            self.send_budget,
            self.sender.send_voice(message),
            |detail| Error::Sms {
                provider,
                failure: SmsFailure::Timeout,
                detail,
            },
        )
        .await;
        logged_send!(
            voice,
            tag,
            outcome,
            elapsed,
            &self.voice_timing,
            provider,
            &message.to,
            user
        )
    }

    async fn send_email(
        &self,
        message: &EmailMessage,
        tag: &'static str,
        user: &str,
    ) -> Result<(), Error> {
        let Some(sender) = &self.email_sender else {
            return Err(Error::config(
                "EMAIL_PROVIDER",
                "the flow sends codes by e-mail, and no e-mail sender was built",
            ));
        };
        let provider = sender.provider();
        let (outcome, elapsed) = within(self.email_budget, sender.send(message), |detail| {
            Error::Email {
                provider,
                failure: SmsFailure::Timeout,
                detail,
            }
        })
        .await;
        logged_send!(
            email,
            tag,
            outcome,
            elapsed,
            &self.email_timing,
            provider,
            &message.to,
            user
        )
    }
}

/// Logs a send's outcome under its channel's own field (`sms` or `email` = `sent` / `failed`:
/// the descriptors' send alarm counts the `"sms":"sent"` lines), records a success's time for
/// the decoys, and returns the outcome without the receipt.
macro_rules! logged_send {
    ($channel:ident, $step:expr, $outcome:expr, $elapsed:expr, $timing:expr, $provider:expr, $to:expr, $user:expr) => {
        match $outcome {
            Ok(receipt) => {
                $timing.record($elapsed);
                info!(
                    trigger = TRIGGER,
                    user = $user,
                    step = $step,
                    $channel = "sent",
                    provider = $provider,
                    to = display($to),
                    elapsed_ms = $elapsed.as_millis() as u64,
                    message_id = receipt.message_id.as_deref().unwrap_or("")
                );
                Ok(())
            }
            Err(error) => {
                warn!(
                    trigger = TRIGGER,
                    user = $user,
                    step = $step,
                    $channel = "failed",
                    provider = $provider,
                    to = display($to),
                    elapsed_ms = $elapsed.as_millis() as u64,
                    error = display(&error)
                );
                Err(error)
            }
        }
    };
}
use logged_send;

impl Handler for CreateAuthChallenge {
    type Event = CreateAuthChallengeEvent;

    async fn handle(
        &self,
        event: CreateAuthChallengeEvent,
        now: u64,
    ) -> Result<CreateAuthChallengeEvent, Error> {
        self.create(event, now).await
    }

    fn guard_slot(&mut self) -> &mut Option<Guard> {
        &mut self.guard
    }
}

/// How long a send claim holds: a call repeating a step within it (Cognito retrying a timed-out
/// call after its 5 seconds, or a concurrent duplicate such as a double submit) gets the first
/// call's challenge and sends nothing. Kept short: sessions inside the window share one code
/// (and its answer budget), so the window is also how long an attacker racing a sign-in has to
/// join it.
pub(super) const CLAIM_SECONDS: u64 = 8;

/// What the state said about a first round.
enum Protection {
    /// Another call handled this step: its seal.
    Duplicate(String),
    /// Go ahead and send; the claim to release if the send fails.
    Proceed(Option<SendClaim>),
}

/// How long releasing a claim may take (the caller is failing anyway; see `RELEASE_BUDGET` in
/// the configuration's time check).
const RELEASE_BUDGET: std::time::Duration = std::time::Duration::from_millis(200);

/// Drops this call's claim when its send did not happen (only if it still holds this call's
/// seal: never another call's claim), best effort.
async fn release(guard: &Guard, claim: &SendClaim) {
    let released = tokio::time::timeout(
        RELEASE_BUDGET,
        guard
            .store()
            .release_send(&claim.pk, &claim.sk, &claim.seal),
    )
    .await;
    if !matches!(released, Ok(Ok(()))) {
        warn!(
            trigger = TRIGGER,
            state = "unavailable",
            "a send claim could not be released; it expires by itself"
        );
    }
}

/// Runs one send within `budget`: the provider's answer, or the error `timed_out` makes of a
/// description when none came in time; and how long it took.
async fn within<T>(
    budget: Duration,
    send: impl std::future::Future<Output = Result<T, Error>>,
    timed_out: impl FnOnce(String) -> Error,
) -> (Result<T, Error>, Duration) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(budget, send)
        .await
        .unwrap_or_else(|_| {
            Err(timed_out(format!(
                "no answer within {} ms",
                budget.as_millis()
            )))
        });
    (outcome, started.elapsed())
}

/// The verified phone to send to (or, with `accept_unverified`, `VERIFY_ON_FIRST_SIGN_IN`, the
/// phone whether verified or not), or why there is none.
fn recipient(
    attributes: &StringMap,
    user_not_found: bool,
    accept_unverified: bool,
) -> Result<PhoneNumber, DecoyReason> {
    if user_not_found {
        return Err(DecoyReason::UnknownUser);
    }
    let number = attributes.get("phone_number").ok_or(DecoyReason::NoPhone)?;
    let phone = PhoneNumber::parse(number).map_err(|_| DecoyReason::InvalidPhone)?;
    if !accept_unverified
        && attributes.get("phone_number_verified").map(String::as_str) != Some("true")
    {
        return Err(DecoyReason::NoVerifiedPhone);
    }
    Ok(phone)
}

/// The verified e-mail address to send to (or, with `accept_unverified`, the address whether
/// verified or not), or why there is none.
fn email_recipient(
    attributes: &StringMap,
    user_not_found: bool,
    accept_unverified: bool,
) -> Result<EmailAddress, DecoyReason> {
    if user_not_found {
        return Err(DecoyReason::UnknownUser);
    }
    let address = attributes.get("email").ok_or(DecoyReason::NoEmail)?;
    let email = EmailAddress::parse(address).ok_or(DecoyReason::InvalidEmail)?;
    if !accept_unverified && attributes.get("email_verified").map(String::as_str) != Some("true") {
        return Err(DecoyReason::NoVerifiedEmail);
    }
    Ok(email)
}

fn phone_attribute(attributes: &StringMap) -> Option<PhoneNumber> {
    attributes
        .get("phone_number")
        .and_then(|number| PhoneNumber::parse(number).ok())
}

/// Four digits from a keyed hash of the user name: stable for a user, unguessable without the key.
/// The name is trimmed and lower-cased first, so spellings a case-insensitive pool treats as one
/// user (`Alice`, `alice`) get the same digits, as a real user's hint would.
fn stand_in_digits(secret: &str, pool_id: &str, user_name: &str) -> String {
    let user_name = user_name.trim().to_lowercase();
    let mut hasher = Sha256::new();
    for part in [secret, pool_id, user_name.as_str()] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let hash = hasher.finalize();
    let number = hash
        .iter()
        .take(8)
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    format!("{:04}", number % 10_000)
}

/// The channels a known user's first round may show: with a preference attribute, any; without,
/// a channel is passed over for an earlier one that reaches the same place (SMS and voice both
/// need the verified phone), so only the first of each kind can come first.
fn possible_first_channels(offered: &[Channel], by_preference: bool) -> Vec<Channel> {
    offered
        .iter()
        .enumerate()
        .filter(|(index, channel)| {
            by_preference
                || !offered
                    .iter()
                    .take(*index)
                    .any(|earlier| earlier.uses_phone() == channel.uses_phone())
        })
        .map(|(_, channel)| *channel)
        .collect()
}

/// The channel an unknown user's first round shows: stable for the name (a keyed hash, as
/// spellings a case-insensitive pool treats as one user get the same), the first of `offered`
/// three times in four and another one otherwise, so a name shown a later channel is no proof
/// that it exists.
fn stand_in_channel(key: &SealKey, pool_id: &str, user_name: &str, offered: &[Channel]) -> Channel {
    let user_name = user_name.trim().to_lowercase();
    let digest = key.digest(&[
        b"stand-in-channel/v1",
        pool_id.as_bytes(),
        user_name.as_bytes(),
    ]);
    let [draw, pick, ..] = digest;
    let index = match offered.len() {
        0 | 1 => 0,
        _ if draw % 4 != 0 => 0,
        n => 1 + usize::from(pick) % (n - 1),
    };
    offered.get(index).copied().unwrap_or(Channel::Sms)
}

/// An e-mail hint for a user without an address: two letters from a keyed hash of the user
/// name, shaped like [`EmailAddress::hint`].
fn stand_in_email_hint(secret: &str, pool_id: &str, user_name: &str) -> String {
    let user_name = user_name.trim().to_lowercase();
    let mut hasher = Sha256::new();
    for part in [secret, pool_id, "email", user_name.as_str()] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    // Two letters, each from four bytes of the hash modulo 26 (a bias below 2^-27).
    let digest = hasher.finalize();
    let mut letters = digest.chunks_exact(4).map(|chunk| {
        let value = chunk
            .iter()
            .fold(0u32, |value, byte| (value << 8) | u32::from(*byte));
        char::from(b'a' + (value % 26) as u8)
    });
    let first = letters.next().unwrap_or('a');
    let second = letters.next().unwrap_or('a');
    format!("{first}***@{second}***")
}

/// How long real sends take in this instance, so decoys take about as long.
#[derive(Debug)]
struct SendTiming {
    /// Exponential moving average of successful sends, in microseconds.
    average_micros: AtomicU64,
}

impl Default for SendTiming {
    fn default() -> Self {
        // A typical SendTextMessage round trip from Lambda, until this instance has measured one.
        Self {
            average_micros: AtomicU64::new(250_000),
        }
    }
}

impl SendTiming {
    fn record(&self, elapsed: Duration) {
        let sample = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .min(5_000_000);
        let previous = self.average_micros.load(Ordering::Relaxed);
        self.average_micros
            .store((previous * 3 + sample) / 4, Ordering::Relaxed);
    }

    /// The average with ±20 % jitter.
    fn decoy_delay(&self) -> Duration {
        let average = self.average_micros.load(Ordering::Relaxed);
        let mut byte = [0u8; 1];
        let jitter = if random_bytes(&mut byte).is_ok() {
            byte[0]
        } else {
            128
        };
        // 80 % + (0..=255)/255 × 40 %.
        Duration::from_micros(average * (800 + u64::from(jitter) * 400 / 255) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{FailureMode, MemoryStore, test_guard};
    use std::sync::atomic::AtomicUsize;

    /// A provider whose first send fails and whose later sends go through.
    #[derive(Debug, Default)]
    struct FailsOnce {
        calls: AtomicUsize,
    }

    impl SmsSender for FailsOnce {
        fn provider(&self) -> &'static str {
            "fails-once"
        }
        fn send<'a>(&'a self, _: &'a SmsMessage) -> crate::sms::SendFuture<'a> {
            let first = self.calls.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                if first {
                    Err(Error::Sms {
                        provider: "fails-once",
                        failure: SmsFailure::Unavailable,
                        detail: "down".to_owned(),
                    })
                } else {
                    Ok(crate::sms::SmsReceipt { message_id: None })
                }
            })
        }
    }

    #[tokio::test]
    async fn a_send_that_failed_gives_its_claim_back_so_a_retry_sends() {
        // No minimum interval: the retry comes two seconds later, inside the claim's 8 s.
        let config = Config::from_lookup(|name| match name {
            "SMS_PROVIDER" => Some("console".to_owned()),
            "SMS_MIN_INTERVAL_SECONDS" => Some("0".to_owned()),
            _ => None,
        })
        .unwrap();
        let sender = Arc::new(FailsOnce::default());
        let create = CreateAuthChallenge::new(&config, sender.clone())
            .unwrap()
            .with_guard(Some(test_guard(
                Arc::new(MemoryStore::default()),
                FailureMode::Closed,
            )));
        let path = format!(
            "{}/../events/create-auth-challenge/first-round.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(create.invoke(raw.clone(), 1_000).await.is_err());
        // The claim went back with the failed send: Cognito's retry of the same step sends.
        let sent = create.invoke(raw.clone(), 1_002).await.unwrap();
        assert_eq!(sender.calls.load(Ordering::SeqCst), 2);
        // That send holds its claim: one more retry gets the same challenge and no SMS.
        let again = create.invoke(raw, 1_004).await.unwrap();
        assert_eq!(sender.calls.load(Ordering::SeqCst), 2);
        assert_eq!(
            again.response.private_challenge_parameters,
            sent.response.private_challenge_parameters
        );
    }

    /// A sender that counts its sends and always succeeds.
    #[derive(Debug, Default)]
    struct Counting {
        calls: AtomicUsize,
    }

    impl SmsSender for Counting {
        fn provider(&self) -> &'static str {
            "counting"
        }
        fn send<'a>(&'a self, _: &'a SmsMessage) -> crate::sms::SendFuture<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(crate::sms::SmsReceipt { message_id: None }) })
        }
    }

    fn sample(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/../events/create-auth-challenge/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_resend_too_soon_keeps_the_latest_code_and_says_why() {
        // SMS_MIN_INTERVAL_SECONDS=30 (the default): the first code goes out at 1_000, a resend
        // at 1_010 is refused by the throttle, one at 1_040 goes out.
        let config = Config::from_lookup(|name| match name {
            "SMS_PROVIDER" => Some("console".to_owned()),
            _ => None,
        })
        .unwrap();
        let sender = Arc::new(Counting::default());
        let create = CreateAuthChallenge::new(&config, sender.clone())
            .unwrap()
            .with_guard(Some(test_guard(
                Arc::new(MemoryStore::default()),
                FailureMode::Closed,
            )));
        let first = create.invoke(sample("first-round"), 1_000).await.unwrap();
        assert_eq!(sender.calls.load(Ordering::SeqCst), 1);
        let first_metadata = first.response.challenge_metadata.unwrap();

        let mut resend = sample("resend");
        resend["request"]["session"][0]["challengeMetadata"] = serde_json::json!(first_metadata);
        let refused = create.invoke(resend.clone(), 1_010).await.unwrap();
        assert_eq!(sender.calls.load(Ordering::SeqCst), 1, "no SMS");
        assert_eq!(
            refused.response.challenge_metadata,
            Some(format!("{first_metadata};resent")),
            "the latest code stands, and the request counts"
        );
        let public = refused.response.public_challenge_parameters.unwrap();
        assert_eq!(public["resendRefused"], "throttled");
        assert_eq!(public["resendsLeft"], "1");

        let sent = create.invoke(resend, 1_040).await.unwrap();
        assert_eq!(sender.calls.load(Ordering::SeqCst), 2);
        let metadata = sent.response.challenge_metadata.unwrap();
        assert!(metadata.ends_with(";resent") && metadata != format!("{first_metadata};resent"));
        assert!(
            !sent
                .response
                .public_challenge_parameters
                .unwrap()
                .contains_key("resendRefused")
        );
    }

    /// A Create for `AUTH_FLOW=otp` over every channel, the console senders writing nowhere.
    fn otp_create(extra: &[(&str, &str)]) -> (CreateAuthChallenge, Sent) {
        let mut pairs = vec![
            ("AUTH_FLOW", "otp"),
            ("OTP_CHANNELS", "sms,email,voice"),
            ("SMS_PROVIDER", "console"),
            ("EMAIL_PROVIDER", "console"),
            ("OTP_PREFERRED_CHANNEL_ATTRIBUTE", "custom:otp_channel"),
            ("SEAL_KEY", "0123456789abcdef0123456789abcdef"),
        ];
        pairs.extend_from_slice(extra);
        let config = Config::from_pairs(&pairs).unwrap();
        let sent = Sent::default();
        let create = CreateAuthChallenge::new(
            &config,
            Arc::new(crate::sms::ConsoleSender::new(Box::new(sent.clone()))),
        )
        .unwrap()
        .with_email_sender(Arc::new(crate::email::ConsoleEmailSender::new(Box::new(
            sent.clone(),
        ))));
        (create, sent)
    }

    /// Every console line the `otp` tests' senders wrote (SMS, calls and e-mail).
    #[derive(Clone, Default)]
    struct Sent(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sent {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sent {
        fn lines(&self) -> usize {
            String::from_utf8_lossy(&self.0.lock().unwrap())
                .lines()
                .count()
        }
    }

    fn public_of(create: &CreateAuthChallenge, event: serde_json::Value) -> StringMap {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime
            .block_on(create.invoke(event, 1_000))
            .unwrap()
            .response
            .public_challenge_parameters
            .unwrap()
    }

    #[test]
    fn the_otp_step_uses_the_preferred_channel_then_the_first_the_user_can_receive() {
        let (create, sent) = otp_create(&[]);
        let with = |changes: &[(&str, Option<&str>)]| {
            let mut event = sample("first-round");
            for (name, value) in changes {
                let attributes = &mut event["request"]["userAttributes"];
                match value {
                    Some(value) => attributes[*name] = serde_json::json!(value),
                    None => {
                        attributes.as_object_mut().unwrap().remove(*name);
                    }
                }
            }
            public_of(&create, event)
        };
        let both = with(&[]);
        assert_eq!(both["channel"], "sms");
        assert_eq!(both["channels"], "email,voice");
        assert_eq!(both["destination"], "+*******");
        assert_eq!(
            with(&[("custom:otp_channel", Some("email"))])["channel"],
            "email"
        );
        assert_eq!(
            with(&[("custom:otp_channel", Some(" voice "))])["channel"],
            "voice"
        );
        assert_eq!(
            with(&[("custom:otp_channel", Some("fax"))])["channel"],
            "sms"
        );
        // A preferred channel the user cannot receive codes on is passed over.
        let no_email = with(&[
            ("custom:otp_channel", Some("email")),
            ("email_verified", Some("false")),
        ]);
        assert_eq!(no_email["channel"], "sms");
        let email_only = with(&[("phone_number_verified", Some("false"))]);
        assert_eq!(email_only["channel"], "email");
        assert_eq!(email_only["destination"], "***@***");
        assert_eq!(email_only["channels"], "sms,voice");
        // Nothing verified: the first channel, a decoy.
        let nothing = with(&[
            ("phone_number_verified", None),
            ("email_verified", None),
            ("custom:otp_channel", Some("email")),
        ]);
        assert_eq!(nothing["channel"], "sms");
        // One code went out per round but the last (a decoy).
        assert_eq!(sent.lines(), 6);
    }

    #[test]
    fn unknown_users_get_a_stable_stand_in_channel_and_destination() {
        let (create, sent) = otp_create(&[
            ("PHONE_HINT", "last4"),
            ("PHONE_HINT_SECRET", "a-secret-of-at-least-32-characters!"),
        ]);
        let known = public_of(&create, sample("first-round"));
        assert_eq!(known["destination"], "+*******0100");
        assert_eq!(known["maskedPhone"], "+*******0100");
        let mut mailed = sample("first-round");
        mailed["request"]["userAttributes"]["custom:otp_channel"] = serde_json::json!("email");
        assert_eq!(public_of(&create, mailed)["destination"], "a***@e***");

        let unknown = |name: &str| {
            let mut event = sample("user-not-found");
            event["userName"] = serde_json::json!(name);
            public_of(&create, event)
        };
        let before = sent.lines();
        let mut seen = std::collections::BTreeSet::new();
        // (Names whose stand-in is, with this key, each of the three channels.)
        for index in [0, 1, 2, 3, 4, 5, 6, 7] {
            let name = format!("nobody{index}");
            let first = unknown(&name);
            // Stable for a name, whatever its case, and shaped like a real user's.
            assert_eq!(first, unknown(&name.to_uppercase()), "{name}");
            let keys: Vec<&String> = first.keys().collect();
            let mut expected: Vec<&String> = known.keys().collect();
            if first["channel"] != "sms" {
                expected.retain(|key| key.as_str() != "maskedPhone");
            }
            assert_eq!(keys, expected, "{name}");
            let destination = &first["destination"];
            match first["channel"].as_str() {
                "email" => assert!(
                    destination.len() == 9
                        && destination.starts_with(|c: char| c.is_ascii_lowercase())
                        && destination.get(1..5) == Some("***@"),
                    "{destination}"
                ),
                _ => assert!(
                    destination.starts_with("+*******")
                        && destination.len() == 12
                        && destination[8..].bytes().all(|b| b.is_ascii_digit()),
                    "{destination}"
                ),
            }
            seen.insert(first["channel"].clone());
        }
        assert!(seen.len() >= 2, "{seen:?}");
        // Decoys on every channel: nothing went out for any unknown name.
        assert_eq!(sent.lines(), before, "no SMS, call or e-mail");
    }

    #[test]
    fn only_channels_a_known_user_could_be_shown_first_are_stand_ins() {
        use Channel::{Email, Sms, Voice};
        assert_eq!(
            possible_first_channels(&[Sms, Voice, Email], false),
            [Sms, Email]
        );
        assert_eq!(possible_first_channels(&[Voice, Sms], false), [Voice]);
        assert_eq!(
            possible_first_channels(&[Email, Voice, Sms], false),
            [Email, Voice]
        );
        assert_eq!(
            possible_first_channels(&[Sms, Voice, Email], true),
            [Sms, Voice, Email]
        );
        // So a name shown `voice` after `sms` is no sign it does not exist.
        let key = SealKey::new("0123456789abcdef0123456789abcdef").unwrap();
        let possible = possible_first_channels(&[Sms, Voice], false);
        assert!((0..200).all(|index| {
            stand_in_channel(&key, "pool", &format!("u{index}"), &possible) == Sms
        }));
    }

    #[test]
    fn an_otp_flow_with_several_channels_needs_a_seal_key() {
        let config = Config::from_pairs(&[
            ("AUTH_FLOW", "otp"),
            ("SMS_PROVIDER", "console"),
            ("EMAIL_PROVIDER", "console"),
        ])
        .unwrap();
        let refused = CreateAuthChallenge::new(&config, Arc::new(Counting::default()))
            .unwrap_err()
            .to_string();
        assert!(refused.contains("SEAL_KEY"), "{refused}");
        let one = Config::from_pairs(&[
            ("AUTH_FLOW", "otp"),
            ("OTP_CHANNELS", "sms"),
            ("SMS_PROVIDER", "console"),
        ])
        .unwrap();
        assert!(CreateAuthChallenge::new(&one, Arc::new(Counting::default())).is_ok());
    }

    /// A Create for `otp` over SMS and calls whose provider places no calls (`Counting` refuses
    /// them), with a state table.
    fn sms_and_voice(extra: &[(&str, &str)]) -> (CreateAuthChallenge, Arc<Counting>) {
        let mut pairs = vec![
            ("AUTH_FLOW", "otp"),
            ("OTP_CHANNELS", "sms,voice"),
            ("SMS_PROVIDER", "console"),
            ("SMS_MIN_INTERVAL_SECONDS", "0"),
            ("SEAL_KEY", "0123456789abcdef0123456789abcdef"),
        ];
        pairs.extend_from_slice(extra);
        let config = Config::from_pairs(&pairs).unwrap();
        let sender = Arc::new(Counting::default());
        let create = CreateAuthChallenge::new(&config, sender.clone())
            .unwrap()
            .with_guard(Some(test_guard(
                Arc::new(MemoryStore::default()),
                FailureMode::Closed,
            )));
        (create, sender)
    }

    fn switched_to_voice(first: &CreateAuthChallengeEvent) -> serde_json::Value {
        let mut event = sample("first-round");
        event["request"]["session"] = serde_json::json!([{
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": false,
            "challengeMetadata": first.response.challenge_metadata,
        }]);
        event["request"]["clientMetadata"] =
            serde_json::json!({"otpAction": "switch", "otpChannel": "voice"});
        event
    }

    #[tokio::test]
    async fn a_switch_the_provider_refuses_keeps_the_latest_code_and_looks_like_any_other() {
        let (create, sender) = sms_and_voice(&[]);
        let first = create.invoke(sample("first-round"), 1_000).await.unwrap();
        assert_eq!(sender.calls.load(Ordering::SeqCst), 1);
        let latest = first.response.private_challenge_parameters.clone().unwrap();
        // The call fails at the provider: no error for the client, the SMS code stands.
        let switched = create
            .invoke(switched_to_voice(&first), 1_040)
            .await
            .unwrap();
        assert_eq!(
            switched.response.private_challenge_parameters.unwrap(),
            latest
        );
        let public = switched.response.public_challenge_parameters.unwrap();
        assert_eq!(public["channel"], "voice");
        assert_eq!(public["resendsLeft"], "1");
        assert!(!public.contains_key("resendRefused"));
        assert!(
            switched
                .response
                .challenge_metadata
                .unwrap()
                .ends_with(";via=voice;resent")
        );
    }

    #[tokio::test]
    async fn calls_stay_within_voice_allowed_countries() {
        // A US number, calls only to Canada: the switch gets a decoy, and nothing is placed.
        let (create, sender) = sms_and_voice(&[("VOICE_ALLOWED_COUNTRIES", "CA")]);
        let first = create.invoke(sample("first-round"), 1_000).await.unwrap();
        let switched = create
            .invoke(switched_to_voice(&first), 1_040)
            .await
            .unwrap();
        assert_eq!(
            switched.response.private_challenge_parameters.unwrap()["seal"],
            DECOY
        );
        assert_eq!(sender.calls.load(Ordering::SeqCst), 1, "the first SMS only");
        let allowed = Config::from_pairs(&[("VOICE_ALLOWED_COUNTRIES", "us,ca")]).unwrap();
        assert!(allowed.abuse.voice_allowed_countries.is_some());
        assert!(Config::from_pairs(&[("VOICE_ALLOWED_COUNTRIES", "XX")]).is_err());
    }

    #[tokio::test]
    async fn rounds_of_one_position_by_different_channels_are_claimed_apart() {
        // Two sign-ins of alice at the same moment, one by SMS, one by e-mail (her preference
        // changed in between): each sends; a repeat of either is its duplicate.
        let (create, sent) = otp_create(&[("SMS_MIN_INTERVAL_SECONDS", "0")]);
        let create = create.with_guard(Some(test_guard(
            Arc::new(MemoryStore::default()),
            FailureMode::Closed,
        )));
        let by_sms = sample("first-round");
        let mut by_email = sample("first-round");
        by_email["request"]["userAttributes"]["custom:otp_channel"] = serde_json::json!("email");
        let sms = create.invoke(by_sms.clone(), 1_000).await.unwrap();
        let email = create.invoke(by_email.clone(), 1_000).await.unwrap();
        assert_eq!(sent.lines(), 2);
        assert_ne!(
            sms.response.private_challenge_parameters,
            email.response.private_challenge_parameters
        );
        let again = create.invoke(by_email, 1_002).await.unwrap();
        assert_eq!(sent.lines(), 2, "Cognito's retry sends nothing");
        assert_eq!(
            again.response.private_challenge_parameters,
            email.response.private_challenge_parameters
        );
    }

    #[tokio::test]
    async fn a_round_recorded_on_a_channel_no_longer_offered_fails_closed() {
        // OTP_CHANNELS changed during a sign-in (voice taken out): its retry round cannot tell
        // where its code went, so Create refuses rather than guess.
        let (create, sent) = otp_create(&[("OTP_CHANNELS", "sms,email")]);
        let mut retry = sample("first-round");
        retry["request"]["session"] = serde_json::json!([{
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": false,
            "challengeMetadata": "OTP:v2.1763769600.AAECAwQFBgcICQoLDA0ODw.Hs_IVhYixgb9_9G9P1N_UV-8rbjHYOrpZb-xpU220iE;via=voice",
        }]);
        assert!(create.invoke(retry.clone(), 1_000).await.is_err());
        // The same round recorded on a channel still offered re-uses its code.
        retry["request"]["session"][0]["challengeMetadata"] = serde_json::json!(
            "OTP:v2.1763769600.AAECAwQFBgcICQoLDA0ODw.Hs_IVhYixgb9_9G9P1N_UV-8rbjHYOrpZb-xpU220iE;via=email"
        );
        let reused = create.invoke(retry, 1_000).await.unwrap();
        assert_eq!(
            reused.response.public_challenge_parameters.unwrap()["channel"],
            "email"
        );
        assert_eq!(sent.lines(), 0, "a retry sends nothing");
    }

    #[tokio::test]
    async fn a_one_channel_step_claims_per_step_and_the_otp_step_per_channel() {
        // The claim a retried Create finds: `<tag>#<position>` for a step of one channel,
        // `<tag>.<channel>#<position>` for the `otp` step.
        for (extra, label) in [
            (vec![("SMS_PROVIDER", "console")], "SMS_OTP"),
            (
                vec![
                    ("AUTH_FLOW", "otp"),
                    ("SMS_PROVIDER", "console"),
                    ("EMAIL_PROVIDER", "console"),
                    ("SEAL_KEY", "0123456789abcdef0123456789abcdef"),
                ],
                "OTP.sms",
            ),
        ] {
            let config = Config::from_pairs(&extra).unwrap();
            let guard = test_guard(Arc::new(MemoryStore::default()), FailureMode::Closed);
            let create = CreateAuthChallenge::new(&config, Arc::new(Counting::default()))
                .unwrap()
                .with_email_sender(Arc::new(crate::email::ConsoleEmailSender::new(Box::new(
                    std::io::sink(),
                ))))
                .with_guard(Some(guard.clone()));
            let event = sample("first-round");
            let created = create.invoke(event.clone(), 1_000).await.unwrap();
            let owner = UserRef::from_event(
                event["userName"].as_str().unwrap(),
                &[(
                    "sub".to_owned(),
                    event["request"]["userAttributes"]["sub"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )]
                .into(),
                false,
            );
            let (pk, sk) = claim_key(event["userPoolId"].as_str().unwrap(), &owner, label, 0);
            let again = guard
                .store()
                .claim_send(&SendClaim {
                    pk,
                    sk,
                    seal: "another".to_owned(),
                    owner: owner.as_str().to_owned(),
                    now: 1_001,
                    ttl_seconds: CLAIM_SECONDS,
                })
                .await
                .unwrap();
            let seal = created.response.private_challenge_parameters.unwrap()["seal"].clone();
            assert_eq!(
                again,
                ClaimOutcome::Duplicate { seal },
                "{label}: the claim Create wrote"
            );
        }
    }

    #[test]
    fn stand_in_email_letters_cover_the_alphabet_evenly() {
        let secret = "a-secret-of-at-least-32-characters!";
        let mut counts = std::collections::BTreeMap::new();
        for index in 0..5_200 {
            let hint = stand_in_email_hint(secret, "pool", &format!("user{index}"));
            let mut letters = hint.chars().filter(char::is_ascii_lowercase);
            for letter in [letters.next().unwrap(), letters.next().unwrap()] {
                *counts.entry(letter).or_insert(0) += 1;
            }
            assert_eq!(hint.len(), 9, "{hint}");
        }
        // 10,400 letters: every one of the 26 about 400 times.
        assert_eq!(counts.len(), 26, "{counts:?}");
        assert!(
            counts.values().all(|count| (300..=500).contains(count)),
            "{counts:?}"
        );
        assert_eq!(
            stand_in_email_hint(secret, "pool", " User7 "),
            stand_in_email_hint(secret, "pool", "user7")
        );
        // The values an independent implementation (Python's hashlib and struct over the same
        // length-prefixed parts, two big-endian words modulo 26) gives.
        for (name, expected) in [
            ("alice", "m***@m***"),
            ("bob", "i***@m***"),
            ("user7", "u***@f***"),
            ("nobody0", "y***@b***"),
        ] {
            assert_eq!(
                stand_in_email_hint(secret, "pool", name),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn the_stand_in_channel_is_mostly_the_first_and_keyed() {
        let offered = [Channel::Sms, Channel::Email, Channel::Voice];
        let key = SealKey::new("0123456789abcdef0123456789abcdef").unwrap();
        let mut counts = std::collections::BTreeMap::new();
        for index in 0..4_000 {
            let channel = stand_in_channel(&key, "pool", &format!("user{index}"), &offered);
            *counts.entry(channel).or_insert(0) += 1;
        }
        // Three in four the first, the rest split between the others.
        assert!(
            (2_850..=3_150).contains(&counts[&Channel::Sms]),
            "{counts:?}"
        );
        assert!((400..=600).contains(&counts[&Channel::Email]), "{counts:?}");
        assert!((400..=600).contains(&counts[&Channel::Voice]), "{counts:?}");
        assert_eq!(
            stand_in_channel(&key, "pool", " User7 ", &offered),
            stand_in_channel(&key, "pool", "user7", &offered)
        );
        let other = SealKey::new("fedcba9876543210fedcba9876543210").unwrap();
        assert!((0..50).any(|index| {
            let name = format!("user{index}");
            stand_in_channel(&key, "pool", &name, &offered)
                != stand_in_channel(&other, "pool", &name, &offered)
        }));
        assert_eq!(
            stand_in_channel(&key, "pool", "x", &[Channel::Voice]),
            Channel::Voice
        );
    }

    #[test]
    fn stand_in_digits_are_stable_and_keyed() {
        let a = stand_in_digits(&"k".repeat(32), "pool", "alice");
        assert_eq!(a, stand_in_digits(&"k".repeat(32), "pool", "alice"));
        assert_eq!(a, stand_in_digits(&"k".repeat(32), "pool", " Alice "));
        assert_eq!(a.len(), 4);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        // The value an independent implementation (Python's hashlib over the same
        // length-prefixed parts) gives.
        assert_eq!(a, "6694");
        let others: Vec<String> = (0..20)
            .map(|i| stand_in_digits(&format!("{i:032}"), "pool", "alice"))
            .collect();
        assert!(others.iter().any(|digits| *digits != a));
    }

    #[test]
    fn decoys_take_about_as_long_as_real_sends() {
        let timing = SendTiming::default();
        for _ in 0..50 {
            timing.record(Duration::from_millis(100));
        }
        let delay = timing.decoy_delay();
        assert!(
            delay >= Duration::from_millis(79) && delay <= Duration::from_millis(121),
            "{delay:?}"
        );
        // Spread evenly over 80–120 % of the average: 400 draws reach both ends, and their mean
        // is the average.
        let delays: Vec<u128> = (0..400).map(|_| timing.decoy_delay().as_micros()).collect();
        let (low, high) = (delays.iter().min().unwrap(), delays.iter().max().unwrap());
        assert!(*low < 84_000 && *high > 116_000, "{low}..{high}");
        let mean = delays.iter().sum::<u128>() / 400;
        assert!((97_000..=103_000).contains(&mean), "mean {mean}");
    }

    #[test]
    fn only_a_verified_valid_phone_receives_codes() {
        let attributes = |pairs: &[(&str, &str)]| -> StringMap {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert!(
            recipient(
                &attributes(&[
                    ("phone_number", "+12065550100"),
                    ("phone_number_verified", "true")
                ]),
                false,
                false
            )
            .is_ok()
        );
        assert_eq!(
            recipient(
                &attributes(&[
                    ("phone_number", "+12065550100"),
                    ("phone_number_verified", "true")
                ]),
                true,
                false
            ),
            Err(DecoyReason::UnknownUser)
        );
        assert_eq!(
            recipient(
                &attributes(&[
                    ("phone_number", "+12065550100"),
                    ("phone_number_verified", "false")
                ]),
                false,
                false
            ),
            Err(DecoyReason::NoVerifiedPhone)
        );
        assert_eq!(
            recipient(
                &attributes(&[("phone_number", "+12065550100")]),
                false,
                false
            ),
            Err(DecoyReason::NoVerifiedPhone)
        );
        assert_eq!(
            recipient(
                &attributes(&[
                    ("phone_number", "2065550100"),
                    ("phone_number_verified", "true")
                ]),
                false,
                false
            ),
            Err(DecoyReason::InvalidPhone)
        );
        assert_eq!(
            recipient(&attributes(&[]), false, false),
            Err(DecoyReason::NoPhone)
        );
        // VERIFY_ON_FIRST_SIGN_IN: an unverified (or never marked) phone receives codes; nothing
        // else changes.
        let unverified = attributes(&[
            ("phone_number", "+12065550100"),
            ("phone_number_verified", "false"),
        ]);
        assert!(recipient(&unverified, false, true).is_ok());
        assert!(
            recipient(
                &attributes(&[("phone_number", "+12065550100")]),
                false,
                true
            )
            .is_ok()
        );
        assert_eq!(
            recipient(&unverified, true, true),
            Err(DecoyReason::UnknownUser)
        );
        assert_eq!(
            recipient(&attributes(&[("phone_number", "2065550100")]), false, true),
            Err(DecoyReason::InvalidPhone)
        );
        assert_eq!(
            recipient(&attributes(&[]), false, true),
            Err(DecoyReason::NoPhone)
        );
        let email = attributes(&[("email", "dana@example.com"), ("email_verified", "false")]);
        assert_eq!(
            email_recipient(&email, false, false).map(|_| ()),
            Err(DecoyReason::NoVerifiedEmail)
        );
        assert!(email_recipient(&email, false, true).is_ok());
        assert_eq!(
            email_recipient(&email, true, true).map(|_| ()),
            Err(DecoyReason::UnknownUser)
        );
    }
}
