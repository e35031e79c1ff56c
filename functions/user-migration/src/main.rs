//! UserMigration trigger: moves a user from the legacy store on first sign-in or password reset.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::triggers::run(shared::triggers::UserMigration::from_env()).await
}
