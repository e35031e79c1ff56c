//! Runs a trigger binary the way AWS Lambda's `provided.al2023` runtime does: as a child process
//! that polls a local [Lambda Runtime API] for events and posts its responses back.
//!
//! One [`LambdaHost`] per function: it serves the Runtime API on its own loopback port, spawns the
//! binary with the `AWS_LAMBDA_*` variables the runtime client needs, and turns
//! [`LambdaHost::invoke`] into `GET /next` → `POST /response` or `POST /error`. Like Cognito, it
//! gives each invocation at most 5 seconds; like Lambda, it replaces a process that died or timed
//! out with a fresh one (a new cold start) on the next invocation. The child's standard output
//! and error are captured line by line: console SMS lines go to an [`SmsInbox`], the rest to the
//! log.
//!
//! [Lambda Runtime API]: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};

/// Cognito's fixed time limit for a trigger.
pub const COGNITO_TIMEOUT: Duration = Duration::from_secs(5);

/// What an invocation produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The function answered with this JSON.
    Response(Value),
    /// The function reported an error (`POST …/error`).
    FunctionError {
        /// `errorType` of the error body.
        error_type: String,
        /// `errorMessage` of the error body: what Cognito shows the user.
        error_message: String,
    },
    /// The function did not answer in time; its process was stopped.
    TimedOut,
    /// The process exited (a failed cold start, a crash) before answering.
    ProcessExited {
        /// Its exit status, and the last lines it wrote to standard error.
        detail: String,
    },
}

/// Why the host itself could not run an invocation.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The binary could not be started.
    #[error("could not start {binary}: {source}")]
    Spawn {
        /// The binary's path.
        binary: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The Runtime API could not listen on a loopback port.
    #[error("could not serve the Runtime API: {0}")]
    Listen(std::io::Error),
}

/// How to run one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`), e.g. `define-auth-challenge`.
    pub name: String,
    /// The binary (`bootstrap`).
    pub binary: PathBuf,
    /// The function's environment, on top of this process's.
    pub env: Vec<(String, String)>,
    /// Time limit per invocation.
    pub timeout: Duration,
}

/// Lines a function wrote, shared with whoever watches them.
#[derive(Debug, Default)]
pub struct OutputLog {
    lines: Mutex<Vec<OutputLine>>,
    changed: Notify,
}

/// One line of a function's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// The function that wrote it.
    pub function: String,
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    /// The text, without the line break.
    pub text: String,
}

impl OutputLog {
    fn push(&self, line: OutputLine) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line);
        }
        self.changed.notify_waiters();
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<OutputLine> {
        self.lines
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }

    /// Adds a message the pool itself sends (a password-reset code), as a console sender line
    /// of the `cognito` "function", so it shows in the inbox with the triggers' messages.
    pub fn record_pool_message(&self, console_line: String) {
        self.push(OutputLine {
            function: "cognito".to_owned(),
            stream: "stdout",
            text: console_line,
        });
    }

    /// The console SMS messages so far, oldest first: `(masked recipient, body)`.
    pub fn sms_messages(&self) -> Vec<(String, String)> {
        self.lines()
            .iter()
            .filter(|line| line.stream == "stdout")
            .filter_map(|line| parse_console_sms(&line.text))
            .collect()
    }

    /// Waits until at least `count` console SMS messages arrived, or `timeout` passed.
    pub async fn wait_for_sms(&self, count: usize, timeout: Duration) -> Vec<(String, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            let messages = self.sms_messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.sms_messages();
            }
        }
    }
}

/// What ends the recipient [`parse_console_sms`] gives for a console call.
pub const CALL_SUFFIX: &str = " (call)";

/// Reads a console sender line: `[console-sms] to=+*******0100 | <body>`, a call,
/// `[console-voice] to=+*******0100 voice=JOANNA | <words>` (its recipient ends with
/// [`CALL_SUFFIX`]), or an e-mail one,
/// `[console-email] to=a***@example.com | <subject> | <text>` (read as its text; a subject holds
/// no ` | ` of its own only by convention, so the text is what follows the last one).
pub fn parse_console_sms(line: &str) -> Option<(String, String)> {
    if let Some(rest) = line.strip_prefix(cognito_passwordless::email::CONSOLE_EMAIL_LINE_PREFIX) {
        let (to, message) = rest.trim_start().strip_prefix("to=")?.split_once(" | ")?;
        let (_, text) = message.rsplit_once(" | ")?;
        return Some((to.to_owned(), unescape(text)));
    }
    if let Some(rest) = line.strip_prefix(cognito_passwordless::sms::CONSOLE_VOICE_LINE_PREFIX) {
        let (head, words) = rest.trim_start().strip_prefix("to=")?.split_once(" | ")?;
        let (to, _voice) = head.split_once(" voice=")?;
        return Some((format!("{to}{CALL_SUFFIX}"), unescape(words)));
    }
    let rest = line
        .strip_prefix(cognito_passwordless::sms::CONSOLE_LINE_PREFIX)?
        .trim_start();
    let rest = rest.strip_prefix("to=")?;
    let (to, body) = rest.split_once(" | ")?;
    Some((to.to_owned(), unescape(body)))
}

/// Undoes the console senders' escapes (`\\`, `\n`, `\r`) in one pass, so an escaped
/// backslash before an `n` stays a backslash and an `n`.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

struct Pending {
    request_id: String,
    payload: String,
    deadline: SystemTime,
    reply: oneshot::Sender<Invocation>,
}

struct RuntimeState {
    function_name: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Invocation>>>,
}

/// One running process and the Runtime API server that only it talks to. Every new process gets a
/// new server on a new port, so a request left over from a dead process can never take an event.
struct Sandbox {
    child: Child,
    /// How many output lines existed when this process started: its own lines come after.
    log_start: usize,
    server: tokio::task::JoinHandle<()>,
    queue: mpsc::UnboundedSender<Pending>,
    address: SocketAddr,
}

impl Sandbox {
    async fn shut_down(mut self) {
        let _ = self.child.kill().await;
        self.server.abort();
    }
}

/// A function process and the Runtime API it talks to.
pub struct LambdaHost {
    spec: FunctionSpec,
    sandbox: tokio::sync::Mutex<Option<Sandbox>>,
    output: Arc<OutputLog>,
    counter: AtomicU64,
    echo_logs: bool,
}

impl std::fmt::Debug for LambdaHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaHost")
            .field("function", &self.spec.name)
            .finish()
    }
}

impl LambdaHost {
    /// A host for `spec`. The process starts on the first invocation (or with
    /// [`LambdaHost::start`]). Output lines go to `output`; with `echo_logs`, standard-error lines
    /// are also copied to this process's standard error.
    pub fn new(spec: FunctionSpec, output: Arc<OutputLog>, echo_logs: bool) -> Self {
        Self {
            spec,
            sandbox: tokio::sync::Mutex::new(None),
            output,
            counter: AtomicU64::new(0),
            echo_logs,
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The current process's Runtime API address (`AWS_LAMBDA_RUNTIME_API`), if one runs.
    pub async fn runtime_api(&self) -> Option<SocketAddr> {
        self.sandbox
            .lock()
            .await
            .as_ref()
            .map(|sandbox| sandbox.address)
    }

    /// Starts the process now if it is not running (a cold start ahead of the first event).
    pub async fn start(&self) -> Result<(), HostError> {
        let mut sandbox = self.sandbox.lock().await;
        self.ensure_running(&mut sandbox).await
    }

    /// The process id of the running process, if any.
    pub async fn pid(&self) -> Option<u32> {
        self.sandbox
            .lock()
            .await
            .as_ref()
            .and_then(|sandbox| sandbox.child.id())
    }

    async fn ensure_running(&self, sandbox: &mut Option<Sandbox>) -> Result<(), HostError> {
        if let Some(running) = sandbox.as_mut()
            && matches!(running.child.try_wait(), Ok(None))
        {
            return Ok(());
        }
        if let Some(dead) = sandbox.take() {
            dead.shut_down().await;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(HostError::Listen)?;
        let address = listener.local_addr().map_err(HostError::Listen)?;
        let (queue, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            function_name: self.spec.name.clone(),
            queue: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(post_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(post_error),
            )
            .route("/2018-06-01/runtime/init/error", post(post_init_error))
            .with_state(state);
        // No Nagle: otherwise every small response waits for a delayed ACK (~40 ms).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut command = Command::new(&self.spec.binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.spec.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.spec.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env_remove("AWS_EXECUTION_ENV")
            // The triggers refuse the console SMS sender where Lambda's variables are set; this
            // marker, set only here, tells them they run under the local tool.
            .env(cognito_passwordless::config::LOCAL_TOOL_MARKER, "1")
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let log_start = self.output.lines().len();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(source) => {
                server.abort();
                return Err(HostError::Spawn {
                    binary: self.spec.binary.display().to_string(),
                    source,
                });
            }
        };
        if let Some(stdout) = child.stdout.take() {
            self.capture(stdout, "stdout");
        }
        if let Some(stderr) = child.stderr.take() {
            self.capture(stderr, "stderr");
        }
        *sandbox = Some(Sandbox {
            child,
            log_start,
            server,
            queue,
            address,
        });
        Ok(())
    }

    fn capture(
        &self,
        stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        name: &'static str,
    ) {
        let output = self.output.clone();
        let function = self.spec.name.clone();
        let echo = self.echo_logs && name == "stderr";
        tokio::spawn(async move {
            // Bytes, not `lines()`: one invalid UTF-8 line must not stop the reader (the child
            // would then block on a full pipe).
            let mut reader = BufReader::new(stream);
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                match reader.read_until(b'\n', &mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&buffer)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                if echo {
                    // The CLI's --logs: the function's log line, copied to our standard error.
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("  [{function}] {text}");
                    }
                }
                output.push(OutputLine {
                    function: function.clone(),
                    stream: name,
                    text,
                });
            }
        });
    }

    /// Invokes the function with `payload` and waits for its answer (at most the spec's timeout).
    /// Invocations are serialized, as Lambda gives one sandbox one event at a time.
    pub async fn invoke(&self, payload: Value) -> Result<Invocation, HostError> {
        self.invoke_raw(payload.to_string()).await
    }

    /// Invokes the function with any body, JSON or not (for testing malformed input).
    pub async fn invoke_raw(&self, payload: String) -> Result<Invocation, HostError> {
        let mut guard = self.sandbox.lock().await;
        self.ensure_running(&mut guard).await?;
        let Some(sandbox) = guard.as_mut() else {
            return Ok(Invocation::ProcessExited {
                detail: "no process".to_owned(),
            });
        };
        let request_id = format!(
            "{:08x}-local-{:06}",
            std::process::id(),
            self.counter.fetch_add(1, Ordering::Relaxed)
        );
        let (reply, answer) = oneshot::channel();
        let started = Instant::now();
        let _ = sandbox.queue.send(Pending {
            request_id,
            payload,
            deadline: SystemTime::now() + self.spec.timeout,
            reply,
        });
        let outcome = tokio::select! {
            // An answer that arrived wins over an exit or a deadline that happen at the same time.
            biased;
            answer = answer => answer.unwrap_or_else(|_| Invocation::ProcessExited {
                detail: "the Runtime API server stopped".to_owned(),
            }),
            status = sandbox.child.wait() => {
                // Give the output readers a moment to catch the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Invocation::ProcessExited { detail: self.exit_detail(status.ok(), sandbox.log_start) }
            }
            () = tokio::time::sleep(self.spec.timeout.saturating_sub(started.elapsed())) => Invocation::TimedOut,
        };
        if !matches!(
            outcome,
            Invocation::Response(_) | Invocation::FunctionError { .. }
        ) {
            // Like Lambda: a timed-out or dead sandbox is thrown away; the next event cold-starts.
            if let Some(dead) = guard.take() {
                dead.shut_down().await;
            }
        }
        Ok(outcome)
    }

    fn exit_detail(&self, status: Option<std::process::ExitStatus>, log_start: usize) -> String {
        let tail: Vec<String> = self
            .output
            .lines()
            .into_iter()
            .skip(log_start)
            .filter(|line| line.function == self.spec.name && line.stream == "stderr")
            .map(|line| line.text)
            .collect();
        let start = tail.len().saturating_sub(3);
        format!(
            "{} exited ({}): {}",
            self.spec.name,
            status.map_or_else(|| "unknown status".to_owned(), |status| status.to_string()),
            tail.get(start..).unwrap_or_default().join(" | ")
        )
    }

    /// Stops the process.
    pub async fn stop(&self) {
        if let Some(sandbox) = self.sandbox.lock().await.take() {
            sandbox.shut_down().await;
        }
    }
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    let mut queue = state.queue.lock().await;
    let Some(pending) = queue.recv().await else {
        return StatusCode::GONE.into_response();
    };
    drop(queue);
    if let Ok(mut in_flight) = state.in_flight.lock() {
        in_flight.insert(pending.request_id.clone(), pending.reply);
    }
    let deadline_ms = pending
        .deadline
        .duration_since(UNIX_EPOCH)
        .map_or(0, |deadline| deadline.as_millis());
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", pending.request_id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{}",
            state.function_name
        ),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
    );
    set("content-type", "application/json".to_owned());
    (headers, pending.payload).into_response()
}

fn take_reply(state: &RuntimeState, id: &str) -> Option<oneshot::Sender<Invocation>> {
    state.in_flight.lock().ok()?.remove(id)
}

async fn post_response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let Some(reply) = take_reply(&state, &id) else {
        return StatusCode::BAD_REQUEST;
    };
    let answer = match serde_json::from_slice(&body) {
        Ok(value) => Invocation::Response(value),
        Err(_) => Invocation::FunctionError {
            error_type: "InvalidResponse".to_owned(),
            error_message: "the function's response is not JSON".to_owned(),
        },
    };
    let _ = reply.send(answer);
    StatusCode::ACCEPTED
}

async fn post_error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let Some(reply) = take_reply(&state, &id) else {
        return StatusCode::BAD_REQUEST;
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let _ = reply.send(Invocation::FunctionError {
        error_type: field("errorType"),
        error_message: field("errorMessage"),
    });
    StatusCode::ACCEPTED
}

async fn post_init_error(State(_state): State<Arc<RuntimeState>>) -> StatusCode {
    // The process exits next; `invoke` reports that with its last log lines.
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_are_read_back_exactly() {
        assert_eq!(
            parse_console_sms(
                r"[console-sms] to=+*******0100 | 123456 is your code\n\n@example.com #123456"
            ),
            Some((
                "+*******0100".to_owned(),
                "123456 is your code\n\n@example.com #123456".to_owned()
            ))
        );
        // An escaped backslash before an `n` is a backslash and an `n`, not a line break.
        assert_eq!(
            parse_console_sms(r"[console-sms] to=+*******0100 | a\\nb\\\nc").map(|(_, body)| body),
            Some("a\\nb\\\nc".to_owned())
        );
        assert_eq!(
            parse_console_sms(
                r"[console-email] to=a***@example.com | 123456 | your code | 123456 is your sign-in code.\n\nIt expires"
            ),
            Some((
                "a***@example.com".to_owned(),
                "123456 is your sign-in code.\n\nIt expires".to_owned()
            ))
        );
        assert_eq!(
            parse_console_sms(
                "[console-voice] to=+*******0100 voice=JOANNA | Your sign-in code is 123456."
            ),
            Some((
                "+*******0100 (call)".to_owned(),
                "Your sign-in code is 123456.".to_owned()
            ))
        );
        assert_eq!(
            parse_console_sms("[console-voice] to=+*******0100 | x"),
            None
        );
        assert_eq!(parse_console_sms("[console-sms] no recipient"), None);
        assert_eq!(parse_console_sms("plain output"), None);
    }
}
