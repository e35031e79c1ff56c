//! What gets measured: each trigger, as this project's Rust binary or as the Node.js equivalent
//! under `aws-lambda-ric`, with the event it is given, the stub it calls and the answer it must
//! give (a wrong answer stops the run: the harness never times a function that misbehaves).

use std::path::{Path, PathBuf};

use cognito_passwordless::otp::{OtpCode, OtpSeal};
use cognito_passwordless::triggers::unix_now;
use serde_json::{Value, json};

use crate::process::Launch;
use crate::stub::Reply;

/// The five triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub(crate) enum Trigger {
    /// DefineAuthChallenge.
    Define,
    /// CreateAuthChallenge (sends the SMS).
    Create,
    /// VerifyAuthChallengeResponse.
    Verify,
    /// PreAuthentication.
    PreAuthentication,
    /// UserMigration (legacy user service over HTTP).
    UserMigration,
}

impl Trigger {
    /// All five, in table order.
    pub(crate) const ALL: [Self; 5] = [
        Self::Define,
        Self::Create,
        Self::Verify,
        Self::PreAuthentication,
        Self::UserMigration,
    ];

    /// The binary's (and Lambda function's) name.
    pub(crate) fn binary(self) -> &'static str {
        match self {
            Self::Define => "define-auth-challenge",
            Self::Create => "create-auth-challenge",
            Self::Verify => "verify-auth-challenge",
            Self::PreAuthentication => "pre-authentication",
            Self::UserMigration => "user-migration",
        }
    }

    /// The Node.js equivalent's module (`bench/node/<module>.mjs`), where there is one.
    pub(crate) fn node_module(self) -> Option<&'static str> {
        match self {
            Self::Define => Some("define"),
            Self::Create => Some("create"),
            Self::Verify => Some("verify"),
            Self::PreAuthentication | Self::UserMigration => None,
        }
    }

    /// What the stub endpoint the function calls answers, if it calls one.
    pub(crate) fn stub(self) -> Option<Reply> {
        match self {
            Self::Create => Some(Reply::sms_sent()),
            Self::UserMigration => Some(Reply::legacy_user()),
            _ => None,
        }
    }
}

/// Which implementation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) enum Implementation {
    /// This project's binary, built with a cargo profile.
    Rust {
        /// The cargo profile's name (`release`, `release-s`, …, or `debug` in short mode).
        profile: String,
    },
    /// The Node.js equivalent.
    Node,
}

impl Implementation {
    /// `Rust (release)`, `Node.js`.
    pub(crate) fn label(&self) -> String {
        match self {
            Self::Rust { profile } => format!("Rust ({profile})"),
            Self::Node => "Node.js".to_owned(),
        }
    }
}

/// One trigger in one implementation, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// The trigger.
    pub trigger: Trigger,
    /// The implementation.
    pub implementation: Implementation,
    /// How to start it (without the stub's address).
    pub launch: Launch,
}

impl Subject {
    /// The Rust binary in `bin_dir`.
    pub(crate) fn rust(trigger: Trigger, profile: &str, bin_dir: &Path) -> Self {
        let binary = bin_dir.join(trigger.binary());
        Self {
            trigger,
            implementation: Implementation::Rust {
                profile: profile.to_owned(),
            },
            launch: Launch {
                program: binary,
                args: Vec::new(),
                dir: bin_dir.to_path_buf(),
                env: vec![("SMS_ORIGINATION_IDENTITY".into(), "+12065550199".into())],
            },
        }
    }

    /// The Node.js equivalent in `node_dir` (`bench/node`), if the trigger has one, started as
    /// Lambda's Node.js runtime starts it: V8's heap sized from the function's memory (128 MB,
    /// as the Rust functions get), then the runtime interface client with the handler.
    pub(crate) fn node(trigger: Trigger, node_dir: &Path, node_major: &str) -> Option<Self> {
        let module = trigger.node_module()?;
        let ric: PathBuf = node_dir.join("node_modules/aws-lambda-ric/bin/index.mjs");
        let handler = format!("{module}.handler");
        let memory_mb = 128;
        let new_space = memory_mb / 10;
        Some(Self {
            trigger,
            implementation: Implementation::Node,
            launch: Launch {
                program: PathBuf::from("node"),
                args: vec![
                    "--expose-gc".into(),
                    format!("--max-semi-space-size={}", new_space / 2),
                    format!("--max-old-space-size={}", memory_mb - new_space),
                    ric.display().to_string(),
                    handler.clone(),
                ],
                dir: node_dir.to_path_buf(),
                env: vec![
                    ("LAMBDA_TASK_ROOT".into(), node_dir.display().to_string()),
                    ("_HANDLER".into(), handler),
                    (
                        "AWS_EXECUTION_ENV".into(),
                        format!("AWS_Lambda_nodejs{node_major}.x"),
                    ),
                    ("NODE_ENV".into(), "production".into()),
                    ("SMS_ORIGINATION_IDENTITY".into(), "+12065550199".into()),
                ],
            },
        })
    }

    /// The launch with the stub's address in the variables the function reads.
    pub(crate) fn launch_with_stub(&self, stub_url: Option<&str>) -> Launch {
        let mut launch = self.launch.clone();
        if let Some(url) = stub_url {
            match self.trigger {
                Trigger::UserMigration => {
                    launch.env.push(("LEGACY_SOURCE".into(), "http".into()));
                    launch
                        .env
                        .push(("LEGACY_HTTP_URL".into(), format!("{url}/users")));
                }
                _ => launch.env.push(("AWS_ENDPOINT_URL".into(), url.to_owned())),
            }
        }
        launch
    }

    /// A `name` like `define-auth-challenge · Node.js`.
    pub(crate) fn name(&self) -> String {
        format!(
            "{} · {}",
            self.trigger.binary(),
            self.implementation.label()
        )
    }

    /// The event for one process's invocations (a fresh one-time code for Verify).
    pub(crate) fn event(&self, events_dir: &Path) -> Result<Vec<u8>, String> {
        let file = match self.trigger {
            Trigger::Define => "define-auth-challenge/after-wrong-code.json",
            Trigger::Create => "create-auth-challenge/first-round.json",
            Trigger::Verify => "verify-auth-challenge/right-code.json",
            Trigger::PreAuthentication => "pre-authentication/allowed.json",
            Trigger::UserMigration => "user-migration/authentication.json",
        };
        let path = events_dir.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let mut event: Value =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        if self.trigger == Trigger::Verify {
            let (code, private) = match self.implementation {
                Implementation::Rust { .. } => fresh_seal(&event)?,
                Implementation::Node => {
                    let code = OtpCode::generate(6).map_err(|error| error.to_string())?;
                    let private = json!({"secretLoginCode": code.expose()});
                    (code, private)
                }
            };
            let request = event
                .get_mut("request")
                .and_then(Value::as_object_mut)
                .ok_or("the Verify sample has no request")?;
            request.insert("privateChallengeParameters".into(), private);
            request.insert("challengeAnswer".into(), json!(code.expose()));
        }
        serde_json::to_vec(&event).map_err(|error| error.to_string())
    }

    /// Whether `response` (the whole returned event) is the right answer.
    pub(crate) fn check(&self, returned: &Value) -> Result<(), String> {
        let response = returned
            .get("response")
            .ok_or_else(|| format!("no response in {returned}"))?;
        let field = |name: &str| response.get(name).cloned().unwrap_or(Value::Null);
        let ok = match self.trigger {
            Trigger::Define => {
                field("challengeName") == json!("CUSTOM_CHALLENGE")
                    && field("issueTokens") == json!(false)
                    && field("failAuthentication") == json!(false)
            }
            Trigger::Create => {
                field("privateChallengeParameters")
                    .as_object()
                    .is_some_and(|map| !map.is_empty())
                    && field("publicChallengeParameters").is_object()
            }
            Trigger::Verify => field("answerCorrect") == json!(true),
            Trigger::PreAuthentication => returned.get("triggerSource").is_some(),
            Trigger::UserMigration => field("finalUserStatus") == json!("CONFIRMED"),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("unexpected response {response}"))
        }
    }

    /// How many stub requests one invocation makes.
    pub(crate) fn stub_calls_per_invocation(&self) -> u64 {
        u64::from(self.trigger.stub().is_some())
    }
}

/// A fresh code and the private parameters CreateAuthChallenge would have sealed it into.
fn fresh_seal(event: &Value) -> Result<(OtpCode, Value), String> {
    let pool = event
        .get("userPoolId")
        .and_then(Value::as_str)
        .ok_or("the Verify sample has no userPoolId")?;
    let user_name = event.get("userName").and_then(Value::as_str).unwrap_or("");
    let attributes: cognito_passwordless::event::StringMap = event
        .pointer("/request/userAttributes")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|error| error.to_string())?
        .unwrap_or_default();
    // Sealed for the user the event is about, as Create seals it.
    let owner = cognito_passwordless::state::UserRef::from_event(user_name, &attributes, false);
    let binding = cognito_passwordless::seal::SealBinding {
        pool_id: pool,
        user: owner.as_str(),
    };
    let code = OtpCode::generate(6).map_err(|error| error.to_string())?;
    let seal = OtpSeal::new(
        &cognito_passwordless::seal::SealKey::none(),
        &code,
        unix_now(),
        binding,
    )
    .map_err(|error| error.to_string())?;
    let private = json!({"challenge": "SMS_OTP", "seal": seal.encode()});
    Ok((code, private))
}
