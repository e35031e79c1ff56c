//! The user pool's admin API, for the one call a trigger makes to it: PostAuthentication marks a
//! destination verified after the first right code sent there (`VERIFY_ON_FIRST_SIGN_IN`),
//! with `AdminUpdateUserAttributes` (the functions' IAM policy allows that action on that pool
//! only). [`UserPoolAdmin`] is the interface; [`SdkUserPoolAdmin`] (feature `cognito-admin`)
//! the AWS SDK one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The whole call, retry included, ends within this (PostAuthentication answers inside
/// Cognito's 5 seconds with the state table's share taken).
pub const ADMIN_TIMEOUT: Duration = Duration::from_millis(1_500);

/// What an admin call returns: `Err` with the service's words (never a value of the user).
pub type AdminFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// The admin calls the triggers make.
pub trait UserPoolAdmin: Send + Sync + fmt::Debug {
    /// For each proved `(attribute, value)` (`phone_number` or `email` and the value a code
    /// reached), sets the attribute to that value and `<attribute>_verified` to `true`, in one
    /// call, for the user `user_name` of the pool `pool_id`: a value changed since the proof is
    /// never the one marked verified.
    fn mark_verified<'a>(
        &'a self,
        pool_id: &'a str,
        user_name: &'a str,
        proved: &'a [(&'static str, &'a str)],
    ) -> AdminFuture<'a>;
}

/// [`UserPoolAdmin`] on the AWS SDK (`AdminUpdateUserAttributes`).
#[cfg(feature = "cognito-admin")]
#[derive(Debug, Clone)]
pub struct SdkUserPoolAdmin {
    client: aws_sdk_cognitoidentityprovider::Client,
}

#[cfg(feature = "cognito-admin")]
impl SdkUserPoolAdmin {
    /// The client, with this project's HTTP client, timeouts ([`ADMIN_TIMEOUT`]) and retries;
    /// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` points it elsewhere (the local tool, tests).
    pub async fn from_env() -> Result<Self, crate::Error> {
        let loader = crate::aws::sdk_config_loader(ADMIN_TIMEOUT)?;
        let config = crate::aws::load_sdk_config(loader).await?;
        Ok(Self {
            client: aws_sdk_cognitoidentityprovider::Client::new(&config),
        })
    }
}

#[cfg(feature = "cognito-admin")]
impl UserPoolAdmin for SdkUserPoolAdmin {
    fn mark_verified<'a>(
        &'a self,
        pool_id: &'a str,
        user_name: &'a str,
        proved: &'a [(&'static str, &'a str)],
    ) -> AdminFuture<'a> {
        use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata as _;
        use aws_sdk_cognitoidentityprovider::types::AttributeType;
        Box::pin(async move {
            let mut request = self
                .client
                .admin_update_user_attributes()
                .user_pool_id(pool_id)
                .username(user_name);
            for (name, value) in proved {
                for (name, value) in [
                    (name.to_string(), *value),
                    (format!("{name}_verified"), "true"),
                ] {
                    let attribute = AttributeType::builder()
                        .name(name)
                        .value(value)
                        .build()
                        .map_err(|error| error.to_string())?;
                    request = request.user_attributes(attribute);
                }
            }
            request.send().await.map(drop).map_err(|error| {
                let code = error.code().unwrap_or("no error code").to_owned();
                let message = error
                    .message()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>();
                match &error {
                    aws_sdk_cognitoidentityprovider::error::SdkError::ServiceError(_) => {
                        format!("{code}: {message}")
                    }
                    other => crate::error::describe_chain(other),
                }
            })
        })
    }
}
