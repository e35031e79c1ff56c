//! The interactive sign-in: one `CUSTOM_AUTH` sign-in from the terminal, every trigger call
//! printed, answers asked for (or given with `--answers`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use cognito_passwordless::otp::wrong_answer_for;
use local_cognito::cognito::{AuthStep, CognitoError, LocalPool};
use serde_json::Value;

use super::SignIn;
use super::prepare::{Prepared, prepare};
use super::report::{captcha_png, describe_parameters, print_call};

pub(super) async fn sign_in(args: SignIn) -> Result<bool, String> {
    let Prepared {
        flow,
        triggers,
        output,
        settings,
        users,
        ..
    } = prepare(&args.common, None).await?;
    let why_no_sms = why_no_sms(
        &users,
        &args.username,
        flow.contains(cognito_passwordless::flow::ChallengeStep::EmailOtp),
    );
    let pool = LocalPool::new(settings, users, triggers.clone()).with_observer(print_call);

    check_answer_words(&args.answers)?;
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
    let mut captcha_images = SavedImages::new()?;
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
        let switch_prompt;
        let answer_prompt = if step_name == "CAPTCHA" {
            match parameters.get("captchaImage").and_then(Value::as_str) {
                Some(url) => {
                    let path = captcha_images.save(url)?;
                    println!(
                        "  🖼  CAPTCHA image saved to {} (removed when the tool exits)",
                        path.display()
                    );
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
            let others = parameters
                .get("channels")
                .and_then(Value::as_str)
                .unwrap_or("");
            match others.split(',').find(|other| !other.is_empty()) {
                Some(other) => {
                    switch_prompt = format!(
                        "Code (or @resend for a new one, @switch:{other} to get it by {other}): "
                    );
                    switch_prompt.as_str()
                }
                None => "Code (or @resend for a new one): ",
            }
        };
        // Show any SMS that arrived for this round.
        let code_step = matches!(step_name, "SMS_OTP" | "EMAIL_OTP" | "OTP");
        let messages = if code_step {
            output
                .wait_for_sms(sms_seen + 1, Duration::from_millis(300))
                .await
        } else {
            output.sms_messages()
        };
        for (to, body) in messages.iter().skip(sms_seen) {
            if to.contains('@') {
                println!("  📧 E-mail to {to}: {}", body.replace('\n', " "));
            } else if let Some(phone) = to.strip_suffix(local_cognito::lambda_host::CALL_SUFFIX) {
                println!("  📞 Call to {phone}: \"{body}\"");
            } else {
                println!("  📱 SMS to {to}: {body}");
            }
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
                "@sms" => latest_code.clone().ok_or_else(|| {
                    format!("no console SMS arrived to take the code from: {why_no_sms}")
                })?,
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
        let action = otp_action(&answer);
        if action.is_some() && !code_step {
            // Sent as a literal answer it would spend an attempt.
            return Err(format!(
                "{answer} asks for a new code, but this round is a {step_name} challenge: answer it instead"
            ));
        }
        if let Some(metadata) = action {
            // Asks for the code again, or by another channel, instead of answering (what a
            // "Send again" or "Send by email instead" button does).
            println!(
                "\n→ RespondToAuthChallenge  ChallengeName=CUSTOM_CHALLENGE  ANSWER=resend  ClientMetadata={}",
                Value::Object(metadata.clone())
            );
            step = pool
                .respond_to_custom_challenge_with_metadata(session, "resend", Some(&metadata))
                .await;
            continue;
        }
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

/// The CAPTCHA images this run saves, in a directory of its own (only this user may enter it),
/// removed when the run ends: normally, on an error, or on Ctrl-C.
#[derive(Debug)]
struct SavedImages {
    dir: PathBuf,
    count: usize,
}

impl SavedImages {
    /// Chooses the directory (made on the first image) and removes it on Ctrl-C.
    fn new() -> Result<Self, String> {
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|e| format!("random number generator: {e}"))?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let dir =
            std::env::temp_dir().join(format!("local-cognito-{}-{suffix}", std::process::id()));
        let on_interrupt = dir.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = std::fs::remove_dir_all(&on_interrupt);
                std::process::exit(130);
            }
        });
        Ok(Self { dir, count: 0 })
    }

    /// Writes an image CAPTCHA's PNG (a data URL) to a new file; its path.
    fn save(&mut self, data_url: &str) -> Result<PathBuf, String> {
        use std::io::Write as _;
        let png = captcha_png(data_url)?;
        if self.count == 0 {
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(&self.dir)
                .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        }
        self.count += 1;
        let path = self.dir.join(format!("captcha-{}.png", self.count));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&png))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for SavedImages {
    fn drop(&mut self) {
        if self.count > 0 {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The code in an SMS body: the first run of exactly `length` digits.
fn find_code(body: &str, length: usize) -> Option<String> {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == length)
        .map(str::to_owned)
}

/// The answer word that asks for the code again (`ClientMetadata` `{"otpAction": "resend"}`),
/// on the command line and at the code prompt.
const RESEND: &str = "@resend";

/// The answer words that ask for the code by another channel (`ClientMetadata`
/// `{"otpAction": "switch", "otpChannel": "email"}`).
const SWITCH_WORDS: [&str; 3] = ["@switch:sms", "@switch:email", "@switch:voice"];

/// The `@` words `--answers` knows.
const ANSWER_WORDS: [&str; 6] = [
    "@sms",
    "@wrong",
    RESEND,
    SWITCH_WORDS[0],
    SWITCH_WORDS[1],
    SWITCH_WORDS[2],
];

/// The `ClientMetadata` an answer word asks for instead of answering, if it is one.
fn otp_action(answer: &str) -> Option<serde_json::Map<String, Value>> {
    let mut metadata = serde_json::Map::new();
    if answer == RESEND {
        metadata.insert("otpAction".to_owned(), Value::from("resend"));
        return Some(metadata);
    }
    let channel = answer
        .strip_prefix("@switch:")
        .filter(|_| SWITCH_WORDS.contains(&answer))?;
    metadata.insert("otpAction".to_owned(), Value::from("switch"));
    metadata.insert("otpChannel".to_owned(), Value::from(channel));
    Some(metadata)
}

/// Refuses an `@` word `--answers` does not know (a mistyped `@sms` would be sent as a literal
/// answer and spend an attempt).
fn check_answer_words(answers: &[String]) -> Result<(), String> {
    match answers
        .iter()
        .find(|answer| answer.starts_with('@') && !ANSWER_WORDS.contains(&answer.as_str()))
    {
        Some(unknown) => Err(format!(
            "--answers: unknown word {unknown}: use @sms (the code from the console SMS, e-mail or call), @wrong (a well-formed code that is not it), @resend (ask for a new code), @switch:email, @switch:sms or @switch:voice (ask for it by that channel) or a literal answer"
        )),
        None => Ok(()),
    }
}

/// Why a code step (SMS, or e-mail with `by_email`) may have sent nothing, for the user signing
/// in.
fn why_no_sms(
    users: &local_cognito::users::UserDirectory,
    username: &str,
    by_email: bool,
) -> String {
    let (attribute, verified, what, message) = if by_email {
        ("email", "email_verified", "e-mail address", "e-mail")
    } else {
        (
            "phone_number",
            "phone_number_verified",
            "phone number",
            "SMS",
        )
    };
    let verified_destination = users.get(username).is_some_and(|user| {
        user.attributes.contains_key(attribute)
            && user
                .attributes
                .get(verified)
                .is_some_and(|verified| verified == "true")
    });
    if verified_destination {
        format!(
            "a send for this step was already claimed within the last seconds (a repeated or \
             concurrent sign-in: Create sends one {message} per step, and the earlier one's code \
             stands); wait a few seconds and sign in again"
        )
    } else {
        format!(
            "{username} has no verified {what} in the local pool, so Create sent no {message} \
             (a decoy challenge: the person signing in cannot tell)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_answer_words_are_refused_before_anything_runs() {
        let answers = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert!(
            check_answer_words(&answers(&[
                "@sms",
                "@wrong",
                "@resend",
                "@switch:email",
                "@switch:voice",
                "123456",
                "Xk4Pq"
            ]))
            .is_ok()
        );
        let refused = check_answer_words(&answers(&["123456", "@right"])).unwrap_err();
        assert!(
            refused.contains("@right") && refused.contains("@sms"),
            "{refused}"
        );
        assert!(check_answer_words(&answers(&["@SMS"])).is_err());
        assert!(check_answer_words(&answers(&["@switch:fax"])).is_err());
        assert_eq!(otp_action("@switch:fax"), None);
        assert_eq!(otp_action("123456"), None);
        assert_eq!(
            otp_action("@switch:email").map(Value::Object),
            Some(serde_json::json!({"otpAction": "switch", "otpChannel": "email"}))
        );
        assert_eq!(
            otp_action("@resend").map(Value::Object),
            Some(serde_json::json!({"otpAction": "resend"}))
        );
    }

    #[test]
    fn a_missing_sms_is_explained() {
        let users = local_cognito::users::UserDirectory::sample();
        // Built-in users: alice has a verified phone, bob an unverified one, carol none; nobody
        // is unknown.
        assert!(why_no_sms(&users, "alice", false).contains("already claimed"));
        assert!(why_no_sms(&users, "bob", false).contains("no verified phone number"));
        assert!(why_no_sms(&users, "carol", false).contains("no verified phone number"));
        assert!(why_no_sms(&users, "nobody", false).contains("decoy"));
        // By e-mail: carol has a verified address, bob none.
        assert!(why_no_sms(&users, "carol", true).contains("one e-mail per step"));
        assert!(why_no_sms(&users, "bob", true).contains("no verified e-mail address"));
    }
}
