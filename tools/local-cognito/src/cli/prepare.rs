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
    /// PreSignUp, called on every `SignUp` (`serve`).
    pub(super) pre_sign_up: LambdaHost,
}

/// The local pool's migration client (with `LEGACY_SOURCE`).
pub(super) const MIGRATION_CLIENT_ID: &str = "localmigration000000000000";

/// Checks the configuration the triggers will run with (this process's environment with the
/// tool's own settings on top) before anything is built or started, so a bad value ends the run
/// with the one message that names the variable, not a trigger's failed cold start.
fn check_configuration(overrides: &[(String, String)]) -> Result<(), String> {
    use cognito_passwordless::config::{Config, LOCAL_TOOL_MARKER};
    Config::from_lookup(|name| {
        // What the Lambda host sets and removes for every trigger.
        match name {
            LOCAL_TOOL_MARKER => return Some("1".to_owned()),
            "AWS_EXECUTION_ENV" => return None,
            _ => {}
        }
        overrides
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .or_else(|| std::env::var(name).ok())
    })
    .map(drop)
    .map_err(|error| format!("{error} (fix the variable and run again)"))
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

/// Sets up the local pool. `cognito_endpoint`: where the triggers reach the pool's own API
/// (`serve`'s address: PostAuthentication's `AdminUpdateUserAttributes` with
/// `VERIFY_ON_FIRST_SIGN_IN`).
pub(super) async fn prepare(
    args: &Common,
    cognito_endpoint: Option<String>,
) -> Result<Prepared, String> {
    let flow = args
        .flow
        .clone()
        .or_else(|| std::env::var("AUTH_FLOW").ok())
        .unwrap_or_else(|| "sms_otp".to_owned());
    let flow = cognito_passwordless::flow::AuthFlow::parse(&flow)
        .map_err(|invalid| format!("flow `{flow}`: {invalid}"))?;
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
    match std::env::var("EMAIL_PROVIDER")
        .ok()
        .filter(|value| !value.trim().is_empty())
    {
        None => env.push(("EMAIL_PROVIDER".to_owned(), "console".to_owned())),
        Some(provider) if provider.trim() != "console" && !args.real_sms => {
            return Err(format!(
                "EMAIL_PROVIDER={provider} would send real e-mail from this machine: pass --real-sms to allow it, or unset EMAIL_PROVIDER for the console sender"
            ));
        }
        Some(_) => {}
    }
    if let Some(flow) = &args.flow {
        env.push(("AUTH_FLOW".to_owned(), flow.clone()));
    }
    // Seals keyed as in a deployment (and the otp step's stand-ins, which need a key), unless a
    // key is given: a fixed one, so the local state table's phone and e-mail digests stay the
    // same from one run to the next (its throttles hold across runs). Not a secret: it keys
    // nothing but this machine's own runs.
    let unset = |name: &str| {
        std::env::var(name)
            .ok()
            .is_none_or(|value| value.trim().is_empty())
    };
    if unset("SEAL_KEY") && unset("SEAL_KEY_ARN") {
        env.push(("SEAL_KEY".to_owned(), LOCAL_SEAL_KEY.to_owned()));
    }
    let endpoint = args
        .dynamodb_endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok());
    if let Some(table) = &args.state_table {
        env.push(("STATE_TABLE".to_owned(), table.clone()));
        if let Some(endpoint) = &endpoint {
            env.push(("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), endpoint.clone()));
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
    }
    if let Some(endpoint) = cognito_endpoint {
        env.push((
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".to_owned(),
            endpoint,
        ));
        for (name, value) in [
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            if std::env::var_os(name).is_none() && !env.iter().any(|(set, _)| set == name) {
                env.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    let mut settings = PoolSettings {
        prevent_user_existence_errors: !args.reveal_unknown_users,
        ..PoolSettings::default()
    };
    let migrating = std::env::var("LEGACY_SOURCE").is_ok_and(|source| !source.trim().is_empty());
    if migrating {
        // As the SAM template: a separate migration client, which PostAuthentication guards.
        let client = MIGRATION_CLIENT_ID.to_owned();
        let guarded = match std::env::var("MIGRATION_CLIENT_IDS") {
            Ok(listed) if !listed.trim().is_empty() => format!("{listed},{client}"),
            _ => client.clone(),
        };
        env.push(("MIGRATION_CLIENT_IDS".to_owned(), guarded));
        settings.migration_client_id = Some(client);
    }
    check_configuration(&env)?;
    let binaries = trigger_binaries(args.bin_dir.clone())?;
    if let Some(table) = &args.state_table {
        let client = local_cognito::state_table::client(endpoint.as_deref()).await?;
        local_cognito::state_table::ensure(&client, table).await?;
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
    println!(
        "Local pool {} (passwordless client {}{}), flow {flow}, SMS provider {}",
        settings.pool_id,
        settings.client_id,
        settings
            .migration_client_id
            .as_deref()
            .map(|client| format!(", migration client {client}"))
            .unwrap_or_default(),
        std::env::var("SMS_PROVIDER").unwrap_or_else(|_| "console".to_owned()),
    );
    let pre_authentication = host(3);
    let user_migration = migrating.then(|| host(4));
    let post_authentication = host(5);
    let pre_sign_up = host(6);
    Ok(Prepared {
        flow,
        triggers,
        output,
        settings,
        users,
        pre_authentication,
        user_migration,
        post_authentication,
        pre_sign_up,
    })
}

/// The seal key of local runs without `SEAL_KEY` (see [`prepare`]): public, local only.
const LOCAL_SEAL_KEY: &str = "local-cognito-runs-only-not-a-secret-0123456789";
