//! Stub endpoints the functions call: End User Messaging SMS (`SendTextMessage`, AWS JSON 1.0,
//! answered as the service does), the legacy user service, and an endpoint that never answers.

use std::io::BufReader;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::http::{self, Request, Server};

/// What a stub insists a request looks like; anything else gets a 400 and is counted as
/// rejected, so a function that stops speaking the protocol fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// End User Messaging SMS `SendTextMessage` as the AWS SDK sends it: `POST /`, AWS JSON 1.0,
    /// the operation in `X-Amz-Target`, a SigV4 signature, the message fields in the body.
    SendTextMessage,
    /// The legacy user service: `POST /users` with a JSON `username` and `password`.
    LegacyUser,
}

impl Expect {
    fn check(self, request: &Request) -> Result<(), String> {
        let body = || -> Result<Value, String> {
            serde_json::from_slice(&request.body).map_err(|e| format!("body is not JSON: {e}"))
        };
        let has_strings = |body: &Value, fields: &[&str]| -> Result<(), String> {
            match fields
                .iter()
                .find(|field| !body.get(**field).is_some_and(Value::is_string))
            {
                Some(field) => Err(format!("no {field} in the body")),
                None => Ok(()),
            }
        };
        match self {
            Self::SendTextMessage => {
                if request.method != "POST" || request.path != "/" {
                    return Err(format!(
                        "{} {} instead of POST /",
                        request.method, request.path
                    ));
                }
                if request.header("x-amz-target") != Some("PinpointSMSVoiceV2.SendTextMessage") {
                    return Err(format!("X-Amz-Target {:?}", request.header("x-amz-target")));
                }
                if request.header("content-type") != Some("application/x-amz-json-1.0") {
                    return Err(format!("Content-Type {:?}", request.header("content-type")));
                }
                if !request
                    .header("authorization")
                    .is_some_and(|value| value.starts_with("AWS4-HMAC-SHA256 "))
                {
                    return Err("no SigV4 Authorization header".into());
                }
                has_strings(
                    &body()?,
                    &[
                        "DestinationPhoneNumber",
                        "OriginationIdentity",
                        "MessageBody",
                    ],
                )
            }
            Self::LegacyUser => {
                if request.method != "POST" || request.path != "/users" {
                    return Err(format!(
                        "{} {} instead of POST /users",
                        request.method, request.path
                    ));
                }
                has_strings(&body()?, &["username", "password"])
            }
        }
    }
}

/// How a stub answers.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// Every request gets this status, content type and body.
    Answer {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: &'static str,
        /// The body.
        body: String,
        /// What requests must look like.
        expect: Expect,
    },
    /// Requests are read and never answered (the connection stays open).
    Hang,
}

impl Reply {
    /// End User Messaging SMS's answer to `SendTextMessage`.
    pub(crate) fn sms_sent() -> Self {
        Self::Answer {
            status: 200,
            content_type: "application/x-amz-json-1.0",
            body: r#"{"MessageId":"bench-message-0001"}"#.to_owned(),
            expect: Expect::SendTextMessage,
        }
    }

    /// The legacy user service vouching for a user.
    pub(crate) fn legacy_user() -> Self {
        Self::Answer {
            status: 200,
            content_type: "application/json",
            body: r#"{"attributes":{"email":"alice@example.com","email_verified":"true","phone_number":"+12065550100","phone_number_verified":"true"}}"#.to_owned(),
            expect: Expect::LegacyUser,
        }
    }
}

/// A running stub endpoint.
#[derive(Debug)]
pub(crate) struct Stub {
    server: Server,
    requests: Arc<AtomicU64>,
    rejected: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    /// Starts a stub on a free loopback port.
    pub(crate) fn start(reply: Reply) -> std::io::Result<Self> {
        let requests = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&requests);
        let rejected = Arc::new(Mutex::new(Vec::new()));
        let rejections = Arc::clone(&rejected);
        let server = Server::start(move |stream, stopping: &AtomicBool| {
            let Ok(mut writer) = stream.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            while let Ok(Some(request)) = http::read_request(&mut reader) {
                counter.fetch_add(1, Ordering::SeqCst);
                match &reply {
                    Reply::Answer {
                        status,
                        content_type,
                        body,
                        expect,
                    } => {
                        if let Err(reason) = expect.check(&request) {
                            let answer = serde_json::json!({"__type": "ValidationException", "message": reason});
                            rejections
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(reason);
                            let bytes = http::response(
                                400,
                                &[("Content-Type", content_type)],
                                answer.to_string().as_bytes(),
                            );
                            if http::send(&mut writer, &bytes).is_err() {
                                return;
                            }
                            continue;
                        }
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
        Ok(Self {
            server,
            requests,
            rejected,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.server.host_port())
    }

    /// How many requests arrived so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Why requests were refused, if any were.
    pub(crate) fn rejected(&self) -> Vec<String> {
        self.rejected
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn request(path: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: "POST".into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
            received_at: Instant::now(),
        }
    }

    const SDK_HEADERS: &[(&str, &str)] = &[
        ("x-amz-target", "PinpointSMSVoiceV2.SendTextMessage"),
        ("content-type", "application/x-amz-json-1.0"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKID/…"),
    ];
    const MESSAGE: &str = r#"{"DestinationPhoneNumber":"+12065550100","OriginationIdentity":"+12065550199","MessageBody":"code"}"#;

    #[test]
    fn only_a_signed_send_text_message_passes() {
        let check =
            |path, headers, body| Expect::SendTextMessage.check(&request(path, headers, body));
        assert_eq!(check("/", SDK_HEADERS, MESSAGE), Ok(()));
        assert!(check("/other", SDK_HEADERS, MESSAGE).is_err());
        assert!(check("/", &SDK_HEADERS[1..], MESSAGE).is_err());
        assert!(check("/", &SDK_HEADERS[..2], MESSAGE).is_err());
        assert!(check("/", SDK_HEADERS, r#"{"MessageBody":"code"}"#).is_err());
        assert!(check("/", SDK_HEADERS, "not json").is_err());
        let pinpoint = [
            ("x-amz-target", "Pinpoint.SendMessages"),
            ("content-type", "application/json"),
            ("authorization", "AWS4-HMAC-SHA256 x"),
        ];
        assert!(check("/", &pinpoint, MESSAGE).is_err());
    }

    #[test]
    fn the_legacy_service_needs_a_user_name_and_password() {
        let check = |path, body| Expect::LegacyUser.check(&request(path, &[], body));
        assert_eq!(
            check("/users", r#"{"username":"a","password":"b"}"#),
            Ok(())
        );
        assert!(check("/users", r#"{"username":"a"}"#).is_err());
        assert!(check("/", r#"{"username":"a","password":"b"}"#).is_err());
    }
}
