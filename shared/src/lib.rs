//! The core of the Cognito custom-authentication triggers: everything the thin binaries in
//! `functions/` need, and nothing that talks to the outside world except the SMS senders.
//!
//! - [`event`]: typed models of the Cognito trigger events, exactly as Cognito sends them.
//! - [`flow`]: the challenge state machine, a pure function from session to [`flow::FlowDecision`].
//! - [`otp`]: one-time codes, their sealed digests and constant-time verification.
//! - [`phone`]: E.164 phone numbers and how they are shown to users and logs.
//! - [`sms`]: the SMS senders (End User Messaging SMS, Pinpoint, console) behind one trait.
//! - [`config`]: the environment, read and checked once at cold start.
//! - [`triggers`]: the Define, Create and Verify handlers that translate events to domain types.
//! - [`error`]: the crate's one error type, with user-safe messages for the edge.
//! - [`telemetry`]: JSON logs for CloudWatch.

pub mod config;
pub mod error;
pub mod event;
pub mod flow;
pub mod otp;
pub mod phone;
pub mod sms;
pub mod telemetry;
pub mod triggers;

pub use error::Error;
