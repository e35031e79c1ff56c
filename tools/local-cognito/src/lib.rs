//! A local stand-in for Amazon Cognito's side of a custom-auth sign-in: it runs the real trigger
//! binaries over the Lambda Runtime API ([`lambda_host`]) and calls them as Cognito does
//! ([`cognito`]), for a user directory of your own ([`users`]), optionally with the
//! abuse-protection table on a local DynamoDB-protocol server ([`state_table`]). The `local-cognito` binary wraps
//! it in a command line; the integration tests and benchmarks use it directly.

pub mod binaries;
pub mod cognito;
pub mod lambda_host;
pub mod serve;
pub mod srp;
pub mod state_table;
pub mod users;
