//! UserMigration trigger: moves a user from the legacy store on first sign-in or password reset.

use cognito_passwordless::triggers::{UserMigration, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(UserMigration::from_env()).await
}
