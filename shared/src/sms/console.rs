//! The console sender: writes each message as one line to standard output, for local runs (the
//! local sign-in tool reads these lines as its SMS inbox). Refused on AWS Lambda by the config.

use std::io::Write;
use std::sync::Mutex;

use super::{SendFuture, SmsMessage, SmsReceipt, SmsSender, VoiceMessage};
use crate::Error;
use crate::error::SmsFailure;

/// What starts every console SMS line.
pub const LINE_PREFIX: &str = "[console-sms]";
/// What starts every console call line: `[console-voice] to=+*******0100 voice=JOANNA | <words>`.
pub const VOICE_LINE_PREFIX: &str = "[console-voice]";

/// Writes messages to a stream, one line each: `[console-sms] to=+*******0100 | <body>`.
pub struct ConsoleSender {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for ConsoleSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleSender")
    }
}

impl ConsoleSender {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    /// Writes to any stream (tests and benchmarks use a buffer or a sink).
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    fn write_line(&self, head: &str, body: &str) -> std::io::Result<()> {
        let body = body
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        let mut out = self
            .out
            .lock()
            .map_err(|_| std::io::Error::other("console lock poisoned"))?;
        writeln!(out, "{head} | {body}")?;
        out.flush()
    }

    fn finish(result: std::io::Result<()>) -> Result<SmsReceipt, Error> {
        result.map_err(|error| Error::Sms {
            provider: "console",
            failure: SmsFailure::Unavailable,
            detail: error.to_string(),
        })?;
        Ok(SmsReceipt { message_id: None })
    }
}

impl SmsSender for ConsoleSender {
    fn provider(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, message: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            Self::finish(self.write_line(
                &format!("{LINE_PREFIX} to={}", message.to.masked()),
                &message.body,
            ))
        })
    }

    /// Writes the words of the call (the code as digits), not its SSML.
    fn send_voice<'a>(&'a self, message: &'a VoiceMessage) -> SendFuture<'a> {
        Box::pin(async move {
            Self::finish(self.write_line(
                &format!(
                    "{VOICE_LINE_PREFIX} to={} voice={}",
                    message.to.masked(),
                    message.voice_id
                ),
                &message.transcript,
            ))
        })
    }
}
