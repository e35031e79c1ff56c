//! A legacy user store in MySQL or MariaDB (WordPress, Drupal, Laravel, Rails and PHP apps keep
//! their users there). The same contract as PostgreSQL: one connection per cold start (TLS when
//! the URL asks for it — `require_ssl=true` — verified against the process's roots and
//! `LEGACY_DATABASE_CA_FILE`, never with the checks turned off), one prepared statement
//! (`LEGACY_USER_QUERY`, the user name as its only parameter, `?`), a query that hangs dropped
//! within the budget (and cut short by the server too) and the connection re-made, and a lost
//! connection re-made once.
//!
//! A query in flight owns its connection: it is taken out of the slot while the query runs and
//! put back only after a clean answer. A query cancelled half-way (the handler's own deadline) so
//! drops its connection with it; put back, that connection would hand the next query the late
//! answer to this one — another user's row.
//!
//! The driver is `mysql_async`: pure Rust (no C library: it builds for Lambda's arm64 with
//! cargo-lambda as is), Tokio-based, maintained since 2016 with regular releases, rustls on ring
//! as the rest of this crate, and prepared statements over the binary protocol, so the user name
//! never reaches the SQL text.

use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts, OptsBuilder, Row, SslOpts, Statement, Value};
use tracing::warn;

use super::database::{self, DummyHash, HASH_COLUMN, UserRow};
use super::{LegacyRecord, LegacyUserSource, Lookup, LookupFuture, SourceFailure};
use crate::Error;
use crate::event::Password;

/// [`LegacyUserSource`] over MySQL or MariaDB.
pub struct MysqlLegacySource {
    opts: Opts,
    query: String,
    timeout: Duration,
    connection: tokio::sync::Mutex<Option<(Conn, Statement)>>,
    /// Checked instead when there is no usable hash (`LEGACY_DUMMY_HASH`, else the default).
    dummy_hash: DummyHash,
}

impl std::fmt::Debug for MysqlLegacySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("MysqlLegacySource")
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl MysqlLegacySource {
    /// A source for the database at `url` (`mysql://user:password@host:3306/database`, with
    /// `?require_ssl=true` off this machine), asking `query`. Connecting and each query wait at
    /// most `timeout`; `ca_file` adds PEM roots.
    pub fn new(
        url: &str,
        query: String,
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, Error> {
        let parsed = Opts::from_url(url).map_err(|_| {
            Error::config(
                "LEGACY_DATABASE_URL",
                "is not a MySQL connection URL (mysql://user:password@host:3306/database?require_ssl=true)",
            )
        })?;
        let tls_required = parsed.ssl_opts().is_some();
        if parsed
            .ssl_opts()
            .is_some_and(|ssl| ssl.accept_invalid_certs() || ssl.skip_domain_validation())
        {
            return Err(Error::config(
                "LEGACY_DATABASE_URL",
                "must not turn certificate checks off (verify_ca=false, verify_identity=false): give the server's CA in LEGACY_DATABASE_CA_FILE instead",
            ));
        }
        let local = parsed.socket().is_some()
            || matches!(
                parsed.ip_or_hostname(),
                "localhost" | "127.0.0.1" | "::1" | "[::1]"
            );
        if !tls_required && !local {
            return Err(Error::config(
                "LEGACY_DATABASE_URL",
                "must ask for TLS (require_ssl=true) unless the database is on this machine: the connection carries the password",
            ));
        }
        let ssl = if tls_required {
            Some(ssl_opts(ca_file)?)
        } else {
            None
        };
        // rustls picks the process's provider when a connection is made: ring, as everywhere in
        // this crate (installing it twice is harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let opts = OptsBuilder::from_opts(parsed)
            .prefer_socket(false)
            .ssl_opts(ssl)
            // A half-open connection (after a freeze, a NAT idle drop) is noticed within seconds.
            .tcp_keepalive(Some(Duration::from_secs(30)))
            .stmt_cache_size(Some(4));
        Ok(Self {
            opts: opts.into(),
            query,
            timeout,
            connection: tokio::sync::Mutex::new(None),
            dummy_hash: DummyHash::untimed(),
        })
    }

    /// Checks `hash` (`LEGACY_DUMMY_HASH`; `None`: the bcrypt cost-10 default) for users without
    /// a usable hash, and holds every sign-in's answer back to that check's time, measured now;
    /// refused when this source cannot check it.
    pub async fn with_dummy_hash(mut self, hash: Option<&str>) -> Result<Self, Error> {
        self.dummy_hash = DummyHash::new(hash).await?;
        Ok(self)
    }

    /// Connects now (at cold start, for at most `budget`), so the first sign-in does not pay for
    /// it. A failure is logged, and the next call tries again.
    pub async fn warm_up(&self, budget: Duration) {
        let connecting = async {
            let mut slot = self.connection.lock().await;
            if slot.is_none() {
                *slot = Some(self.connect().await?);
            }
            Ok::<(), SourceFailure>(())
        };
        database::warm_up("mysql", budget, connecting).await;
    }

    async fn connect(&self) -> Result<(Conn, Statement), SourceFailure> {
        let connecting = tokio::time::timeout(self.timeout, Conn::new(self.opts.clone()));
        let mut conn = match connecting.await {
            Ok(Ok(conn)) => conn,
            Ok(Err(error)) => {
                return Err(SourceFailure(format!(
                    "connecting: {}",
                    crate::error::describe_chain(&error)
                )));
            }
            Err(_) => {
                return Err(SourceFailure(format!(
                    "connecting: no answer within {} ms",
                    self.timeout.as_millis()
                )));
            }
        };
        // The server gives up on a query too, a little after this function does: MariaDB's
        // limit (seconds) or MySQL's (milliseconds, SELECT only); the other is unknown there.
        let seconds = self.timeout.as_secs_f64() + 1.0;
        let limited = conn
            .query_drop(format!("SET SESSION max_statement_time = {seconds:.1}"))
            .await
            .is_ok()
            || conn
                .query_drop(format!(
                    "SET SESSION max_execution_time = {}",
                    (seconds * 1000.0) as u64
                ))
                .await
                .is_ok();
        if !limited {
            warn!(
                source = "mysql",
                "the server takes no statement time limit; a hung query is only dropped here"
            );
        }
        let statement = conn.prep(&self.query).await.map_err(|error| {
            SourceFailure(format!(
                "preparing LEGACY_USER_QUERY: {}",
                crate::error::describe_chain(&error)
            ))
        })?;
        if statement.num_params() != 1 {
            return Err(SourceFailure(
                "LEGACY_USER_QUERY must take exactly one parameter, ? (the user name)".to_owned(),
            ));
        }
        if !statement
            .columns()
            .iter()
            .any(|column| column.name_str() == HASH_COLUMN)
        {
            return Err(SourceFailure(format!(
                "LEGACY_USER_QUERY returns no `{HASH_COLUMN}` column"
            )));
        }
        Ok((conn, statement))
    }

    /// The rows for `username`, re-connecting once if the connection was lost or its prepared
    /// statement was (a proxy, a failover). The connection is out of the slot while the query
    /// runs: a query that hangs, fails or is cancelled takes it with it, so the next call starts
    /// afresh.
    async fn rows(&self, username: &str) -> Result<Vec<Row>, SourceFailure> {
        let mut slot = self.connection.lock().await;
        let mut reconnected = false;
        loop {
            let (mut conn, statement) = match slot.take() {
                Some(connection) => connection,
                None => self.connect().await?,
            };
            let query = conn.exec::<Row, _, _>(&statement, (username,));
            let answered = match tokio::time::timeout(self.timeout, query).await {
                Ok(answered) => answered,
                Err(_) => {
                    return Err(SourceFailure(format!(
                        "query: no answer within {} ms; the connection will be re-made",
                        self.timeout.as_millis()
                    )));
                }
            };
            match answered {
                Ok(rows) => {
                    *slot = Some((conn, statement));
                    return Ok(rows);
                }
                // The server dropped the connection (a restart, a failover, a killed thread, an
                // idle timeout) or forgot the statement: make both again, once.
                Err(error) if !reconnected && (error.is_fatal() || is_stale_statement(&error)) => {
                    reconnected = true;
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
        let rows: Vec<UserRow> = self.rows(username).await?.iter().map(read_row).collect();
        database::judge(rows, password, &self.dummy_hash).await
    }
}

/// Whether the server no longer knows the prepared statement (1243 unknown statement handler,
/// 1615 statement needs re-preparing).
fn is_stale_statement(error: &mysql_async::Error) -> bool {
    matches!(error, mysql_async::Error::Server(server) if matches!(server.code, 1243 | 1615))
}

impl LegacyUserSource for MysqlLegacySource {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn authenticate<'a>(&'a self, username: &'a str, password: &'a Password) -> LookupFuture<'a> {
        Box::pin(self.lookup(username, Some(password)))
    }

    fn find<'a>(&'a self, username: &'a str) -> LookupFuture<'a> {
        Box::pin(self.lookup(username, None))
    }
}

/// The hash and the attributes of a row: text columns as they are (UTF-8), integers (MySQL's
/// booleans are `TINYINT(1)`) written out, NULLs left out. Other values (dates, binary that is
/// not UTF-8) are skipped with a warning.
fn read_row(row: &Row) -> UserRow {
    let mut hash = None;
    let mut record = LegacyRecord::default();
    for (index, column) in row.columns_ref().iter().enumerate() {
        let name = column.name_str();
        let value = match row.as_ref(index) {
            None | Some(Value::NULL) => None,
            Some(Value::Bytes(bytes)) => match std::str::from_utf8(bytes) {
                Ok(text) => Some(text.to_owned()),
                Err(_) => {
                    warn!(
                        source = "mysql",
                        column = %name,
                        "column is not UTF-8 text; cast it in LEGACY_USER_QUERY"
                    );
                    None
                }
            },
            Some(Value::Int(number)) => Some(number.to_string()),
            Some(Value::UInt(number)) => Some(number.to_string()),
            Some(_) => {
                warn!(
                    source = "mysql",
                    column = %name,
                    "column type not supported; cast it to text in LEGACY_USER_QUERY"
                );
                None
            }
        };
        if name == HASH_COLUMN {
            hash = value;
        } else if let Some(value) = value {
            record.attributes.insert(name.into_owned(), value);
        }
    }
    (hash, record)
}

/// TLS for the connection: the process's roots (which must not be empty without a CA file) and
/// `LEGACY_DATABASE_CA_FILE`, checked now; never the driver's own built-in roots.
fn ssl_opts(ca_file: Option<&std::path::Path>) -> Result<SslOpts, Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots: Vec<Vec<u8>> = vec![if ca_file.is_none() {
        crate::tls::required()?.pem()
    } else {
        crate::tls::roots().pem()
    }];
    if let Some(path) = ca_file {
        let bundle = crate::env::read_config_file(
            "LEGACY_DATABASE_CA_FILE",
            path,
            super::database::MAX_CA_FILE_BYTES,
        )?;
        // Each certificate must be one rustls takes as a root, or every connection would fail
        // later instead of this cold start now.
        let mut store = rustls::RootCertStore::empty();
        let mut certificates = 0;
        for certificate in CertificateDer::pem_slice_iter(&bundle) {
            let certificate = certificate.map_err(|error| {
                Error::config(
                    "LEGACY_DATABASE_CA_FILE",
                    format!("not a PEM certificate bundle: {error}"),
                )
            })?;
            store.add(certificate).map_err(|error| {
                Error::config(
                    "LEGACY_DATABASE_CA_FILE",
                    format!("unusable certificate: {error}"),
                )
            })?;
            certificates += 1;
        }
        if certificates == 0 {
            return Err(Error::config(
                "LEGACY_DATABASE_CA_FILE",
                "holds no PEM certificate",
            ));
        }
        roots.push(bundle);
    }
    Ok(SslOpts::default()
        .with_root_certs(roots.into_iter().map(Into::into).collect())
        .with_disable_built_in_roots(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(url: &str) -> Result<MysqlLegacySource, Error> {
        MysqlLegacySource::new(
            url,
            "SELECT password_hash FROM users WHERE username = ?".to_owned(),
            Duration::from_secs(1),
            None,
        )
    }

    #[test]
    fn a_database_off_this_machine_must_ask_for_tls_with_its_checks_on() {
        for url in [
            "mysql://app:pw@db.example.com:3306/legacy",
            "mysql://app:pw@db.example.com:3306/legacy?require_ssl=false",
            "mysql://app:pw@db.example.com/legacy?require_ssl=true&verify_ca=false",
            "mysql://app:pw@db.example.com/legacy?require_ssl=true&verify_identity=false",
            "mysql://app:pw@127.0.0.1/legacy?require_ssl=true&verify_ca=false",
            "postgres://app:pw@db.example.com/legacy",
            "not a url",
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
            "mysql://app:pw@db.example.com:3306/legacy?require_ssl=true",
            "mysql://app:pw@127.0.0.1:3306/legacy",
            "mysql://app:pw@localhost/legacy",
        ] {
            assert!(source(url).is_ok(), "{url}");
        }
        let Err(error) = source("mysql://app:s3cr3t@db.example.com/legacy") else {
            panic!("refused above");
        };
        assert!(!error.to_string().contains("s3cr3t"));
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let missing = MysqlLegacySource::new(
            "mysql://app:pw@db.example.com/legacy?require_ssl=true",
            "SELECT password_hash FROM users WHERE username = ?".to_owned(),
            Duration::from_secs(1),
            Some(std::path::Path::new("/nonexistent/ca.pem")),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("LEGACY_DATABASE_CA_FILE"));
        let path = std::env::temp_dir().join(format!("not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "hello").unwrap();
        let empty = MysqlLegacySource::new(
            "mysql://app:pw@db.example.com/legacy?require_ssl=true",
            "SELECT password_hash FROM users WHERE username = ?".to_owned(),
            Duration::from_secs(1),
            Some(&path),
        )
        .unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(
            empty.to_string().contains("holds no PEM certificate"),
            "{empty}"
        );
    }
}
