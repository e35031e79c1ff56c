//! The core of the Cognito triggers: everything the one-line binaries in `functions/` need. The
//! decisions live in pure modules (`flow`, `otp`, `seal`, `preauth`, `abuse`, the hash checks);
//! the outside world is reached only through narrow components built once at cold start: the SMS
//! senders, the CAPTCHA providers' `siteverify`, the legacy stores, the state table and Secrets
//! Manager.
//!
//! Words used throughout: a **step** is one part of the configured flow (`password`, `captcha`,
//! `sms_otp`); a **round** is one `CUSTOM_CHALLENGE` Cognito asks for (a step may take several
//! rounds after wrong answers); a **seal** is the keyed digest of a code or CAPTCHA text that
//! Cognito carries between Create and Verify instead of the secret itself; a **decoy** is a round
//! for an unknown user (or one without a usable phone) that looks like a real one and can never
//! be passed; a **claim** is the state-table item that makes one SMS per step out of retried or
//! concurrent Creates; the **guard** is the state table with its failure mode (`STATE_*`).
//!
//! - [`event`]: typed models of the Cognito trigger events, exactly as Cognito sends them.
//! - [`flow`]: the challenge state machine, a pure function from session to [`flow::FlowDecision`].
//! - [`otp`]: one-time codes, their sealed digests and constant-time verification.
//! - [`captcha`]: the CAPTCHA step: a self-hosted image CAPTCHA, or reCAPTCHA / hCaptcha /
//!   Turnstile tokens checked with the provider.
//! - [`seal`]: the salted digests Cognito carries instead of codes and CAPTCHA texts.
//! - [`preauth`]: the pre-authentication policies (pure).
//! - [`abuse`]: send throttles, lockout and the country allow-list (pure), and [`state`], the
//!   DynamoDB table they keep their history in.
//! - [`legacy`]: legacy user stores (HTTP, PostgreSQL) and the mapping of a legacy record to a
//!   migrated Cognito user.
//! - `http` (feature `http`): a small rustls HTTP client with one deadline per call (the CAPTCHA
//!   providers' `siteverify` client, in [`captcha`], and the legacy HTTP store use it).
//! - `secrets` (feature `aws-secrets`): secrets from the environment or AWS Secrets Manager.
//! - [`phone`]: E.164 phone numbers and how they are shown to users and logs.
//! - [`secret`]: secret values (never in `Debug`) and where they come from; [`random`]: the
//!   CSPRNG every code, salt and CAPTCHA text comes from.
//! - [`sms`]: the SMS senders (End User Messaging SMS, Pinpoint, console) behind one trait.
//! - [`config`]: the environment, read and checked once at cold start: each component parses
//!   its own variables through [`env::Environment`]; [`config::Config`] composes them.
//! - [`triggers`]: the six trigger handlers (Define, Create, Verify, PreAuthentication,
//!   PostAuthentication, UserMigration), one [`triggers::Handler`] shape, and the
//!   Create/Verify round contract.
//! - [`error`]: the crate's one error type, with user-safe messages for the edge.
//! - [`telemetry`]: JSON logs for CloudWatch.
//! - `tls` (with any feature that makes HTTPS or database connections): the trusted root
//!   certificates, read once from one bundle file.

pub mod abuse;
#[cfg(feature = "aws-sdk")]
pub mod aws;
pub mod captcha;
pub mod config;
pub mod email;
pub mod env;
pub mod error;
pub mod event;
pub mod flow;
#[cfg(feature = "http")]
pub mod http;
pub mod legacy;
pub mod otp;
pub mod phone;
pub mod preauth;
pub mod random;
pub mod seal;
pub mod secret;
#[cfg(feature = "aws-secrets")]
pub mod secrets;
pub mod signup;
pub mod sms;
pub mod state;
pub mod telemetry;
#[cfg(feature = "tls")]
pub mod tls;
pub mod triggers;
pub mod user_pool;

pub use error::Error;
