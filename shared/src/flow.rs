//! The challenge state machine: a pure function from (configured flow, session so far,
//! `userNotFound`) to what happens next. No I/O and no AWS types: the triggers translate Cognito's
//! session into [`SessionEntry`] values and a [`FlowDecision`] back into a response.
//!
//! A flow is a sequence of [`ChallengeStep`]s. The session must show those steps passed **in
//! order**; each custom step may be answered wrongly fewer times than its limit; anything else
//! in the session (an unknown challenge name, a step out of order, a round after the flow was
//! complete, a failed password) ends the sign-in. Tokens are issued only when the last entry of the
//! session is the passed final step — never for an unknown user.
//!
//! How the steps show up in Cognito's session (AWS developer guide, "Custom authentication
//! challenge Lambda triggers"):
//! - `password`: the client starts `CUSTOM_AUTH` with `CHALLENGE_NAME: SRP_A`; Cognito records a
//!   passed `SRP_A`, Define answers `PASSWORD_VERIFIER`, Cognito checks the password and records
//!   `PASSWORD_VERIFIER`.
//! - custom steps (`captcha`, `sms_otp`): Define answers `CUSTOM_CHALLENGE`; Create tags the round
//!   by putting the step's [`ChallengeStep::tag`] first in `challengeMetadata` (`CAPTCHA:…`,
//!   `SMS_OTP:…`), so later calls never guess which step a round belonged to.
//!
//! Each custom step allows its own number of wrong answers ([`AttemptLimits`]).
//!
//! **Sending a code again.** A client that answers an SMS round with `ClientMetadata`
//! `{"otpAction": "resend"}` ([`OtpAction`]) asks for a new code instead of answering: Verify never
//! compares such an answer (it is wrong, but not a guess), Define lets the step go on without
//! counting it as a wrong answer, and Create sends a new code in the next round and marks that
//! round's metadata ([`RESENT_FLAG`]). Later calls tell an action from a wrong answer from the
//! session alone — a failed round followed by a marked round of the same step was an action — and
//! the current round's `ClientMetadata`. At most [`AttemptLimits::resends`] actions per sign-in;
//! the wrong answers of a step are counted across all its codes.

use std::fmt;

use crate::Error;
use crate::env::Environment;

/// The tag of the SMS step ([`ChallengeStep::tag`]): in `challengeMetadata`, the public
/// `challenge` parameter and the logs.
pub const SMS_OTP_TAG: &str = "SMS_OTP";
/// The tag of the e-mail code step ([`ChallengeStep::tag`]).
pub const EMAIL_OTP_TAG: &str = "EMAIL_OTP";
/// The tag of the code step whose channel follows the user ([`ChallengeStep::Otp`]).
pub const OTP_TAG: &str = "OTP";
/// The tag of the CAPTCHA step ([`ChallengeStep::tag`]).
pub const CAPTCHA_TAG: &str = "CAPTCHA";

/// The flag that ends the `challengeMetadata` of a round whose code was sent again at the
/// client's request (`SMS_OTP:<seal>;resent`): the failed round before it was an action, not a
/// wrong answer.
pub const RESENT_FLAG: &str = "resent";

/// The `ClientMetadata` key of RespondToAuthChallenge that carries an [`OtpAction`].
pub const OTP_ACTION_KEY: &str = "otpAction";
/// The `ClientMetadata` key naming the channel of [`OtpAction::Switch`].
pub const OTP_CHANNEL_KEY: &str = "otpChannel";

/// How a code reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// A text message (End User Messaging `SendTextMessage`, or Pinpoint).
    Sms,
    /// An e-mail (SES v2 `SendEmail`), to a verified address.
    Email,
    /// A phone call reading the code (End User Messaging `SendVoiceMessage`), to a verified phone.
    Voice,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Self; 3] = [Self::Sms, Self::Email, Self::Voice];

    /// The name used in `OTP_CHANNELS`, `otpChannel`, the public `channel` parameter and the
    /// round's metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Voice => "voice",
        }
    }

    /// The channel `name` names (exactly, lower case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|channel| channel.name() == name)
    }

    /// Whether the channel reaches a phone number (so the country and number-type rules apply).
    pub fn uses_phone(self) -> bool {
        matches!(self, Self::Sms | Self::Voice)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `OTP_CHANNELS`: comma-separated channel names, at least one, none twice.
pub fn parse_channels(value: &str) -> Result<Vec<Channel>, String> {
    let mut channels = Vec::new();
    for name in value.split(',').map(str::trim) {
        let channel = Channel::from_name(name).ok_or_else(|| {
            format!(
                "unknown channel `{}` (known: sms, email, voice)",
                name.chars().take(20).collect::<String>()
            )
        })?;
        if channels.contains(&channel) {
            return Err(format!("channel `{channel}` appears twice"));
        }
        channels.push(channel);
    }
    Ok(channels)
}

/// What a client asks for instead of answering a code round (`ClientMetadata` of
/// RespondToAuthChallenge, which Cognito hands to Verify, Define and Create of that round).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpAction {
    /// `{"otpAction": "resend"}`: a new code to the same destination; the earlier one stops
    /// working; no attempt is used up.
    Resend,
    /// `{"otpAction": "switch", "otpChannel": "email"}`: the same, by another channel. A request
    /// only where the step allows that channel ([`AuthFlow::channels`]); elsewhere it is
    /// counted as a wrong answer, like [`OtpAction::Unsupported`].
    Switch(Channel),
    /// Any other `otpAction` value (or a switch without a known `otpChannel`): never compared
    /// (like every action), and counted as a wrong answer, since it asks for nothing this
    /// release does.
    Unsupported,
}

impl OtpAction {
    /// The action in a round's `ClientMetadata`, if any (an absent or blank `otpAction` is
    /// none).
    pub fn from_client_metadata<'a>(
        metadata: impl IntoIterator<Item = (&'a String, &'a String)> + Clone,
    ) -> Option<Self> {
        let find = |wanted: &str| {
            metadata
                .clone()
                .into_iter()
                .find(|(key, _)| key.as_str() == wanted)
                .map(|(_, value)| value.trim())
        };
        match find(OTP_ACTION_KEY)? {
            "" => None,
            "resend" => Some(Self::Resend),
            "switch" => Some(
                find(OTP_CHANNEL_KEY)
                    .and_then(Channel::from_name)
                    .map_or(Self::Unsupported, Self::Switch),
            ),
            _ => Some(Self::Unsupported),
        }
    }

    /// Whether this action asks `step` of `flow` for a new code (a resend, or a switch to a
    /// channel the step allows): only such a request is not a wrong answer.
    pub fn is_request_for(self, flow: &AuthFlow, step: ChallengeStep) -> bool {
        step.takes_actions()
            && match self {
                Self::Resend => true,
                Self::Switch(channel) => flow.channels(step).contains(&channel),
                Self::Unsupported => false,
            }
    }
}

/// One step of a sign-in flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChallengeStep {
    /// The user's Cognito password, checked by Cognito itself through SRP (`SRP_A`, then
    /// `PASSWORD_VERIFIER`).
    Password,
    /// A CAPTCHA (a `CUSTOM_CHALLENGE` round): proves a human is there, not who it is.
    Captcha,
    /// A one-time code sent by SMS (a `CUSTOM_CHALLENGE` round).
    SmsOtp,
    /// A one-time code sent by e-mail, to a verified address (a `CUSTOM_CHALLENGE` round).
    EmailOtp,
    /// A one-time code by the user's channel (`OTP_CHANNELS`: SMS, e-mail or voice), which the
    /// client may switch (a `CUSTOM_CHALLENGE` round).
    Otp,
}

impl ChallengeStep {
    /// The name used in `AUTH_FLOW`.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Captcha => "captcha",
            Self::SmsOtp => "sms_otp",
            Self::EmailOtp => "email_otp",
            Self::Otp => "otp",
        }
    }

    /// The tag that starts `challengeMetadata` and names the step in public parameters
    /// (`challenge`); `None` for steps Cognito runs itself.
    pub fn tag(self) -> Option<&'static str> {
        match self {
            Self::Password => None,
            Self::Captcha => Some(CAPTCHA_TAG),
            Self::SmsOtp => Some(SMS_OTP_TAG),
            Self::EmailOtp => Some(EMAIL_OTP_TAG),
            Self::Otp => Some(OTP_TAG),
        }
    }

    /// The custom step a tag names.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            CAPTCHA_TAG => Some(Self::Captcha),
            SMS_OTP_TAG => Some(Self::SmsOtp),
            EMAIL_OTP_TAG => Some(Self::EmailOtp),
            OTP_TAG => Some(Self::Otp),
            _ => None,
        }
    }

    /// Whether passing this step proves who the user is (a flow must end with such a step).
    pub fn authenticates(self) -> bool {
        matches!(
            self,
            Self::Password | Self::SmsOtp | Self::EmailOtp | Self::Otp
        )
    }

    /// Whether a round of this step may be answered with an [`OtpAction`] (a code step).
    pub fn takes_actions(self) -> bool {
        self.sends_a_code()
    }

    /// Whether the step sends a one-time code (by SMS, e-mail or voice).
    pub fn sends_a_code(self) -> bool {
        matches!(self, Self::SmsOtp | Self::EmailOtp | Self::Otp)
    }

    /// Every step, in the order a flow may hold them.
    pub const ALL: [Self; 5] = [
        Self::Password,
        Self::Captcha,
        Self::SmsOtp,
        Self::EmailOtp,
        Self::Otp,
    ];

    /// The step `AUTH_FLOW` names `name`.
    pub fn from_config_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|step| step.config_name() == name)
    }
}

/// How many wrong answers end the sign-in, per custom step (`MAX_ATTEMPTS`, and
/// `CAPTCHA_MAX_ATTEMPTS` for the CAPTCHA), and how many times a code may be sent again
/// (`OTP_MAX_RESENDS`). A plain number sets the same limit for every step and allows no resend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimits {
    /// The limit for every step without its own (at least 1).
    pub default: u8,
    /// The limit for the CAPTCHA step (at least 1).
    pub captcha: u8,
    /// How many [`OtpAction::Resend`]s one sign-in may ask for.
    pub resends: u8,
}

impl AttemptLimits {
    /// The default of `OTP_MAX_RESENDS`.
    pub const DEFAULT_RESENDS: u8 = 2;

    /// `MAX_ATTEMPTS` (default 3, 1 to 10), `CAPTCHA_MAX_ATTEMPTS` (default `MAX_ATTEMPTS`) and
    /// `OTP_MAX_RESENDS` (default 2, 0 to 5).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        let default = env.number("MAX_ATTEMPTS", 3, 1..=10)?;
        Ok(Self {
            default,
            captcha: env.number("CAPTCHA_MAX_ATTEMPTS", default, 1..=10)?,
            resends: env.number("OTP_MAX_RESENDS", Self::DEFAULT_RESENDS, 0..=5)?,
        })
    }

    /// The limit for `step` (at least 1).
    pub fn for_step(self, step: ChallengeStep) -> u8 {
        match step {
            ChallengeStep::Captcha => self.captcha,
            ChallengeStep::Password
            | ChallengeStep::SmsOtp
            | ChallengeStep::EmailOtp
            | ChallengeStep::Otp => self.default,
        }
        .max(1)
    }
}

impl From<u8> for AttemptLimits {
    fn from(limit: u8) -> Self {
        Self {
            default: limit,
            captcha: limit,
            resends: 0,
        }
    }
}

impl fmt::Display for ChallengeStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_name())
    }
}

/// Why an `AUTH_FLOW` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFlow(pub String);

impl fmt::Display for InvalidFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated sequence of steps, e.g. `sms_otp` or `password,sms_otp`, and the channels the
/// `otp` step may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFlow {
    steps: Vec<ChallengeStep>,
    /// `OTP_CHANNELS`, in order of preference (only the `otp` step reads it).
    otp_channels: Vec<Channel>,
}

/// The default of `OTP_CHANNELS`.
pub const DEFAULT_OTP_CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Email];

impl AuthFlow {
    /// `AUTH_FLOW` (default `sms_otp`) and `OTP_CHANNELS` (default `sms,email`).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        let flow = match env.get("AUTH_FLOW") {
            Some(value) => Self::parse(&value)
                .map_err(|invalid| Error::config("AUTH_FLOW", invalid.to_string()))?,
            None => Self::sms_otp(),
        };
        match env.get("OTP_CHANNELS") {
            Some(value) => {
                let channels = parse_channels(&value)
                    .map_err(|reason| Error::config("OTP_CHANNELS", reason))?;
                Ok(flow.with_otp_channels(channels))
            }
            None => Ok(flow),
        }
    }

    /// The flow with `channels` for its `otp` step (at least one; the order is the preference).
    pub fn with_otp_channels(mut self, channels: Vec<Channel>) -> Self {
        if !channels.is_empty() {
            self.otp_channels = channels;
        }
        self
    }

    /// The channels a code step may use: its own for `sms_otp` and `email_otp`, `OTP_CHANNELS`
    /// for `otp`, none for other steps.
    pub fn channels(&self, step: ChallengeStep) -> &[Channel] {
        match step {
            ChallengeStep::SmsOtp => &[Channel::Sms],
            ChallengeStep::EmailOtp => &[Channel::Email],
            ChallengeStep::Otp => &self.otp_channels,
            ChallengeStep::Password | ChallengeStep::Captcha => &[],
        }
    }

    /// Whether any code step of the flow may send by `channel`.
    pub fn may_send_by(&self, channel: Channel) -> bool {
        self.steps
            .iter()
            .any(|step| self.channels(*step).contains(&channel))
    }

    /// The flows this release supports, as `AUTH_FLOW` spells them.
    pub const SUPPORTED: &'static [&'static str] = &[
        "sms_otp",
        "captcha,sms_otp",
        "password,captcha",
        "password,sms_otp",
        "password,captcha,sms_otp",
        "email_otp",
        "captcha,email_otp",
        "password,email_otp",
        "password,captcha,email_otp",
        "otp",
        "captcha,otp",
        "password,otp",
        "password,captcha,otp",
    ];

    /// Parses a comma-separated `AUTH_FLOW` value.
    pub fn parse(value: &str) -> Result<Self, InvalidFlow> {
        let mut steps = Vec::new();
        for name in value.split(',').map(str::trim) {
            if name.is_empty() {
                return Err(InvalidFlow("a step name is empty".to_owned()));
            }
            let step = ChallengeStep::from_config_name(name).ok_or_else(|| {
                InvalidFlow(format!(
                    "unknown step `{}` (known: password, captcha, sms_otp, email_otp, otp)",
                    name.chars().take(32).collect::<String>()
                ))
            })?;
            steps.push(step);
        }
        Self::from_steps(steps)
    }

    /// Builds a flow from steps, with the same checks as [`AuthFlow::parse`]: at least one step,
    /// none twice, the password (which Cognito runs when the client starts with `SRP_A`) only
    /// first, a step that proves who the user is (a CAPTCHA alone is not a sign-in), and the
    /// CAPTCHA before the SMS code (after it, bots would already have made the pool send SMS).
    pub fn from_steps(steps: Vec<ChallengeStep>) -> Result<Self, InvalidFlow> {
        if steps.is_empty() {
            return Err(InvalidFlow("the flow has no steps".to_owned()));
        }
        for (index, step) in steps.iter().enumerate() {
            if steps.iter().skip(index + 1).any(|later| later == step) {
                return Err(InvalidFlow(format!("step `{step}` appears twice")));
            }
            if *step == ChallengeStep::Password && index > 0 {
                return Err(InvalidFlow(
                    "`password` must come first: Cognito checks it when the client starts with SRP_A"
                        .to_owned(),
                ));
            }
        }
        if steps == [ChallengeStep::Password] {
            return Err(InvalidFlow(
                "`password` alone needs no custom challenge: use USER_SRP_AUTH without these triggers"
                    .to_owned(),
            ));
        }
        if !steps.iter().any(|step| step.authenticates()) {
            return Err(InvalidFlow(format!(
                "a CAPTCHA alone does not prove who the user is: add password, sms_otp, email_otp or otp (supported: {})",
                Self::SUPPORTED.join("; ")
            )));
        }
        if steps.iter().filter(|step| step.sends_a_code()).count() > 1 {
            return Err(InvalidFlow(
                "one code step per flow: sms_otp, email_otp or otp".to_owned(),
            ));
        }
        let position = |wanted: fn(&ChallengeStep) -> bool| steps.iter().position(wanted);
        if let (Some(captcha), Some(code)) = (
            position(|step| *step == ChallengeStep::Captcha),
            position(|step| step.sends_a_code()),
        ) && captcha > code
        {
            return Err(InvalidFlow(format!(
                "put `captcha` before `{}`: after it, bots would already have made the pool send codes",
                steps.get(code).map_or("sms_otp", |step| step.config_name())
            )));
        }
        Ok(Self {
            steps,
            otp_channels: DEFAULT_OTP_CHANNELS.to_vec(),
        })
    }

    /// The default flow: a code by SMS, nothing else.
    pub fn sms_otp() -> Self {
        Self {
            steps: vec![ChallengeStep::SmsOtp],
            otp_channels: DEFAULT_OTP_CHANNELS.to_vec(),
        }
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[ChallengeStep] {
        &self.steps
    }

    /// Whether the flow has `step`.
    pub fn contains(&self, step: ChallengeStep) -> bool {
        self.steps.contains(&step)
    }

    /// Whether the client must start with `SRP_A` (the flow begins with the password).
    pub fn starts_with_password(&self) -> bool {
        self.steps.first() == Some(&ChallengeStep::Password)
    }
}

impl fmt::Display for AuthFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.steps.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            f.write_str(step.config_name())?;
        }
        Ok(())
    }
}

/// What kind of round a session entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChallenge {
    /// `SRP_A`: the client started the password check.
    SrpA,
    /// `PASSWORD_VERIFIER`: Cognito checked the password.
    PasswordVerifier,
    /// `CUSTOM_CHALLENGE` whose metadata names the step it belonged to.
    Custom(ChallengeStep),
    /// `CUSTOM_CHALLENGE` without metadata this project wrote.
    UntaggedCustom,
    /// Any other challenge name (`SMS_MFA`, `DEVICE_SRP_AUTH`, `ADMIN_NO_SRP_AUTH`, …).
    Other,
}

/// One entry of Cognito's session, reduced to what the state machine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEntry {
    /// What kind of round it was.
    pub challenge: SessionChallenge,
    /// Whether it was passed.
    pub passed: bool,
    /// Whether Create sent this round's code again at the client's request ([`RESENT_FLAG`]):
    /// the round before it was an action, not an answer.
    pub resent: bool,
}

impl SessionEntry {
    /// An entry of a round that was not sent again.
    pub const fn new(challenge: SessionChallenge, passed: bool) -> Self {
        Self {
            challenge,
            passed,
            resent: false,
        }
    }

    /// Reads a Cognito session entry: the challenge name and, for custom rounds, the step tag that
    /// starts `challengeMetadata` (`SMS_OTP:…`) and the flags, each after a `;`
    /// (`SMS_OTP:…;resent`; seals and tags hold no `;`).
    pub fn from_cognito(challenge_name: &str, passed: bool, metadata: Option<&str>) -> Self {
        let challenge = match challenge_name {
            "SRP_A" => SessionChallenge::SrpA,
            "PASSWORD_VERIFIER" => SessionChallenge::PasswordVerifier,
            "CUSTOM_CHALLENGE" => metadata
                .and_then(|metadata| metadata.split(':').next())
                .and_then(ChallengeStep::from_tag)
                .map_or(SessionChallenge::UntaggedCustom, SessionChallenge::Custom),
            _ => SessionChallenge::Other,
        };
        let resent = matches!(challenge, SessionChallenge::Custom(_))
            && metadata.is_some_and(|metadata| {
                metadata.split(';').skip(1).any(|flag| flag == RESENT_FLAG)
            });
        Self {
            challenge,
            passed,
            resent,
        }
    }
}

/// The challenge Define asks Cognito for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextChallenge {
    /// `PASSWORD_VERIFIER`: Cognito checks the password.
    PasswordVerifier,
    /// `CUSTOM_CHALLENGE` for this step (`captcha` or `sms_otp`); `attempt` counts from 1.
    Custom {
        /// The step the round belongs to.
        step: ChallengeStep,
        /// Which try at this step this round is (1 for the first).
        attempt: u8,
    },
}

impl NextChallenge {
    /// The Cognito challenge name.
    pub fn cognito_name(self) -> &'static str {
        match self {
            Self::PasswordVerifier => "PASSWORD_VERIFIER",
            Self::Custom { .. } => "CUSTOM_CHALLENGE",
        }
    }
}

/// Why a sign-in fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// A step was answered wrongly as many times as its [`AttemptLimits`] allow.
    TooManyWrongAnswers(ChallengeStep),
    /// `SRP_A` or `PASSWORD_VERIFIER` failed.
    PasswordFailed,
    /// The flow starts with the password, but the client did not start with `SRP_A`.
    PasswordNotStarted,
    /// The session holds a round this flow does not expect at that position.
    UnexpectedEntry {
        /// The entry's position in the session.
        position: usize,
    },
    /// Every step passed, but the user does not exist (`userNotFound`): never tokens.
    UserNotFound,
    /// Too many failed sign-ins recently (decided outside the state machine, by the lockout).
    LockedOut,
    /// The client asked for a code again more often than [`AttemptLimits::resends`] allows.
    TooManyResends,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyWrongAnswers(step) => write!(f, "too many wrong answers to {step}"),
            Self::PasswordFailed => f.write_str("password check failed"),
            Self::PasswordNotStarted => {
                f.write_str("flow needs a password but the client did not start with SRP_A")
            }
            Self::UnexpectedEntry { position } => {
                write!(f, "unexpected session entry at position {position}")
            }
            Self::UserNotFound => f.write_str("user not found"),
            Self::LockedOut => f.write_str("locked out after too many failed sign-ins"),
            Self::TooManyResends => f.write_str("too many codes sent again"),
        }
    }
}

/// What Define answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowDecision {
    /// Ask for another challenge.
    Challenge(NextChallenge),
    /// Every step passed: issue tokens.
    IssueTokens,
    /// End the sign-in as failed.
    Fail(FailReason),
}

/// The round CreateAuthChallenge is asked to create, worked out from the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// The step the round belongs to.
    pub step: ChallengeStep,
    /// Which try at this step it is (1 for the first; a code sent again keeps the number).
    pub attempt: u8,
    /// How many wrong answers this step still allows, this round included.
    pub attempts_left: u8,
    /// How many more times the client may ask for the code again in this sign-in.
    pub resends_left: u8,
    /// Where the round's secret comes from.
    pub kind: RoundKind,
}

/// Where a round's secret comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundKind {
    /// The step's first round: a new code (or CAPTCHA).
    First,
    /// A retry after a wrong answer. `previous` is the position in the session of the step's
    /// latest round, whose `challengeMetadata` holds what it created: its code is re-used, not
    /// re-sent (a CAPTCHA gets a new one).
    Retry {
        /// The latest earlier round of this step.
        previous: usize,
    },
    /// The client answered the latest round (at `previous` in the session) with
    /// [`OtpAction::Resend`]: a new code, sent, and the round marked [`RESENT_FLAG`]; the earlier
    /// code stops working.
    Resend {
        /// The round answered with the request.
        previous: usize,
    },
}

/// Where a valid session stands.
struct Progress {
    /// Index into the flow of the step being worked on (`steps.len()` when all passed).
    step_index: usize,
    /// Within a password step: whether `SRP_A` passed already.
    srp_started: bool,
    /// Wrong answers to the current step so far (across every code it sent).
    wrong_answers: u8,
    /// Position of the most recent round of the current custom step.
    last_round: Option<usize>,
    /// Actions (codes sent again) so far in this sign-in.
    resends: u8,
    /// Whether the entry just read was an action: the next round must be a resent one.
    after_action: bool,
}

/// Replays the session against the flow; `Err` when the session already means failure. `action`
/// is what the client sent with the latest round's answer (its `ClientMetadata`): it decides
/// whether the session's last entry was an action; every earlier entry is an action exactly when
/// the round after it is marked resent.
fn replay(
    flow: &AuthFlow,
    session: &[SessionEntry],
    limits: AttemptLimits,
    action: Option<OtpAction>,
) -> Result<Progress, FailReason> {
    let mut progress = Progress {
        step_index: 0,
        srp_started: false,
        wrong_answers: 0,
        last_round: None,
        resends: 0,
        after_action: false,
    };
    for (position, entry) in session.iter().enumerate() {
        let Some(&step) = flow.steps().get(progress.step_index) else {
            // A round after the flow was complete.
            return Err(FailReason::UnexpectedEntry { position });
        };
        // A resent round comes exactly after an action, and only there.
        if entry.resent != std::mem::take(&mut progress.after_action) {
            return Err(FailReason::UnexpectedEntry { position });
        }
        let passed_step = match (step, entry.challenge) {
            (ChallengeStep::Password, SessionChallenge::SrpA) if !progress.srp_started => {
                if !entry.passed {
                    return Err(FailReason::PasswordFailed);
                }
                progress.srp_started = true;
                false
            }
            (ChallengeStep::Password, SessionChallenge::PasswordVerifier)
                if progress.srp_started =>
            {
                if !entry.passed {
                    return Err(FailReason::PasswordFailed);
                }
                true
            }
            (expected, SessionChallenge::Custom(tagged))
                if expected == tagged && expected.tag().is_some() =>
            {
                progress.last_round = Some(position);
                let was_action = || match session.get(position + 1) {
                    Some(next) => next.resent && next.challenge == entry.challenge,
                    None => action.is_some_and(|action| action.is_request_for(flow, step)),
                };
                if entry.passed {
                    true
                } else if step.takes_actions() && was_action() {
                    progress.resends = progress.resends.saturating_add(1);
                    if progress.resends > limits.resends {
                        return Err(FailReason::TooManyResends);
                    }
                    progress.after_action = true;
                    false
                } else {
                    progress.wrong_answers = progress.wrong_answers.saturating_add(1);
                    if progress.wrong_answers >= limits.for_step(step) {
                        return Err(FailReason::TooManyWrongAnswers(step));
                    }
                    false
                }
            }
            _ => return Err(FailReason::UnexpectedEntry { position }),
        };
        if passed_step {
            progress = Progress {
                step_index: progress.step_index + 1,
                srp_started: false,
                wrong_answers: 0,
                last_round: None,
                resends: progress.resends,
                after_action: false,
            };
        }
    }
    Ok(progress)
}

/// DefineAuthChallenge's decision when the latest round came with no action (see
/// [`decide_with_action`]).
pub fn decide(
    flow: &AuthFlow,
    session: &[SessionEntry],
    user_not_found: bool,
    limits: impl Into<AttemptLimits>,
) -> FlowDecision {
    decide_with_action(flow, session, user_not_found, limits, None)
}

/// DefineAuthChallenge's decision. `limits` are the numbers of wrong answers that end the sign-in
/// and of codes that may be sent again (a plain `u8` sets one limit for every step and allows no
/// resend); `action` is what the client sent with the latest round's answer.
pub fn decide_with_action(
    flow: &AuthFlow,
    session: &[SessionEntry],
    user_not_found: bool,
    limits: impl Into<AttemptLimits>,
    action: Option<OtpAction>,
) -> FlowDecision {
    let progress = match replay(flow, session, limits.into(), action) {
        Ok(progress) => progress,
        Err(reason) => return FlowDecision::Fail(reason),
    };
    match flow.steps().get(progress.step_index) {
        None if user_not_found => FlowDecision::Fail(FailReason::UserNotFound),
        None => FlowDecision::IssueTokens,
        Some(ChallengeStep::Password) if progress.srp_started => {
            FlowDecision::Challenge(NextChallenge::PasswordVerifier)
        }
        Some(ChallengeStep::Password) => FlowDecision::Fail(FailReason::PasswordNotStarted),
        Some(&step) => FlowDecision::Challenge(NextChallenge::Custom {
            step,
            attempt: progress.wrong_answers + 1,
        }),
    }
}

/// Whether the latest round was a request for the code again rather than an answer: Verify
/// compared nothing (it never compares an answer that comes with an action to a code round), so
/// the lockout does not count it as a failed guess. An action this release does not know counts,
/// as it does against the step's attempts.
pub fn answered_with_action(
    flow: &AuthFlow,
    session: &[SessionEntry],
    action: Option<OtpAction>,
) -> bool {
    session.last().is_some_and(|entry| {
        !entry.passed
            && matches!(entry.challenge, SessionChallenge::Custom(step)
                if action.is_some_and(|action| action.is_request_for(flow, step)))
    })
}

/// The round CreateAuthChallenge must create for this session, given what the client sent with
/// the latest round's answer, or why there is none (Create is only called after Define asked for
/// a custom challenge, so `Err` means a confused caller).
pub fn current_round(
    flow: &AuthFlow,
    session: &[SessionEntry],
    limits: impl Into<AttemptLimits>,
    action: Option<OtpAction>,
) -> Result<Round, FailReason> {
    let limits = limits.into();
    let progress = replay(flow, session, limits, action)?;
    match flow.steps().get(progress.step_index) {
        Some(&step) if step.tag().is_some() => Ok(Round {
            step,
            attempt: progress.wrong_answers + 1,
            attempts_left: limits.for_step(step).saturating_sub(progress.wrong_answers),
            resends_left: limits.resends.saturating_sub(progress.resends),
            kind: match (progress.after_action, progress.last_round) {
                (true, Some(previous)) => RoundKind::Resend { previous },
                (false, Some(previous)) => RoundKind::Retry { previous },
                (_, None) => RoundKind::First,
            },
        }),
        _ => Err(FailReason::UnexpectedEntry {
            position: session.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMS: SessionEntry =
        SessionEntry::new(SessionChallenge::Custom(ChallengeStep::SmsOtp), true);
    const SMS_WRONG: SessionEntry =
        SessionEntry::new(SessionChallenge::Custom(ChallengeStep::SmsOtp), false);
    const CAPTCHA: SessionEntry =
        SessionEntry::new(SessionChallenge::Custom(ChallengeStep::Captcha), true);
    const CAPTCHA_WRONG: SessionEntry =
        SessionEntry::new(SessionChallenge::Custom(ChallengeStep::Captcha), false);
    const SRP_A: SessionEntry = SessionEntry::new(SessionChallenge::SrpA, true);
    const VERIFIER: SessionEntry = SessionEntry::new(SessionChallenge::PasswordVerifier, true);
    const VERIFIER_FAILED: SessionEntry =
        SessionEntry::new(SessionChallenge::PasswordVerifier, false);

    fn sms_flow() -> AuthFlow {
        AuthFlow::sms_otp()
    }

    fn password_sms_flow() -> AuthFlow {
        AuthFlow::parse("password,sms_otp").unwrap()
    }

    fn sms_round(attempt: u8) -> FlowDecision {
        FlowDecision::Challenge(NextChallenge::Custom {
            step: ChallengeStep::SmsOtp,
            attempt,
        })
    }

    #[test]
    fn empty_session_asks_for_the_sms_code() {
        assert_eq!(decide(&sms_flow(), &[], false, 3), sms_round(1));
    }

    #[test]
    fn right_code_issues_tokens() {
        assert_eq!(
            decide(&sms_flow(), &[SMS], false, 3),
            FlowDecision::IssueTokens
        );
    }

    #[test]
    fn wrong_code_asks_again_while_attempts_remain() {
        assert_eq!(decide(&sms_flow(), &[SMS_WRONG], false, 3), sms_round(2));
        assert_eq!(
            decide(&sms_flow(), &[SMS_WRONG, SMS_WRONG], false, 3),
            sms_round(3)
        );
    }

    #[test]
    fn fails_after_three_wrong_codes() {
        assert_eq!(
            decide(&sms_flow(), &[SMS_WRONG, SMS_WRONG, SMS_WRONG], false, 3),
            FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp))
        );
    }

    #[test]
    fn two_wrong_then_right_issues_tokens() {
        assert_eq!(
            decide(&sms_flow(), &[SMS_WRONG, SMS_WRONG, SMS], false, 3),
            FlowDecision::IssueTokens
        );
    }

    #[test]
    fn max_attempts_of_one_fails_on_the_first_wrong_code() {
        assert_eq!(
            decide(&sms_flow(), &[SMS_WRONG], false, 1),
            FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp))
        );
    }

    #[test]
    fn unknown_user_never_gets_tokens() {
        assert_eq!(decide(&sms_flow(), &[], true, 3), sms_round(1));
        assert_eq!(
            decide(&sms_flow(), &[SMS], true, 3),
            FlowDecision::Fail(FailReason::UserNotFound)
        );
    }

    #[test]
    fn a_round_after_success_fails() {
        assert_eq!(
            decide(&sms_flow(), &[SMS, SMS], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 1 })
        );
    }

    #[test]
    fn unknown_challenge_names_fail() {
        for name in [
            "SMS_MFA",
            "DEVICE_SRP_AUTH",
            "ADMIN_NO_SRP_AUTH",
            "",
            "custom_challenge",
        ] {
            let entry = SessionEntry::from_cognito(name, true, Some("SMS_OTP:x"));
            assert_eq!(
                decide(&sms_flow(), &[entry], false, 3),
                FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 }),
                "{name}"
            );
        }
    }

    #[test]
    fn custom_round_without_our_metadata_fails() {
        for metadata in [None, Some(""), Some("CODE-123456"), Some("CAPTCHA:x")] {
            let entry = SessionEntry::from_cognito("CUSTOM_CHALLENGE", true, metadata);
            assert_eq!(
                decide(&sms_flow(), &[entry], false, 3),
                FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 }),
                "{metadata:?}"
            );
        }
    }

    #[test]
    fn only_flows_that_begin_with_the_password_start_with_srp() {
        for (flow, expected) in [
            ("password,sms_otp", true),
            ("password,captcha", true),
            ("sms_otp", false),
            ("captcha,sms_otp", false),
        ] {
            assert_eq!(
                AuthFlow::parse(flow).unwrap().starts_with_password(),
                expected,
                "{flow}"
            );
        }
    }

    #[test]
    fn steps_and_reasons_read_as_the_logs_show_them() {
        // These texts reach the logs and `local-cognito`'s output.
        assert_eq!(ChallengeStep::SmsOtp.to_string(), "sms_otp");
        assert_eq!(ChallengeStep::Captcha.to_string(), "captcha");
        assert_eq!(ChallengeStep::Password.to_string(), "password");
        for (reason, text) in [
            (
                FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp),
                "too many wrong answers to sms_otp",
            ),
            (FailReason::PasswordFailed, "password check failed"),
            (
                FailReason::PasswordNotStarted,
                "flow needs a password but the client did not start with SRP_A",
            ),
            (
                FailReason::UnexpectedEntry { position: 2 },
                "unexpected session entry at position 2",
            ),
            (FailReason::UserNotFound, "user not found"),
            (
                FailReason::LockedOut,
                "locked out after too many failed sign-ins",
            ),
        ] {
            assert_eq!(reason.to_string(), text);
        }
    }

    #[test]
    fn password_first_session_fails_the_sms_only_flow() {
        assert_eq!(
            decide(&sms_flow(), &[SRP_A], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 })
        );
    }

    #[test]
    fn password_flow_runs_srp_then_verifier_then_sms() {
        let flow = password_sms_flow();
        assert_eq!(
            decide(&flow, &[], false, 3),
            FlowDecision::Fail(FailReason::PasswordNotStarted)
        );
        assert_eq!(
            decide(&flow, &[SRP_A], false, 3),
            FlowDecision::Challenge(NextChallenge::PasswordVerifier)
        );
        assert_eq!(decide(&flow, &[SRP_A, VERIFIER], false, 3), sms_round(1));
        assert_eq!(
            decide(&flow, &[SRP_A, VERIFIER, SMS_WRONG, SMS], false, 3),
            FlowDecision::IssueTokens
        );
    }

    #[test]
    fn a_failed_password_ends_the_flow() {
        let flow = password_sms_flow();
        assert_eq!(
            decide(&flow, &[SRP_A, VERIFIER_FAILED], false, 3),
            FlowDecision::Fail(FailReason::PasswordFailed)
        );
        let failed_srp = SessionEntry {
            passed: false,
            ..SRP_A
        };
        assert_eq!(
            decide(&flow, &[failed_srp], false, 3),
            FlowDecision::Fail(FailReason::PasswordFailed)
        );
    }

    #[test]
    fn steps_out_of_order_fail() {
        let flow = password_sms_flow();
        assert_eq!(
            decide(&flow, &[SMS], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 })
        );
        assert_eq!(
            decide(&flow, &[VERIFIER], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 })
        );
        assert_eq!(
            decide(&flow, &[SRP_A, SRP_A], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 1 })
        );
    }

    #[test]
    fn current_round_points_at_the_first_round_of_a_retried_step() {
        let flow = sms_flow();
        assert_eq!(
            current_round(&flow, &[], 3, None),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 1,
                attempts_left: 3,
                resends_left: 0,
                kind: RoundKind::First
            })
        );
        assert_eq!(
            current_round(&flow, &[SMS_WRONG, SMS_WRONG], 3, None),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 3,
                attempts_left: 1,
                resends_left: 0,
                kind: RoundKind::Retry { previous: 1 }
            })
        );
        let flow = password_sms_flow();
        assert_eq!(
            current_round(&flow, &[SRP_A, VERIFIER], 3, None).map(|round| round.kind),
            Ok(RoundKind::First)
        );
        assert!(current_round(&flow, &[SRP_A], 3, None).is_err());
        assert!(current_round(&sms_flow(), &[SMS], 3, None).is_err());
    }

    fn flow(value: &str) -> AuthFlow {
        AuthFlow::parse(value).unwrap()
    }

    fn captcha_round(attempt: u8) -> FlowDecision {
        FlowDecision::Challenge(NextChallenge::Custom {
            step: ChallengeStep::Captcha,
            attempt,
        })
    }

    #[test]
    fn captcha_then_sms_asks_the_captcha_first_and_the_code_only_after_it_passed() {
        let flow = flow("captcha,sms_otp");
        assert_eq!(decide(&flow, &[], false, 3), captcha_round(1));
        assert_eq!(decide(&flow, &[CAPTCHA_WRONG], false, 3), captcha_round(2));
        assert_eq!(decide(&flow, &[CAPTCHA], false, 3), sms_round(1));
        assert_eq!(
            decide(&flow, &[CAPTCHA_WRONG, CAPTCHA, SMS_WRONG], false, 3),
            sms_round(2)
        );
        assert_eq!(
            decide(&flow, &[CAPTCHA, SMS], false, 3),
            FlowDecision::IssueTokens
        );
        // The SMS step alone is not enough: the CAPTCHA must come first.
        assert_eq!(
            decide(&flow, &[SMS], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 })
        );
        // A passed CAPTCHA is not a sign-in.
        assert_eq!(
            decide(&flow, &[CAPTCHA, CAPTCHA], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 1 })
        );
        assert_eq!(
            decide(&flow, &[CAPTCHA, SMS], true, 3),
            FlowDecision::Fail(FailReason::UserNotFound)
        );
    }

    #[test]
    fn the_captcha_has_its_own_attempt_limit() {
        let flow = flow("captcha,sms_otp");
        let limits = AttemptLimits {
            default: 3,
            captcha: 5,
            resends: 0,
        };
        let four_wrong = [CAPTCHA_WRONG; 4];
        assert_eq!(decide(&flow, &four_wrong, false, limits), captcha_round(5));
        assert_eq!(
            decide(&flow, &[CAPTCHA_WRONG; 5], false, limits),
            FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::Captcha))
        );
        // The SMS step keeps the default limit, counted afresh.
        let mut session = four_wrong.to_vec();
        session.extend([CAPTCHA, SMS_WRONG, SMS_WRONG]);
        assert_eq!(decide(&flow, &session, false, limits), sms_round(3));
        session.push(SMS_WRONG);
        assert_eq!(
            decide(&flow, &session, false, limits),
            FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp))
        );
        assert_eq!(
            current_round(&flow, &four_wrong, limits, None).map(|round| round.attempts_left),
            Ok(1)
        );
    }

    #[test]
    fn password_then_captcha_is_the_seeds_flow() {
        let flow = flow("password,captcha");
        assert_eq!(
            decide(&flow, &[SRP_A], false, 3),
            FlowDecision::Challenge(NextChallenge::PasswordVerifier)
        );
        assert_eq!(
            decide(&flow, &[SRP_A, VERIFIER], false, 3),
            captcha_round(1)
        );
        assert_eq!(
            decide(&flow, &[SRP_A, VERIFIER, CAPTCHA_WRONG, CAPTCHA], false, 3),
            FlowDecision::IssueTokens
        );
        assert_eq!(
            decide(&flow, &[SRP_A, VERIFIER_FAILED], false, 3),
            FlowDecision::Fail(FailReason::PasswordFailed)
        );
        assert_eq!(
            decide(&flow, &[SRP_A, CAPTCHA], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 1 })
        );
    }

    #[test]
    fn password_alone_is_refused() {
        let message = AuthFlow::parse("password").unwrap_err().to_string();
        assert!(message.contains("USER_SRP_AUTH"), "{message}");
    }

    #[test]
    fn all_three_steps_run_in_order() {
        let flow = flow("password,captcha,sms_otp");
        let mut session = vec![SRP_A, VERIFIER];
        assert_eq!(decide(&flow, &session, false, 3), captcha_round(1));
        session.push(CAPTCHA);
        assert_eq!(decide(&flow, &session, false, 3), sms_round(1));
        assert_eq!(
            current_round(&flow, &session, 3, None),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 1,
                attempts_left: 3,
                resends_left: 0,
                kind: RoundKind::First
            })
        );
        session.push(SMS);
        assert_eq!(decide(&flow, &session, false, 3), FlowDecision::IssueTokens);
        // Swapping the custom steps fails.
        assert_eq!(
            decide(&flow, &[SRP_A, VERIFIER, SMS, CAPTCHA], false, 3),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 2 })
        );
    }

    #[test]
    fn flow_parsing_accepts_supported_sequences_only() {
        assert_eq!(AuthFlow::parse("sms_otp").unwrap(), AuthFlow::sms_otp());
        assert_eq!(
            AuthFlow::parse(" password , sms_otp ").unwrap().steps(),
            &[ChallengeStep::Password, ChallengeStep::SmsOtp]
        );
        for supported in AuthFlow::SUPPORTED {
            assert_eq!(flow(supported).to_string(), *supported);
        }
        for bad in [
            "",
            "sms_otp,",
            "captcha",
            "sms_otp,captcha",
            "password,sms_otp,captcha",
            "email_otp,captcha",
            "sms_otp,email_otp",
            "captcha,sms_otp,email_otp",
            "sms_otp,sms_otp",
            "captcha,captcha,sms_otp",
            "sms_otp,password",
            "captcha,password",
            "SMS_OTP",
            "totp",
        ] {
            assert!(AuthFlow::parse(bad).is_err(), "{bad:?}");
        }
        let message = AuthFlow::parse("password,captcha,sms_otp,captcha")
            .unwrap_err()
            .to_string();
        assert!(message.contains("twice"), "{message}");
        let message = AuthFlow::parse("captcha").unwrap_err().to_string();
        assert!(
            message.contains("does not prove who the user is"),
            "{message}"
        );
        let message = AuthFlow::parse("sms_otp,captcha").unwrap_err().to_string();
        assert!(message.contains("before `sms_otp`"), "{message}");
    }

    #[test]
    fn every_step_order_is_either_supported_or_refused_with_a_reason() {
        // All sequences of up to three steps, repeats included.
        let mut sequences: Vec<Vec<ChallengeStep>> = vec![vec![]];
        for _ in 0..3 {
            let longer: Vec<Vec<ChallengeStep>> = sequences
                .iter()
                .flat_map(|sequence| {
                    ChallengeStep::ALL.into_iter().map(move |step| {
                        let mut next = sequence.clone();
                        next.push(step);
                        next
                    })
                })
                .collect();
            sequences.extend(longer);
        }
        sequences.sort();
        sequences.dedup();
        for steps in sequences {
            let text = steps
                .iter()
                .map(|step| step.config_name())
                .collect::<Vec<_>>()
                .join(",");
            let supported = AuthFlow::SUPPORTED.contains(&text.as_str());
            assert_eq!(AuthFlow::from_steps(steps).is_ok(), supported, "{text:?}");
        }
    }

    fn any_entry() -> impl Strategy<Value = SessionEntry> {
        let challenge = prop_oneof![
            Just(SessionChallenge::SrpA),
            Just(SessionChallenge::PasswordVerifier),
            Just(SessionChallenge::Custom(ChallengeStep::Captcha)),
            Just(SessionChallenge::Custom(ChallengeStep::SmsOtp)),
            Just(SessionChallenge::Custom(ChallengeStep::EmailOtp)),
            Just(SessionChallenge::UntaggedCustom),
            Just(SessionChallenge::Other),
        ];
        (challenge, any::<bool>())
            .prop_map(|(challenge, passed)| SessionEntry::new(challenge, passed))
    }

    fn any_flow() -> impl Strategy<Value = AuthFlow> {
        (
            prop::sample::select(AuthFlow::SUPPORTED),
            prop::sample::subsequence(Channel::ALL.to_vec(), 1..=3),
            any::<bool>(),
        )
            .prop_map(|(name, mut channels, reversed)| {
                if reversed {
                    channels.reverse();
                }
                flow(name).with_otp_channels(channels)
            })
    }

    /// Whether `action` asks `step` for a new code, written out independently of
    /// [`OtpAction::is_request_for`]: a resend on any code step; a switch to `sms` on the SMS
    /// step, to `email` on the e-mail step, to one of `OTP_CHANNELS` on the `otp` step.
    fn requests_a_code(flow: &AuthFlow, step: ChallengeStep, action: Option<OtpAction>) -> bool {
        match (step, action) {
            (
                ChallengeStep::SmsOtp | ChallengeStep::EmailOtp | ChallengeStep::Otp,
                Some(OtpAction::Resend),
            ) => true,
            (ChallengeStep::SmsOtp, Some(OtpAction::Switch(Channel::Sms))) => true,
            (ChallengeStep::EmailOtp, Some(OtpAction::Switch(Channel::Email))) => true,
            (ChallengeStep::Otp, Some(OtpAction::Switch(channel))) => {
                flow.otp_channels.contains(&channel)
            }
            _ => false,
        }
    }

    fn any_limits() -> impl Strategy<Value = AttemptLimits> {
        (1u8..=10, 1u8..=10, 0u8..=5).prop_map(|(default, captcha, resends)| AttemptLimits {
            default,
            captcha,
            resends,
        })
    }

    fn any_action() -> impl Strategy<Value = Option<OtpAction>> {
        prop_oneof![
            Just(None),
            Just(Some(OtpAction::Resend)),
            Just(Some(OtpAction::Switch(Channel::Sms))),
            Just(Some(OtpAction::Switch(Channel::Email))),
            Just(Some(OtpAction::Switch(Channel::Voice))),
            Just(Some(OtpAction::Unsupported)),
        ]
    }

    /// Any entry, sometimes marked resent.
    fn any_entry_or_resent() -> impl Strategy<Value = SessionEntry> {
        (any_entry(), 0u8..4).prop_map(|(entry, resent)| SessionEntry {
            resent: resent == 0 && matches!(entry.challenge, SessionChallenge::Custom(_)),
            ..entry
        })
    }

    /// The same specification as [`earns_tokens`] for sessions with codes sent again, written
    /// over positions: an entry is an action exactly when the next one is a resent round of the
    /// same step; a resent round must follow an action; a step's wrong answers are its failed
    /// rounds that were not actions; actions in all at most `limits.resends`.
    fn earns_tokens_with_resends(
        flow: &AuthFlow,
        session: &[SessionEntry],
        limits: AttemptLimits,
    ) -> bool {
        let is_action = |index: usize| {
            let (Some(entry), Some(next)) = (session.get(index), session.get(index + 1)) else {
                return false;
            };
            !entry.passed && next.resent && next.challenge == entry.challenge
        };
        let actions = (0..session.len()).filter(|&index| is_action(index)).count();
        let resent_where_allowed = session.iter().enumerate().all(|(index, entry)| {
            !entry.resent
                || (index > 0
                    && is_action(index - 1)
                    && matches!(entry.challenge, SessionChallenge::Custom(step) if step.takes_actions()))
        });
        if actions > usize::from(limits.resends) || !resent_where_allowed {
            return false;
        }
        // Without the actions, what is left must earn tokens the plain way.
        let answers: Vec<SessionEntry> = session
            .iter()
            .enumerate()
            .filter(|&(index, _)| !is_action(index))
            .map(|(_, entry)| SessionEntry {
                resent: false,
                ..*entry
            })
            .collect();
        earns_tokens(flow, &answers, limits)
    }

    /// The entries a well-behaved client produces when `step` passes.
    fn passing_entries(step: ChallengeStep) -> Vec<SessionEntry> {
        match step {
            ChallengeStep::Password => vec![SRP_A, VERIFIER],
            ChallengeStep::Captcha => vec![CAPTCHA],
            ChallengeStep::SmsOtp => vec![SMS],
            code @ (ChallengeStep::EmailOtp | ChallengeStep::Otp) => {
                vec![SessionEntry::new(SessionChallenge::Custom(code), true)]
            }
        }
    }

    /// The session a well-behaved client produces when every step passes.
    fn passing_session(flow: &AuthFlow) -> Vec<SessionEntry> {
        flow.steps()
            .iter()
            .copied()
            .flat_map(passing_entries)
            .collect()
    }

    /// The specification of a session that earns tokens, written independently of `replay`:
    /// each step of the flow in order — the password as a passed `SRP_A` then a passed
    /// `PASSWORD_VERIFIER`, a custom step as fewer wrong answers than its limit then a pass —
    /// and nothing else.
    fn earns_tokens(flow: &AuthFlow, session: &[SessionEntry], limits: AttemptLimits) -> bool {
        let mut rest = session;
        for &step in flow.steps() {
            if step == ChallengeStep::Password {
                let Some(([first, second], tail)) = rest.split_first_chunk::<2>() else {
                    return false;
                };
                if (*first, *second) != (SRP_A, VERIFIER) {
                    return false;
                }
                rest = tail;
                continue;
            }
            let custom = SessionChallenge::Custom(step);
            let wrong = rest
                .iter()
                .take_while(|entry| entry.challenge == custom && !entry.passed)
                .count();
            if wrong >= usize::from(limits.for_step(step)) {
                return false;
            }
            match rest.get(wrong) {
                Some(entry) if entry.challenge == custom && entry.passed => {}
                _ => return false,
            }
            rest = rest.get(wrong + 1..).unwrap_or_default();
        }
        rest.is_empty()
    }

    /// A session a client could produce on the way to tokens — some wrong answers to each custom
    /// step, within or at its limit — then changed in at most one place: an entry inserted,
    /// deleted, its result flipped, or two neighbours swapped. About a fifth are left as they
    /// are, so tokens are a common outcome and the checks below are reached in every run.
    fn near_passing() -> impl Strategy<Value = (AuthFlow, AttemptLimits, Vec<SessionEntry>)> {
        (
            any_flow(),
            any_limits(),
            prop::collection::vec(0u8..6, 3),
            0u8..5,
            any::<usize>(),
            any_entry(),
        )
            .prop_map(|(flow, limits, wrongs, mutation, index, entry)| {
                let mut session = Vec::new();
                for (position, &step) in flow.steps().iter().enumerate() {
                    if step.tag().is_some() {
                        // Up to the limit itself: some of these sessions have failed already.
                        let count = wrongs
                            .get(position)
                            .copied()
                            .unwrap_or(0)
                            .min(limits.for_step(step));
                        let wrong = SessionEntry::new(SessionChallenge::Custom(step), false);
                        session.extend(std::iter::repeat_n(wrong, usize::from(count)));
                    }
                    session.extend(passing_entries(step));
                }
                let len = session.len();
                match mutation {
                    1 => session.insert(index % (len + 1), entry),
                    2 if len > 0 => {
                        session.remove(index % len);
                    }
                    3 if len > 0 => {
                        if let Some(flipped) = session.get_mut(index % len) {
                            flipped.passed = !flipped.passed;
                        }
                    }
                    4 if len > 1 => session.swap(index % len, (index + 1) % len),
                    _ => {}
                }
                (flow, limits, session)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        #[test]
        fn tokens_exactly_when_the_session_is_a_passing_one(
            (flow, limits, session) in near_passing(),
        ) {
            let decision = decide(&flow, &session, false, limits);
            prop_assert_eq!(
                decision == FlowDecision::IssueTokens,
                earns_tokens(&flow, &session, limits),
                "{:?} {:?} -> {:?}", flow, session, decision
            );
            // Never for an unknown user, passing or not.
            prop_assert_ne!(decide(&flow, &session, true, limits), FlowDecision::IssueTokens);
        }
    }

    proptest! {
        #[test]
        fn never_tokens_unless_every_step_passed_in_order(
            flow in any_flow(),
            session in prop::collection::vec(any_entry(), 0..10),
            limits in any_limits(),
        ) {
            if decide(&flow, &session, false, limits) == FlowDecision::IssueTokens {
                let final_step = *flow.steps().last().unwrap();
                prop_assert_eq!(session.last().copied(), passing_entries(final_step).last().copied());
                // The session is exactly: each step passed in order, with only wrong answers to
                // custom steps in between.
                let passed: Vec<SessionEntry> = session.iter().copied().filter(|entry| entry.passed).collect();
                prop_assert_eq!(passed, passing_session(&flow));
                prop_assert!(session.iter().all(|entry| entry.passed || matches!(entry.challenge, SessionChallenge::Custom(_))));
            }
        }

        #[test]
        fn never_tokens_for_an_unknown_user(
            flow in any_flow(),
            session in prop::collection::vec(any_entry(), 0..10),
            limits in any_limits(),
        ) {
            prop_assert_ne!(decide(&flow, &session, true, limits), FlowDecision::IssueTokens);
        }

        #[test]
        fn always_fails_after_the_limit_of_wrong_answers_to_any_custom_step(
            flow in any_flow(),
            limits in any_limits(),
            step_index in 0usize..3,
            extra in prop::collection::vec(any_entry(), 0..4),
        ) {
            let Some(&step) = flow.steps().get(step_index) else { return Ok(()) };
            if step.tag().is_none() { return Ok(()) }
            // Every earlier step passed, then this one answered wrongly `limit` times.
            let mut session: Vec<SessionEntry> = flow.steps().iter().take(step_index).copied().flat_map(passing_entries).collect();
            let wrong = SessionEntry::new(SessionChallenge::Custom(step), false);
            let limit = usize::from(limits.for_step(step));
            session.extend(std::iter::repeat_n(wrong, limit - 1));
            let asked = matches!(decide(&flow, &session, false, limits), FlowDecision::Challenge(NextChallenge::Custom { step: asked, .. }) if asked == step);
            prop_assert!(asked);
            session.push(wrong);
            prop_assert_eq!(
                decide(&flow, &session, false, limits),
                FlowDecision::Fail(FailReason::TooManyWrongAnswers(step))
            );
            // Whatever comes after, the sign-in stays failed.
            session.extend(extra);
            prop_assert!(matches!(decide(&flow, &session, false, limits), FlowDecision::Fail(_)));
        }

        #[test]
        fn a_failed_password_verifier_ends_every_password_flow(
            flow in any_flow(),
            after in prop::collection::vec(any_entry(), 0..4),
        ) {
            prop_assume!(flow.starts_with_password());
            let mut session = vec![SRP_A, VERIFIER_FAILED];
            session.extend(after);
            prop_assert!(matches!(decide(&flow, &session, false, 3), FlowDecision::Fail(_)));
        }

        #[test]
        fn any_unknown_entry_fails(
            flow in any_flow(),
            before in prop::collection::vec(any_entry(), 0..4),
            after in prop::collection::vec(any_entry(), 0..4),
            passed in any::<bool>(),
            untagged in any::<bool>(),
        ) {
            let challenge = if untagged { SessionChallenge::UntaggedCustom } else { SessionChallenge::Other };
            let mut session = before;
            session.push(SessionEntry::new(challenge, passed));
            session.extend(after);
            prop_assert!(matches!(decide(&flow, &session, false, 3), FlowDecision::Fail(_)));
        }

        #[test]
        fn a_step_out_of_order_fails(
            flow in any_flow(),
            position in 0usize..3,
            limits in any_limits(),
        ) {
            // A passing session with one step's entries moved after the next step's.
            let steps = flow.steps();
            prop_assume!(position + 1 < steps.len());
            let mut reordered = steps.to_vec();
            reordered.swap(position, position + 1);
            let session: Vec<SessionEntry> = reordered.into_iter().flat_map(passing_entries).collect();
            prop_assert!(matches!(decide(&flow, &session, false, limits), FlowDecision::Fail(_)));
        }

        #[test]
        fn create_and_define_agree_on_the_step(
            flow in any_flow(),
            session in prop::collection::vec(any_entry(), 0..10),
            limits in any_limits(),
        ) {
            match decide(&flow, &session, false, limits) {
                FlowDecision::Challenge(NextChallenge::Custom { step, attempt }) => {
                    let round = current_round(&flow, &session, limits, None);
                    prop_assert!(round.is_ok());
                    let round = round.unwrap();
                    prop_assert_eq!(round.step, step);
                    prop_assert_eq!(round.attempt, attempt);
                    prop_assert_eq!(round.attempts_left, limits.for_step(step) - (attempt - 1));
                    prop_assert_eq!(matches!(round.kind, RoundKind::Retry { .. }), attempt > 1);
                }
                _ => prop_assert!(current_round(&flow, &session, limits, None).is_err()),
            }
        }
    }

    // Codes sent again at the client's request.

    const SMS_RESENT: SessionEntry = SessionEntry {
        resent: true,
        ..SMS
    };
    const SMS_RESENT_WRONG: SessionEntry = SessionEntry {
        resent: true,
        ..SMS_WRONG
    };

    fn with_resends(resends: u8) -> AttemptLimits {
        AttemptLimits {
            default: 3,
            captcha: 3,
            resends,
        }
    }

    #[test]
    fn an_action_is_read_from_the_client_metadata() {
        let metadata = |value: &str| {
            let mut map = std::collections::BTreeMap::new();
            map.insert(OTP_ACTION_KEY.to_owned(), value.to_owned());
            map
        };
        let read = |value: &str| OtpAction::from_client_metadata(&metadata(value));
        assert_eq!(read("resend"), Some(OtpAction::Resend));
        assert_eq!(read(" resend "), Some(OtpAction::Resend));
        assert_eq!(read("RESEND"), Some(OtpAction::Unsupported));
        assert_eq!(read("switch"), Some(OtpAction::Unsupported));
        let switch = |channel: &str| {
            let mut map = metadata("switch");
            map.insert(OTP_CHANNEL_KEY.to_owned(), channel.to_owned());
            OtpAction::from_client_metadata(&map)
        };
        assert_eq!(switch("email"), Some(OtpAction::Switch(Channel::Email)));
        assert_eq!(switch(" voice "), Some(OtpAction::Switch(Channel::Voice)));
        assert_eq!(switch("sms"), Some(OtpAction::Switch(Channel::Sms)));
        assert_eq!(switch("Email"), Some(OtpAction::Unsupported));
        assert_eq!(switch("fax"), Some(OtpAction::Unsupported));
        assert_eq!(read(""), None);
        assert_eq!(read("  "), None);
        let mut other = std::collections::BTreeMap::new();
        other.insert("otp_action".to_owned(), "resend".to_owned());
        assert_eq!(OtpAction::from_client_metadata(&other), None);
    }

    #[test]
    fn the_resent_flag_is_read_from_a_custom_rounds_metadata_only() {
        let read =
            |name: &str, metadata: &str| SessionEntry::from_cognito(name, false, Some(metadata));
        assert!(read("CUSTOM_CHALLENGE", "SMS_OTP:v2.1.a.b;resent").resent);
        assert_eq!(
            read("CUSTOM_CHALLENGE", "SMS_OTP:v2.1.a.b;resent").challenge,
            SessionChallenge::Custom(ChallengeStep::SmsOtp)
        );
        assert!(!read("CUSTOM_CHALLENGE", "SMS_OTP:v2.1.a.b").resent);
        assert!(!read("CUSTOM_CHALLENGE", "SMS_OTP:v2.1.a.b;resentx").resent);
        assert!(!read("CUSTOM_CHALLENGE", "SMS_OTP:resent").resent);
        assert!(!read("CUSTOM_CHALLENGE", "OTHER:x;resent").resent);
        assert!(!read("SRP_A", "SMS_OTP:x;resent").resent);
    }

    #[test]
    fn a_resend_asks_for_the_same_step_without_using_an_attempt() {
        let flow = sms_flow();
        let limits = with_resends(2);
        let resend = Some(OtpAction::Resend);
        assert_eq!(
            decide_with_action(&flow, &[SMS_WRONG], false, limits, resend),
            sms_round(1)
        );
        assert_eq!(
            current_round(&flow, &[SMS_WRONG], limits, resend),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 1,
                attempts_left: 3,
                resends_left: 1,
                kind: RoundKind::Resend { previous: 0 },
            })
        );
        // The code sent again passes; a wrong answer to it counts, the action did not.
        assert_eq!(
            decide(&flow, &[SMS_WRONG, SMS_RESENT], false, limits),
            FlowDecision::IssueTokens
        );
        assert_eq!(
            decide(&flow, &[SMS_WRONG, SMS_RESENT_WRONG], false, limits),
            sms_round(2)
        );
        // A retry after it re-uses the latest code.
        assert_eq!(
            current_round(&flow, &[SMS_WRONG, SMS_RESENT_WRONG], limits, None)
                .map(|round| round.kind),
            Ok(RoundKind::Retry { previous: 1 })
        );
        // An unknown user's resend goes on the same way (a decoy), and never earns tokens.
        assert_eq!(
            decide_with_action(&flow, &[SMS_WRONG], true, limits, resend),
            sms_round(1)
        );
        assert_eq!(
            decide(&flow, &[SMS_WRONG, SMS_RESENT], true, limits),
            FlowDecision::Fail(FailReason::UserNotFound)
        );
    }

    #[test]
    fn wrong_answers_count_across_every_code_of_the_step() {
        let flow = sms_flow();
        let limits = with_resends(2);
        // A wrong answer, then a request, then a wrong answer to the new code: two wrong so far.
        let session = [SMS_WRONG, SMS_WRONG, SMS_RESENT_WRONG];
        assert_eq!(decide(&flow, &session, false, limits), sms_round(3));
        // A third wrong answer, to either code, ends the sign-in.
        let third = [SMS_WRONG, SMS_WRONG, SMS_RESENT_WRONG, SMS_WRONG];
        assert_eq!(
            decide(&flow, &third, false, limits),
            FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp))
        );
        // So does a third round sent with an action Define does not know: it uses up an
        // attempt like a wrong answer.
        assert_eq!(
            decide_with_action(&flow, &third, false, limits, Some(OtpAction::Unsupported)),
            FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp))
        );
        // A request for a new code instead of the third answer goes on.
        assert_eq!(
            decide_with_action(&flow, &third, false, limits, Some(OtpAction::Resend)),
            sms_round(3)
        );
    }

    #[test]
    fn resends_past_the_limit_fail() {
        let flow = sms_flow();
        let resend = Some(OtpAction::Resend);
        let two_resends = [SMS_WRONG, SMS_RESENT_WRONG, SMS_RESENT_WRONG];
        assert_eq!(
            decide(&flow, &two_resends, false, with_resends(2)),
            sms_round(2)
        );
        assert_eq!(
            decide_with_action(&flow, &two_resends, false, with_resends(2), resend),
            FlowDecision::Fail(FailReason::TooManyResends)
        );
        // A third request, where three are allowed: no answer was wrong yet.
        assert_eq!(
            decide_with_action(&flow, &two_resends, false, with_resends(3), resend),
            sms_round(1)
        );
        assert_eq!(
            current_round(&flow, &two_resends, with_resends(3), resend)
                .map(|round| round.resends_left),
            Ok(0)
        );
        // A plain limit allows none.
        assert_eq!(
            decide_with_action(&flow, &[SMS_WRONG], false, 3, resend),
            FlowDecision::Fail(FailReason::TooManyResends)
        );
        assert_eq!(
            decide(&flow, &two_resends, false, with_resends(1)),
            FlowDecision::Fail(FailReason::TooManyResends)
        );
    }

    #[test]
    fn a_resent_round_must_follow_an_action_on_a_code_step() {
        let limits = with_resends(2);
        let sms = sms_flow();
        assert_eq!(
            decide(&sms, &[SMS_RESENT], false, limits),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 0 })
        );
        // After a passed round (Verify never passes an action) it is out of place.
        let password_sms = password_sms_flow();
        assert_eq!(
            decide(
                &password_sms,
                &[SRP_A, VERIFIER, SMS, SMS_RESENT],
                false,
                limits
            ),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 3 })
        );
        // A CAPTCHA round takes no actions: the action is ignored and the answer was judged.
        let captcha_sms = flow("captcha,sms_otp");
        let captcha_resent = SessionEntry {
            resent: true,
            ..CAPTCHA
        };
        assert_eq!(
            decide(
                &captcha_sms,
                &[CAPTCHA_WRONG, captcha_resent],
                false,
                limits
            ),
            FlowDecision::Fail(FailReason::UnexpectedEntry { position: 1 })
        );
        assert_eq!(
            decide_with_action(
                &captcha_sms,
                &[CAPTCHA_WRONG],
                false,
                limits,
                Some(OtpAction::Resend)
            ),
            captcha_round(2)
        );
        assert_eq!(
            current_round(
                &captcha_sms,
                &[CAPTCHA_WRONG],
                limits,
                Some(OtpAction::Resend)
            )
            .map(|round| round.kind),
            Ok(RoundKind::Retry { previous: 0 })
        );
        // Nor does a passed round: the next step's first round is a first round.
        assert_eq!(
            current_round(&captcha_sms, &[CAPTCHA], limits, Some(OtpAction::Resend))
                .map(|round| round.kind),
            Ok(RoundKind::First)
        );
    }

    #[test]
    fn an_unsupported_action_is_a_wrong_answer() {
        let flow = sms_flow();
        let unsupported = Some(OtpAction::Unsupported);
        assert_eq!(
            decide_with_action(&flow, &[SMS_WRONG], false, with_resends(2), unsupported),
            sms_round(2)
        );
        assert_eq!(
            current_round(&flow, &[SMS_WRONG], with_resends(2), unsupported)
                .map(|round| round.kind),
            Ok(RoundKind::Retry { previous: 0 })
        );
    }

    #[test]
    fn otp_channels_are_parsed_in_order_without_repeats() {
        assert_eq!(
            parse_channels("email, sms,voice"),
            Ok(vec![Channel::Email, Channel::Sms, Channel::Voice])
        );
        assert_eq!(parse_channels("voice"), Ok(vec![Channel::Voice]));
        for bad in ["", "sms,", "sms,sms", "SMS", "fax", "sms email"] {
            assert!(parse_channels(bad).is_err(), "{bad:?}");
        }
        let env_flow = |pairs: &'static [(&'static str, &'static str)]| {
            let lookup = |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            };
            AuthFlow::from_env(&Environment::new(&lookup))
        };
        let flow =
            env_flow(&[("AUTH_FLOW", "captcha,otp"), ("OTP_CHANNELS", "voice,sms")]).unwrap();
        assert_eq!(
            flow.channels(ChallengeStep::Otp),
            [Channel::Voice, Channel::Sms]
        );
        assert_eq!(flow.channels(ChallengeStep::Captcha), []);
        assert!(flow.may_send_by(Channel::Voice) && !flow.may_send_by(Channel::Email));
        let default = env_flow(&[("AUTH_FLOW", "otp")]).unwrap();
        assert_eq!(
            default.channels(ChallengeStep::Otp),
            [Channel::Sms, Channel::Email]
        );
        // The fixed steps keep their one channel whatever OTP_CHANNELS says.
        let sms = env_flow(&[("OTP_CHANNELS", "email")]).unwrap();
        assert_eq!(sms.channels(ChallengeStep::SmsOtp), [Channel::Sms]);
        assert!(!sms.may_send_by(Channel::Email));
        let error = env_flow(&[("OTP_CHANNELS", "sms,fax")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("OTP_CHANNELS") && error.contains("fax"),
            "{error}"
        );
        assert!(AuthFlow::parse("sms_otp,otp").is_err());
        assert!(AuthFlow::parse("otp,captcha").is_err());
    }

    #[test]
    fn a_switch_is_a_request_only_to_a_channel_the_step_offers() {
        const OTP_WRONG: SessionEntry =
            SessionEntry::new(SessionChallenge::Custom(ChallengeStep::Otp), false);
        let otp = flow("otp").with_otp_channels(vec![Channel::Sms, Channel::Voice]);
        let limits = with_resends(2);
        let round = |step: ChallengeStep, attempt: u8| {
            FlowDecision::Challenge(NextChallenge::Custom { step, attempt })
        };
        let switch = |channel| Some(OtpAction::Switch(channel));
        // To voice: a request, no attempt used, a resend round.
        assert_eq!(
            decide_with_action(&otp, &[OTP_WRONG], false, limits, switch(Channel::Voice)),
            round(ChallengeStep::Otp, 1)
        );
        assert_eq!(
            current_round(&otp, &[OTP_WRONG], limits, switch(Channel::Voice)).map(|r| r.kind),
            Ok(RoundKind::Resend { previous: 0 })
        );
        // To e-mail, which this flow does not offer: a wrong answer.
        assert_eq!(
            decide_with_action(&otp, &[OTP_WRONG], false, limits, switch(Channel::Email)),
            round(ChallengeStep::Otp, 2)
        );
        assert_eq!(
            current_round(&otp, &[OTP_WRONG], limits, switch(Channel::Email)).map(|r| r.kind),
            Ok(RoundKind::Retry { previous: 0 })
        );
        assert!(!answered_with_action(
            &otp,
            &[OTP_WRONG],
            switch(Channel::Email)
        ));
        assert!(answered_with_action(
            &otp,
            &[OTP_WRONG],
            switch(Channel::Voice)
        ));
        // On the SMS step only `sms` is offered.
        assert_eq!(
            decide_with_action(
                &sms_flow(),
                &[SMS_WRONG],
                false,
                limits,
                switch(Channel::Voice)
            ),
            sms_round(2)
        );
        // Switches and resends share one limit.
        let resent = SessionEntry {
            resent: true,
            ..OTP_WRONG
        };
        assert_eq!(
            decide_with_action(
                &otp,
                &[OTP_WRONG, resent, resent],
                false,
                limits,
                switch(Channel::Sms)
            ),
            FlowDecision::Fail(FailReason::TooManyResends)
        );
    }

    #[test]
    fn only_a_failed_code_round_with_an_action_was_not_a_guess() {
        let resend = Some(OtpAction::Resend);
        let flow = sms_flow();
        assert!(answered_with_action(&flow, &[SMS_WRONG], resend));
        // An action this release does not know uses up an attempt and counts for the lockout.
        assert!(!answered_with_action(
            &flow,
            &[SMS_WRONG],
            Some(OtpAction::Unsupported)
        ));
        // So does a switch to a channel the step does not allow.
        assert!(!answered_with_action(
            &flow,
            &[SMS_WRONG],
            Some(OtpAction::Switch(Channel::Email))
        ));
        assert!(answered_with_action(
            &flow,
            &[SMS_WRONG],
            Some(OtpAction::Switch(Channel::Sms))
        ));
        assert!(answered_with_action(&flow, &[SMS_RESENT_WRONG], resend));
        assert!(!answered_with_action(&flow, &[SMS_WRONG], None));
        assert!(!answered_with_action(&flow, &[SMS], resend));
        assert!(!answered_with_action(&flow, &[CAPTCHA_WRONG], resend));
        assert!(!answered_with_action(
            &flow,
            &[SRP_A, VERIFIER_FAILED],
            resend
        ));
        assert!(!answered_with_action(&flow, &[], resend));
    }

    /// A session a client could produce on the way to tokens with codes sent again — wrong
    /// answers and actions mixed before the right code — then changed in at most one place.
    fn near_passing_with_resends()
    -> impl Strategy<Value = (AuthFlow, AttemptLimits, Vec<SessionEntry>)> {
        (
            any_flow(),
            any_limits(),
            prop::collection::vec(prop::collection::vec(any::<bool>(), 0..6), 3),
            0u8..6,
            any::<usize>(),
            any_entry_or_resent(),
        )
            .prop_map(|(flow, limits, rounds, mutation, index, entry)| {
                let mut session = Vec::new();
                for (position, &step) in flow.steps().iter().enumerate() {
                    if step.tag().is_some() {
                        let custom = SessionChallenge::Custom(step);
                        // Each `true` is an action (the next round is resent), each `false` a
                        // wrong answer; up to the limits and sometimes past them.
                        let mut resent = false;
                        for &action in rounds.get(position).map_or(&[][..], Vec::as_slice) {
                            let action = action && step.takes_actions();
                            session.push(SessionEntry {
                                challenge: custom,
                                passed: false,
                                resent,
                            });
                            resent = action;
                        }
                        session.push(SessionEntry {
                            challenge: custom,
                            passed: true,
                            resent,
                        });
                    } else {
                        session.extend(passing_entries(step));
                    }
                }
                let len = session.len();
                match mutation {
                    1 => session.insert(index % (len + 1), entry),
                    2 if len > 0 => {
                        session.remove(index % len);
                    }
                    3 if len > 0 => {
                        if let Some(flipped) = session.get_mut(index % len) {
                            flipped.passed = !flipped.passed;
                        }
                    }
                    4 if len > 1 => session.swap(index % len, (index + 1) % len),
                    5 if len > 0 => {
                        if let Some(flipped) = session.get_mut(index % len) {
                            flipped.resent = !flipped.resent;
                        }
                    }
                    _ => {}
                }
                (flow, limits, session)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        #[test]
        fn with_resends_tokens_exactly_when_the_session_is_a_passing_one(
            (flow, limits, session) in near_passing_with_resends(),
            action in any_action(),
        ) {
            // Tokens follow from the session alone: an action sent with a passing round changes
            // nothing (Verify never passes an answer that comes with one).
            let decision = decide_with_action(&flow, &session, false, limits, action);
            prop_assert_eq!(
                decision == FlowDecision::IssueTokens,
                earns_tokens_with_resends(&flow, &session, limits),
                "{:?} {:?} -> {:?}", flow, session, decision
            );
            prop_assert_ne!(
                decide_with_action(&flow, &session, true, limits, action),
                FlowDecision::IssueTokens
            );
        }

        #[test]
        fn never_more_wrong_answers_or_resends_than_the_limits(
            (flow, limits, session) in near_passing_with_resends(),
            action in any_action(),
        ) {
            let decision = decide_with_action(&flow, &session, false, limits, action);
            if matches!(decision, FlowDecision::Fail(_)) {
                return Ok(());
            }
            let is_action = |index: usize| match (session.get(index), session.get(index + 1)) {
                (Some(entry), Some(next)) => !entry.passed && next.resent && next.challenge == entry.challenge,
                (Some(entry), None) => !entry.passed
                    && matches!(entry.challenge, SessionChallenge::Custom(step) if requests_a_code(&flow, step, action)),
                _ => false,
            };
            // Codes sent again (including the one this round asks for) within the limit.
            let actions = (0..session.len()).filter(|&index| is_action(index)).count();
            prop_assert!(actions <= usize::from(limits.resends), "{:?} {:?}", session, action);
            // Wrong answers to any custom step stay below its limit.
            for &step in flow.steps().iter().filter(|step| step.tag().is_some()) {
                let wrong = (0..session.len())
                    .filter(|&index| session[index].challenge == SessionChallenge::Custom(step)
                        && !session[index].passed && !is_action(index))
                    .count();
                prop_assert!(wrong < usize::from(limits.for_step(step)), "{:?} {:?}", session, action);
            }
        }

        #[test]
        fn create_counts_attempts_and_resends_as_the_session_shows_them(
            (flow, limits, session) in near_passing_with_resends(),
            cut in any::<usize>(),
            action in any_action(),
        ) {
            // Cut a sign-in short, so the session often ends in a failed code round and the
            // request to send it again is reached in most runs.
            let session = &session[..cut % (session.len() + 1)];
            let Ok(round) = current_round(&flow, session, limits, action) else { return Ok(()) };
            // Counted independently: entries of this step; the requests among them (an entry
            // followed by a resent one, or the last one with a resend request); the rest of its
            // failures are wrong answers; resent entries anywhere are past requests.
            let custom = SessionChallenge::Custom(round.step);
            let this_step: Vec<usize> = (0..session.len()).filter(|&i| session[i].challenge == custom).collect();
            let request_at = |i: usize| !session[i].passed && round.step.takes_actions() && match session.get(i + 1) {
                Some(next) => next.resent && next.challenge == custom,
                None => requests_a_code(&flow, round.step, action),
            };
            let requests = this_step.iter().filter(|&&i| request_at(i)).count();
            let wrong = this_step.iter().filter(|&&i| !session[i].passed && !request_at(i)).count();
            let earlier = session.iter().filter(|entry| entry.resent).count();
            prop_assert_eq!(usize::from(round.attempts_left), usize::from(limits.for_step(round.step)) - wrong);
            prop_assert_eq!(usize::from(round.attempt), wrong + 1);
            let pending = usize::from(session.last().is_some_and(|_| request_at(session.len() - 1)));
            prop_assert_eq!(usize::from(round.resends_left), usize::from(limits.resends) - earlier - pending);
            prop_assert!(requests <= usize::from(limits.resends));
            let expected = match this_step.last() {
                None => RoundKind::First,
                Some(&last) if request_at(last) => RoundKind::Resend { previous: last },
                Some(&last) => RoundKind::Retry { previous: last },
            };
            prop_assert_eq!(round.kind, expected);
        }

        #[test]
        fn create_and_define_agree_on_every_round_with_actions(
            flow in any_flow(),
            session in prop::collection::vec(any_entry_or_resent(), 0..10),
            limits in any_limits(),
            action in any_action(),
        ) {
            match decide_with_action(&flow, &session, false, limits, action) {
                FlowDecision::Challenge(NextChallenge::Custom { step, attempt }) => {
                    let round = current_round(&flow, &session, limits, action);
                    prop_assert!(round.is_ok());
                    let round = round.unwrap();
                    prop_assert_eq!(round.step, step);
                    prop_assert_eq!(round.attempt, attempt);
                    let ran_before = session.iter().any(|entry| entry.challenge == SessionChallenge::Custom(step));
                    prop_assert_eq!(round.kind == RoundKind::First, !ran_before);
                    // A new code is sent only for a resend the limit allows.
                    if let RoundKind::Resend { previous } = round.kind {
                        prop_assert_eq!(Some(previous), session.len().checked_sub(1));
                        prop_assert!(requests_a_code(&flow, step, action));
                        prop_assert!(step.takes_actions());
                        let resent = session.iter().filter(|entry| entry.resent).count();
                        prop_assert!(resent < usize::from(limits.resends));
                    }
                }
                _ => prop_assert!(current_round(&flow, &session, limits, action).is_err()),
            }
        }
    }
}
