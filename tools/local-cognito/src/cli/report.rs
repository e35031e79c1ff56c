//! How the commands report what happens: one line per trigger call (never a code or an answer).

use local_cognito::cognito::TriggerCall;
use local_cognito::lambda_host::Invocation;
use serde_json::Value;

/// Challenge parameters as JSON, with an image CAPTCHA's data URL shortened.
pub(super) fn describe_parameters(parameters: &serde_json::Map<String, Value>) -> String {
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

/// One line for a trigger call: the trigger, the session so far, and its answer.
pub(super) fn print_call(call: &TriggerCall) {
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
                "PreAuthentication" | "PostAuthentication" => "allowed".to_owned(),
                "PreSignUp" => format!(
                    "autoConfirmUser={}",
                    answer
                        .get("autoConfirmUser")
                        .cloned()
                        .unwrap_or(Value::Null)
                ),
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

/// The PNG of an image CAPTCHA's `captchaImage` (a `data:image/png;base64,` URL).
pub(super) fn captcha_png(data_url: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let encoded = data_url
        .strip_prefix("data:image/png;base64,")
        .ok_or("the CAPTCHA image is not a PNG data URL")?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the CAPTCHA image is not valid base64: {e}"))
}
