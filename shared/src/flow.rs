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

use std::fmt;

use crate::Error;
use crate::env::Environment;

/// The tag of the SMS step ([`ChallengeStep::tag`]): in `challengeMetadata`, the public
/// `challenge` parameter and the logs.
pub const SMS_OTP_TAG: &str = "SMS_OTP";
/// The tag of the CAPTCHA step ([`ChallengeStep::tag`]).
pub const CAPTCHA_TAG: &str = "CAPTCHA";

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
}

impl ChallengeStep {
    /// The name used in `AUTH_FLOW`.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Captcha => "captcha",
            Self::SmsOtp => "sms_otp",
        }
    }

    /// The tag that starts `challengeMetadata` and names the step in public parameters
    /// (`challenge`); `None` for steps Cognito runs itself.
    pub fn tag(self) -> Option<&'static str> {
        match self {
            Self::Password => None,
            Self::Captcha => Some(CAPTCHA_TAG),
            Self::SmsOtp => Some(SMS_OTP_TAG),
        }
    }

    /// The custom step a tag names.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            CAPTCHA_TAG => Some(Self::Captcha),
            SMS_OTP_TAG => Some(Self::SmsOtp),
            _ => None,
        }
    }

    /// Whether passing this step proves who the user is (a flow must end with such a step).
    pub fn authenticates(self) -> bool {
        matches!(self, Self::Password | Self::SmsOtp)
    }

    /// Every step, in the order a flow may hold them.
    pub const ALL: [Self; 3] = [Self::Password, Self::Captcha, Self::SmsOtp];

    /// The step `AUTH_FLOW` names `name`.
    pub fn from_config_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|step| step.config_name() == name)
    }
}

/// How many wrong answers end the sign-in, per custom step (`MAX_ATTEMPTS`, and
/// `CAPTCHA_MAX_ATTEMPTS` for the CAPTCHA). A plain number sets the same limit for every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimits {
    /// The limit for every step without its own (at least 1).
    pub default: u8,
    /// The limit for the CAPTCHA step (at least 1).
    pub captcha: u8,
}

impl AttemptLimits {
    /// `MAX_ATTEMPTS` (default 3, 1 to 10) and `CAPTCHA_MAX_ATTEMPTS` (default `MAX_ATTEMPTS`).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        let default = env.number("MAX_ATTEMPTS", 3, 1..=10)?;
        Ok(Self {
            default,
            captcha: env.number("CAPTCHA_MAX_ATTEMPTS", default, 1..=10)?,
        })
    }

    /// The limit for `step` (at least 1).
    pub fn for_step(self, step: ChallengeStep) -> u8 {
        match step {
            ChallengeStep::Captcha => self.captcha,
            ChallengeStep::Password | ChallengeStep::SmsOtp => self.default,
        }
        .max(1)
    }
}

impl From<u8> for AttemptLimits {
    fn from(limit: u8) -> Self {
        Self {
            default: limit,
            captcha: limit,
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

/// A validated sequence of steps, e.g. `sms_otp` or `password,sms_otp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFlow {
    steps: Vec<ChallengeStep>,
}

impl AuthFlow {
    /// `AUTH_FLOW` (default `sms_otp`).
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        match env.get("AUTH_FLOW") {
            Some(value) => Self::parse(&value)
                .map_err(|invalid| Error::config("AUTH_FLOW", invalid.to_string())),
            None => Ok(Self::sms_otp()),
        }
    }

    /// The flows this release supports, as `AUTH_FLOW` spells them.
    pub const SUPPORTED: &'static [&'static str] = &[
        "sms_otp",
        "captcha,sms_otp",
        "password,captcha",
        "password,sms_otp",
        "password,captcha,sms_otp",
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
                    "unknown step `{}` (known: password, captcha, sms_otp)",
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
                "a CAPTCHA alone does not prove who the user is: add password or sms_otp (supported: {})",
                Self::SUPPORTED.join("; ")
            )));
        }
        let position = |wanted| steps.iter().position(|step| *step == wanted);
        if let (Some(captcha), Some(sms)) = (
            position(ChallengeStep::Captcha),
            position(ChallengeStep::SmsOtp),
        ) && captcha > sms
        {
            return Err(InvalidFlow(
                "put `captcha` before `sms_otp`: after it, bots would already have made the pool send SMS"
                    .to_owned(),
            ));
        }
        Ok(Self { steps })
    }

    /// The default flow: a code by SMS, nothing else.
    pub fn sms_otp() -> Self {
        Self {
            steps: vec![ChallengeStep::SmsOtp],
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
}

impl SessionEntry {
    /// Reads a Cognito session entry: the challenge name and, for custom rounds, the step tag that
    /// starts `challengeMetadata` (`SMS_OTP:…`).
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
        Self { challenge, passed }
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
    /// Which try at this step it is (1 for the first).
    pub attempt: u8,
    /// How many wrong answers this step still allows, this round included.
    pub attempts_left: u8,
    /// Position in the session of the previous round of this step, if this is a retry: its
    /// `challengeMetadata` holds what the first round created (an SMS code is re-used, not
    /// re-sent; a CAPTCHA gets a new one).
    pub previous_round: Option<usize>,
}

/// Where a valid session stands.
struct Progress {
    /// Index into the flow of the step being worked on (`steps.len()` when all passed).
    step_index: usize,
    /// Within a password step: whether `SRP_A` passed already.
    srp_started: bool,
    /// Wrong answers to the current step so far.
    wrong_answers: u8,
    /// Position of the most recent round of the current custom step.
    last_round: Option<usize>,
}

/// Replays the session against the flow; `Err` when the session already means failure.
fn replay(
    flow: &AuthFlow,
    session: &[SessionEntry],
    limits: AttemptLimits,
) -> Result<Progress, FailReason> {
    let mut progress = Progress {
        step_index: 0,
        srp_started: false,
        wrong_answers: 0,
        last_round: None,
    };
    for (position, entry) in session.iter().enumerate() {
        let Some(&step) = flow.steps().get(progress.step_index) else {
            // A round after the flow was complete.
            return Err(FailReason::UnexpectedEntry { position });
        };
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
                if entry.passed {
                    true
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
            };
        }
    }
    Ok(progress)
}

/// DefineAuthChallenge's decision. `limits` are the numbers of wrong answers that end the sign-in
/// (a plain `u8` sets one limit for every step).
pub fn decide(
    flow: &AuthFlow,
    session: &[SessionEntry],
    user_not_found: bool,
    limits: impl Into<AttemptLimits>,
) -> FlowDecision {
    let progress = match replay(flow, session, limits.into()) {
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

/// The round CreateAuthChallenge must create for this session, or why there is none (Create is
/// only called after Define asked for a custom challenge, so `Err` means a confused caller).
pub fn current_round(
    flow: &AuthFlow,
    session: &[SessionEntry],
    limits: impl Into<AttemptLimits>,
) -> Result<Round, FailReason> {
    let limits = limits.into();
    let progress = replay(flow, session, limits)?;
    match flow.steps().get(progress.step_index) {
        Some(&step) if step.tag().is_some() => Ok(Round {
            step,
            attempt: progress.wrong_answers + 1,
            attempts_left: limits.for_step(step).saturating_sub(progress.wrong_answers),
            previous_round: progress.last_round,
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

    const SMS: SessionEntry = SessionEntry {
        challenge: SessionChallenge::Custom(ChallengeStep::SmsOtp),
        passed: true,
    };
    const SMS_WRONG: SessionEntry = SessionEntry {
        challenge: SessionChallenge::Custom(ChallengeStep::SmsOtp),
        passed: false,
    };
    const CAPTCHA: SessionEntry = SessionEntry {
        challenge: SessionChallenge::Custom(ChallengeStep::Captcha),
        passed: true,
    };
    const CAPTCHA_WRONG: SessionEntry = SessionEntry {
        challenge: SessionChallenge::Custom(ChallengeStep::Captcha),
        passed: false,
    };
    const SRP_A: SessionEntry = SessionEntry {
        challenge: SessionChallenge::SrpA,
        passed: true,
    };
    const VERIFIER: SessionEntry = SessionEntry {
        challenge: SessionChallenge::PasswordVerifier,
        passed: true,
    };
    const VERIFIER_FAILED: SessionEntry = SessionEntry {
        challenge: SessionChallenge::PasswordVerifier,
        passed: false,
    };

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
            current_round(&flow, &[], 3),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 1,
                attempts_left: 3,
                previous_round: None
            })
        );
        assert_eq!(
            current_round(&flow, &[SMS_WRONG, SMS_WRONG], 3),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 3,
                attempts_left: 1,
                previous_round: Some(1)
            })
        );
        let flow = password_sms_flow();
        assert_eq!(
            current_round(&flow, &[SRP_A, VERIFIER], 3).map(|round| round.previous_round),
            Ok(None)
        );
        assert!(current_round(&flow, &[SRP_A], 3).is_err());
        assert!(current_round(&sms_flow(), &[SMS], 3).is_err());
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
            current_round(&flow, &four_wrong, limits).map(|round| round.attempts_left),
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
            current_round(&flow, &session, 3),
            Ok(Round {
                step: ChallengeStep::SmsOtp,
                attempt: 1,
                attempts_left: 3,
                previous_round: None
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
            Just(SessionChallenge::UntaggedCustom),
            Just(SessionChallenge::Other),
        ];
        (challenge, any::<bool>())
            .prop_map(|(challenge, passed)| SessionEntry { challenge, passed })
    }

    fn any_flow() -> impl Strategy<Value = AuthFlow> {
        prop::sample::select(AuthFlow::SUPPORTED).prop_map(flow)
    }

    fn any_limits() -> impl Strategy<Value = AttemptLimits> {
        (1u8..6, 1u8..6).prop_map(|(default, captcha)| AttemptLimits { default, captcha })
    }

    /// The entries a well-behaved client produces when `step` passes.
    fn passing_entries(step: ChallengeStep) -> Vec<SessionEntry> {
        match step {
            ChallengeStep::Password => vec![SRP_A, VERIFIER],
            ChallengeStep::Captcha => vec![CAPTCHA],
            ChallengeStep::SmsOtp => vec![SMS],
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
                        let wrong = SessionEntry {
                            challenge: SessionChallenge::Custom(step),
                            passed: false,
                        };
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
            let wrong = SessionEntry { challenge: SessionChallenge::Custom(step), passed: false };
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
            session.push(SessionEntry { challenge, passed });
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
                    let round = current_round(&flow, &session, limits);
                    prop_assert!(round.is_ok());
                    let round = round.unwrap();
                    prop_assert_eq!(round.step, step);
                    prop_assert_eq!(round.attempt, attempt);
                    prop_assert_eq!(round.attempts_left, limits.for_step(step) - (attempt - 1));
                    prop_assert_eq!(round.previous_round.is_some(), attempt > 1);
                }
                _ => prop_assert!(current_round(&flow, &session, limits).is_err()),
            }
        }
    }
}
