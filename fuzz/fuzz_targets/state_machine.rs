//! The challenge state machine over arbitrary sessions: any flow (steps and channels drawn from
//! the input, invalid ones included), any session entries, limits and client action.
//!
//! Invariants:
//! - tokens only when an oracle written here from the documented protocol finds every step of
//!   the flow passed in order, within the limits, for an existing user;
//! - Define and Create agree: whenever Define asks for a custom round, Create can work out that
//!   very round (same step and attempt, attempts left within the limit), and when Define ends
//!   the sign-in Create has no round to make;
//! - a request for another code is never a passed round.
#![no_main]

use arbitrary::Arbitrary;
use cognito_passwordless::flow::{
    self, AttemptLimits, AuthFlow, ChallengeStep, Channel, FlowDecision, NextChallenge, OtpAction,
    SessionChallenge, SessionEntry,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Kind {
    SrpA,
    PasswordVerifier,
    Custom(u8),
    UntaggedCustom,
    Other,
}

#[derive(Debug, Arbitrary)]
struct Entry {
    kind: Kind,
    passed: bool,
    resent: bool,
}

#[derive(Debug, Arbitrary)]
enum Action {
    Resend,
    Switch(u8),
    Unsupported,
}

#[derive(Debug, Arbitrary)]
struct Input {
    steps: Vec<u8>,
    channels: Vec<u8>,
    session: Vec<Entry>,
    user_not_found: bool,
    default_limit: u8,
    captcha_limit: u8,
    resends: u8,
    action: Option<Action>,
}

fn step(index: u8) -> ChallengeStep {
    ChallengeStep::ALL[usize::from(index) % ChallengeStep::ALL.len()]
}

fn channel(index: u8) -> Channel {
    Channel::ALL[usize::from(index) % Channel::ALL.len()]
}

/// The oracle (docs/flows.md): the passed rounds name the flow's steps exactly, in order; the
/// password step starts with one passed `SRP_A`; no round failed a password step; each custom
/// step had fewer wrong answers than its limit (a failed round followed by a resent one was a
/// request, not an answer); no more resends than allowed; the user exists.
fn every_step_passed(
    flow: &AuthFlow,
    session: &[SessionEntry],
    limits: AttemptLimits,
    user_not_found: bool,
) -> bool {
    if user_not_found || session.last().is_none_or(|entry| !entry.passed) {
        return false;
    }
    let mut passed = Vec::new();
    let mut wrong = [0u8; ChallengeStep::ALL.len()];
    let mut resends = 0u8;
    let mut srp_started = false;
    for (position, entry) in session.iter().enumerate() {
        let step = match entry.challenge {
            SessionChallenge::SrpA => {
                if !entry.passed || srp_started {
                    return false;
                }
                srp_started = true;
                continue;
            }
            SessionChallenge::PasswordVerifier if srp_started && entry.passed => {
                ChallengeStep::Password
            }
            SessionChallenge::Custom(step) if step.tag().is_some() => step,
            _ => return false,
        };
        if entry.resent {
            resends += 1;
        }
        if entry.passed {
            passed.push(step);
            continue;
        }
        let request = session
            .get(position + 1)
            .is_some_and(|next| next.resent && next.challenge == entry.challenge);
        if !request {
            let slot = ChallengeStep::ALL
                .iter()
                .position(|s| *s == step)
                .unwrap_or(0);
            wrong[slot] += 1;
            if wrong[slot] >= limits.for_step(step) {
                return false;
            }
        }
    }
    passed == flow.steps() && resends <= limits.resends
}

fuzz_target!(|input: Input| {
    let steps: Vec<ChallengeStep> = input.steps.iter().take(6).copied().map(step).collect();
    let Ok(mut flow) = AuthFlow::from_steps(steps) else {
        return;
    };
    let channels: Vec<Channel> = input
        .channels
        .iter()
        .take(4)
        .copied()
        .map(channel)
        .collect();
    if !channels.is_empty() {
        flow = flow.with_otp_channels(channels);
    }
    let session: Vec<SessionEntry> = input
        .session
        .iter()
        .take(40)
        .map(|entry| SessionEntry {
            challenge: match entry.kind {
                Kind::SrpA => SessionChallenge::SrpA,
                Kind::PasswordVerifier => SessionChallenge::PasswordVerifier,
                Kind::Custom(index) => SessionChallenge::Custom(step(index)),
                Kind::UntaggedCustom => SessionChallenge::UntaggedCustom,
                Kind::Other => SessionChallenge::Other,
            },
            passed: entry.passed,
            resent: entry.resent,
        })
        .collect();
    let limits = AttemptLimits {
        default: input.default_limit % 11,
        captcha: input.captcha_limit % 11,
        resends: input.resends % 6,
    };
    let action = input.action.map(|action| match action {
        Action::Resend => OtpAction::Resend,
        Action::Switch(index) => OtpAction::Switch(channel(index)),
        Action::Unsupported => OtpAction::Unsupported,
    });

    let decision = flow::decide_with_action(&flow, &session, input.user_not_found, limits, action);
    let round = flow::current_round(&flow, &session, limits, action);
    match decision {
        FlowDecision::IssueTokens => assert!(
            every_step_passed(&flow, &session, limits, input.user_not_found),
            "tokens for {session:?} in {flow} with {limits:?}"
        ),
        FlowDecision::Challenge(NextChallenge::Custom { step, attempt }) => {
            let round = round.unwrap_or_else(|reason| {
                panic!("Define asks for {step} but Create has no round: {reason}")
            });
            assert_eq!((round.step, round.attempt), (step, attempt));
            assert!(round.attempts_left >= 1 && round.attempts_left <= limits.for_step(step));
            assert!(round.resends_left <= limits.resends);
        }
        FlowDecision::Challenge(NextChallenge::PasswordVerifier) => {
            assert!(
                round.is_err(),
                "Create makes a round where Cognito checks the password"
            );
        }
        FlowDecision::Fail(_) => {
            assert!(round.is_err(), "Create makes a round for a failed sign-in");
        }
    }
    if flow::answered_with_action(&flow, &session, action) {
        assert!(session.last().is_some_and(|entry| !entry.passed));
    }
});
