//! VerifyAuthChallengeResponse trigger: checks the user's answer (SMS code or CAPTCHA).

use cognito_passwordless::triggers::{VerifyAuthChallenge, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(VerifyAuthChallenge::from_env()).await
}
