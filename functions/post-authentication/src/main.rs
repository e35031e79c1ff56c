//! PostAuthentication trigger: refuses sign-ins of users already in the pool through a
//! migration-only app client (`MIGRATION_CLIENT_IDS`), after Cognito checked the password.

use cognito_passwordless::triggers::{PostAuthentication, run};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    run(PostAuthentication::from_env()).await
}
