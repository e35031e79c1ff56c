//! PreAuthentication trigger: allows or denies a sign-in by the configured policies and the
//! lockout.

use cognito_passwordless::triggers::{PreAuthentication, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(PreAuthentication::from_env()).await
}
