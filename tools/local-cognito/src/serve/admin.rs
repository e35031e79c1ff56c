//! The admin operations that set users up: `AdminCreateUser`, `AdminGetUser`,
//! `AdminDeleteUser`, `ListUsers`.

use serde_json::{Map, Value, json};

use super::{ApiError, Endpoint, bad_request, now};
use crate::cognito::CognitoError;
use crate::users::LocalUser;

impl Endpoint {
    fn check_pool(&self, body: &Value) -> Result<(), ApiError> {
        let pool = body.get("UserPoolId").and_then(Value::as_str).unwrap_or("");
        if pool != self.pool.settings().pool_id {
            return Err(bad_request(
                "ResourceNotFoundException",
                format!("User pool {pool} does not exist."),
            ));
        }
        Ok(())
    }

    fn username(body: &Value) -> Result<&str, ApiError> {
        body.get("Username")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                bad_request(
                    "InvalidParameterException",
                    "Missing required parameter Username",
                )
            })
    }

    pub(super) fn admin_create_user(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        let username = Self::username(body)?;
        let attributes: std::collections::BTreeMap<String, String> = body
            .get("UserAttributes")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|attribute| {
                        Some((
                            attribute.get("Name")?.as_str()?.to_owned(),
                            attribute.get("Value")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if attributes
            .keys()
            .any(|name: &String| name == "sub" || name.starts_with("cognito:"))
        {
            return Err(bad_request(
                "InvalidParameterException",
                "sub and cognito: attributes are Cognito's own",
            ));
        }
        let user = self.pool.create_user(LocalUser {
            username: username.to_owned(),
            attributes,
            password: body
                .get("TemporaryPassword")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })?;
        Ok(json!({"User": user_type(&user, "Attributes")}))
    }

    pub(super) fn admin_get_user(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        let user = self
            .pool
            .user(Self::username(body)?)
            .ok_or_else(|| ApiError::from(CognitoError::UserNotFound))?;
        Ok(user_type(&user, "UserAttributes"))
    }

    pub(super) fn admin_delete_user(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        self.pool.delete_user(Self::username(body)?)?;
        Ok(json!({}))
    }

    pub(super) fn list_users(&self, body: &Value) -> Result<Value, ApiError> {
        self.check_pool(body)?;
        if body
            .get("Filter")
            .is_some_and(|filter| filter.as_str() != Some(""))
        {
            return Err(bad_request(
                "InvalidParameterException",
                "the local endpoint lists all users; Filter is not supported",
            ));
        }
        let users: Vec<Value> = self
            .pool
            .users()
            .iter()
            .map(|user| user_type(user, "Attributes"))
            .collect();
        Ok(json!({"Users": users}))
    }
}

/// Cognito's `UserType` (or `AdminGetUser`'s answer, whose attribute list has another name).
fn user_type(user: &LocalUser, attributes_key: &str) -> Value {
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
    answer.insert("Enabled".to_owned(), json!(true));
    answer.insert("UserCreateDate".to_owned(), json!(created));
    answer.insert("UserLastModifiedDate".to_owned(), json!(created));
    Value::Object(answer)
}
