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
pub(crate) struct Plan {
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
pub(crate) struct Series {
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
pub(crate) enum MeasureError {
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

/// Runs one subject's processes, one at a time, so that subjects can take turns (drift on the
/// machine then lands on every subject alike, not on whichever ran last).
#[derive(Debug)]
pub(crate) struct Runner<'a> {
    subject: &'a Subject,
    stub: Option<Stub>,
    launch: crate::process::Launch,
    series: Series,
}

impl<'a> Runner<'a> {
    /// Prepares `subject`, with its stub endpoint.
    pub(crate) fn new(subject: &'a Subject) -> Result<Self, MeasureError> {
        let stub = subject
            .trigger
            .stub()
            .map(Stub::start)
            .transpose()
            .map_err(|source| MeasureError::Io {
                subject: subject.name(),
                what: "starting the stub endpoint",
                source,
            })?;
        let launch = subject.launch_with_stub(stub.as_ref().map(Stub::url).as_deref());
        Ok(Self {
            subject,
            stub,
            launch,
            series: Series::default(),
        })
    }

    /// The subject.
    pub(crate) fn subject(&self) -> &'a Subject {
        self.subject
    }

    /// The figures so far.
    pub(crate) fn series(&self) -> &Series {
        &self.series
    }

    /// Starts one process and measures it per `plan`.
    pub(crate) fn spawn_once(&mut self, plan: Plan, events_dir: &Path) -> Result<(), MeasureError> {
        let subject = self.subject;
        let name = subject.name();
        let stub_before = self.stub.as_ref().map_or(0, Stub::requests);
        let (event, api, mut process) = start(subject, &self.launch, events_dir)?;
        let fail =
            |process: &mut crate::process::Running, problem: String| MeasureError::Function {
                subject: name.clone(),
                problem,
                process: process.describe(),
            };
        let first_next = await_first_next(&api, &mut process).map_err(|p| fail(&mut process, p))?;
        let init = first_next.saturating_duration_since(process.started_at);
        let invocations = 1 + plan.warmup + plan.warm;
        let mut first = Duration::ZERO;
        let mut warm = Vec::with_capacity(plan.warm);
        for index in 0..invocations {
            let latency = check(subject, api.invoke(&event, LIMIT))
                .map_err(|problem| fail(&mut process, format!("invocation {index}: {problem}")))?;
            if index == 0 {
                first = latency;
            } else if index > plan.warmup {
                warm.push(latency);
            }
        }
        if let Some(stub) = &self.stub {
            let rejected = stub.rejected();
            if let Some(reason) = rejected.first() {
                return Err(fail(
                    &mut process,
                    format!(
                        "the stub endpoint refused {} calls: {reason}",
                        rejected.len()
                    ),
                ));
            }
            let calls = stub.requests() - stub_before;
            let expected = subject.stub_calls_per_invocation() * invocations as u64;
            if calls != expected {
                return Err(fail(
                    &mut process,
                    format!("{calls} calls reached the stub endpoint, {expected} expected"),
                ));
            }
        }
        let peak = process
            .peak_rss_kib()
            .ok_or_else(|| fail(&mut process, "no VmHWM in /proc/<pid>/status".into()))?;
        process.stop();
        self.series.init.push(init);
        self.series.first.push(first);
        self.series.warm.extend(warm);
        self.series.peak_rss_kib.push(peak);
        Ok(())
    }
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
pub(crate) struct HangResult {
    /// Time to the function's error, per process; `None` when it gave none within the limit.
    pub answered_after: Vec<Option<Duration>>,
    /// The limit the harness waited.
    pub limit: Duration,
}

/// Prepares one process's event, serves its Runtime API and starts it.
fn start(
    subject: &Subject,
    launch: &crate::process::Launch,
    events_dir: &Path,
) -> Result<(Vec<u8>, RuntimeApi, crate::process::Running), MeasureError> {
    let io = |what: &'static str| {
        move |source| MeasureError::Io {
            subject: subject.name(),
            what,
            source,
        }
    };
    let event = subject
        .event(events_dir)
        .map_err(|problem| MeasureError::Function {
            subject: subject.name(),
            problem,
            process: "not started".into(),
        })?;
    let api = RuntimeApi::start(subject.trigger.binary()).map_err(io("serving the Runtime API"))?;
    let process = launch
        .start(subject.trigger.binary(), &api.host_port())
        .map_err(io("starting the function"))?;
    Ok((event, api, process))
}

/// Starts `subject` against a stub that never answers and times its first invocation.
pub(crate) fn measure_hang(
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
        let (event, api, mut process) = start(subject, &launch, events_dir)?;
        if let Err(problem) = await_first_next(&api, &mut process) {
            return Err(MeasureError::Function {
                subject: name.clone(),
                problem,
                process: process.describe(),
            });
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
                return Err(MeasureError::Function {
                    subject: name.clone(),
                    problem: format!(
                        "answered although its provider never did: {}",
                        String::from_utf8_lossy(&body)
                    ),
                    process: process.describe(),
                });
            }
            Err(_) => None,
        };
        result.answered_after.push(answered_after);
        process.stop();
    }
    Ok(result)
}
