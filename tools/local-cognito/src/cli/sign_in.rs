//! The interactive sign-in: one `CUSTOM_AUTH` sign-in from the terminal, every trigger call
//! printed, answers asked for (or given with `--answers`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use cognito_passwordless::otp::wrong_answer_for;
use local_cognito::cognito::{AuthStep, CognitoError, LocalPool, TriggerCall};
use local_cognito::lambda_host::Invocation;
use serde_json::Value;

use super::SignIn;
use super::prepare::{Prepared, prepare};

pub(super) async fn sign_in(args: SignIn) -> Result<bool, String> {
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
