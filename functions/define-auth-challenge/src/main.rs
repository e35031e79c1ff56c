//! DefineAuthChallenge trigger: decides the next step of a sign-in (and keeps the lockout).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::triggers::run(shared::triggers::DefineAuthChallenge::from_env()).await
}
