//! Running a subject: spawns, init proxy, first and warm invocations, peak memory; and the
//! hanging-provider check.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::runtime_api::{Answered, NoAnswer, Outcome, RuntimeApi};
use crate::stub::{Reply, Stub};
use crate::subjects::Subject;

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Processes started per subject.
    pub spawns: usize,
    /// Invocations after the first that are run but not recorded (JIT and caches settle).
    pub warmup: usize,
    /// Recorded warm invocations per process.
    pub warm: usize,
}

/// The most the harness waits for a process to come up or answer.
const LIMIT: Duration = Duration::from_secs(10);

/// Waits for the process's first `GET …/next`, giving up early if it exits.
fn await_first_next(
    api: &RuntimeApi,
    process: &mut crate::process::Running,
) -> Result<Instant, String> {
    let deadline = Instant::now() + LIMIT;
    loop {
        let slice = (Instant::now() + Duration::from_millis(50)).min(deadline);
        match api.first_next(slice) {
            Ok(at) => return Ok(at),
            Err(NoAnswer::NotYet) if Instant::now() < deadline && !process.exited() => {}
            Err(NoAnswer::NotYet) => return Err(format!("no first GET /next within {LIMIT:?}")),
            Err(error) => return Err(error.to_string()),
        }
    }
}

/// Everything measured for one subject.
#[derive(Debug, Default, Clone)]
pub struct Series {
    /// Start of the process → its first `GET …/next`, per process.
    pub init: Vec<Duration>,
    /// The first invocation over the Runtime API, per process.
    pub first: Vec<Duration>,
    /// Warm invocations over the Runtime API, all processes pooled.
    pub warm: Vec<Duration>,
    /// `VmHWM` after the last invocation, per process, KiB.
    pub peak_rss_kib: Vec<u64>,
}

/// A measurement that could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// The harness could not start something.
    #[error("{subject}: {what}: {source}")]
    Io {
        /// Which subject.
        subject: String,
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The function misbehaved.
    #[error("{subject}: {problem}\n  process: {process}")]
    Function {
        /// Which subject.
        subject: String,
        /// What went wrong.
        problem: String,
        /// The process's state and last output.
        process: String,
    },
}

/// Measures `subject` per `plan`.
pub fn measure(subject: &Subject, plan: Plan, events_dir: &Path) -> Result<Series, MeasureError> {
    let name = subject.name();
    let io = |what: &'static str| {
        let subject = name.clone();
        move |source| MeasureError::Io {
            subject,
            what,
            source,
        }
    };
    let stub = subject
        .trigger
        .stub()
        .map(Stub::start)
        .transpose()
        .map_err(io("starting the stub endpoint"))?;
    let launch = subject.launch_with_stub(stub.as_ref().map(Stub::url).as_deref());
    let mut series = Series::default();
    for _ in 0..plan.spawns {
        let event = subject
            .event(events_dir)
            .map_err(|problem| MeasureError::Function {
                subject: name.clone(),
                problem,
                process: "not started".into(),
            })?;
        let api =
            RuntimeApi::start(subject.trigger.binary()).map_err(io("serving the Runtime API"))?;
        let stub_before = stub.as_ref().map_or(0, Stub::requests);
        let mut process = launch
            .start(subject.trigger.binary(), &api.host_port())
            .map_err(io("starting the function"))?;
        let fail =
            |process: &mut crate::process::Running, problem: String| MeasureError::Function {
                subject: name.clone(),
                problem,
                process: process.describe(),
            };
        let first_next = match await_first_next(&api, &mut process) {
            Ok(at) => at,
            Err(problem) => {
                let error = fail(&mut process, problem);
                process.stop();
                return Err(error);
            }
        };
        series
            .init
            .push(first_next.saturating_duration_since(process.started_at));
        let invocations = 1 + plan.warmup + plan.warm;
        for index in 0..invocations {
            let answered = api.invoke(&event, LIMIT);
            let latency = match check(subject, answered) {
                Ok(latency) => latency,
                Err(problem) => {
                    let error = fail(&mut process, format!("invocation {index}: {problem}"));
                    process.stop();
                    return Err(error);
                }
            };
            if index == 0 {
                series.first.push(latency);
            } else if index > plan.warmup {
                series.warm.push(latency);
            }
        }
        let calls = stub.as_ref().map_or(0, Stub::requests) - stub_before;
        let expected = subject.stub_calls_per_invocation() * invocations as u64;
        if calls != expected {
            let error = fail(
                &mut process,
                format!("{calls} calls reached the stub endpoint, {expected} expected"),
            );
            process.stop();
            return Err(error);
        }
        match process.peak_rss_kib() {
            Some(kib) => series.peak_rss_kib.push(kib),
            None => {
                let error = fail(&mut process, "no VmHWM in /proc/<pid>/status".into());
                process.stop();
                return Err(error);
            }
        }
        process.stop();
    }
    Ok(series)
}

fn check(subject: &Subject, answered: Result<Answered, NoAnswer>) -> Result<Duration, String> {
    let answered = answered.map_err(|error| error.to_string())?;
    match answered.outcome {
        Outcome::Response(body) => {
            let value: Value = serde_json::from_slice(&body)
                .map_err(|error| format!("the response is not JSON: {error}"))?;
            subject.check(&value)?;
            Ok(answered.latency)
        }
        Outcome::Error(body) => Err(format!(
            "the function reported an error: {}",
            String::from_utf8_lossy(&body)
        )),
    }
}

/// How a function did against a provider that never answers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HangResult {
    /// Time to the function's error, per process; `None` when it gave none within the limit.
    pub answered_after: Vec<Option<Duration>>,
    /// The limit the harness waited.
    pub limit: Duration,
}

/// Starts `subject` against a stub that never answers and times its first invocation.
pub fn measure_hang(
    subject: &Subject,
    spawns: usize,
    limit: Duration,
    events_dir: &Path,
) -> Result<HangResult, MeasureError> {
    let name = subject.name();
    let io = |what: &'static str| {
        let subject = name.clone();
        move |source| MeasureError::Io {
            subject,
            what,
            source,
        }
    };
    let stub = Stub::start(Reply::Hang).map_err(io("starting the stub endpoint"))?;
    let launch = subject.launch_with_stub(Some(&stub.url()));
    let mut result = HangResult {
        answered_after: Vec::new(),
        limit,
    };
    for _ in 0..spawns {
        let event = subject
            .event(events_dir)
            .map_err(|problem| MeasureError::Function {
                subject: name.clone(),
                problem,
                process: "not started".into(),
            })?;
        let api =
            RuntimeApi::start(subject.trigger.binary()).map_err(io("serving the Runtime API"))?;
        let mut process = launch
            .start(subject.trigger.binary(), &api.host_port())
            .map_err(io("starting the function"))?;
        if let Err(problem) = await_first_next(&api, &mut process) {
            let error = MeasureError::Function {
                subject: name.clone(),
                problem,
                process: process.describe(),
            };
            process.stop();
            return Err(error);
        }
        let answered_after = match api.invoke(&event, limit) {
            Ok(Answered {
                outcome: Outcome::Error(_),
                latency,
            }) => Some(latency),
            Ok(Answered {
                outcome: Outcome::Response(body),
                ..
            }) => {
                let error = MeasureError::Function {
                    subject: name.clone(),
                    problem: format!(
                        "answered although its provider never did: {}",
                        String::from_utf8_lossy(&body)
                    ),
                    process: process.describe(),
                };
                process.stop();
                return Err(error);
            }
            Err(_) => None,
        };
        result.answered_after.push(answered_after);
        process.stop();
    }
    Ok(result)
}
