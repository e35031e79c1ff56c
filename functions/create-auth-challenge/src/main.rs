//! CreateAuthChallenge trigger: creates the challenge for the current step and sends the SMS code.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::triggers::run(shared::triggers::CreateAuthChallenge::from_env()).await
}
