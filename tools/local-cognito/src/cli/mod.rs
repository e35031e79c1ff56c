//! The command line: its arguments, and the commands by concern (`prepare`: the local pool both
//! commands set up; `sign_in`: the interactive terminal sign-in; `serve`: the endpoint).

mod captcha_samples;
mod prepare;
mod report;
mod serve;
mod sign_in;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(version, about = "Plays Amazon Cognito over the real trigger binaries")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Runs one CUSTOM_AUTH sign-in from the terminal.
    SignIn(SignIn),
    /// Serves the Cognito user-pool API (JSON 1.1) on 127.0.0.1 for real clients (AWS CLI,
    /// SDKs, amazon-cognito-identity-js), backed by the trigger binaries.
    Serve(Serve),
    /// Writes image CAPTCHAs as CreateAuthChallenge makes them, and a JSON file of their answers
    /// (to measure how well people and OCR read them).
    CaptchaSamples(CaptchaSamples),
}

#[derive(Debug, clap::Args)]
struct CaptchaSamples {
    /// How many images.
    #[arg(long, default_value_t = 30)]
    count: usize,
    /// Where to write them (created if missing): captcha-NN.png and answers.json.
    #[arg(long)]
    dir: PathBuf,
}

/// What both commands set up: users, flow, trigger binaries, abuse protection.
#[derive(Debug, clap::Args)]
struct Common {
    /// A JSON file of users instead of the built-in ones:
    /// [{"username": "dave", "attributes": {"phone_number": "+1...", "phone_number_verified": "true"}}]
    #[arg(long)]
    users: Option<PathBuf>,
    /// AUTH_FLOW for the triggers (default: the environment's, else sms_otp).
    #[arg(long)]
    flow: Option<String>,
    /// Where the trigger binaries are (default: beside this executable, built first under cargo).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Copy the triggers' own logs (JSON) to standard error.
    #[arg(long)]
    logs: bool,
    /// Answer unknown users with UserNotFoundException instead of a decoy challenge.
    #[arg(long)]
    reveal_unknown_users: bool,
    /// Turn abuse protection on with this DynamoDB table (created if missing): no duplicate SMS,
    /// send throttles, lockout. Runs after each other share it, so throttles and lockout show.
    #[arg(long)]
    state_table: Option<String>,
    /// The DynamoDB-protocol server for --state-table, e.g. moto's: http://127.0.0.1:5005
    /// (default: AWS_ENDPOINT_URL_DYNAMODB, else AWS itself).
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// Allow SMS_PROVIDER to name a real provider (end-user-messaging, pinpoint): codes then go
    /// out as real, paid messages from this machine. Without it only the console sender runs.
    #[arg(long)]
    real_sms: bool,
}

#[derive(Debug, clap::Args)]
struct SignIn {
    /// The user to sign in (built-in users: alice, bob, carol).
    #[arg(long, short)]
    username: String,
    /// Answers to custom challenges (CAPTCHA, SMS code), comma-separated, instead of asking:
    /// `@sms` is the code from the console SMS, `@wrong` a well-formed code that is not it,
    /// `@resend` asks for a new code (`ClientMetadata` `{"otpAction": "resend"}`),
    /// `@switch:email`, `@switch:sms` or `@switch:voice` for one by that channel (`AUTH_FLOW=otp`),
    /// anything else is sent as it is.
    #[arg(long, value_delimiter = ',')]
    answers: Vec<String>,
    /// The password, for flows that start with one (default: ask). Built-in users have
    /// `<name>-local-password`.
    #[arg(long)]
    password: Option<String>,
    /// Shorthand for `--answers @sms`: a non-interactive demo.
    #[arg(long)]
    code_from_sms: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// The port on 127.0.0.1 (0: any free port, printed at start).
    #[arg(long, default_value_t = 9229)]
    port: u16,
    /// The demo page's directory, served under /demo/ (default: examples/demo of this
    /// repository, after `npm ci` there).
    #[arg(long)]
    demo_dir: Option<PathBuf>,
    /// Print nothing per request (by default: one line per API request and per trigger call,
    /// without codes or answers).
    #[arg(long)]
    quiet: bool,
    /// Keep the pool's users, refresh tokens and disabled users in this JSON file across
    /// restarts (read at start when it exists, instead of --users; written whole, atomically,
    /// after every change; readable by its owner only: it holds refresh tokens).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// How users may reset a password (ForgotPassword), as the SAM template's AccountRecovery:
    /// admin_only (refused) or verified_email (a code e-mailed to the verified address).
    #[arg(long, value_enum, default_value_t)]
    account_recovery: local_cognito::cognito::AccountRecovery,
    #[command(flatten)]
    common: Common,
}

/// Parses the command line and runs the command: exit 0 on success, 1 for a sign-in that did not
/// get tokens, 2 when the command could not run.
pub(crate) async fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Commands::CaptchaSamples(args) => match captcha_samples::captcha_samples(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("local-cognito: {message}");
                ExitCode::from(2)
            }
        },
        Commands::Serve(args) => match serve::serve(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("local-cognito: {message}");
                ExitCode::from(2)
            }
        },
        Commands::SignIn(args) => match sign_in::sign_in(args).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(message) => {
                eprintln!("local-cognito: {message}");
                ExitCode::from(2)
            }
        },
    }
}
