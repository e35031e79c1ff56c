//! PreAuthentication trigger: allows or denies a sign-in by the configured policies and the
//! lockout.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::config::Config;
use shared::triggers::{PreAuthentication, unix_now};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config =
        Config::from_env().inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let guard = shared::state::build_guard(&config)
        .await
        .inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let trigger = PreAuthentication::new(&config).with_guard(guard);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        trigger.invoke(event.payload, unix_now())
    }))
    .await
}
