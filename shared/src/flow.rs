//! The challenge state machine: a pure function from (configured flow, session so far,
//! `userNotFound`) to what happens next. No I/O and no AWS types: the triggers translate Cognito's
//! session into [`SessionEntry`] values and a [`FlowDecision`] back into a response.
//!
//! A flow is a sequence of [`ChallengeStep`]s. The session must show those steps passed **in
//! order**; each custom step may be answered wrongly fewer than `max_attempts` times; anything else
//! in the session (an unknown challenge name, a step out of order, a round after the flow was
//! complete, a failed password) ends the sign-in. Tokens are issued only when the last entry of the
//! session is the passed final step — never for an unknown user.
//!
//! How the steps show up in Cognito's session (AWS developer guide, "Custom authentication
//! challenge Lambda triggers"):
//! - `password`: the client starts `CUSTOM_AUTH` with `CHALLENGE_NAME: SRP_A`; Cognito records a
//!   passed `SRP_A`, Define answers `PASSWORD_VERIFIER`, Cognito checks the password and records
//!   `PASSWORD_VERIFIER`.
//! - custom steps (`sms_otp`): Define answers `CUSTOM_CHALLENGE`; Create tags the round by putting
//!   the step's [`ChallengeStep::tag`] first in `challengeMetadata` (`SMS_OTP:…`), so later calls
//!   never guess which step a round belonged to.

use std::fmt;

/// One step of a sign-in flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeStep {
    /// The user's Cognito password, checked by Cognito itself through SRP (`SRP_A`, then
    /// `PASSWORD_VERIFIER`).
    Password,
    /// A one-time code sent by SMS (a `CUSTOM_CHALLENGE` round).
    SmsOtp,
}

impl ChallengeStep {
    /// The name used in `AUTH_FLOW`.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::SmsOtp => "sms_otp",
        }
    }

    /// The tag that starts `challengeMetadata` and names the step in public parameters
    /// (`challenge`); `None` for steps Cognito runs itself.
    pub fn tag(self) -> Option<&'static str> {
        match self {
            Self::Password => None,
            Self::SmsOtp => Some("SMS_OTP"),
        }
    }

    /// The custom step a tag names.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "SMS_OTP" => Some(Self::SmsOtp),
            _ => None,
        }
    }

    /// Whether passing this step proves who the user is (a flow must end with such a step).
    pub fn authenticates(self) -> bool {
        matches!(self, Self::Password | Self::SmsOtp)
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
    /// The flows this release supports, as `AUTH_FLOW` spells them.
    pub const SUPPORTED: &'static [&'static str] = &["sms_otp", "password,sms_otp"];

    /// Parses a comma-separated `AUTH_FLOW` value.
    pub fn parse(value: &str) -> Result<Self, InvalidFlow> {
        let mut steps = Vec::new();
        for name in value.split(',').map(str::trim) {
            let step = match name {
                "sms_otp" => ChallengeStep::SmsOtp,
                "password" => ChallengeStep::Password,
                "" => return Err(InvalidFlow("a step name is empty".to_owned())),
                other => {
                    return Err(InvalidFlow(format!(
                        "unknown step `{}` (known: password, sms_otp)",
                        other.chars().take(32).collect::<String>()
                    )));
                }
            };
            if steps.contains(&step) {
                return Err(InvalidFlow(format!("step `{step}` appears twice")));
            }
            steps.push(step);
        }
        Self::from_steps(steps)
    }

    /// Builds a flow from steps, with the same checks as [`AuthFlow::parse`].
    pub fn from_steps(steps: Vec<ChallengeStep>) -> Result<Self, InvalidFlow> {
        match steps.as_slice() {
            [ChallengeStep::SmsOtp] | [ChallengeStep::Password, ChallengeStep::SmsOtp] => {
                Ok(Self { steps })
            }
            [] => Err(InvalidFlow("the flow has no steps".to_owned())),
            [.., last] if !last.authenticates() => Err(InvalidFlow(format!(
                "the flow ends with `{last}`, which does not prove who the user is"
            ))),
            _ => Err(InvalidFlow(format!(
                "unsupported flow `{}` (supported: {})",
                steps
                    .iter()
                    .map(|step| step.config_name())
                    .collect::<Vec<_>>()
                    .join(","),
                Self::SUPPORTED.join("; ")
            ))),
        }
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
    /// `CUSTOM_CHALLENGE` for this step; `attempt` counts from 1.
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
    /// A step was answered wrongly `max_attempts` times.
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
    /// `challengeMetadata` holds what the first round created (the code is re-used, not re-sent).
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
    max_attempts: u8,
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
                    if progress.wrong_answers >= max_attempts {
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

/// DefineAuthChallenge's decision. `max_attempts` is the number of wrong answers that ends the
/// sign-in (at least 1).
pub fn decide(
    flow: &AuthFlow,
    session: &[SessionEntry],
    user_not_found: bool,
    max_attempts: u8,
) -> FlowDecision {
    let progress = match replay(flow, session, max_attempts.max(1)) {
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
    max_attempts: u8,
) -> Result<Round, FailReason> {
    let max_attempts = max_attempts.max(1);
    let progress = replay(flow, session, max_attempts)?;
    match flow.steps().get(progress.step_index) {
        Some(&step) if step.tag().is_some() => Ok(Round {
            step,
            attempt: progress.wrong_answers + 1,
            attempts_left: max_attempts - progress.wrong_answers,
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

    #[test]
    fn flow_parsing_accepts_supported_sequences_only() {
        assert_eq!(AuthFlow::parse("sms_otp").unwrap(), AuthFlow::sms_otp());
        assert_eq!(
            AuthFlow::parse(" password , sms_otp ").unwrap().steps(),
            &[ChallengeStep::Password, ChallengeStep::SmsOtp]
        );
        for bad in [
            "",
            "sms_otp,",
            "captcha",
            "sms_otp,sms_otp",
            "sms_otp,password",
        ] {
            assert!(AuthFlow::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            AuthFlow::parse("password,sms_otp").unwrap().to_string(),
            "password,sms_otp"
        );
    }

    fn any_entry() -> impl Strategy<Value = SessionEntry> {
        let challenge = prop_oneof![
            Just(SessionChallenge::SrpA),
            Just(SessionChallenge::PasswordVerifier),
            Just(SessionChallenge::Custom(ChallengeStep::SmsOtp)),
            Just(SessionChallenge::UntaggedCustom),
            Just(SessionChallenge::Other),
        ];
        (challenge, any::<bool>())
            .prop_map(|(challenge, passed)| SessionEntry { challenge, passed })
    }

    fn any_flow() -> impl Strategy<Value = AuthFlow> {
        prop_oneof![Just(sms_flow()), Just(password_sms_flow())]
    }

    /// The session a well-behaved client produces when every step passes.
    fn passing_session(flow: &AuthFlow) -> Vec<SessionEntry> {
        flow.steps()
            .iter()
            .flat_map(|step| match step {
                ChallengeStep::Password => vec![SRP_A, VERIFIER],
                ChallengeStep::SmsOtp => vec![SMS],
            })
            .collect()
    }

    proptest! {
        #[test]
        fn never_tokens_unless_the_last_entry_passes_the_final_step(
            flow in any_flow(),
            session in prop::collection::vec(any_entry(), 0..8),
            max_attempts in 1u8..6,
        ) {
            if decide(&flow, &session, false, max_attempts) == FlowDecision::IssueTokens {
                let last = session.last().copied();
                prop_assert_eq!(last, Some(SMS));
                // And the session is exactly: each step passed in order, with only wrong
                // answers to custom steps in between.
                let passed: Vec<SessionEntry> = session.iter().copied().filter(|entry| entry.passed).collect();
                prop_assert_eq!(passed, passing_session(&flow));
                prop_assert!(session.iter().all(|entry| entry.passed || matches!(entry.challenge, SessionChallenge::Custom(_))));
            }
        }

        #[test]
        fn never_tokens_for_an_unknown_user(
            flow in any_flow(),
            session in prop::collection::vec(any_entry(), 0..8),
            max_attempts in 1u8..6,
        ) {
            prop_assert_ne!(decide(&flow, &session, true, max_attempts), FlowDecision::IssueTokens);
        }

        #[test]
        fn always_fails_after_max_attempts_wrong_answers(
            flow in any_flow(),
            max_attempts in 1u8..6,
            extra in prop::collection::vec(any_entry(), 0..4),
        ) {
            let mut session = passing_session(&flow);
            session.pop(); // the final SMS step is not passed…
            session.extend(std::iter::repeat_n(SMS_WRONG, usize::from(max_attempts))); // …but failed max times
            prop_assert_eq!(
                decide(&flow, &session, false, max_attempts),
                FlowDecision::Fail(FailReason::TooManyWrongAnswers(ChallengeStep::SmsOtp))
            );
            // Whatever comes after, the sign-in stays failed.
            session.extend(extra);
            prop_assert!(matches!(decide(&flow, &session, false, max_attempts), FlowDecision::Fail(_)));
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
        fn create_and_define_agree_on_the_step(
            flow in any_flow(),
            session in prop::collection::vec(any_entry(), 0..8),
            max_attempts in 1u8..6,
        ) {
            match decide(&flow, &session, false, max_attempts) {
                FlowDecision::Challenge(NextChallenge::Custom { step, attempt }) => {
                    let round = current_round(&flow, &session, max_attempts);
                    prop_assert!(round.is_ok());
                    let round = round.unwrap();
                    prop_assert_eq!(round.step, step);
                    prop_assert_eq!(round.attempt, attempt);
                    prop_assert_eq!(round.previous_round.is_some(), attempt > 1);
                }
                _ => prop_assert!(current_round(&flow, &session, max_attempts).is_err()),
            }
        }
    }
}
