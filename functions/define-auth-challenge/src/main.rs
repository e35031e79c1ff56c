//! DefineAuthChallenge trigger: decides the next step of a sign-in (and keeps the lockout).

use cognito_passwordless::triggers::{DefineAuthChallenge, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(DefineAuthChallenge::from_env()).await
}
