//! The local user directory: a few built-in sample users, or a JSON file of your own.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One user of the local pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalUser {
    /// The user name.
    pub username: String,
    /// Attributes as Cognito stores them (`phone_number`, `phone_number_verified`, `email`, …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The password, for flows that start with one (local use only: kept in plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The users of the local pool.
#[derive(Debug, Clone, Default)]
pub struct UserDirectory {
    users: BTreeMap<String, LocalUser>,
}

/// Why a users file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a JSON list of users.
    #[error("{path} is not a JSON list of {{\"username\", \"attributes\"}} objects: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        source: serde_json::Error,
    },
}

impl UserDirectory {
    /// alice (verified phone +1 206-555-0100), bob (unverified phone) and carol (no phone), each
    /// with the password `<name>-local-password` for flows that start with one. The numbers are in
    /// the range reserved for fiction.
    pub fn sample() -> Self {
        let user = |username: &str, sub: &str, extra: &[(&str, &str)]| {
            let mut attributes: BTreeMap<String, String> = extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            attributes.insert("sub".to_owned(), sub.to_owned());
            attributes.insert("cognito:user_status".to_owned(), "CONFIRMED".to_owned());
            LocalUser {
                username: username.to_owned(),
                attributes,
                password: Some(format!("{username}-local-password")),
            }
        };
        Self::from_users(vec![
            user(
                "alice",
                "2f6e1c1a-5b7d-4c8e-9f10-6a2b3c4d5e6f",
                &[
                    ("phone_number", "+12065550100"),
                    ("phone_number_verified", "true"),
                    ("email", "alice@example.com"),
                    ("email_verified", "true"),
                ],
            ),
            user(
                "bob",
                "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                &[
                    ("phone_number", "+12065550142"),
                    ("phone_number_verified", "false"),
                ],
            ),
            user(
                "carol",
                "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
                &[("email", "carol@example.com"), ("email_verified", "true")],
            ),
        ])
    }

    /// A directory of these users.
    pub fn from_users(users: Vec<LocalUser>) -> Self {
        Self {
            users: users
                .into_iter()
                .map(|user| (user.username.clone(), user))
                .collect(),
        }
    }

    /// Loads a JSON file: `[{"username": "dave", "password": "…", "attributes": {"phone_number":
    /// "+1…", …}}]` (`password` is optional).
    pub fn load(path: &Path) -> Result<Self, UsersFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let users: Vec<LocalUser> =
            serde_json::from_str(&text).map_err(|source| UsersFileError::Parse {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Self::from_users(users))
    }

    /// The user called `username`.
    pub fn get(&self, username: &str) -> Option<&LocalUser> {
        self.users.get(username)
    }

    /// Adds `user`; `false` (and nothing changes) when the name is taken.
    pub fn insert(&mut self, user: LocalUser) -> bool {
        if self.users.contains_key(&user.username) {
            return false;
        }
        self.users.insert(user.username.clone(), user);
        true
    }

    /// Removes the user called `username`.
    pub fn remove(&mut self, username: &str) -> Option<LocalUser> {
        self.users.remove(username)
    }

    /// Every user.
    pub fn all(&self) -> impl Iterator<Item = &LocalUser> {
        self.users.values()
    }
}
