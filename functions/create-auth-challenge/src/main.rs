//! CreateAuthChallenge trigger: creates the challenge for the current step and sends the SMS code.

use cognito_passwordless::triggers::{CreateAuthChallenge, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(CreateAuthChallenge::from_env()).await
}
