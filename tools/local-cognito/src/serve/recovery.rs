//! `ForgotPassword` and `ConfirmForgotPassword`: Cognito's own password reset, played locally as
//! the template's pools have it (`AccountRecovery`): refused with `admin_only` (the default),
//! with `verified_email` a six-digit code (from the system's random number generator, without
//! modulo bias) e-mailed to the verified address through the local inbox, good for an hour and
//! five tries, once. A user the pool does not have is asked of the UserMigration trigger first
//! (`UserMigration_ForgotPassword`); with user-existence errors prevented an unknown user gets
//! an answer of the same shape (a stand-in address), and no code.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;

use super::{ApiError, Endpoint, bad_request, internal};
use crate::cognito::{AccountRecovery, CognitoError};

/// How long a reset code is good for.
const CODE_LIFETIME: Duration = Duration::from_secs(3_600);
/// Wrong answers a reset code takes before it stops working.
const CODE_TRIES: u8 = 5;

/// A reset code handed out, not used yet.
#[derive(Debug, Clone)]
pub(super) struct ResetCode {
    code: String,
    issued: Instant,
    tries_left: u8,
    /// The user's `sub`: a code for a user deleted and made again under the name is void.
    sub: Option<String>,
}

/// Six decimal digits, each from a byte below 250 (rejection sampling: no modulo bias).
fn six_digits() -> Result<String, ApiError> {
    let mut code = String::with_capacity(6);
    while code.len() < 6 {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte).map_err(|_| internal("the random number generator"))?;
        if byte[0] < 250 {
            code.push(char::from(b'0' + byte[0] % 10));
        }
    }
    Ok(code)
}

/// Two letters from a keyed hash of `username` (a key made at each start), in the shape of
/// [`cognito_passwordless::email::EmailAddress::hint`]: what an unknown user is told the code
/// went to, stable for the name.
fn stand_in_hint(key: &[u8; 32], username: &str) -> String {
    use hmac::Mac as _;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return "a***@e***".to_owned();
    };
    mac.update(username.as_bytes());
    let digest = mac.finalize().into_bytes();
    let letter = |byte: u8| char::from(b'a' + byte % 26);
    format!(
        "{}***@{}***",
        letter(digest.first().copied().unwrap_or(0)),
        letter(digest.get(1).copied().unwrap_or(0))
    )
}

impl Endpoint {
    pub(super) async fn forgot_password(
        &self,
        client_id: &str,
        username: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<Value, ApiError> {
        self.check_client(client_id)?;
        // As the template's pools: no self-service reset unless AccountRecovery allows it, and
        // then by e-mail only. The same answer for every user.
        if self.pool.settings().account_recovery == AccountRecovery::AdminOnly {
            return Err(bad_request(
                "NotAuthorizedException",
                "User password cannot be reset in the current state.",
            ));
        }
        let user = self
            .pool
            .user_for_reset(client_id, username, client_metadata)
            .await?;
        let Some(user) = user else {
            if self.pool.settings().prevent_user_existence_errors {
                // The answer a known user gets (a stand-in address, stable for the name); no
                // code exists.
                return Ok(json!({"CodeDeliveryDetails": {
                    "Destination": stand_in_hint(&self.stand_in_key, username),
                    "DeliveryMedium": "EMAIL",
                    "AttributeName": "email"
                }}));
            }
            return Err(CognitoError::UserNotFound.into());
        };
        self.refuse_disabled(&user.username)?;
        let email = user
            .attributes
            .get("email")
            .filter(|_| user.attributes.get("email_verified").map(String::as_str) == Some("true"))
            .and_then(|address| cognito_passwordless::email::EmailAddress::parse(address))
            .ok_or_else(|| {
                bad_request(
                    "InvalidParameterException",
                    "Cannot reset password for the user as there is no registered/verified email or phone_number",
                )
            })?;
        let code = six_digits()?;
        self.reset_codes
            .lock()
            .map_err(|_| internal("reset codes"))?
            .insert(
                user.username.clone(),
                ResetCode {
                    code: code.clone(),
                    issued: Instant::now(),
                    tries_left: CODE_TRIES,
                    sub: user.attributes.get("sub").cloned(),
                },
            );
        self.output.record_pool_message(format!(
            "[console-email] to={} | Your password reset code | Your password reset code is {code}",
            email.masked()
        ));
        Ok(json!({"CodeDeliveryDetails": {
            "Destination": email.hint(), "DeliveryMedium": "EMAIL", "AttributeName": "email"
        }}))
    }

    pub(super) fn confirm_forgot_password(
        &self,
        client_id: &str,
        username: &str,
        code: &str,
        password: &str,
    ) -> Result<Value, ApiError> {
        self.check_client(client_id)?;
        let expired = || {
            bad_request(
                "ExpiredCodeException",
                "Invalid code provided, please request a code again.",
            )
        };
        let mut codes = self
            .reset_codes
            .lock()
            .map_err(|_| internal("reset codes"))?;
        let Some(issued) = codes.get_mut(username) else {
            return Err(expired());
        };
        if issued.issued.elapsed() > CODE_LIFETIME {
            codes.remove(username);
            return Err(expired());
        }
        // Counted before it is compared.
        issued.tries_left = issued.tries_left.saturating_sub(1);
        let right = bool::from(issued.code.as_bytes().ct_eq(code.as_bytes()));
        if !right {
            if issued.tries_left == 0 {
                codes.remove(username);
            }
            return Err(bad_request(
                "CodeMismatchException",
                "Invalid verification code provided, please try again.",
            ));
        }
        let sub = issued.sub.clone();
        codes.remove(username);
        drop(codes);
        self.refuse_disabled(username)?;
        // Only for the user the code was sent to (checked under the directory's lock).
        let Some(sub) = sub else {
            return Err(expired());
        };
        self.pool
            .set_password(username, &sub, password)
            .map_err(|_| expired())?;
        // A new password ends every session of the old one.
        self.sign_out_everywhere(username)?;
        Ok(json!({}))
    }
}
