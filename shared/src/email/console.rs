//! The console e-mail sender: one line per message on standard output, for local runs (the local
//! tool reads these lines as its inbox). Refused on AWS Lambda by the settings.

use std::io::Write;
use std::sync::Mutex;

use super::{EmailFuture, EmailMessage, EmailSender};
use crate::Error;
use crate::error::SmsFailure;
use crate::sms::SmsReceipt;

/// What starts every console e-mail line.
pub const LINE_PREFIX: &str = "[console-email]";

/// Writes messages to a stream, one line each:
/// `[console-email] to=a***@example.com | <subject> | <text>` (line breaks escaped).
pub struct ConsoleEmailSender {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for ConsoleEmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleEmailSender")
    }
}

impl ConsoleEmailSender {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }

    /// Writes to any stream.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    fn write_line(&self, message: &EmailMessage) -> std::io::Result<()> {
        let escape = |text: &str| {
            text.replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
        };
        let mut out = self
            .out
            .lock()
            .map_err(|_| std::io::Error::other("console lock poisoned"))?;
        writeln!(
            out,
            "{LINE_PREFIX} to={} | {} | {}",
            message.to.masked(),
            escape(&message.subject),
            escape(&message.text)
        )?;
        out.flush()
    }
}

impl EmailSender for ConsoleEmailSender {
    fn provider(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, message: &'a EmailMessage) -> EmailFuture<'a> {
        Box::pin(async move {
            self.write_line(message).map_err(|error| Error::Email {
                provider: "console",
                failure: SmsFailure::Unavailable,
                detail: error.kind().to_string(),
            })?;
            Ok(SmsReceipt { message_id: None })
        })
    }
}
