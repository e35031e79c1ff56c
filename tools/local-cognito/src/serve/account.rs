//! What a signed-in user does with an access token — `GetUser`, `UpdateUserAttributes`,
//! `GlobalSignOut` — and `RevokeToken` with a refresh token; with the admin side
//! (`AdminUserGlobalSignOut`, `AdminDisableUser`, `AdminEnableUser`) in `admin`. Signing out
//! and revoking take effect at once: the endpoint keeps every live access token it issued.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{AccessGrant, ApiError, Endpoint, bad_request, internal, now};

/// The attributes the SAM template's sign-in client lets a signed-in user write (its
/// `WriteAttributes`): never where codes go (`phone_number`, `email`), their verification,
/// `custom:` ones (such as the blocked flag), nor anything outside the schema.
const USER_WRITABLE: &[&str] = &[
    "address",
    "birthdate",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

fn user_may_write(attribute: &str) -> bool {
    USER_WRITABLE.contains(&attribute)
}

impl Endpoint {
    /// The live grant of `access_token`, for a user who still exists and is enabled.
    fn grant(&self, access_token: &str) -> Result<AccessGrant, ApiError> {
        let grant = self
            .access_tokens
            .lock()
            .map_err(|_| internal("access tokens"))?
            .get(access_token)
            .cloned()
            .ok_or_else(|| {
                bad_request("NotAuthorizedException", "Access Token has been revoked")
            })?;
        if grant.expires_at <= now() {
            return Err(bad_request(
                "NotAuthorizedException",
                "Access Token has expired",
            ));
        }
        // The token's user, not another one of the same name made since.
        let current_sub = self
            .pool
            .user(&grant.username)
            .and_then(|user| user.attributes.get("sub").cloned());
        if current_sub.is_none() || current_sub != grant.sub {
            return Err(bad_request(
                "NotAuthorizedException",
                "Access Token has been revoked",
            ));
        }
        self.refuse_disabled(&grant.username)?;
        Ok(grant)
    }

    /// `NotAuthorizedException: User is disabled.` for a user `AdminDisableUser` disabled.
    pub(super) fn refuse_disabled(&self, username: &str) -> Result<(), ApiError> {
        if self
            .disabled
            .lock()
            .map_err(|_| internal("users"))?
            .contains(username)
        {
            return Err(bad_request("NotAuthorizedException", "User is disabled."));
        }
        Ok(())
    }

    /// Whether `username` is disabled.
    pub(super) fn is_disabled(&self, username: &str) -> bool {
        self.disabled
            .lock()
            .is_ok_and(|disabled| disabled.contains(username))
    }

    pub(super) fn get_user(&self, access_token: &str) -> Result<Value, ApiError> {
        let grant = self.grant(access_token)?;
        let user = self.pool.user(&grant.username).ok_or_else(|| {
            bad_request("NotAuthorizedException", "Access Token has been revoked")
        })?;
        let attributes: Vec<Value> = user
            .attributes
            .iter()
            .filter(|(name, _)| !name.starts_with("cognito:"))
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect();
        Ok(json!({"Username": user.username, "UserAttributes": attributes}))
    }

    pub(super) fn update_user_attributes(
        &self,
        access_token: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Value, ApiError> {
        let grant = self.grant(access_token)?;
        if let Some(refused) = attributes.keys().find(|name| !user_may_write(name)) {
            return Err(bad_request(
                "NotAuthorizedException",
                format!("A client attempted to write unauthorized attribute {refused}"),
            ));
        }
        self.pool.update_attributes(&grant.username, attributes)?;
        Ok(json!({"CodeDeliveryDetailsList": []}))
    }

    pub(super) fn global_sign_out(&self, access_token: &str) -> Result<Value, ApiError> {
        let grant = self.grant(access_token)?;
        self.sign_out_everywhere(&grant.username)?;
        Ok(json!({}))
    }

    /// Revokes every refresh and access token of `username`.
    pub(super) fn sign_out_everywhere(&self, username: &str) -> Result<(), ApiError> {
        self.refresh_tokens
            .lock()
            .map_err(|_| internal("refresh tokens"))?
            .retain(|_, signed_in| signed_in.username != username);
        self.access_tokens
            .lock()
            .map_err(|_| internal("access tokens"))?
            .retain(|_, grant| grant.username != username);
        Ok(())
    }

    /// `RevokeToken`: the refresh token and every access token of its sign-in stop working. A
    /// token this endpoint does not know is revoked already (as Cognito answers); one of another
    /// client is refused.
    pub(super) fn revoke_token(&self, token: &str, client_id: &str) -> Result<Value, ApiError> {
        self.check_client(client_id)?;
        let mut refresh_tokens = self
            .refresh_tokens
            .lock()
            .map_err(|_| internal("refresh tokens"))?;
        let Some(signed_in) = refresh_tokens.get(token) else {
            return Ok(json!({}));
        };
        if signed_in.client_id != client_id {
            return Err(bad_request(
                "UnauthorizedException",
                "The token was not issued to this client",
            ));
        }
        let origin = signed_in.origin_jti.clone();
        refresh_tokens.remove(token);
        drop(refresh_tokens);
        self.access_tokens
            .lock()
            .map_err(|_| internal("access tokens"))?
            .retain(|_, grant| grant.origin_jti != origin);
        Ok(json!({}))
    }
}
