//! What both commands set up: the flow, the trigger binaries (built first when run by cargo), the
//! users, the triggers' environment and abuse protection.

use std::path::PathBuf;
use std::sync::Arc;

use local_cognito::binaries::{ALL_TRIGGERS, cargo_build, default_dir, locate};
use local_cognito::cognito::{CustomAuthTriggers, PoolSettings};
use local_cognito::lambda_host::{COGNITO_TIMEOUT, FunctionSpec, LambdaHost, OutputLog};
use local_cognito::users::UserDirectory;

use super::Common;

/// A local pool ready to run: its triggers, their output, its settings.
pub(super) struct Prepared {
    pub(super) flow: cognito_passwordless::flow::AuthFlow,
    pub(super) triggers: Arc<CustomAuthTriggers>,
    pub(super) output: Arc<OutputLog>,
    pub(super) settings: PoolSettings,
    pub(super) users: UserDirectory,
    /// PreAuthentication, called where Cognito calls it (`serve`).
    pub(super) pre_authentication: LambdaHost,
    /// UserMigration, when `LEGACY_SOURCE` is set (`serve`, for `USER_PASSWORD_AUTH`).
    pub(super) user_migration: Option<LambdaHost>,
    /// PostAuthentication, called after every successful sign-in (`serve`).
    pub(super) post_authentication: LambdaHost,
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
        eprintln!(
            "local-cognito: building the {} trigger binaries into {} (the first build takes a few minutes on a small machine; later ones, seconds)",
            ALL_TRIGGERS.len(),
            dir.display()
        );
        cargo_build(cargo.as_ref(), manifest_dir.as_ref(), &dir, &ALL_TRIGGERS)
            .map_err(|e| e.to_string())?;
    }
    locate(&dir, &ALL_TRIGGERS).map_err(|e| e.to_string())
}

pub(super) async fn prepare(args: &Common) -> Result<Prepared, String> {
    let flow = args
        .flow
        .clone()
        .or_else(|| std::env::var("AUTH_FLOW").ok())
        .unwrap_or_else(|| "sms_otp".to_owned());
    let flow = cognito_passwordless::flow::AuthFlow::parse(&flow)
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
        let client = local_cognito::state_table::client(endpoint.as_deref()).await?;
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
