//! Plays Amazon Cognito's part in a `CUSTOM_AUTH` sign-in, over the real trigger binaries.
//!
//! The order of calls follows the Cognito developer guide ("Custom authentication challenge Lambda
//! triggers"):
//! - `InitiateAuth(CUSTOM_AUTH)`: DefineAuthChallenge with an empty session (or, when the client
//!   starts with `SRP_A`, a session holding a passed `SRP_A`); if it asks for `CUSTOM_CHALLENGE`,
//!   CreateAuthChallenge; the client gets the public challenge parameters.
//! - `PASSWORD_VERIFIER`: Cognito checks the password itself and records the result in the
//!   session, then asks DefineAuthChallenge again. Real clients prove the password with SRP; this
//!   local pool compares it with the users file directly (the triggers see the same session).
//! - `RespondToAuthChallenge(CUSTOM_CHALLENGE)`: VerifyAuthChallengeResponse with the private
//!   parameters and the answer; the round is appended to the session with its
//!   `challengeMetadata`; DefineAuthChallenge again; then CreateAuthChallenge or tokens or failure.
//!
//! Events carry what real ones carry: `null` response fields, `userNotFound` only when set (the
//! pool prevents user-existence errors), no `clientMetadata` unless the client sent some. Errors
//! map to what a Cognito client sees.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::lambda_host::{HostError, Invocation, LambdaHost};
use crate::users::{LocalUser, UserDirectory};

/// The identity of the local pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The pool id, e.g. `us-east-1_local`.
    pub pool_id: String,
    /// The passwordless app client: `CUSTOM_AUTH` and refresh tokens only, as the SAM template's
    /// web client.
    pub client_id: String,
    /// The migration client, when a legacy source is set: `USER_PASSWORD_AUTH` and refresh
    /// tokens only, guarded by PostAuthentication (`MIGRATION_CLIENT_IDS`), as the template's.
    pub migration_client_id: Option<String>,
    /// The region in events.
    pub region: String,
    /// Whether an unknown user gets a challenge (`userNotFound: true`) rather than an error,
    /// like `PreventUserExistenceErrors: ENABLED` (the project's recommended setting).
    pub prevent_user_existence_errors: bool,
    /// How users may reset a password (`ForgotPassword`), as the template's `AccountRecovery`.
    pub account_recovery: AccountRecovery,
}

/// How users may reset a password (the SAM template's `AccountRecovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AccountRecovery {
    /// No self-service reset: `ForgotPassword` is refused (the template's default).
    #[default]
    #[value(name = "admin_only")]
    AdminOnly,
    /// A code e-mailed to the verified address.
    #[value(name = "verified_email")]
    VerifiedEmail,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            pool_id: "us-east-1_local".to_owned(),
            client_id: "localclient0000000000000000".to_owned(),
            migration_client_id: None,
            region: "us-east-1".to_owned(),
            prevent_user_existence_errors: true,
            account_recovery: AccountRecovery::default(),
        }
    }
}

/// The three custom-auth trigger functions.
#[derive(Debug)]
pub struct CustomAuthTriggers {
    /// DefineAuthChallenge.
    pub define: LambdaHost,
    /// CreateAuthChallenge.
    pub create: LambdaHost,
    /// VerifyAuthChallengeResponse.
    pub verify: LambdaHost,
}

/// What a client sees when Cognito refuses (the `__type` of Cognito's error JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CognitoError {
    /// `PasswordResetRequiredException`: the user must reset the password first.
    #[error("PasswordResetRequiredException: Password reset required for the user")]
    PasswordResetRequired,
    /// `NotAuthorizedException`: a failed sign-in.
    #[error("NotAuthorizedException: {0}")]
    NotAuthorized(String),
    /// `UserNotFoundException` (only when the pool does not prevent user-existence errors).
    #[error("UserNotFoundException: User does not exist.")]
    UserNotFound,
    /// `UserLambdaValidationException`: a trigger returned an error.
    #[error("UserLambdaValidationException: {0}")]
    UserLambdaValidation(String),
    /// `InvalidLambdaResponseException`: a trigger answered something Cognito cannot use.
    #[error("InvalidLambdaResponseException: {0}")]
    InvalidLambdaResponse(String),
    /// `UnexpectedLambdaException`: a trigger timed out or crashed.
    #[error("UnexpectedLambdaException: {0}")]
    UnexpectedLambda(String),
    /// `UsernameExistsException`: `AdminCreateUser` for a name that is taken.
    #[error("UsernameExistsException: User account already exists")]
    UsernameExists,
    /// The local tool itself failed (not something Cognito would say).
    #[error("local tool: {0}")]
    Local(String),
}

impl From<HostError> for CognitoError {
    fn from(error: HostError) -> Self {
        Self::Local(error.to_string())
    }
}

/// One trigger call, for transcripts.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerCall {
    /// The trigger's name.
    pub trigger: &'static str,
    /// The event sent.
    pub event: Value,
    /// What came back.
    pub outcome: Invocation,
}

/// The server-side state of one sign-in between rounds (what Cognito's `Session` token stands for).
#[derive(Debug, Clone)]
pub struct AuthSession {
    /// The user name as the client gave it.
    pub username: String,
    user_not_found: bool,
    attributes: Map<String, Value>,
    session: Vec<Value>,
    private_parameters: Value,
    challenge_metadata: Value,
}

impl AuthSession {
    /// Whether the user does not exist (the pool prevents user-existence errors).
    pub fn user_not_found(&self) -> bool {
        self.user_not_found
    }
}

/// Where a sign-in stands after a call.
#[derive(Debug, Clone)]
pub enum AuthStep {
    /// A challenge for the client: Cognito's `ChallengeName` and `ChallengeParameters`.
    Challenge {
        /// `CUSTOM_CHALLENGE` or `PASSWORD_VERIFIER`.
        challenge_name: String,
        /// The public challenge parameters, plus `USERNAME`.
        parameters: Map<String, Value>,
        /// What the next `RespondToAuthChallenge` continues.
        session: AuthSession,
    },
    /// Every step passed: Cognito issues tokens for this user.
    Authenticated {
        /// The user name.
        username: String,
        /// The user's attributes.
        attributes: Map<String, Value>,
    },
}

/// Called after every trigger call.
type Observer = Box<dyn Fn(&TriggerCall) + Send + Sync>;

/// A local user pool with custom-auth triggers.
pub struct LocalPool {
    settings: PoolSettings,
    users: std::sync::RwLock<UserDirectory>,
    triggers: Arc<CustomAuthTriggers>,
    observer: Option<Observer>,
    pre_authentication: Option<LambdaHost>,
    post_authentication: Option<LambdaHost>,
    user_migration: Option<LambdaHost>,
    pre_sign_up: Option<LambdaHost>,
}

impl std::fmt::Debug for LocalPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPool")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LocalPool {
    /// A pool with these users and triggers.
    pub fn new(
        settings: PoolSettings,
        users: UserDirectory,
        triggers: Arc<CustomAuthTriggers>,
    ) -> Self {
        Self {
            settings,
            users: std::sync::RwLock::new(with_subs(users)),
            triggers,
            observer: None,
            pre_authentication: None,
            post_authentication: None,
            user_migration: None,
            pre_sign_up: None,
        }
    }

    /// Calls the PreSignUp trigger on every `SignUp`, as Cognito does.
    pub fn with_pre_sign_up(mut self, host: LambdaHost) -> Self {
        self.pre_sign_up = Some(host);
        self
    }

    /// `SignUp` through `client_id`: PreSignUp (when wired) allows or refuses it and says
    /// whether the user is confirmed and which destinations are verified, as Cognito reads its
    /// answer; without it the user is unconfirmed. The new user and whether it is confirmed.
    pub async fn sign_up(
        &self,
        client_id: &str,
        username: &str,
        password: Option<String>,
        attributes: std::collections::BTreeMap<String, String>,
        validation_data: Option<&Map<String, Value>>,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<(LocalUser, bool), CognitoError> {
        if self.user(username).is_some() {
            return Err(CognitoError::UsernameExists);
        }
        let (mut confirmed, mut verify_phone, mut verify_email) = (false, false, false);
        if let Some(host) = &self.pre_sign_up {
            let mut request = Map::new();
            request.insert("userAttributes".to_owned(), json!(attributes));
            if let Some(data) = validation_data {
                request.insert("validationData".to_owned(), Value::Object(data.clone()));
            }
            if let Some(metadata) = client_metadata {
                request.insert("clientMetadata".to_owned(), Value::Object(metadata.clone()));
            }
            let event = self.raw_event(
                "PreSignUp_SignUp",
                client_id,
                username,
                Value::Object(request),
                json!({"autoConfirmUser": false, "autoVerifyPhone": false, "autoVerifyEmail": false}),
            );
            let answer = self.call("PreSignUp", host, event).await?;
            let flag = |name: &str| {
                answer
                    .get("response")
                    .and_then(|response| response.get(name))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            };
            confirmed = flag("autoConfirmUser");
            verify_phone = flag("autoVerifyPhone");
            verify_email = flag("autoVerifyEmail");
        }
        let mut attributes = attributes;
        for (attribute, verified, auto) in [
            ("phone_number", "phone_number_verified", verify_phone),
            ("email", "email_verified", verify_email),
        ] {
            if attributes.contains_key(attribute) {
                attributes.insert(verified.to_owned(), auto.to_string());
            }
        }
        let status = if confirmed {
            "CONFIRMED"
        } else {
            "UNCONFIRMED"
        };
        attributes.insert("cognito:user_status".to_owned(), status.to_owned());
        let user = self.create_user(LocalUser {
            username: username.to_owned(),
            attributes,
            password,
        })?;
        Ok((user, confirmed))
    }

    /// `AdminUpdateUserAttributes`: sets `attributes`; a changed `phone_number` or `email` is
    /// unverified again unless the same call says otherwise, as in Cognito.
    pub fn update_attributes(
        &self,
        username: &str,
        attributes: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), CognitoError> {
        let mut users = self
            .users
            .write()
            .map_err(|_| CognitoError::Local("user directory unavailable".to_owned()))?;
        let mut user = users
            .get(username)
            .cloned()
            .ok_or(CognitoError::UserNotFound)?;
        for (attribute, verified) in [
            ("phone_number", "phone_number_verified"),
            ("email", "email_verified"),
        ] {
            let changed = attributes
                .get(attribute)
                .is_some_and(|value| user.attributes.get(attribute) != Some(value));
            if changed && !attributes.contains_key(verified) {
                user.attributes
                    .insert(verified.to_owned(), "false".to_owned());
            }
        }
        user.attributes
            .extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        users.remove(username);
        users.insert(user);
        Ok(())
    }

    /// Calls the PreAuthentication trigger before every sign-in, as Cognito does.
    pub fn with_pre_authentication(mut self, host: LambdaHost) -> Self {
        self.pre_authentication = Some(host);
        self
    }

    /// Calls the PostAuthentication trigger after every successful sign-in, before the tokens, as
    /// Cognito does; its refusal fails the sign-in.
    pub fn with_post_authentication(mut self, host: LambdaHost) -> Self {
        self.post_authentication = Some(host);
        self
    }

    /// Calls PostAuthentication (when wired) for a signed-in user; a refusal is what Cognito
    /// reports.
    async fn post_authenticate(
        &self,
        client_id: &str,
        username: &str,
        attributes: &Map<String, Value>,
    ) -> Result<(), CognitoError> {
        let Some(host) = &self.post_authentication else {
            return Ok(());
        };
        let event = self.raw_event(
            "PostAuthentication_Authentication",
            client_id,
            username,
            json!({"userAttributes": attributes, "newDeviceUsed": false}),
            json!({}),
        );
        match self.call("PostAuthentication", host, event).await {
            Ok(_) => Ok(()),
            Err(CognitoError::UserLambdaValidation(message)) => {
                Err(CognitoError::NotAuthorized(message))
            }
            Err(other) => Err(other),
        }
    }

    /// Calls the UserMigration trigger for `USER_PASSWORD_AUTH` sign-ins of unknown users, and
    /// keeps the users it migrates.
    pub fn with_user_migration(mut self, host: LambdaHost) -> Self {
        self.user_migration = Some(host);
        self
    }

    /// The user called `username`, if any.
    pub fn user(&self, username: &str) -> Option<LocalUser> {
        self.users
            .read()
            .ok()
            .and_then(|users| users.get(username).cloned())
    }

    /// Replaces every user (`serve --data`: the users a data file kept).
    pub fn replace_users(&self, users: Vec<LocalUser>) {
        if let Ok(mut directory) = self.users.write() {
            *directory = with_subs(UserDirectory::from_users(users));
        }
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<LocalUser> {
        self.users
            .read()
            .map(|users| users.all().cloned().collect())
            .unwrap_or_default()
    }

    /// `AdminCreateUser`: a new user (`sub` made up when the attributes have none).
    pub fn create_user(&self, mut user: LocalUser) -> Result<LocalUser, CognitoError> {
        if !user.attributes.contains_key("sub") {
            user.attributes.insert("sub".to_owned(), new_sub());
        }
        user.attributes
            .entry("cognito:user_status".to_owned())
            .or_insert_with(|| "CONFIRMED".to_owned());
        let mut users = self
            .users
            .write()
            .map_err(|_| CognitoError::Local("user directory unavailable".to_owned()))?;
        if users.insert(user.clone()) {
            Ok(user)
        } else {
            Err(CognitoError::UsernameExists)
        }
    }

    /// `AdminDeleteUser`.
    pub fn delete_user(&self, username: &str) -> Result<(), CognitoError> {
        self.users
            .write()
            .map_err(|_| CognitoError::Local("user directory unavailable".to_owned()))?
            .remove(username)
            .map(|_| ())
            .ok_or(CognitoError::UserNotFound)
    }

    /// Calls PreAuthentication (when wired) for `username`; a denial is what Cognito reports.
    async fn pre_authenticate(
        &self,
        client_id: &str,
        username: &str,
        user: Option<&LocalUser>,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<(), CognitoError> {
        let Some(host) = &self.pre_authentication else {
            return Ok(());
        };
        let mut request = Map::new();
        request.insert(
            "userAttributes".to_owned(),
            Value::Object(user.map(attributes_of).unwrap_or_default()),
        );
        request.insert(
            "validationData".to_owned(),
            Value::Object(client_metadata.cloned().unwrap_or_default()),
        );
        if user.is_none() {
            request.insert("userNotFound".to_owned(), Value::Bool(true));
        }
        let event = self.raw_event(
            "PreAuthentication_Authentication",
            client_id,
            username,
            Value::Object(request),
            json!({}),
        );
        match self.call("PreAuthentication", host, event).await {
            Ok(_) => Ok(()),
            // Real Cognito reports a pre-authentication denial as NotAuthorizedException.
            Err(CognitoError::UserLambdaValidation(message)) => {
                Err(CognitoError::NotAuthorized(message))
            }
            Err(other) => Err(other),
        }
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH` on app client `client_id`: the password checked
    /// against the directory, or — for a user the pool does not have — the UserMigration trigger
    /// asked, and the user it returns kept.
    pub async fn password_auth(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        let refused = || CognitoError::NotAuthorized("Incorrect username or password.".to_owned());
        let user = match self.user(username) {
            Some(user) => {
                self.pre_authenticate(client_id, username, Some(&user), client_metadata)
                    .await?;
                if user.password.as_deref() != Some(password) {
                    return Err(refused());
                }
                if user
                    .attributes
                    .get("cognito:user_status")
                    .map(String::as_str)
                    == Some("RESET_REQUIRED")
                {
                    return Err(CognitoError::PasswordResetRequired);
                }
                user
            }
            None => {
                let Some(host) = &self.user_migration else {
                    self.pre_authenticate(client_id, username, None, client_metadata)
                        .await?;
                    return Err(if self.settings.prevent_user_existence_errors {
                        refused()
                    } else {
                        CognitoError::UserNotFound
                    });
                };
                let user = match self
                    .migrate(host, client_id, username, Some(password), client_metadata)
                    .await
                {
                    Ok(user) => user,
                    Err(CognitoError::UserLambdaValidation(_)) => return Err(refused()),
                    Err(other) => return Err(other),
                };
                self.pre_authenticate(client_id, username, Some(&user), client_metadata)
                    .await?;
                user
            }
        };
        let attributes = attributes_of(&user);
        self.post_authenticate(client_id, &user.username, &attributes)
            .await?;
        Ok(AuthStep::Authenticated {
            username: user.username.clone(),
            attributes,
        })
    }

    /// Asks the UserMigration trigger about `username` — on sign-in with `password`
    /// (`UserMigration_Authentication`), or for a password reset without one
    /// (`UserMigration_ForgotPassword`) — and keeps the user it returns (with that password, or
    /// none until the reset sets one). A refusal is the trigger's error.
    async fn migrate(
        &self,
        host: &LambdaHost,
        client_id: &str,
        username: &str,
        password: Option<&str>,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<LocalUser, CognitoError> {
        let mut request = Map::new();
        if let Some(password) = password {
            request.insert("password".to_owned(), Value::String(password.to_owned()));
        }
        request.insert(
            "validationData".to_owned(),
            Value::Object(client_metadata.cloned().unwrap_or_default()),
        );
        let source = if password.is_some() {
            "UserMigration_Authentication"
        } else {
            "UserMigration_ForgotPassword"
        };
        let event = self.raw_event(
            source,
            client_id,
            username,
            Value::Object(request),
            json!({"userAttributes": null, "finalUserStatus": null, "messageAction": null, "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null}),
        );
        let response = self.call("UserMigration", host, event).await?;
        let mut attributes: std::collections::BTreeMap<String, String> = response
            .pointer("/response/userAttributes")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                CognitoError::InvalidLambdaResponse("Unrecognizable lambda output".to_owned())
            })?
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
            .collect();
        if password.is_none() {
            attributes.insert(
                "cognito:user_status".to_owned(),
                "RESET_REQUIRED".to_owned(),
            );
        }
        self.create_user(LocalUser {
            username: username.to_owned(),
            attributes,
            password: password.map(str::to_owned),
        })
    }

    /// `ForgotPassword`'s side of the pool: the user to send a reset code to — migrated by the
    /// UserMigration trigger (`UserMigration_ForgotPassword`) when the pool does not have them
    /// and the trigger is wired — or `None` for a user nobody has.
    pub async fn user_for_reset(
        &self,
        client_id: &str,
        username: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<Option<LocalUser>, CognitoError> {
        if let Some(user) = self.user(username) {
            return Ok(Some(user));
        }
        let Some(host) = &self.user_migration else {
            return Ok(None);
        };
        match self
            .migrate(host, client_id, username, None, client_metadata)
            .await
        {
            Ok(user) => Ok(Some(user)),
            Err(CognitoError::UserLambdaValidation(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// `ConfirmForgotPassword`'s side of the pool: the new password, and the user confirmed —
    /// only for the user whose `sub` is `expected_sub` (not another made since under the name).
    pub fn set_password(
        &self,
        username: &str,
        expected_sub: &str,
        password: &str,
    ) -> Result<(), CognitoError> {
        let mut users = self
            .users
            .write()
            .map_err(|_| CognitoError::Local("user directory unavailable".to_owned()))?;
        let mut user = users
            .get(username)
            .filter(|user| user.attributes.get("sub").map(String::as_str) == Some(expected_sub))
            .cloned()
            .ok_or(CognitoError::UserNotFound)?;
        user.password = Some(password.to_owned());
        user.attributes
            .insert("cognito:user_status".to_owned(), "CONFIRMED".to_owned());
        users.remove(username);
        users.insert(user);
        Ok(())
    }

    /// Calls `observer` after every trigger call (the CLI prints them).
    pub fn with_observer(
        mut self,
        observer: impl Fn(&TriggerCall) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// The pool's settings.
    pub fn settings(&self) -> &PoolSettings {
        &self.settings
    }

    /// `InitiateAuth` with `AuthFlow: CUSTOM_AUTH` and `AuthParameters: {USERNAME}`.
    pub async fn initiate_custom_auth(&self, username: &str) -> Result<AuthStep, CognitoError> {
        self.start(username, false, None).await
    }

    /// `InitiateAuth` with `CUSTOM_AUTH` and the client's `ClientMetadata` (which reaches
    /// PreAuthentication as `validationData`).
    pub async fn initiate_custom_auth_with_metadata(
        &self,
        username: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        self.start(username, false, client_metadata).await
    }

    /// `InitiateAuth` with `AuthFlow: CUSTOM_AUTH` and `AuthParameters: {USERNAME, SRP_A,
    /// CHALLENGE_NAME: SRP_A}`: the flow starts with the password.
    pub async fn initiate_custom_auth_with_srp(
        &self,
        username: &str,
    ) -> Result<AuthStep, CognitoError> {
        self.start(username, true, None).await
    }

    /// The same, with the client's `ClientMetadata` (for PreAuthentication).
    pub async fn initiate_custom_auth_with_srp_and_metadata(
        &self,
        username: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        self.start(username, true, client_metadata).await
    }

    /// The start of `USER_SRP_AUTH` on app client `client_id`: PreAuthentication, then the user
    /// whose password the client must prove (`None` for a user the pool does not have, when it
    /// prevents user-existence errors: the exchange goes on and fails).
    pub async fn start_password_proof(
        &self,
        client_id: &str,
        username: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<Option<LocalUser>, CognitoError> {
        let user = self.user(username);
        if user.is_none() && !self.settings.prevent_user_existence_errors {
            return Err(CognitoError::UserNotFound);
        }
        self.pre_authenticate(client_id, username, user.as_ref(), client_metadata)
            .await?;
        Ok(user)
    }

    /// `USER_SRP_AUTH` after the password was proved: PostAuthentication, then tokens.
    pub async fn password_proved(
        &self,
        client_id: &str,
        username: &str,
    ) -> Result<AuthStep, CognitoError> {
        let user = self.user(username).ok_or_else(|| {
            CognitoError::NotAuthorized("Incorrect username or password.".to_owned())
        })?;
        let attributes = attributes_of(&user);
        self.post_authenticate(client_id, &user.username, &attributes)
            .await?;
        Ok(AuthStep::Authenticated {
            username: user.username,
            attributes,
        })
    }

    /// `RespondToAuthChallenge` with `ChallengeName: PASSWORD_VERIFIER`: Cognito checks the
    /// password and records the result, then asks DefineAuthChallenge what next.
    pub async fn respond_to_password_verifier(
        &self,
        session: AuthSession,
        password: &str,
    ) -> Result<AuthStep, CognitoError> {
        let correct = !session.user_not_found
            && self
                .user(&session.username)
                .and_then(|user| user.password)
                .is_some_and(|stored| stored == password);
        self.password_verified(session, correct, None).await
    }

    /// `PASSWORD_VERIFIER` answered, the password proved (`correct`) or not (SRP, checked by
    /// the caller): Cognito records the result and asks DefineAuthChallenge what next, with the
    /// answer's `ClientMetadata` (which reaches Define and Create of the round).
    pub async fn password_verified(
        &self,
        mut session: AuthSession,
        correct: bool,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        let correct = correct && !session.user_not_found;
        session.session.push(json!({
            "challengeName": "PASSWORD_VERIFIER",
            "challengeResult": correct,
            "challengeMetadata": null,
        }));
        self.define_then_create_with_metadata(session, client_metadata)
            .await
    }

    async fn start(
        &self,
        username: &str,
        srp: bool,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        let user = self.user(username);
        if user.is_none() && !self.settings.prevent_user_existence_errors {
            return Err(CognitoError::UserNotFound);
        }
        self.pre_authenticate(
            &self.settings.client_id,
            username,
            user.as_ref(),
            client_metadata,
        )
        .await?;
        let (user_not_found, attributes) = match &user {
            Some(user) => (false, attributes_of(user)),
            None => (true, Map::new()),
        };
        let session = AuthSession {
            username: username.to_owned(),
            user_not_found,
            attributes,
            session: if srp {
                vec![
                    json!({"challengeName": "SRP_A", "challengeResult": true, "challengeMetadata": null}),
                ]
            } else {
                Vec::new()
            },
            private_parameters: Value::Null,
            challenge_metadata: Value::Null,
        };
        self.define_then_create(session).await
    }

    /// `RespondToAuthChallenge` with `ChallengeName: CUSTOM_CHALLENGE` and `ANSWER`.
    pub async fn respond_to_custom_challenge(
        &self,
        session: AuthSession,
        answer: &str,
    ) -> Result<AuthStep, CognitoError> {
        self.respond_to_custom_challenge_with_metadata(session, answer, None)
            .await
    }

    /// `RespondToAuthChallenge` with `ChallengeName: CUSTOM_CHALLENGE`, `ANSWER` and the client's
    /// `ClientMetadata`, which reaches Verify, Define and Create of this round (e.g.
    /// `{"otpAction": "resend"}`).
    pub async fn respond_to_custom_challenge_with_metadata(
        &self,
        mut session: AuthSession,
        answer: &str,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        let mut request = self.request_base(&session);
        if let Some(metadata) = client_metadata {
            request.insert("clientMetadata".to_owned(), Value::Object(metadata.clone()));
        }
        // Verify's request carries no session.
        request.remove("session");
        request.insert(
            "privateChallengeParameters".to_owned(),
            session.private_parameters.clone(),
        );
        request.insert(
            "challengeAnswer".to_owned(),
            Value::String(answer.to_owned()),
        );
        let event = self.event(
            "VerifyAuthChallengeResponse_Authentication",
            &session,
            request,
            json!({"answerCorrect": null}),
        );
        let response = self
            .call("VerifyAuthChallengeResponse", &self.triggers.verify, event)
            .await?;
        let correct = response
            .pointer("/response/answerCorrect")
            .and_then(Value::as_bool)
            .ok_or_else(|| {
                CognitoError::InvalidLambdaResponse("Unrecognizable lambda output".to_owned())
            })?;
        session.session.push(json!({
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": correct,
            "challengeMetadata": session.challenge_metadata.clone(),
        }));
        self.define_then_create_with_metadata(session, client_metadata)
            .await
    }

    async fn define_then_create(&self, session: AuthSession) -> Result<AuthStep, CognitoError> {
        self.define_then_create_with_metadata(session, None).await
    }

    /// Define, then Create if it asks for a custom challenge; both get the `ClientMetadata` of
    /// the RespondToAuthChallenge call that led here.
    async fn define_then_create_with_metadata(
        &self,
        mut session: AuthSession,
        client_metadata: Option<&Map<String, Value>>,
    ) -> Result<AuthStep, CognitoError> {
        let with_metadata = |mut request: Map<String, Value>| {
            if let Some(metadata) = client_metadata {
                request.insert("clientMetadata".to_owned(), Value::Object(metadata.clone()));
            }
            request
        };
        let request = with_metadata(self.request_base(&session));
        let event = self.event(
            "DefineAuthChallenge_Authentication",
            &session,
            request,
            json!({"challengeName": null, "issueTokens": null, "failAuthentication": null}),
        );
        let response = self
            .call("DefineAuthChallenge", &self.triggers.define, event)
            .await?;
        let answer = response.get("response").cloned().unwrap_or(Value::Null);
        let flag = |name: &str| answer.get(name).and_then(Value::as_bool).unwrap_or(false);
        if flag("failAuthentication") {
            return Err(CognitoError::NotAuthorized(
                "Incorrect username or password.".to_owned(),
            ));
        }
        if flag("issueTokens") {
            if session.user_not_found {
                // Cognito never issues tokens for a user that does not exist.
                return Err(CognitoError::NotAuthorized(
                    "Incorrect username or password.".to_owned(),
                ));
            }
            self.post_authenticate(
                &self.settings.client_id,
                &session.username,
                &session.attributes,
            )
            .await?;
            return Ok(AuthStep::Authenticated {
                username: session.username,
                attributes: session.attributes,
            });
        }
        match answer.get("challengeName").and_then(Value::as_str) {
            Some("CUSTOM_CHALLENGE") => {}
            Some("PASSWORD_VERIFIER")
                if session.session.last().is_some_and(|round| {
                    round.get("challengeName").and_then(Value::as_str) == Some("SRP_A")
                }) =>
            {
                let mut parameters = Map::new();
                parameters.insert(
                    "USERNAME".to_owned(),
                    Value::String(session.username.clone()),
                );
                return Ok(AuthStep::Challenge {
                    challenge_name: "PASSWORD_VERIFIER".to_owned(),
                    parameters,
                    session,
                });
            }
            _ => {
                return Err(CognitoError::InvalidLambdaResponse(
                    "Unrecognizable lambda output".to_owned(),
                ));
            }
        }
        let mut request = with_metadata(self.request_base(&session));
        request.insert(
            "challengeName".to_owned(),
            Value::String("CUSTOM_CHALLENGE".to_owned()),
        );
        let event = self.event(
            "CreateAuthChallenge_Authentication",
            &session,
            request,
            json!({"publicChallengeParameters": null, "privateChallengeParameters": null, "challengeMetadata": null}),
        );
        let response = self
            .call("CreateAuthChallenge", &self.triggers.create, event)
            .await?;
        let created = response.get("response").cloned().unwrap_or(Value::Null);
        let mut parameters = match created.get("publicChallengeParameters") {
            Some(Value::Object(parameters)) => parameters.clone(),
            _ => Map::new(),
        };
        parameters.insert(
            "USERNAME".to_owned(),
            Value::String(session.username.clone()),
        );
        session.private_parameters = created
            .get("privateChallengeParameters")
            .cloned()
            .unwrap_or(Value::Null);
        session.challenge_metadata = created
            .get("challengeMetadata")
            .cloned()
            .unwrap_or(Value::Null);
        Ok(AuthStep::Challenge {
            challenge_name: "CUSTOM_CHALLENGE".to_owned(),
            parameters,
            session,
        })
    }

    fn request_base(&self, session: &AuthSession) -> Map<String, Value> {
        let mut request = Map::new();
        request.insert(
            "userAttributes".to_owned(),
            Value::Object(session.attributes.clone()),
        );
        request.insert("session".to_owned(), Value::Array(session.session.clone()));
        if session.user_not_found {
            request.insert("userNotFound".to_owned(), Value::Bool(true));
        }
        request
    }

    fn event(
        &self,
        source: &str,
        session: &AuthSession,
        request: Map<String, Value>,
        response: Value,
    ) -> Value {
        self.raw_event(
            source,
            &self.settings.client_id,
            &session.username,
            Value::Object(request),
            response,
        )
    }

    fn raw_event(
        &self,
        source: &str,
        client_id: &str,
        username: &str,
        request: Value,
        response: Value,
    ) -> Value {
        json!({
            "version": "1",
            "region": self.settings.region,
            "userPoolId": self.settings.pool_id,
            "userName": username,
            "callerContext": {
                "awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": client_id,
            },
            "triggerSource": source,
            "request": request,
            "response": response,
        })
    }

    async fn call(
        &self,
        trigger: &'static str,
        host: &LambdaHost,
        event: Value,
    ) -> Result<Value, CognitoError> {
        let outcome = host.invoke(event.clone()).await?;
        if let Some(observer) = &self.observer {
            observer(&TriggerCall {
                trigger,
                event,
                outcome: outcome.clone(),
            });
        }
        match outcome {
            Invocation::Response(response)
                if response.get("response").is_some_and(Value::is_object) =>
            {
                Ok(response)
            }
            Invocation::Response(_) => Err(CognitoError::InvalidLambdaResponse(
                "Unrecognizable lambda output".to_owned(),
            )),
            Invocation::FunctionError { error_message, .. } => {
                Err(CognitoError::UserLambdaValidation(format!(
                    "{trigger} failed with error {error_message}."
                )))
            }
            Invocation::TimedOut => Err(CognitoError::UnexpectedLambda(format!(
                "{trigger} failed due to timeout."
            ))),
            Invocation::ProcessExited { detail } => Err(CognitoError::UnexpectedLambda(format!(
                "{trigger} failed: {detail}"
            ))),
        }
    }
}

/// A user's attributes as an event carries them.
fn attributes_of(user: &LocalUser) -> Map<String, Value> {
    user.attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// The users, each with a `sub` (a users file may leave it out; Cognito gives every user one).
fn with_subs(directory: UserDirectory) -> UserDirectory {
    UserDirectory::from_users(
        directory
            .all()
            .cloned()
            .map(|mut user| {
                user.attributes
                    .entry("sub".to_owned())
                    .or_insert_with(new_sub);
                user
            })
            .collect(),
    )
}

/// A random `sub` in Cognito's shape (a version-4 UUID).
fn new_sub() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    let mut text = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        let byte = match index {
            6 => (byte & 0x0f) | 0x40,
            8 => (byte & 0x3f) | 0x80,
            _ => *byte,
        };
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}
