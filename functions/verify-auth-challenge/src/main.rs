//! VerifyAuthChallengeResponse trigger: checks the user's answer (SMS code or CAPTCHA).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::config::Config;
use shared::triggers::{VerifyAuthChallenge, unix_now};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config =
        Config::from_env().inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let site_verifier = shared::captcha::build_site_verifier(&config)
        .await
        .inspect_err(|error| tracing::error!(%error, "cold start failed"))?;
    let trigger = VerifyAuthChallenge::new(&config, site_verifier)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        trigger.invoke(event.payload, unix_now())
    }))
    .await
}
