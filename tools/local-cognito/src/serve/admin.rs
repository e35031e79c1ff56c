//! The admin operations that set users up: `AdminCreateUser`, `AdminGetUser`,
//! `AdminDeleteUser`, `ListUsers`.

use serde_json::{Map, Value, json};

use super::request::{AdminCreateUser, AdminUpdateUserAttributes, AdminUser, SignUp};
use super::{ApiError, Endpoint, bad_request, internal, now};
use crate::cognito::CognitoError;
use crate::users::LocalUser;

impl Endpoint {
    fn check_pool(&self, pool: &str) -> Result<(), ApiError> {
        if pool != self.pool.settings().pool_id {
            return Err(bad_request(
                "ResourceNotFoundException",
                format!("User pool {pool} does not exist."),
            ));
        }
        Ok(())
    }

    pub(super) fn admin_create_user(&self, request: AdminCreateUser) -> Result<Value, ApiError> {
        self.check_pool(&request.pool_id)?;
        let user = self.pool.create_user(LocalUser {
            username: request.username,
            attributes: request.attributes,
            password: request.temporary_password,
        })?;
        Ok(json!({"User": user_type(&user, "Attributes", true)}))
    }

    pub(super) fn admin_update_user_attributes(
        &self,
        request: &AdminUpdateUserAttributes,
    ) -> Result<Value, ApiError> {
        self.check_pool(&request.pool_id)?;
        self.pool
            .update_attributes(&request.username, &request.attributes)?;
        Ok(json!({}))
    }

    /// `SignUp` on the passwordless client, through PreSignUp.
    pub(super) async fn sign_up(&self, request: SignUp) -> Result<Value, ApiError> {
        if request.client_id != self.pool.settings().client_id {
            self.check_client(&request.client_id)?;
            return Err(bad_request(
                "NotAuthorizedException",
                "SignUp is not allowed for this client",
            ));
        }
        let (user, confirmed) = self
            .pool
            .sign_up(
                &request.client_id,
                &request.username,
                request.password,
                request.attributes,
                request.validation_data.as_ref(),
                request.client_metadata.as_ref(),
            )
            .await?;
        let sub = user.attributes.get("sub").cloned().unwrap_or_default();
        Ok(json!({"UserConfirmed": confirmed, "UserSub": sub}))
    }

    /// `AdminDisableUser` (which also signs the user out everywhere, as Cognito does) and
    /// `AdminEnableUser`.
    pub(super) fn admin_set_enabled(
        &self,
        request: &AdminUser,
        enabled: bool,
    ) -> Result<Value, ApiError> {
        self.existing_user(request)?;
        let mut disabled = self.disabled.lock().map_err(|_| internal("users"))?;
        if enabled {
            disabled.remove(&request.username);
        } else {
            disabled.insert(request.username.clone());
            drop(disabled);
            self.sign_out_everywhere(&request.username)?;
        }
        Ok(json!({}))
    }

    pub(super) fn admin_user_global_sign_out(
        &self,
        request: &AdminUser,
    ) -> Result<Value, ApiError> {
        self.existing_user(request)?;
        self.sign_out_everywhere(&request.username)?;
        Ok(json!({}))
    }

    /// The user an admin request names, in the pool it names (Cognito's errors otherwise).
    fn existing_user(&self, request: &AdminUser) -> Result<LocalUser, ApiError> {
        self.check_pool(&request.pool_id)?;
        self.pool
            .user(&request.username)
            .ok_or_else(|| CognitoError::UserNotFound.into())
    }

    pub(super) fn admin_get_user(&self, request: &AdminUser) -> Result<Value, ApiError> {
        let user = self.existing_user(request)?;
        Ok(user_type(
            &user,
            "UserAttributes",
            !self.is_disabled(&request.username),
        ))
    }

    pub(super) fn admin_delete_user(&self, request: &AdminUser) -> Result<Value, ApiError> {
        self.check_pool(&request.pool_id)?;
        self.pool.delete_user(&request.username)?;
        // Nothing of the deleted user outlives them: tokens, and the disabled flag (a user made
        // later under the same name starts afresh).
        self.sign_out_everywhere(&request.username)?;
        self.disabled
            .lock()
            .map_err(|_| internal("users"))?
            .remove(&request.username);
        Ok(json!({}))
    }

    pub(super) fn list_users(&self, pool_id: &str) -> Result<Value, ApiError> {
        self.check_pool(pool_id)?;
        let users: Vec<Value> = self
            .pool
            .users()
            .iter()
            .map(|user| user_type(user, "Attributes", !self.is_disabled(&user.username)))
            .collect();
        Ok(json!({"Users": users}))
    }
}

/// Cognito's `UserType` (or `AdminGetUser`'s answer, whose attribute list has another name).
fn user_type(user: &LocalUser, attributes_key: &str, enabled: bool) -> Value {
    let attributes: Vec<Value> = user
        .attributes
        .iter()
        .filter(|(name, _)| !name.starts_with("cognito:"))
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect();
    let status = user
        .attributes
        .get("cognito:user_status")
        .cloned()
        .unwrap_or_else(|| "CONFIRMED".to_owned());
    let created = now();
    let mut answer = Map::new();
    answer.insert("Username".to_owned(), json!(user.username));
    answer.insert(attributes_key.to_owned(), json!(attributes));
    answer.insert("UserStatus".to_owned(), json!(status));
    answer.insert("Enabled".to_owned(), json!(enabled));
    answer.insert("UserCreateDate".to_owned(), json!(created));
    answer.insert("UserLastModifiedDate".to_owned(), json!(created));
    Value::Object(answer)
}
