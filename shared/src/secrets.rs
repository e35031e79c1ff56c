//! Secrets read once at cold start: from the variable itself, or from AWS Secrets Manager when the
//! `…_ARN` variable names a secret (`GetSecretValue`). A secret whose `SecretString` is a JSON
//! object is read from the key named like the plain variable (e.g. `CAPTCHA_SECRET`), so one
//! Secrets Manager secret may hold several values; any other `SecretString` is used as it is.

use std::time::Duration;

use crate::Error;

/// The most reading one secret may take, both attempts included. Reads happen during a cold
/// start, which counts against the 5 seconds Cognito waits for the first invocation.
pub const READ_TIMEOUT: Duration = Duration::from_millis(1500);
use crate::secret::{Secret, SecretSource};

/// The value of `source`; `plain_variable` is the variable the value would otherwise be given in
/// (`CAPTCHA_SECRET`), used as the JSON key.
pub async fn resolve(source: &SecretSource, plain_variable: &'static str) -> Result<Secret, Error> {
    match source {
        SecretSource::Value(secret) => Ok(secret.clone()),
        SecretSource::SecretsManager { variable, arn } => {
            let config =
                crate::aws::load_sdk_config(crate::aws::sdk_config_loader(READ_TIMEOUT)?).await?;
            let client = aws_sdk_secretsmanager::Client::new(&config);
            let output = client
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|error| {
                    Error::config(
                        variable,
                        format!(
                            "cannot read the secret: {}",
                            aws_smithy_types::error::display::DisplayErrorContext(&error)
                        ),
                    )
                })?;
            let text = output.secret_string().ok_or_else(|| {
                Error::config(
                    variable,
                    "the secret has no SecretString (binary secrets are not supported)",
                )
            })?;
            select(text, plain_variable).ok_or_else(|| {
                Error::config(
                    variable,
                    format!("the secret is a JSON object without a string `{plain_variable}` key"),
                )
            })
        }
    }
}

/// The secret in a `SecretString`: the `key` of a JSON object, or the whole text otherwise.
fn select(text: &str, key: &str) -> Option<Secret> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(Secret::new),
        _ if !text.trim().is_empty() => Some(Secret::new(text.trim())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_json_secret_strings() {
        assert_eq!(select("abc", "K"), Some(Secret::new("abc")));
        assert_eq!(select("abc\n", "K"), Some(Secret::new("abc")));
        assert_eq!(select(r#"{"K":" v\n"}"#, "K"), Some(Secret::new("v")));
        assert_eq!(
            select(r#"{"K":"v","other":"x"}"#, "K"),
            Some(Secret::new("v"))
        );
        assert_eq!(select(r#"{"other":"x"}"#, "K"), None);
        assert_eq!(select(r#"{"K":""}"#, "K"), None);
        assert_eq!(select("", "K"), None);
        // A JSON string or number is a plain secret.
        assert_eq!(select("\"quoted\"", "K"), Some(Secret::new("\"quoted\"")));
    }
}
