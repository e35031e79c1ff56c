//! PreAuthentication trigger: allows or denies a sign-in by the configured policies and the
//! lockout.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::triggers::run(shared::triggers::PreAuthentication::from_env()).await
}
