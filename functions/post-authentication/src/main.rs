//! PostAuthentication trigger: refuses sign-ins of users already in the pool through a
//! migration-only app client (`MIGRATION_CLIENT_IDS`), after Cognito checked the password.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::triggers::run(shared::triggers::PostAuthentication::from_env()).await
}
