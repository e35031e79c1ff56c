//! A legacy user store in PostgreSQL. One connection per cold start (TLS when the URL asks for it,
//! verified against the system's roots and `LEGACY_DATABASE_CA_FILE`), one prepared statement
//! (`LEGACY_USER_QUERY`, the user name as its only parameter — never spliced into SQL), and a
//! lost connection is re-established on the next call. The stored hash is checked here
//! ([`super::password_hash`]); unknown users are checked against a dummy hash, so both take about
//! as long.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;
use tracing::warn;

use super::database::{self, DummyHash, HASH_COLUMN};
use super::{LegacyRecord, LegacyUserSource, Lookup, LookupFuture, SourceFailure};
use crate::Error;
use crate::event::Password;

struct Connection {
    client: Client,
    statement: Statement,
}

/// [`LegacyUserSource`] over PostgreSQL.
pub struct PostgresLegacySource {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    query: String,
    query_timeout: Duration,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    /// Checked instead when there is no usable hash (`LEGACY_DUMMY_HASH`, else the default).
    dummy_hash: DummyHash,
}

impl std::fmt::Debug for PostgresLegacySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("PostgresLegacySource")
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl PostgresLegacySource {
    /// A source for the database at `url` (`postgres://…`, `sslmode=require` for TLS), asking
    /// `query`. Connecting waits at most `connect_timeout`; `ca_file` adds PEM roots.
    pub fn new(
        url: &str,
        query: String,
        connect_timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, Error> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|_| {
            Error::config(
                "LEGACY_DATABASE_URL",
                "is not a PostgreSQL connection URL (postgres://user:password@host:port/database)",
            )
        })?;
        config.connect_timeout(connect_timeout);
        // A half-open connection (after a freeze, a NAT idle drop) is noticed within seconds,
        // not TCP's default two hours.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.tcp_user_timeout(connect_timeout.max(Duration::from_secs(5)));
        if !requires_tls(&config) && !is_local(&config) {
            return Err(Error::config(
                "LEGACY_DATABASE_URL",
                "must ask for TLS (sslmode=require) unless the database is on this machine: the connection carries the password",
            ));
        }
        if config.get_application_name().is_none() {
            config.application_name("cognito-user-migration");
        }
        let tls = MakeRustlsConnect::new(tls_config(ca_file, requires_tls(&config))?);
        Ok(Self {
            config,
            tls,
            query,
            query_timeout: connect_timeout,
            connection: tokio::sync::Mutex::new(None),
            dummy_hash: DummyHash::untimed(),
        })
    }

    /// Checks `hash` (`LEGACY_DUMMY_HASH`: a hash in the store's own format and cost; `None`: the
    /// bcrypt cost-10 default) for users without a usable hash, and holds every sign-in's answer
    /// back to that check's time, measured now. A hash this source cannot check, or a cost over
    /// the limits, is refused.
    pub async fn with_dummy_hash(mut self, hash: Option<&str>) -> Result<Self, Error> {
        self.dummy_hash = DummyHash::new(hash).await?;
        Ok(self)
    }

    /// Connects now (at cold start, for at most `budget`), so the first sign-in does not pay for
    /// it. A failure is logged, and the next call tries again.
    pub async fn warm_up(&self, budget: Duration) {
        database::warm_up("postgres", budget, self.connection()).await;
    }

    async fn connect(&self) -> Result<Connection, SourceFailure> {
        let (client, connection) =
            self.config
                .connect(self.tls.clone())
                .await
                .map_err(|error| {
                    SourceFailure(format!(
                        "connecting: {}",
                        crate::error::describe_chain(&error)
                    ))
                })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                warn!(
                    source = "postgres",
                    error = display(&crate::error::describe_chain(&error)),
                    "legacy database connection lost"
                );
            }
        });
        let statement = client.prepare(&self.query).await.map_err(|error| {
            SourceFailure(format!(
                "preparing LEGACY_USER_QUERY: {}",
                crate::error::describe_chain(&error)
            ))
        })?;
        if !matches!(statement.params(), [param] if matches!(*param, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN))
        {
            return Err(SourceFailure(
                "LEGACY_USER_QUERY must take exactly one text parameter, $1 (the user name)"
                    .to_owned(),
            ));
        }
        if !statement
            .columns()
            .iter()
            .any(|column| column.name() == HASH_COLUMN)
        {
            return Err(SourceFailure(format!(
                "LEGACY_USER_QUERY returns no `{HASH_COLUMN}` column"
            )));
        }
        Ok(Connection { client, statement })
    }

    async fn connection(&self) -> Result<Arc<Connection>, SourceFailure> {
        let mut current = self.connection.lock().await;
        if let Some(connection) = current.as_ref()
            && !connection.client.is_closed()
        {
            return Ok(connection.clone());
        }
        let fresh = Arc::new(self.connect().await?);
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// The user's row, re-connecting once if the connection was lost. A query that hangs drops
    /// the connection, so the next call starts afresh.
    async fn row(&self, username: &str) -> Result<Option<Row>, SourceFailure> {
        let mut reconnected = false;
        loop {
            let connection = self.connection().await?;
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&username];
            let query = connection.client.query_opt(&connection.statement, &params);
            let answered = match tokio::time::timeout(self.query_timeout, query).await {
                Ok(answered) => answered,
                Err(_) => {
                    *self.connection.lock().await = None;
                    return Err(SourceFailure(format!(
                        "query: no answer within {} ms; the connection will be re-made",
                        self.query_timeout.as_millis()
                    )));
                }
            };
            match answered {
                Ok(row) => return Ok(row),
                // The server dropped the connection (a restart, a failover, a terminated
                // backend): the error may arrive before the client marks itself closed.
                Err(error)
                    if !reconnected && (connection.client.is_closed() || is_lost(&error)) =>
                {
                    reconnected = true;
                    *self.connection.lock().await = None;
                }
                Err(error) => {
                    return Err(SourceFailure(format!(
                        "query: {}",
                        crate::error::describe_chain(&error)
                    )));
                }
            }
        }
    }

    async fn lookup(
        &self,
        username: &str,
        password: Option<&Password>,
    ) -> Result<Lookup, SourceFailure> {
        // PostgreSQL text cannot hold NUL: no stored user has such a name, and the query would
        // fail. An unknown user, with the same dummy work.
        let row = if username.contains('\0') {
            None
        } else {
            self.row(username).await?
        };
        let rows = row
            .as_ref()
            .map(read_row)
            .transpose()?
            .into_iter()
            .collect();
        database::judge(rows, password, &self.dummy_hash).await
    }
}

impl LegacyUserSource for PostgresLegacySource {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn authenticate<'a>(&'a self, username: &'a str, password: &'a Password) -> LookupFuture<'a> {
        Box::pin(self.lookup(username, Some(password)))
    }

    fn find<'a>(&'a self, username: &'a str) -> LookupFuture<'a> {
        Box::pin(self.lookup(username, None))
    }
}

/// The hash and the attributes of a row: text columns as they are, booleans and integers
/// written out, NULLs left out. Columns of other types are skipped with a warning.
fn read_row(row: &Row) -> Result<(Option<String>, LegacyRecord), SourceFailure> {
    let mut hash = None;
    let mut record = LegacyRecord::default();
    for (index, column) in row.columns().iter().enumerate() {
        let read = |error: tokio_postgres::Error| {
            SourceFailure(format!(
                "column `{}`: {}",
                column.name(),
                crate::error::describe_chain(&error)
            ))
        };
        let value = match *column.type_() {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(index).map_err(read)?
            }
            Type::BOOL => row
                .try_get::<_, Option<bool>>(index)
                .map_err(read)?
                .map(|flag| flag.to_string()),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)
                .map_err(read)?
                .map(|number| number.to_string()),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)
                .map_err(read)?
                .map(|number| number.to_string()),
            Type::INT8 => row
                .try_get::<_, Option<i64>>(index)
                .map_err(read)?
                .map(|number| number.to_string()),
            ref other => {
                warn!(
                    source = "postgres",
                    column = column.name(),
                    column_type = other.name(),
                    "column type not supported; cast it to text in LEGACY_USER_QUERY"
                );
                None
            }
        };
        if column.name() == HASH_COLUMN {
            hash = value;
        } else if let Some(value) = value {
            record.attributes.insert(column.name().to_owned(), value);
        }
    }
    Ok((hash, record))
}

/// Whether `error` says the connection is gone: closed, or the server shutting this backend
/// down (SQLSTATE 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
fn is_lost(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    error.is_closed()
        || error.code().is_some_and(|code| {
            [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(code)
        })
}

/// Whether the URL insists on TLS (`sslmode=require`; rustls then verifies the certificate).
fn requires_tls(config: &tokio_postgres::Config) -> bool {
    matches!(
        config.get_ssl_mode(),
        tokio_postgres::config::SslMode::Require
    )
}

/// Whether every host of the URL is this machine (loopback or a Unix socket).
fn is_local(config: &tokio_postgres::Config) -> bool {
    !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => {
                matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
            }
            #[allow(unreachable_patterns)]
            _ => true,
        })
}

/// The TLS set-up: the process's roots plus `ca_file`. When TLS is required and no CA file is
/// given, the roots must not be empty: every connection would fail, so the cold start does.
fn tls_config(
    ca_file: Option<&std::path::Path>,
    tls_required: bool,
) -> Result<rustls::ClientConfig, Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = if tls_required && ca_file.is_none() {
        crate::tls::required()?.store()
    } else {
        crate::tls::roots().store()
    };
    if let Some(path) = ca_file {
        let bundle = crate::env::read_config_file(
            "LEGACY_DATABASE_CA_FILE",
            path,
            super::database::MAX_CA_FILE_BYTES,
        )?;
        let mut certificates = 0;
        for certificate in CertificateDer::pem_slice_iter(&bundle) {
            let certificate = certificate.map_err(|error| {
                Error::config(
                    "LEGACY_DATABASE_CA_FILE",
                    format!("not a PEM certificate bundle: {error}"),
                )
            })?;
            roots.add(certificate).map_err(|error| {
                Error::config(
                    "LEGACY_DATABASE_CA_FILE",
                    format!("unusable certificate: {error}"),
                )
            })?;
            certificates += 1;
        }
        // As for MySQL: a bundle without a certificate is a mistake, not "no extra roots".
        if certificates == 0 {
            return Err(Error::config(
                "LEGACY_DATABASE_CA_FILE",
                "holds no PEM certificate",
            ));
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| Error::Http(format!("TLS set-up: {error}")))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(url: &str) -> Result<PostgresLegacySource, Error> {
        PostgresLegacySource::new(
            url,
            "SELECT password_hash FROM users WHERE username = $1".to_owned(),
            Duration::from_secs(1),
            None,
        )
    }

    #[test]
    fn a_database_off_this_machine_must_ask_for_tls() {
        // The connection carries the database password.
        for url in [
            "postgres://app:pw@db.example.com:5432/legacy",
            "postgres://app:pw@db.example.com:5432/legacy?sslmode=prefer",
            "postgres://app:pw@db.example.com:5432/legacy?sslmode=disable",
            "postgres://app:pw@127.0.0.1,db.example.com:5432/legacy",
        ] {
            assert!(
                matches!(
                    source(url),
                    Err(Error::Config {
                        variable: "LEGACY_DATABASE_URL",
                        ..
                    })
                ),
                "{url}"
            );
        }
        for url in [
            "postgres://app:pw@db.example.com:5432/legacy?sslmode=require",
            "postgres://app:pw@127.0.0.1:5432/legacy",
            "postgres://app:pw@localhost/legacy",
        ] {
            assert!(source(url).is_ok(), "{url}");
        }
        // The error never repeats the URL (it holds a password).
        let Err(error) = source("postgres://app:s3cr3t@db.example.com/legacy") else {
            panic!("refused above");
        };
        assert!(!error.to_string().contains("s3cr3t"));
    }

    #[test]
    fn a_ca_file_must_be_a_small_regular_file_holding_certificates() {
        let with_ca = |path: &std::path::Path| {
            PostgresLegacySource::new(
                "postgres://app:pw@db.example.com/legacy?sslmode=require",
                "SELECT password_hash FROM users WHERE username = $1".to_owned(),
                Duration::from_secs(1),
                Some(path),
            )
            .map(|_| ())
            .unwrap_err()
            .to_string()
        };
        for (path, reason) in [
            ("/nonexistent/ca.pem", "cannot read the file"),
            ("/dev/zero", "does not name a regular file"),
            ("/dev/stdin", "does not name a regular file"),
        ] {
            let error = with_ca(std::path::Path::new(path));
            assert!(
                error.contains("LEGACY_DATABASE_CA_FILE") && error.contains(reason),
                "{path}: {error}"
            );
        }
        let path = std::env::temp_dir().join(format!("not-a-pg-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "hello").unwrap();
        let empty = with_ca(&path);
        let _ = std::fs::remove_file(&path);
        assert!(empty.contains("holds no PEM certificate"), "{empty}");
    }
}
