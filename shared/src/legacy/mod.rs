//! Legacy user stores for the user-migration trigger, and what a migrated user becomes.
//!
//! - [`LegacyUserSource`]: asks a legacy store about a user — checking a password
//!   ([`LegacyUserSource::authenticate`]) or only looking the user up
//!   ([`LegacyUserSource::find`], for forgot-password). Implementations: an HTTP service
//!   (`HttpLegacySource`, feature `http`), PostgreSQL (`PostgresLegacySource`, feature
//!   `postgres`) and MySQL or MariaDB (`MysqlLegacySource`, feature `mysql`), both of which check
//!   the stored hash themselves with [`password_hash`].
//! - [`migrated_user`]: the pure mapping from a legacy record to the Cognito response — which
//!   attributes are kept, their verification flags, the final status.

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod database;
#[cfg(feature = "http")]
mod http_source;
#[cfg(feature = "mysql")]
mod mysql_source;
#[cfg(feature = "legacy-hashes")]
pub mod password_hash;
#[cfg(feature = "postgres")]
mod postgres_source;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

#[cfg(feature = "http")]
pub use http_source::HttpLegacySource;
#[cfg(feature = "mysql")]
pub use mysql_source::MysqlLegacySource;
#[cfg(feature = "postgres")]
pub use postgres_source::PostgresLegacySource;

use crate::env::Environment;
use crate::event::is_truthy;
use crate::event::{Password, StringMap, UserMigrationResponse};
use crate::phone::PhoneNumber;
use crate::secret::SecretSource;

/// What a legacy store holds about a user: attribute names and values as text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct LegacyRecord {
    /// Attributes, named as Cognito names them (`email`, `phone_number_verified`, `custom:…`).
    pub attributes: StringMap,
}

impl fmt::Debug for LegacyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values are personal data.
        f.debug_struct("LegacyRecord")
            .field("attributes", &self.attributes.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What the store said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The user exists (and, when asked, the password matched).
    Found(LegacyRecord),
    /// The user exists but the password is wrong.
    WrongPassword,
    /// No such user.
    NotFound,
    /// The user exists but the password cannot be checked (e.g. an unknown hash format), why.
    Unverifiable(String),
}

impl Lookup {
    /// A short stable name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Found(_) => "found",
            Self::WrongPassword => "wrong_password",
            Self::NotFound => "not_found",
            Self::Unverifiable(_) => "unverifiable",
        }
    }
}

/// Why the store could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceFailure(pub String);

/// The future a [`LegacyUserSource`] call returns.
pub type LookupFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Lookup, SourceFailure>> + Send + 'a>>;

/// A legacy user store.
pub trait LegacyUserSource: Send + Sync + fmt::Debug {
    /// The source's name for logs (`http`, `postgres`).
    fn name(&self) -> &'static str;

    /// Checks `password` for `username` (`UserMigration_Authentication`).
    fn authenticate<'a>(&'a self, username: &'a str, password: &'a Password) -> LookupFuture<'a>;

    /// Looks `username` up without a password (`UserMigration_ForgotPassword`).
    fn find<'a>(&'a self, username: &'a str) -> LookupFuture<'a>;
}

/// Which legacy store (`LEGACY_SOURCE`) and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacySourceConfig {
    /// An HTTP service: `LEGACY_HTTP_URL`, with `LEGACY_HTTP_TOKEN` / `LEGACY_HTTP_TOKEN_ARN`.
    Http {
        /// Where to POST.
        url: String,
        /// The bearer token, if any.
        token: Option<SecretSource>,
    },
    /// A PostgreSQL database: `LEGACY_DATABASE_URL` / `LEGACY_DATABASE_URL_ARN` and
    /// `LEGACY_USER_QUERY`.
    Postgres {
        /// The connection URL (a secret: it may hold a password).
        url: SecretSource,
        /// The query: one parameter (`$1`, the user name), a `password_hash` column, and
        /// attribute columns.
        query: String,
        /// `LEGACY_DATABASE_CA_FILE`: extra PEM root certificates for the database.
        ca_file: Option<std::path::PathBuf>,
    },
    /// A MySQL or MariaDB database: `LEGACY_DATABASE_URL` / `LEGACY_DATABASE_URL_ARN` and
    /// `LEGACY_USER_QUERY`.
    Mysql {
        /// The connection URL (a secret: it may hold a password).
        url: SecretSource,
        /// The query: one parameter (`?`, the user name), a `password_hash` column, and
        /// attribute columns.
        query: String,
        /// `LEGACY_DATABASE_CA_FILE`: extra PEM root certificates for the database.
        ca_file: Option<std::path::PathBuf>,
    },
}

/// The default `LEGACY_USER_QUERY`.
pub const DEFAULT_USER_QUERY: &str = "SELECT password_hash, email, email_verified, phone_number, \
    phone_number_verified, given_name, family_name FROM users WHERE username = $1";

/// The default `LEGACY_USER_QUERY` for MySQL (its placeholder is `?`).
pub const DEFAULT_MYSQL_USER_QUERY: &str = "SELECT password_hash, email, email_verified, \
    phone_number, phone_number_verified, given_name, family_name FROM users WHERE username = ?";

/// Everything the user-migration function is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationConfig {
    /// The legacy store.
    pub source: LegacySourceConfig,
    /// `LEGACY_TIMEOUT_MS`: the most one question to the store may take, hash check included.
    pub timeout: Duration,
    /// `MIGRATION_MARK_VERIFIED`, `MIGRATION_ENABLE_SMS_MFA` and `MIGRATION_CUSTOM_ATTRIBUTES`.
    pub settings: MigrationSettings,
    /// `LEGACY_DUMMY_HASH`: a hash in the store's own format and cost, checked for unknown users
    /// and unusable hashes so that they take as long as a real check (a bcrypt cost-10 hash by
    /// default).
    pub dummy_hash: Option<String>,
}

impl MigrationConfig {
    /// The `LEGACY_*` and `MIGRATION_*` variables; `None` without `LEGACY_SOURCE`.
    pub fn from_env(env: &Environment<'_>) -> Result<Option<Self>, crate::Error> {
        use crate::Error;
        let Some(kind) = env.get("LEGACY_SOURCE") else {
            return Ok(None);
        };
        let source = match kind.as_str() {
            "http" => LegacySourceConfig::Http {
                url: env.safe_url("LEGACY_HTTP_URL")?.ok_or_else(|| {
                    Error::config("LEGACY_HTTP_URL", "is required when LEGACY_SOURCE=http")
                })?,
                token: env.secret("LEGACY_HTTP_TOKEN", "LEGACY_HTTP_TOKEN_ARN")?,
            },
            "postgres" | "mysql" => {
                let mysql = kind == "mysql";
                let url = env
                    .secret("LEGACY_DATABASE_URL", "LEGACY_DATABASE_URL_ARN")?
                    .ok_or_else(|| {
                        Error::config(
                            "LEGACY_DATABASE_URL",
                            format!("LEGACY_DATABASE_URL or LEGACY_DATABASE_URL_ARN is required when LEGACY_SOURCE={kind}"),
                        )
                    })?;
                let schemes: &[&str] = if mysql {
                    &["mysql://"]
                } else {
                    &["postgres://", "postgresql://"]
                };
                if let SecretSource::Value(value) = &url
                    && !schemes
                        .iter()
                        .any(|scheme| value.expose().starts_with(scheme))
                {
                    return Err(Error::config(
                        "LEGACY_DATABASE_URL",
                        format!("must start with {}", schemes.join(" or ")),
                    ));
                }
                let query = env.get("LEGACY_USER_QUERY").unwrap_or_else(|| {
                    if mysql {
                        DEFAULT_MYSQL_USER_QUERY
                    } else {
                        DEFAULT_USER_QUERY
                    }
                    .to_owned()
                });
                let lower = query.to_ascii_lowercase();
                let one_parameter = if mysql {
                    query.matches('?').count() == 1 && !query.contains('$')
                } else {
                    query.contains("$1") && !query.contains("$2")
                };
                if !lower.trim_start().starts_with("select")
                    || !one_parameter
                    || query.contains(';')
                {
                    return Err(Error::config(
                        "LEGACY_USER_QUERY",
                        if mysql {
                            "must be one SELECT statement with one parameter, ? (the user name)"
                        } else {
                            "must be one SELECT statement with one parameter, $1 (the user name)"
                        },
                    ));
                }
                let ca_file = env
                    .get("LEGACY_DATABASE_CA_FILE")
                    .map(std::path::PathBuf::from);
                if mysql {
                    LegacySourceConfig::Mysql {
                        url,
                        query,
                        ca_file,
                    }
                } else {
                    LegacySourceConfig::Postgres {
                        url,
                        query,
                        ca_file,
                    }
                }
            }
            _ => {
                return Err(Error::config(
                    "LEGACY_SOURCE",
                    "must be http, postgres or mysql",
                ));
            }
        };
        Ok(Some(Self {
            source,
            timeout: Duration::from_millis(env.number("LEGACY_TIMEOUT_MS", 3_000, 500..=4_000)?),
            settings: MigrationSettings::from_env(env)?,
            dummy_hash: env.get("LEGACY_DUMMY_HASH"),
        }))
    }
}

/// How a legacy record becomes a Cognito user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationSettings {
    /// Mark a migrated `email` verified whatever the store says.
    pub mark_email_verified: bool,
    /// Mark a migrated `phone_number` verified whatever the store says.
    pub mark_phone_verified: bool,
    /// Turn SMS MFA on for users with a verified phone.
    pub enable_sms_mfa: bool,
    /// `MIGRATION_FORGOT_PASSWORD`: migrate on a password reset too (`UserMigration_ForgotPassword`,
    /// which Cognito fires without any password: off by default, since then a user name alone
    /// moves a legacy user in).
    pub forgot_password: bool,
    /// `MIGRATION_CUSTOM_ATTRIBUTES`: the `custom:` attributes a legacy record may carry over
    /// (none by default: a `role` or `tenant` column must not become a claim by accident).
    pub custom_attributes: Vec<String>,
}

impl MigrationSettings {
    /// `MIGRATION_MARK_VERIFIED`, `MIGRATION_ENABLE_SMS_MFA`, `MIGRATION_FORGOT_PASSWORD` and
    /// `MIGRATION_CUSTOM_ATTRIBUTES`.
    pub fn from_env(env: &Environment<'_>) -> Result<Self, crate::Error> {
        use crate::Error;
        let mut settings = Self {
            enable_sms_mfa: env.flag("MIGRATION_ENABLE_SMS_MFA")?,
            forgot_password: env.flag("MIGRATION_FORGOT_PASSWORD")?,
            ..Self::default()
        };
        for item in env.list("MIGRATION_MARK_VERIFIED").unwrap_or_default() {
            match item.as_str() {
                "none" => {}
                "email" => settings.mark_email_verified = true,
                "phone_number" => settings.mark_phone_verified = true,
                _ => {
                    return Err(Error::config(
                        "MIGRATION_MARK_VERIFIED",
                        "must list email and/or phone_number (or be none)",
                    ));
                }
            }
        }
        let custom_attributes = env.list("MIGRATION_CUSTOM_ATTRIBUTES").unwrap_or_default();
        if let Some(bad) = custom_attributes.iter().find(|name| {
            name.len() <= "custom:".len()
                || !name.starts_with("custom:")
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
            return Err(Error::config(
                "MIGRATION_CUSTOM_ATTRIBUTES",
                format!(
                    "lists `{}`: only custom: attribute names, comma-separated",
                    bad.chars().take(40).collect::<String>()
                ),
            ));
        }
        settings.custom_attributes = custom_attributes;
        Ok(settings)
    }
}

/// Which migration Cognito asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationKind {
    /// `UserMigration_Authentication`: sign-in with a password.
    Authentication,
    /// `UserMigration_ForgotPassword`: a password reset.
    ForgotPassword,
}

/// Standard attributes a migrated user may carry (besides the `custom:…` ones listed in
/// `MIGRATION_CUSTOM_ATTRIBUTES`). `sub`, `username`, `cognito:…` and anything else are dropped.
pub const STANDARD_ATTRIBUTES: &[&str] = &[
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "address",
];

/// Why a record cannot become a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationRefusal {
    /// Forgot-password needs a verified email or phone to send the code to.
    NoVerifiedContact,
}

impl fmt::Display for MigrationRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoVerifiedContact => {
                f.write_str("forgot-password needs a verified email or phone number")
            }
        }
    }
}

/// The Cognito response for a legacy record, and the attribute names left out (for the logs).
pub fn migrated_user(
    record: &LegacyRecord,
    kind: MigrationKind,
    settings: &MigrationSettings,
) -> Result<(UserMigrationResponse, Vec<String>), MigrationRefusal> {
    let mut attributes = StringMap::new();
    let mut dropped = Vec::new();
    for (name, value) in &record.attributes {
        let value = value.trim();
        let keep = STANDARD_ATTRIBUTES.contains(&name.as_str())
            || settings
                .custom_attributes
                .iter()
                .any(|allowed| allowed == name);
        if !keep {
            if !matches!(name.as_str(), "email_verified" | "phone_number_verified") {
                dropped.push(name.clone());
            }
            continue;
        }
        if value.is_empty() {
            continue;
        }
        let value = match name.as_str() {
            "email" if !looks_like_email(value) => {
                dropped.push(name.clone());
                continue;
            }
            "email" => value.to_ascii_lowercase(),
            "phone_number" => match PhoneNumber::parse(value) {
                Ok(phone) => phone.e164().to_owned(),
                Err(_) => {
                    dropped.push(name.clone());
                    continue;
                }
            },
            _ => value.to_owned(),
        };
        attributes.insert(name.clone(), value);
    }
    let flag = |attribute: &str, flag: &str, forced: bool| {
        attributes.contains_key(attribute).then(|| {
            forced
                || record
                    .attributes
                    .get(flag)
                    .is_some_and(|value| is_truthy(value))
        })
    };
    // Forcing applies to sign-ins only: a reset code must go to a contact the store verified.
    let force = kind == MigrationKind::Authentication;
    let email_verified = flag(
        "email",
        "email_verified",
        force && settings.mark_email_verified,
    );
    let phone_verified = flag(
        "phone_number",
        "phone_number_verified",
        force && settings.mark_phone_verified,
    );
    for (name, verified) in [
        ("email_verified", email_verified),
        ("phone_number_verified", phone_verified),
    ] {
        if let Some(verified) = verified {
            attributes.insert(name.to_owned(), verified.to_string());
        }
    }
    let final_user_status = match kind {
        MigrationKind::Authentication => Some("CONFIRMED".to_owned()),
        MigrationKind::ForgotPassword => {
            if email_verified != Some(true) && phone_verified != Some(true) {
                return Err(MigrationRefusal::NoVerifiedContact);
            }
            None
        }
    };
    let response = UserMigrationResponse {
        user_attributes: Some(attributes),
        final_user_status,
        message_action: Some("SUPPRESS".to_owned()),
        desired_delivery_mediums: None,
        force_alias_creation: None,
        enable_sms_mfa: (settings.enable_sms_mfa && phone_verified == Some(true)).then_some(true),
    };
    Ok((response, dropped))
}

/// A cheap plausibility check (one `@`, something on both sides, a dot in the domain): Cognito
/// refuses malformed addresses, which would fail the whole migration.
fn looks_like_email(value: &str) -> bool {
    let mut parts = value.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// Turns a JSON value from a legacy store into attribute text: strings as they are, booleans
/// and numbers written out; `None` for null, arrays and objects.
pub fn attribute_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Builds the configured legacy store: reads `…_ARN` secrets from Secrets Manager and connects
/// to the database (once, at cold start).
#[cfg(all(
    feature = "http",
    feature = "postgres",
    feature = "mysql",
    feature = "aws-secrets"
))]
pub async fn build_source(
    migration: Option<&MigrationConfig>,
) -> Result<(MigrationConfig, std::sync::Arc<dyn LegacyUserSource>), crate::Error> {
    let migration = migration.cloned().ok_or_else(|| {
        crate::Error::config(
            "LEGACY_SOURCE",
            "is required for the user-migration function (http, postgres or mysql)",
        )
    })?;
    let source: std::sync::Arc<dyn LegacyUserSource> = match &migration.source {
        LegacySourceConfig::Http { url, token } => {
            let token = match token {
                Some(source) => Some(crate::secrets::resolve(source, "LEGACY_HTTP_TOKEN").await?),
                None => None,
            };
            std::sync::Arc::new(HttpLegacySource::new(
                crate::http::HttpClient::new(migration.timeout)?,
                url.clone(),
                token,
            ))
        }
        LegacySourceConfig::Postgres {
            url,
            query,
            ca_file,
        } => {
            let url = crate::secrets::resolve(url, "LEGACY_DATABASE_URL").await?;
            let mut source = PostgresLegacySource::new(
                url.expose(),
                query.clone(),
                migration.timeout,
                ca_file.as_deref(),
            )?;
            source = source
                .with_dummy_hash(migration.dummy_hash.as_deref())
                .await?;
            // Within the cold start's share of Cognito's 5 seconds (the secret read came first).
            source
                .warm_up(std::time::Duration::from_millis(1_000))
                .await;
            std::sync::Arc::new(source)
        }
        LegacySourceConfig::Mysql {
            url,
            query,
            ca_file,
        } => {
            let url = crate::secrets::resolve(url, "LEGACY_DATABASE_URL").await?;
            let mut source = MysqlLegacySource::new(
                url.expose(),
                query.clone(),
                migration.timeout,
                ca_file.as_deref(),
            )?;
            source = source
                .with_dummy_hash(migration.dummy_hash.as_deref())
                .await?;
            source
                .warm_up(std::time::Duration::from_millis(1_000))
                .await;
            std::sync::Arc::new(source)
        }
    };
    Ok((migration, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, &str)]) -> LegacyRecord {
        LegacyRecord {
            attributes: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn attributes(response: &UserMigrationResponse) -> &StringMap {
        response.user_attributes.as_ref().unwrap()
    }

    #[test]
    fn a_signed_in_user_is_confirmed_with_the_stores_attributes_and_no_welcome_message() {
        let (response, dropped) = migrated_user(
            &record(&[
                ("email", " Ada@Example.com "),
                ("email_verified", "t"),
                ("phone_number", "+12065550123"),
                ("phone_number_verified", "true"),
                ("given_name", "Ada"),
                ("custom:tier", "gold"),
                ("sub", "legacy-123"),
                ("password_hash", "$2b$…"),
                ("nickname", ""),
            ]),
            MigrationKind::Authentication,
            &MigrationSettings::default(),
        )
        .unwrap();
        assert_eq!(
            attributes(&response),
            &record(&[
                ("email", "ada@example.com"),
                ("email_verified", "false"),
                ("phone_number", "+12065550123"),
                ("phone_number_verified", "true"),
                ("given_name", "Ada"),
            ])
            .attributes
        );
        assert_eq!(response.final_user_status.as_deref(), Some("CONFIRMED"));
        assert_eq!(response.message_action.as_deref(), Some("SUPPRESS"));
        assert_eq!(response.enable_sms_mfa, None);
        assert_eq!(
            dropped,
            vec![
                "custom:tier".to_owned(),
                "password_hash".to_owned(),
                "sub".to_owned()
            ]
        );
    }

    #[test]
    fn custom_attributes_pass_only_when_listed() {
        let legacy = record(&[
            ("email", "a@b.co"),
            ("custom:tier", "gold"),
            ("custom:role", "admin"),
            ("custom:tenant", "acme"),
        ]);
        // By default no custom attribute becomes a claim.
        let (response, dropped) = migrated_user(
            &legacy,
            MigrationKind::Authentication,
            &MigrationSettings::default(),
        )
        .unwrap();
        assert!(
            !attributes(&response)
                .keys()
                .any(|name| name.starts_with("custom:"))
        );
        assert_eq!(dropped.len(), 3);
        let settings = MigrationSettings {
            custom_attributes: vec!["custom:tier".to_owned()],
            ..MigrationSettings::default()
        };
        let (response, dropped) =
            migrated_user(&legacy, MigrationKind::Authentication, &settings).unwrap();
        assert_eq!(attributes(&response)["custom:tier"], "gold");
        assert!(!attributes(&response).contains_key("custom:role"));
        assert_eq!(
            dropped,
            vec!["custom:role".to_owned(), "custom:tenant".to_owned()]
        );
    }

    #[test]
    fn verification_can_be_forced_and_sms_mfa_turned_on() {
        let settings = MigrationSettings {
            mark_email_verified: true,
            mark_phone_verified: true,
            enable_sms_mfa: true,
            ..MigrationSettings::default()
        };
        let (response, _) = migrated_user(
            &record(&[("email", "a@b.co"), ("phone_number", "+447700900123")]),
            MigrationKind::Authentication,
            &settings,
        )
        .unwrap();
        assert_eq!(attributes(&response)["email_verified"], "true");
        assert_eq!(attributes(&response)["phone_number_verified"], "true");
        assert_eq!(response.enable_sms_mfa, Some(true));
        // Flags never appear for attributes the user does not have.
        let (response, _) = migrated_user(
            &record(&[("given_name", "X")]),
            MigrationKind::Authentication,
            &settings,
        )
        .unwrap();
        assert!(!attributes(&response).contains_key("email_verified"));
        assert_eq!(response.enable_sms_mfa, None);
    }

    #[test]
    fn malformed_contacts_are_dropped_not_sent_to_cognito() {
        let (response, dropped) = migrated_user(
            &record(&[
                ("email", "not-an-address"),
                ("email_verified", "true"),
                ("phone_number", "2065550123"),
                ("phone_number_verified", "true"),
            ]),
            MigrationKind::Authentication,
            &MigrationSettings::default(),
        )
        .unwrap();
        assert!(attributes(&response).is_empty());
        assert_eq!(dropped, vec!["email".to_owned(), "phone_number".to_owned()]);
    }

    #[test]
    fn forgot_password_needs_a_verified_contact_and_leaves_the_status_to_cognito() {
        let settings = MigrationSettings::default();
        let (response, _) = migrated_user(
            &record(&[("email", "a@b.co"), ("email_verified", "true")]),
            MigrationKind::ForgotPassword,
            &settings,
        )
        .unwrap();
        assert_eq!(response.final_user_status, None);
        assert_eq!(response.message_action.as_deref(), Some("SUPPRESS"));
        let (response, _) = migrated_user(
            &record(&[
                ("phone_number", "+12065550123"),
                ("phone_number_verified", "1"),
            ]),
            MigrationKind::ForgotPassword,
            &settings,
        )
        .unwrap();
        assert_eq!(attributes(&response)["phone_number_verified"], "true");
        // Forced verification does not apply to resets.
        let forced = MigrationSettings {
            mark_email_verified: true,
            mark_phone_verified: true,
            enable_sms_mfa: false,
            ..MigrationSettings::default()
        };
        assert_eq!(
            migrated_user(
                &record(&[("email", "a@b.co")]),
                MigrationKind::ForgotPassword,
                &forced
            ),
            Err(MigrationRefusal::NoVerifiedContact)
        );
        for unverified in [
            record(&[("email", "a@b.co"), ("email_verified", "false")]),
            record(&[("phone_number", "+12065550123")]),
            record(&[("email_verified", "true")]),
            record(&[]),
        ] {
            assert_eq!(
                migrated_user(&unverified, MigrationKind::ForgotPassword, &settings),
                Err(MigrationRefusal::NoVerifiedContact),
                "{unverified:?}"
            );
        }
    }

    #[test]
    fn records_print_attribute_names_only() {
        let text = format!("{:?}", record(&[("email", "secret@example.com")]));
        assert!(text.contains("email"));
        assert!(!text.contains("secret@"));
    }

    #[test]
    fn json_values_become_attribute_text() {
        use serde_json::json;
        assert_eq!(attribute_text(&json!("x")), Some("x".into()));
        assert_eq!(attribute_text(&json!(true)), Some("true".into()));
        assert_eq!(attribute_text(&json!(42)), Some("42".into()));
        assert_eq!(attribute_text(&json!(null)), None);
        assert_eq!(attribute_text(&json!({"a": 1})), None);
        assert_eq!(attribute_text(&json!([1])), None);
    }
}
