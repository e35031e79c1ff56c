//! VerifyAuthChallengeResponse trigger: checks the user's answer (SMS code or CAPTCHA).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::triggers::run(shared::triggers::VerifyAuthChallenge::from_env()).await
}
