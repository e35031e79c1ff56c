//! `ForgotPassword` and `ConfirmForgotPassword`: Cognito's own password reset, played locally. A
//! six-digit code (from the system's random number generator, without modulo bias) goes to the
//! user's verified phone, else verified e-mail address, through the local inbox, and is good
//! for an hour and five tries; a user the pool does not have is asked of the UserMigration
//! trigger first (`UserMigration_ForgotPassword`), and with user-existence errors prevented an
//! unknown user gets the same answer as a known one, and no code.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;

use super::{ApiError, Endpoint, bad_request, internal};
use crate::cognito::CognitoError;

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

impl Endpoint {
    pub(super) async fn forgot_password(
        &self,
        client_id: &str,
        username: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<Value, ApiError> {
        self.check_client(client_id)?;
        let user = self
            .pool
            .user_for_reset(client_id, username, client_metadata)
            .await?;
        let Some(user) = user else {
            if self.pool.settings().prevent_user_existence_errors {
                // The answer a known user with a verified phone gets; no code exists.
                return Ok(json!({"CodeDeliveryDetails": {
                    "Destination": "+*******", "DeliveryMedium": "SMS", "AttributeName": "phone_number"
                }}));
            }
            return Err(CognitoError::UserNotFound.into());
        };
        self.refuse_disabled(&user.username)?;
        let verified = |flag: &str| user.attributes.get(flag).map(String::as_str) == Some("true");
        let phone = user
            .attributes
            .get("phone_number")
            .filter(|_| verified("phone_number_verified"))
            .and_then(|number| cognito_passwordless::phone::PhoneNumber::parse(number).ok());
        let email = user
            .attributes
            .get("email")
            .filter(|_| verified("email_verified"))
            .and_then(|address| cognito_passwordless::email::EmailAddress::parse(address));
        let code = six_digits()?;
        let (details, line) = match (phone, email) {
            (Some(phone), _) => (
                json!({"Destination": phone.masked(), "DeliveryMedium": "SMS", "AttributeName": "phone_number"}),
                format!(
                    "[console-sms] to={} | Your password reset code is {code}",
                    phone.masked()
                ),
            ),
            (None, Some(email)) => (
                json!({"Destination": email.masked(), "DeliveryMedium": "EMAIL", "AttributeName": "email"}),
                format!(
                    "[console-email] to={} | Your password reset code | Your password reset code is {code}",
                    email.masked()
                ),
            ),
            (None, None) => {
                return Err(bad_request(
                    "InvalidParameterException",
                    "Cannot reset password for the user as there is no registered/verified email or phone_number",
                ));
            }
        };
        self.reset_codes
            .lock()
            .map_err(|_| internal("reset codes"))?
            .insert(
                user.username.clone(),
                ResetCode {
                    code,
                    issued: Instant::now(),
                    tries_left: CODE_TRIES,
                    sub: user.attributes.get("sub").cloned(),
                },
            );
        self.output.record_pool_message(line);
        Ok(json!({"CodeDeliveryDetails": details}))
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
        let sub = self
            .pool
            .user(username)
            .and_then(|user| user.attributes.get("sub").cloned());
        let mut codes = self
            .reset_codes
            .lock()
            .map_err(|_| internal("reset codes"))?;
        let Some(issued) = codes.get_mut(username) else {
            return Err(expired());
        };
        if issued.issued.elapsed() > CODE_LIFETIME || issued.sub != sub || sub.is_none() {
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
        codes.remove(username);
        drop(codes);
        self.pool.set_password(username, password)?;
        // A new password ends every session of the old one.
        self.sign_out_everywhere(username)?;
        Ok(json!({}))
    }
}
