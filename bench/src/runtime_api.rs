//! A local Lambda Runtime API for one function process, instrumented for the harness: it notes
//! when the process first asks for an event (the init proxy) and times each invocation from the
//! moment the event starts leaving (`GET …/next` answered) to the moment the whole response has
//! arrived (`POST …/response` read).

use std::io::BufReader;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::http::{self, Request, Server};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// What one invocation produced.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `POST …/response`.
    Response(Vec<u8>),
    /// `POST …/error`.
    Error(Vec<u8>),
}

/// An answered invocation and how long it took over the Runtime API.
#[derive(Debug)]
pub(crate) struct Answered {
    /// The answer.
    pub outcome: Outcome,
    /// From the event's first byte leaving to the response's last byte arriving.
    pub latency: Duration,
}

/// Why an invocation got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NoAnswer {
    /// Nothing within the time limit.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The process has not asked for an event yet.
    #[error("no GET /next yet")]
    NotYet,
    /// The process reported a failed initialisation.
    #[error("the function reported an init error: {0}")]
    InitError(String),
}

#[derive(Debug, Default)]
struct State {
    first_next: Option<Instant>,
    queued: Option<(String, Vec<u8>)>,
    in_flight: Option<(String, Instant)>,
    answered: Option<(String, Answered)>,
    init_error: Option<String>,
    closed: bool,
    sequence: u64,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The Runtime API of one function process.
#[derive(Debug)]
pub(crate) struct RuntimeApi {
    shared: Arc<Shared>,
    server: Server,
}

impl RuntimeApi {
    /// Serves the API on a free loopback port for a function called `function_name`.
    pub(crate) fn start(function_name: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let for_connections = Arc::clone(&shared);
        let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}");
        let server = Server::start(move |stream, _stopping: &AtomicBool| {
            serve_connection(stream, &for_connections, &arn);
        })?;
        Ok(Self { shared, server })
    }

    /// `127.0.0.1:<port>`, the form `AWS_LAMBDA_RUNTIME_API` takes.
    pub(crate) fn host_port(&self) -> String {
        self.server.host_port()
    }

    /// When the process first asked for an event, waiting until `deadline` for it
    /// ([`NoAnswer::TimedOut`] when it has not asked by then).
    pub(crate) fn first_next(&self, deadline: Instant) -> Result<Instant, NoAnswer> {
        let mut state = self.shared.lock();
        loop {
            if let Some(at) = state.first_next {
                return Ok(at);
            }
            if let Some(error) = &state.init_error {
                return Err(NoAnswer::InitError(error.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(NoAnswer::NotYet);
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Hands `event` to the process and waits up to `limit` for its answer.
    pub(crate) fn invoke(&self, event: &[u8], limit: Duration) -> Result<Answered, NoAnswer> {
        let deadline = Instant::now() + limit;
        let mut state = self.shared.lock();
        state.sequence += 1;
        let id = format!("bench-{:08}", state.sequence);
        state.answered = None;
        state.queued = Some((id.clone(), event.to_vec()));
        self.shared.changed.notify_all();
        loop {
            // A late answer to an earlier, timed-out invocation is not this one's.
            if let Some((answered_id, answered)) = state.answered.take()
                && answered_id == id
            {
                return Ok(answered);
            }
            if let Some(error) = &state.init_error {
                return Err(NoAnswer::InitError(error.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                state.queued = None;
                state.in_flight = None;
                return Err(NoAnswer::TimedOut(limit));
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
    }
}

fn serve_connection(stream: std::net::TcpStream, shared: &Shared, arn: &str) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = http::read_request(&mut reader) {
        let reply = if request.method == "GET" && request.path == NEXT {
            match next_event(shared, &request, arn) {
                Some(bytes) => {
                    // The clock starts as the event starts leaving.
                    if let Some((_, sent_at)) = shared.lock().in_flight.as_mut() {
                        *sent_at = Instant::now();
                    }
                    bytes
                }
                None => return,
            }
        } else if request.method == "POST" {
            accept_post(shared, request)
        } else {
            http::response(404, &[("Content-Type", "application/json")], b"{}")
        };
        if http::send(&mut writer, &reply).is_err() {
            return;
        }
    }
}

/// Blocks until an event is queued (or the API closes) and builds the `next` answer.
fn next_event(shared: &Shared, request: &Request, arn: &str) -> Option<Vec<u8>> {
    let mut state = shared.lock();
    if state.first_next.is_none() {
        state.first_next = Some(request.received_at);
        shared.changed.notify_all();
    }
    loop {
        if state.closed {
            return None;
        }
        if let Some((id, body)) = state.queued.take() {
            let deadline_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|now| now.as_millis() + 5_000)
                .unwrap_or_default()
                .to_string();
            let trace = format!("Root=1-00000000-{id:0>24};Parent=0000000000000001;Sampled=0");
            let bytes = http::response(
                200,
                &[
                    // aws-lambda-ric stops without this header.
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", &id),
                    ("Lambda-Runtime-Deadline-Ms", &deadline_ms),
                    ("Lambda-Runtime-Invoked-Function-Arn", arn),
                    ("Lambda-Runtime-Trace-Id", &trace),
                ],
                &body,
            );
            state.in_flight = Some((id, Instant::now()));
            return Some(bytes);
        }
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

fn accept_post(shared: &Shared, request: Request) -> Vec<u8> {
    let accepted = || {
        http::response(
            202,
            &[("Content-Type", "application/json")],
            br#"{"status":"OK"}"#,
        )
    };
    let mut state = shared.lock();
    if request.path == INIT_ERROR {
        state.init_error = Some(String::from_utf8_lossy(&request.body).into_owned());
        shared.changed.notify_all();
        return accepted();
    }
    let Some(rest) = request.path.strip_prefix(INVOCATION) else {
        return http::response(404, &[], b"");
    };
    let Some((id, kind)) = rest.split_once('/') else {
        return http::response(404, &[], b"");
    };
    let Some((_, sent_at)) = state.in_flight.take_if(|(expected, _)| expected == id) else {
        return http::response(404, &[], b"");
    };
    let latency = request.received_at.saturating_duration_since(sent_at);
    let outcome = match kind {
        "response" => Outcome::Response(request.body),
        _ => Outcome::Error(request.body),
    };
    state.answered = Some((id.to_owned(), Answered { outcome, latency }));
    shared.changed.notify_all();
    accepted()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// Plays a runtime client: one `next`, then a response (chunked, as some clients send it).
    fn client(address: String, answer: &'static str) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(address).unwrap();
            stream
                .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut id = String::new();
            let mut length = 0;
            loop {
                head.clear();
                std::io::BufRead::read_line(&mut reader, &mut head).unwrap();
                let line = head.trim_end().to_ascii_lowercase();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("lambda-runtime-aws-request-id: ") {
                    id = value.to_owned();
                }
                if let Some(value) = line.strip_prefix("content-length: ") {
                    length = value.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let request = format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{answer}\r\n0\r\n\r\n",
                answer.len()
            );
            stream.write_all(request.as_bytes()).unwrap();
            let mut status = String::new();
            std::io::BufRead::read_line(&mut reader, &mut status).unwrap();
            assert!(status.starts_with("HTTP/1.1 202"), "{status}");
            String::from_utf8(body).unwrap()
        })
    }

    #[test]
    fn an_invocation_round_trip_is_timed_and_answered() {
        let api = RuntimeApi::start("f").unwrap();
        assert!(matches!(
            api.first_next(Instant::now() + Duration::from_millis(20)),
            Err(NoAnswer::NotYet)
        ));
        let client = client(api.host_port(), r#"{"ok":true}"#);
        api.first_next(Instant::now() + Duration::from_secs(5))
            .unwrap();
        let answered = api
            .invoke(br#"{"event":1}"#, Duration::from_secs(5))
            .unwrap();
        assert_eq!(client.join().unwrap(), r#"{"event":1}"#);
        match answered.outcome {
            Outcome::Response(body) => assert_eq!(body, br#"{"ok":true}"#),
            Outcome::Error(body) => panic!("error {body:?}"),
        }
        assert!(answered.latency > Duration::ZERO);
    }

    #[test]
    fn no_answer_times_out_and_init_errors_are_reported() {
        let api = RuntimeApi::start("f").unwrap();
        assert!(matches!(
            api.invoke(b"{}", Duration::from_millis(50)),
            Err(NoAnswer::TimedOut(_))
        ));
        let mut stream = TcpStream::connect(api.host_port()).unwrap();
        stream
            .write_all(
                b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 4\r\n\r\nboom",
            )
            .unwrap();
        let error = api.first_next(Instant::now() + Duration::from_secs(5));
        assert!(matches!(error, Err(NoAnswer::InitError(text)) if text == "boom"));
    }
}
