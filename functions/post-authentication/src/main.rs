//! PostAuthentication trigger: refuses sign-ins of users already in the pool through a
//! migration-only app client (`MIGRATION_CLIENT_IDS`), after Cognito checked the password.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::config::Config;
use shared::triggers::{PostAuthentication, unix_now};

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

async fn cold_start() -> Result<PostAuthentication, shared::Error> {
    let mut config = Config::from_env()?;
    shared::secrets::resolve_trigger_secrets(&mut config).await?;
    let guard = shared::state::build_guard(&config).await?;
    Ok(PostAuthentication::new(&config)?.with_guard(guard))
}
