//! `local-cognito`: a passwordless SMS sign-in on this machine, no AWS account needed.
//!
//! ```text
//! cargo run -p local-cognito -- sign-in --username alice
//! cargo run -p local-cognito -- sign-in --username alice --flow password,captcha,sms_otp
//! ```
//!
//! Plays Cognito's part over the real trigger binaries (through the Lambda Runtime API), prints
//! every trigger call, shows the console SMS, saves image CAPTCHAs as PNG files, and asks for the
//! password, the CAPTCHA and the code as the flow needs them.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::run().await
}
