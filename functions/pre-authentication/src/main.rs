//! PreAuthentication trigger: allows or denies a sign-in by the configured policies.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::config::Config;
use shared::triggers::PreAuthentication;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config =
        Config::from_env().inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let trigger = PreAuthentication::new(&config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        trigger.invoke(event.payload)
    }))
    .await
}
