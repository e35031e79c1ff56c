//! UserMigration trigger: moves a user from the legacy store on first sign-in or password reset.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::config::Config;
use shared::triggers::{UserMigration, build_legacy_source, unix_now};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let trigger = cold_start()
        .await
        .inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        trigger.invoke(event.payload, unix_now())
    }))
    .await
}

async fn cold_start() -> Result<UserMigration, shared::Error> {
    let mut config = Config::from_env()?;
    shared::secrets::resolve_trigger_secrets(&mut config).await?;
    let (migration, source) = build_legacy_source(&config).await?;
    let guard = shared::state::build_guard(&config).await?;
    Ok(UserMigration::new(&migration, source)
        .with_guard(guard)
        .with_allowed_clients(config.migration_client_ids()?))
}
