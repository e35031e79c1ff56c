//! Stub endpoints the functions call: End User Messaging SMS (`SendTextMessage`, AWS JSON 1.0,
//! answered as the service does), the legacy user service, and an endpoint that never answers.

use std::io::BufReader;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::http::{self, Server};

/// How a stub answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Every request gets this status, content type and body.
    Answer {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: &'static str,
        /// The body.
        body: String,
    },
    /// Requests are read and never answered (the connection stays open).
    Hang,
}

impl Reply {
    /// End User Messaging SMS's answer to `SendTextMessage`.
    pub fn sms_sent() -> Self {
        Self::Answer {
            status: 200,
            content_type: "application/x-amz-json-1.0",
            body: r#"{"MessageId":"bench-message-0001"}"#.to_owned(),
        }
    }

    /// The legacy user service vouching for a user.
    pub fn legacy_user() -> Self {
        Self::Answer {
            status: 200,
            content_type: "application/json",
            body: r#"{"attributes":{"email":"alice@example.com","email_verified":"true","phone_number":"+12065550100","phone_number_verified":"true"}}"#.to_owned(),
        }
    }
}

/// A running stub endpoint.
#[derive(Debug)]
pub struct Stub {
    server: Server,
    requests: Arc<AtomicU64>,
}

impl Stub {
    /// Starts a stub on a free loopback port.
    pub fn start(reply: Reply) -> std::io::Result<Self> {
        let requests = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&requests);
        let server = Server::start(move |stream, stopping: &AtomicBool| {
            let Ok(mut writer) = stream.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            while let Ok(Some(_request)) = http::read_request(&mut reader) {
                counter.fetch_add(1, Ordering::SeqCst);
                match &reply {
                    Reply::Answer {
                        status,
                        content_type,
                        body,
                    } => {
                        let bytes = http::response(
                            *status,
                            &[
                                ("Content-Type", content_type),
                                ("x-amzn-RequestId", "bench-request-0001"),
                            ],
                            body.as_bytes(),
                        );
                        if http::send(&mut writer, &bytes).is_err() {
                            return;
                        }
                    }
                    Reply::Hang => {
                        while !stopping.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        return;
                    }
                }
            }
        })?;
        Ok(Self { server, requests })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.host_port())
    }

    /// How many requests arrived so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}
