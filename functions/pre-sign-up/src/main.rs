//! PreSignUp trigger: auto-confirms sign-ups that pass the sign-up policy (app client, required
//! attributes, the send rules for phone numbers) and refuses the others; never auto-verifies.

use cognito_passwordless::triggers::{PreSignUp, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(PreSignUp::from_env()).await
}
