//! The challenge state machine over arbitrary sessions: any flow (steps and channels drawn from
//! the input, invalid ones included), any session entries, limits and client action.
//!
//! Invariants:
//! - tokens only when an oracle written here from the documented protocol finds every step of
//!   the flow passed in order (each round belonging to the step being worked on), within the
//!   limits, for an existing user;
//! - nothing comes after tokens: any further round fails the sign-in;
//! - Define and Create agree: whenever Define asks for a custom round, Create works out that very
//!   round (same step and attempt, attempts left within the limit); when Define issues tokens,
//!   ends the sign-in or has Cognito check the password, Create has no round to make;
//! - a request for another code uses no attempt: the round after it has the attempt number the
//!   session without it had, or the sign-in ends for too many requests.
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
    if user_not_found {
        return false;
    }
    let steps = flow.steps();
    let (mut current, mut srp_started, mut wrong, mut resends) = (0usize, false, 0u8, 0u8);
    for (position, entry) in session.iter().enumerate() {
        let Some(&step) = steps.get(current) else {
            return false;
        };
        match entry.challenge {
            SessionChallenge::SrpA if step == ChallengeStep::Password && !srp_started => {
                if !entry.passed {
                    return false;
                }
                srp_started = true;
            }
            SessionChallenge::PasswordVerifier
                if step == ChallengeStep::Password && srp_started =>
            {
                if !entry.passed {
                    return false;
                }
                (current, srp_started, wrong) = (current + 1, false, 0);
            }
            SessionChallenge::Custom(tagged) if tagged == step && step.tag().is_some() => {
                if entry.resent {
                    resends += 1;
                }
                if entry.passed {
                    (current, wrong) = (current + 1, 0);
                } else if !session
                    .get(position + 1)
                    .is_some_and(|next| next.resent && next.challenge == entry.challenge)
                {
                    wrong += 1;
                    if wrong >= limits.for_step(step) {
                        return false;
                    }
                }
            }
            _ => return false,
        }
    }
    current == steps.len() && resends <= limits.resends
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
        FlowDecision::IssueTokens => {
            assert!(
                every_step_passed(&flow, &session, limits, input.user_not_found),
                "tokens for {session:?} in {flow} with {limits:?}"
            );
            assert!(
                round.is_err(),
                "Create makes a round after every step passed"
            );
            for challenge in [
                SessionChallenge::SrpA,
                SessionChallenge::PasswordVerifier,
                SessionChallenge::UntaggedCustom,
                SessionChallenge::Other,
            ]
            .into_iter()
            .chain(ChallengeStep::ALL.map(SessionChallenge::Custom))
            {
                for passed in [true, false] {
                    let mut longer = session.clone();
                    longer.push(SessionEntry::new(challenge, passed));
                    assert!(matches!(
                        flow::decide(&flow, &longer, input.user_not_found, limits),
                        FlowDecision::Fail(_)
                    ));
                }
            }
        }
        FlowDecision::Challenge(NextChallenge::Custom { step, attempt }) => {
            let round = round.unwrap_or_else(|reason| {
                panic!("Define asks for {step} but Create has no round: {reason}")
            });
            assert_eq!((round.step, round.attempt), (step, attempt));
            assert!(round.attempts_left >= 1 && round.attempts_left <= limits.for_step(step));
            assert!(round.resends_left <= limits.resends);
            // A request for a new code uses no attempt.
            if flow::answered_with_action(&flow, &session, action) {
                if let Some((last, before)) = session.split_last() {
                    // Without its last round, the session's own last round was a request exactly
                    // when that round is marked resent.
                    let earlier_action = last.resent.then_some(OtpAction::Resend);
                    if let FlowDecision::Challenge(NextChallenge::Custom {
                        attempt: earlier, ..
                    }) = flow::decide_with_action(
                        &flow,
                        before,
                        input.user_not_found,
                        limits,
                        earlier_action,
                    ) {
                        assert_eq!(attempt, earlier, "a request used an attempt");
                    }
                }
            }
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
});
