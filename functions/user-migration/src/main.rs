//! UserMigration trigger: moves a user from the legacy store on first sign-in or password reset.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::config::Config;
use shared::triggers::{UserMigration, build_legacy_source};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config =
        Config::from_env().inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let (migration, source) = build_legacy_source(&config)
        .await
        .inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let trigger = UserMigration::new(&migration, source);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        trigger.invoke(event.payload)
    }))
    .await
}
