//! Handling inside the function, without the Runtime API: raw JSON bytes in → typed event →
//! decision → serialized response out, each invocation timed on its own, with the same
//! handlers the binaries run.

use std::path::Path;
use std::time::{Duration, Instant};

use cognito_passwordless::config::Config;
use cognito_passwordless::triggers::{DefineAuthChallenge, Handler, VerifyAuthChallenge, unix_now};
use serde_json::Value;

use crate::subjects::{Implementation, Subject, Trigger};

/// Times `count` invocations (after `warmup` untimed ones) of the Define or Verify handler.
pub(crate) fn handler_latencies(
    trigger: Trigger,
    warmup: usize,
    count: usize,
    events_dir: &Path,
) -> Result<Vec<Duration>, String> {
    let config = Config::from_lookup(|_| None).map_err(|error| error.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|error| error.to_string())?;
    let subject = Subject {
        trigger,
        implementation: Implementation::Rust {
            profile: "in-process".into(),
        },
        launch: crate::process::Launch {
            program: "unused".into(),
            args: Vec::new(),
            dir: ".".into(),
            env: Vec::new(),
        },
    };
    let raw = subject.event(events_dir)?;
    let define = DefineAuthChallenge::new(&config);
    let verify = VerifyAuthChallenge::new(&config, None).map_err(|error| error.to_string())?;
    let mut latencies = Vec::with_capacity(count);
    for index in 0..warmup + count {
        let started = Instant::now();
        let value: Value = serde_json::from_slice(std::hint::black_box(&raw))
            .map_err(|error| error.to_string())?;
        let now = unix_now();
        let out = match trigger {
            Trigger::Define => runtime
                .block_on(define.invoke(value, now))
                .map_err(|error| error.to_string())
                .and_then(|event| serde_json::to_vec(&event).map_err(|error| error.to_string())),
            Trigger::Verify => runtime
                .block_on(verify.invoke(value, now))
                .map_err(|error| error.to_string())
                .and_then(|event| serde_json::to_vec(&event).map_err(|error| error.to_string())),
            _ => return Err(format!("no in-process measurement for {trigger:?}")),
        }?;
        let elapsed = started.elapsed();
        std::hint::black_box(&out);
        if index == 0 {
            let returned: Value =
                serde_json::from_slice(&out).map_err(|error| error.to_string())?;
            subject.check(&returned)?;
        }
        if index >= warmup {
            latencies.push(elapsed);
        }
    }
    Ok(latencies)
}
