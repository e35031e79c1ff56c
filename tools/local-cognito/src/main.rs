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

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use local_cognito::binaries::{ALL_TRIGGERS, cargo_build, default_dir, locate};
use local_cognito::cognito::{
    AuthStep, CognitoError, CustomAuthTriggers, LocalPool, PoolSettings, TriggerCall,
};
use local_cognito::lambda_host::{
    COGNITO_TIMEOUT, FunctionSpec, Invocation, LambdaHost, OutputLog,
};
use local_cognito::users::UserDirectory;
use serde_json::Value;
use shared::otp::wrong_answer_for;

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
    #[command(flatten)]
    common: Common,
}

/// A local pool ready to run: its triggers, their output, its settings.
struct Prepared {
    flow: shared::flow::AuthFlow,
    triggers: Arc<CustomAuthTriggers>,
    output: Arc<OutputLog>,
    settings: PoolSettings,
    users: UserDirectory,
    /// PreAuthentication, called where Cognito calls it (`serve`).
    pre_authentication: LambdaHost,
    /// UserMigration, when `LEGACY_SOURCE` is set (`serve`, for `USER_PASSWORD_AUTH`).
    user_migration: Option<LambdaHost>,
    /// PostAuthentication, called after every successful sign-in (`serve`).
    post_authentication: LambdaHost,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Commands::Serve(args) => match serve(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("local-cognito: {message}");
                ExitCode::from(2)
            }
        },
        Commands::SignIn(args) => match sign_in(args).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(message) => {
                eprintln!("local-cognito: {message}");
                ExitCode::from(2)
            }
        },
    }
}

/// Builds the binaries when run by cargo, then finds them.
fn trigger_binaries(bin_dir: Option<PathBuf>) -> Result<Vec<PathBuf>, String> {
    let explicit = bin_dir.is_some();
    let dir = bin_dir
        .or_else(default_dir)
        .ok_or("cannot tell where the trigger binaries are: pass --bin-dir")?;
    if !explicit
        && let (Some(cargo), Some(manifest_dir)) = (
            std::env::var_os("CARGO"),
            std::env::var_os("CARGO_MANIFEST_DIR"),
        )
    {
        cargo_build(cargo.as_ref(), manifest_dir.as_ref(), &dir, &ALL_TRIGGERS)
            .map_err(|e| e.to_string())?;
    }
    locate(&dir, &ALL_TRIGGERS).map_err(|e| e.to_string())
}

async fn prepare(args: &Common) -> Result<Prepared, String> {
    let flow = args
        .flow
        .clone()
        .or_else(|| std::env::var("AUTH_FLOW").ok())
        .unwrap_or_else(|| "sms_otp".to_owned());
    let flow = shared::flow::AuthFlow::parse(&flow)
        .map_err(|invalid| format!("flow `{flow}`: {invalid}"))?;
    let binaries = trigger_binaries(args.bin_dir.clone())?;
    let users = match &args.users {
        Some(path) => UserDirectory::load(path).map_err(|e| e.to_string())?,
        None => UserDirectory::sample(),
    };
    let mut env = Vec::new();
    match std::env::var("SMS_PROVIDER")
        .ok()
        .filter(|value| !value.trim().is_empty())
    {
        None => env.push(("SMS_PROVIDER".to_owned(), "console".to_owned())),
        Some(provider) if provider.trim() != "console" && !args.real_sms => {
            return Err(format!(
                "SMS_PROVIDER={provider} would send real, paid SMS from this machine: pass --real-sms to allow it, or unset SMS_PROVIDER for the console sender"
            ));
        }
        Some(_) => {}
    }
    if let Some(flow) = &args.flow {
        env.push(("AUTH_FLOW".to_owned(), flow.clone()));
    }
    if let Some(table) = &args.state_table {
        let endpoint = args
            .dynamodb_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok());
        let client = local_cognito::state_table::client(endpoint.as_deref()).await;
        local_cognito::state_table::ensure(&client, table).await?;
        env.push(("STATE_TABLE".to_owned(), table.clone()));
        if let Some(endpoint) = endpoint {
            env.push(("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), endpoint));
            for (name, value) in [
                ("AWS_ACCESS_KEY_ID", "local"),
                ("AWS_SECRET_ACCESS_KEY", "local"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ] {
                if std::env::var_os(name).is_none() {
                    env.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        println!("Abuse protection on: state table {table}");
    }
    let output = Arc::new(OutputLog::default());
    let host = |index: usize| {
        let binary = binaries.get(index).cloned().unwrap_or_default();
        LambdaHost::new(
            FunctionSpec {
                name: ALL_TRIGGERS
                    .get(index)
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                binary,
                env: env.clone(),
                timeout: COGNITO_TIMEOUT,
            },
            output.clone(),
            args.logs,
        )
    };
    let triggers = Arc::new(CustomAuthTriggers {
        define: host(0),
        create: host(1),
        verify: host(2),
    });
    let settings = PoolSettings {
        prevent_user_existence_errors: !args.reveal_unknown_users,
        ..PoolSettings::default()
    };
    println!(
        "Local pool {} (client {}), flow {flow}, SMS provider {}",
        settings.pool_id,
        settings.client_id,
        std::env::var("SMS_PROVIDER").unwrap_or_else(|_| "console".to_owned()),
    );
    let pre_authentication = host(3);
    let user_migration = std::env::var_os("LEGACY_SOURCE").is_some().then(|| host(4));
    let post_authentication = host(5);
    Ok(Prepared {
        flow,
        triggers,
        output,
        settings,
        users,
        pre_authentication,
        user_migration,
        post_authentication,
    })
}

async fn sign_in(args: SignIn) -> Result<bool, String> {
    let Prepared {
        flow,
        triggers,
        output,
        settings,
        users,
        ..
    } = prepare(&args.common).await?;
    let pool = LocalPool::new(settings, users, triggers.clone()).with_observer(print_call);

    let mut answers: std::collections::VecDeque<String> = args.answers.into_iter().collect();
    if args.code_from_sms && answers.is_empty() {
        answers.push_back("@sms".to_owned());
    }
    let scripted = !answers.is_empty();
    let mut sms_seen = 0;

    let mut step = if flow.starts_with_password() {
        println!(
            "\n→ InitiateAuth  AuthFlow=CUSTOM_AUTH  USERNAME={}  CHALLENGE_NAME=SRP_A",
            args.username
        );
        pool.initiate_custom_auth_with_srp(&args.username).await
    } else {
        println!(
            "\n→ InitiateAuth  AuthFlow=CUSTOM_AUTH  USERNAME={}",
            args.username
        );
        pool.initiate_custom_auth(&args.username).await
    };
    let mut captcha_images = 0;
    let outcome = loop {
        let (challenge_name, parameters, session) = match step {
            Ok(AuthStep::Authenticated {
                username,
                attributes,
            }) => {
                let sub = attributes.get("sub").and_then(Value::as_str).unwrap_or("?");
                println!(
                    "\n✔ Signed in as {username} (sub {sub}): Cognito issues ID, access and refresh tokens."
                );
                break true;
            }
            Err(CognitoError::Local(message)) => return Err(message),
            Err(error) => {
                println!("\n✘ Sign-in failed: {error}");
                break false;
            }
            Ok(AuthStep::Challenge {
                challenge_name,
                parameters,
                session,
            }) => (challenge_name, parameters, session),
        };
        if challenge_name == "PASSWORD_VERIFIER" {
            println!(
                "← Challenge PASSWORD_VERIFIER (Cognito checks the password; real clients use SRP)"
            );
            let password = match &args.password {
                Some(password) => password.clone(),
                None => match prompt("Password: ")? {
                    Some(password) => password,
                    None => {
                        println!("\n✘ No password given.");
                        break false;
                    }
                },
            };
            println!(
                "\n→ RespondToAuthChallenge  ChallengeName=PASSWORD_VERIFIER  PASSWORD=********"
            );
            step = pool.respond_to_password_verifier(session, &password).await;
            continue;
        }
        println!(
            "← Challenge CUSTOM_CHALLENGE {}",
            describe_parameters(&parameters)
        );
        let step_name = parameters
            .get("challenge")
            .and_then(Value::as_str)
            .unwrap_or("");
        let answer_prompt = if step_name == "CAPTCHA" {
            match parameters.get("captchaImage").and_then(Value::as_str) {
                Some(url) => {
                    captcha_images += 1;
                    let path = save_captcha_image(url, captcha_images)?;
                    println!("  🖼  CAPTCHA image saved to {}", path.display());
                    "CAPTCHA text: "
                }
                None => {
                    println!(
                        "  🧩 CAPTCHA by {}: solve the widget with site key {} and paste its token",
                        parameters
                            .get("provider")
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                        parameters
                            .get("siteKey")
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                    );
                    "CAPTCHA token: "
                }
            }
        } else {
            "Code: "
        };
        // Show any SMS that arrived for this round.
        let messages = if step_name == "SMS_OTP" {
            output
                .wait_for_sms(sms_seen + 1, Duration::from_millis(300))
                .await
        } else {
            output.sms_messages()
        };
        for (to, body) in messages.iter().skip(sms_seen) {
            println!("  📱 SMS to {to}: {body}");
        }
        sms_seen = messages.len();
        let code_length = parameters
            .get("codeLength")
            .and_then(Value::as_str)
            .and_then(|length| length.parse().ok())
            .unwrap_or(6);
        let latest_code = messages
            .last()
            .and_then(|(_, body)| find_code(body, code_length));
        let answer = if scripted {
            let Some(script) = answers.pop_front() else {
                println!("\n✘ No scripted answers left.");
                break false;
            };
            match script.as_str() {
                "@sms" => latest_code
                    .clone()
                    .ok_or("no console SMS arrived to take the code from")?,
                "@wrong" => latest_code
                    .as_deref()
                    .map_or_else(|| "0".repeat(code_length), wrong_answer_for),
                literal => literal.to_owned(),
            }
        } else {
            match prompt(answer_prompt)? {
                Some(answer) => answer,
                None => {
                    println!("\n✘ No answer given.");
                    break false;
                }
            }
        };
        println!(
            "\n→ RespondToAuthChallenge  ChallengeName=CUSTOM_CHALLENGE  ANSWER={}",
            "*".repeat(answer.chars().count().min(12))
        );
        step = pool.respond_to_custom_challenge(session, &answer).await;
    };
    println!("  SMS messages sent: {}", output.sms_messages().len());
    triggers.define.stop().await;
    triggers.create.stop().await;
    triggers.verify.stop().await;
    Ok(outcome)
}

/// Challenge parameters as JSON, with an image CAPTCHA's data URL shortened.
fn describe_parameters(parameters: &serde_json::Map<String, Value>) -> String {
    let shown: serde_json::Map<String, Value> = parameters
        .iter()
        .map(|(key, value)| match (key.as_str(), value.as_str()) {
            ("captchaImage", Some(url)) => (
                key.clone(),
                Value::String(format!("<PNG data URL, {} bytes>", url.len())),
            ),
            _ => (key.clone(), value.clone()),
        })
        .collect();
    Value::Object(shown).to_string()
}

async fn serve(args: Serve) -> Result<(), String> {
    let Prepared {
        flow,
        triggers,
        output,
        settings,
        users,
        pre_authentication,
        user_migration,
        post_authentication,
    } = prepare(&args.common).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let pool_id = settings.pool_id.clone();
    let client_id = settings.client_id.clone();
    let mut pool = LocalPool::new(settings, users, triggers.clone())
        .with_pre_authentication(pre_authentication)
        .with_post_authentication(post_authentication);
    let migrating = user_migration.is_some();
    if let Some(host) = user_migration {
        pool = pool.with_user_migration(host);
    }
    let signer = local_cognito::serve::TokenSigner::generate()?;
    let mut endpoint = local_cognito::serve::Endpoint::new(pool, signer, port, output);
    let demo = args
        .demo_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo"));
    let demo_ready = demo.join("index.html").is_file();
    if demo_ready {
        endpoint = endpoint.with_demo(demo.clone());
    }
    let endpoint = Arc::new(endpoint);
    println!("Cognito user-pool API on http://127.0.0.1:{port}/ (flow {flow})");
    println!("  user pool {pool_id}, app client {client_id}");
    println!(
        "  tokens issued by {}; keys at {}/.well-known/jwks.json",
        endpoint.issuer(),
        endpoint.issuer()
    );
    println!("  SMS inbox: http://127.0.0.1:{port}/local/sms");
    if demo_ready {
        if !demo
            .join("node_modules/amazon-cognito-identity-js")
            .is_dir()
        {
            println!(
                "  (run `npm ci` in {} for the demo page's client library)",
                demo.display()
            );
        }
        println!("  demo page: http://127.0.0.1:{port}/demo/");
    }
    println!(
        "  triggers: Define, Create, Verify, PreAuthentication, PostAuthentication{}",
        if migrating {
            ", UserMigration (LEGACY_SOURCE)"
        } else {
            ""
        }
    );
    println!(
        "  try: aws cognito-idp initiate-auth --endpoint-url http://127.0.0.1:{port} --region us-east-1 --no-sign-request --client-id {client_id} --auth-flow CUSTOM_AUTH --auth-parameters USERNAME=alice"
    );
    let app = endpoint.router();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string());
    triggers.define.stop().await;
    triggers.create.stop().await;
    triggers.verify.stop().await;
    served
}

/// Asks on the terminal until a non-empty line comes (empty lines do not spend an attempt);
/// `None` at end of input.
fn prompt(text: &str) -> Result<Option<String>, String> {
    loop {
        print!("{text}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        if std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?
            == 0
        {
            return Ok(None);
        }
        let answer = line.trim();
        if !answer.is_empty() {
            return Ok(Some(answer.to_owned()));
        }
    }
}

/// Writes an image CAPTCHA's PNG to a file in the temporary directory.
fn save_captcha_image(data_url: &str, number: usize) -> Result<PathBuf, String> {
    use base64::Engine as _;
    let encoded = data_url
        .strip_prefix("data:image/png;base64,")
        .ok_or("the CAPTCHA image is not a PNG data URL")?;
    let png = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the CAPTCHA image is not valid base64: {e}"))?;
    let path = std::env::temp_dir().join(format!(
        "local-cognito-captcha-{}-{number}.png",
        std::process::id()
    ));
    std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The code in an SMS body: the first run of exactly `length` digits.
fn find_code(body: &str, length: usize) -> Option<String> {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == length)
        .map(str::to_owned)
}

fn print_call(call: &TriggerCall) {
    let request = call.event.get("request").cloned().unwrap_or(Value::Null);
    let rounds: Vec<String> = request
        .get("session")
        .and_then(Value::as_array)
        .map(|session| {
            session
                .iter()
                .map(|round| {
                    let name = round
                        .get("challengeName")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    let passed = round
                        .get("challengeResult")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    format!("{name}:{}", if passed { "✓" } else { "✗" })
                })
                .collect()
        })
        .unwrap_or_default();
    let not_found = if request.get("userNotFound").and_then(Value::as_bool) == Some(true) {
        " userNotFound"
    } else {
        ""
    };
    let summary = match &call.outcome {
        Invocation::Response(response) => {
            let answer = response.get("response").cloned().unwrap_or(Value::Null);
            match call.trigger {
                "DefineAuthChallenge" => {
                    let flag =
                        |name: &str| answer.get(name).and_then(Value::as_bool).unwrap_or(false);
                    if flag("issueTokens") {
                        "issueTokens".to_owned()
                    } else if flag("failAuthentication") {
                        "failAuthentication".to_owned()
                    } else {
                        answer
                            .get("challengeName")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                            .to_owned()
                    }
                }
                "CreateAuthChallenge" => match answer.get("publicChallengeParameters") {
                    Some(Value::Object(public)) => {
                        format!("public {}", describe_parameters(public))
                    }
                    other => format!("public {}", other.cloned().unwrap_or(Value::Null)),
                },
                _ => format!(
                    "answerCorrect={}",
                    answer.get("answerCorrect").cloned().unwrap_or(Value::Null)
                ),
            }
        }
        Invocation::FunctionError {
            error_type,
            error_message,
        } => format!("error {error_type}: {error_message}"),
        Invocation::TimedOut => "timed out".to_owned(),
        Invocation::ProcessExited { detail } => format!("process exited: {detail}"),
    };
    // Verify's events carry no session.
    let session = if request.get("session").is_some() {
        format!(" session=[{}]", rounds.join(", "))
    } else {
        String::new()
    };
    println!("  λ {:<28}{session}{not_found}  ⇒ {summary}", call.trigger);
}
