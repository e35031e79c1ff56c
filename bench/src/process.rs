//! Starting a function process the way Lambda does (a clean environment with the `AWS_LAMBDA_*`
//! variables) and reading its peak memory.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How to start one function.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    /// The program (`bootstrap`, or `node`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory.
    pub dir: PathBuf,
    /// The function's own variables, on top of the Lambda ones.
    pub env: Vec<(String, String)>,
}

/// A started function process.
#[derive(Debug)]
pub(crate) struct Running {
    child: Child,
    /// Taken just before the process was created.
    pub started_at: Instant,
    log: Arc<Mutex<VecDeque<String>>>,
}

const LOG_LINES: usize = 40;

impl Launch {
    /// Starts the process with a Lambda-like environment pointing at `runtime_api`.
    pub(crate) fn start(&self, function_name: &str, runtime_api: &str) -> std::io::Result<Running> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.dir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDBENCHBENCHBENCH0"),
            ("AWS_SECRET_ACCESS_KEY", "bench-secret-key"),
            ("AWS_SESSION_TOKEN", "bench-session-token"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("TZ", ":UTC"),
            ("LANG", "en_US.UTF-8"),
        ];
        command.envs(lambda);
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_LINES)));
        let started_at = Instant::now();
        let mut child = command.spawn()?;
        if let Some(out) = child.stdout.take() {
            drain(out, Arc::clone(&log));
        }
        if let Some(err) = child.stderr.take() {
            drain(err, Arc::clone(&log));
        }
        Ok(Running {
            child,
            started_at,
            log,
        })
    }
}

/// Lambda reads a function's output continuously; so does the harness, keeping the last lines
/// for error reports.
fn drain(stream: impl Read + Send + 'static, log: Arc<Mutex<VecDeque<String>>>) {
    // Without a thread the pipe is dropped; the function then fails on its next write, which
    // the harness reports.
    let _ = std::thread::Builder::new()
        .name("output".into())
        .spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                let mut lines = log
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if lines.len() == LOG_LINES {
                    lines.pop_front();
                }
                lines.push_back(text);
                line.clear();
            }
        });
}

impl Running {
    /// The process's peak resident set (`VmHWM`), in KiB.
    pub(crate) fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Whether the process has ended.
    pub(crate) fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Exit status if the process has ended, and the last lines it wrote.
    pub(crate) fn describe(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => format!("exited ({status})"),
            Ok(None) => "still running".to_owned(),
            Err(error) => format!("status unknown ({error})"),
        };
        let lines = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tail: Vec<&str> = lines.iter().map(String::as_str).collect();
        format!("{status}; last output:\n{}", tail.join("\n"))
    }

    /// Stops the process.
    pub(crate) fn stop(self) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
