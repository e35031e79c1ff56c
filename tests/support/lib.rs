//! Shared test support: the trigger binaries (built once per test run), fixtures from `events/`,
//! and a fake AWS endpoint that records the real wire requests the SDK sends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
pub mod events;
pub use events::{events_dir, fixture};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use local_cognito::binaries::{cargo_build, default_dir, locate};
use local_cognito::lambda_host::{FunctionSpec, Invocation, LambdaHost, OutputLog};
use serde_json::Value;

/// Every binary the tests run: every trigger (the local tool's list, so a new trigger cannot be
/// missed here) and the local tool itself.
pub fn binaries() -> Vec<&'static str> {
    local_cognito::binaries::ALL_TRIGGERS
        .into_iter()
        .chain(["local-cognito"])
        .collect()
}

/// The directory with the freshly built binaries. The first caller builds them with the cargo
/// that runs the tests, so they are never stale.
pub fn binary_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = default_dir().expect("test executable directory");
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let binaries = binaries();
        cargo_build(env!("CARGO").as_ref(), &workspace, &dir, &binaries)
            .expect("cargo build of the binaries");
        locate(&dir, &binaries).expect("binaries present");
        dir
    })
    .clone()
}

/// The path of one binary.
pub fn binary(name: &str) -> PathBuf {
    binary_dir().join(name)
}

/// Variables every test process gets: static credentials and no instance metadata probing.
pub fn aws_test_env() -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTESTTEST"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret-key"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// A host for one trigger binary with `env` on top of the test AWS variables.
pub fn host(name: &str, env: &[(&str, &str)], output: Arc<OutputLog>) -> LambdaHost {
    let mut all = aws_test_env();
    all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    LambdaHost::new(
        FunctionSpec {
            name: name.to_owned(),
            binary: binary(name),
            env: all,
            timeout: local_cognito::lambda_host::COGNITO_TIMEOUT,
        },
        output,
        false,
    )
}

/// One request the fake endpoint received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: Method,
    /// Path and query.
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// Body, parsed as JSON (or `Null`).
    pub json: Value,
    /// Body as sent.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A field of an `application/x-www-form-urlencoded` body.
    pub fn form(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(&self.body)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// What the fake endpoint answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Value,
    /// Wait this long before answering.
    pub delay: Duration,
    /// A body sent as it is instead of `body` (for answers that are not JSON).
    pub raw: Option<String>,
}

impl Reply {
    /// `200` with a JSON body.
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
            raw: None,
        }
    }

    /// `status` with a body that is sent as it is.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Value::Null,
            delay: Duration::ZERO,
            raw: Some(body.to_owned()),
        }
    }

    /// An AWS JSON error: `x-amzn-ErrorType` and `{"__type", "message"}`.
    pub fn aws_error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![("x-amzn-errortype", error_type.to_owned())],
            body: serde_json::json!({"__type": error_type, "message": message}),
            delay: Duration::ZERO,
            raw: None,
        }
    }

    /// The same reply after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// A local HTTP endpoint standing in for an AWS service.
#[allow(missing_debug_implementations)]
pub struct FakeEndpoint {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeEndpoint {
    /// Starts an endpoint that answers every request with `script(request)`.
    pub async fn start(script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        let recorded = requests.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let script = script.clone();
                let recorded = recorded.clone();
                async move {
                    let request = Recorded {
                        method,
                        uri,
                        headers,
                        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        body: body.to_vec(),
                    };
                    recorded.lock().unwrap().push(request.clone());
                    let reply = script(&request);
                    tokio::time::sleep(reply.delay).await;
                    let mut response: Response = (
                        StatusCode::from_u16(reply.status).unwrap(),
                        reply.raw.unwrap_or_else(|| reply.body.to_string()),
                    )
                        .into_response();
                    for (name, value) in reply.headers {
                        response.headers_mut().insert(name, value.parse().unwrap());
                    }
                    response
                        .headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    response
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, requests }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// The PostgreSQL server the test command started (`LEGACY_TEST_DATABASE_URL`), with the legacy
/// users of `tests/fixtures/legacy_users.sql` loaded (once per test process; the script is
/// idempotent). Without the variable the tests that need a database fail, saying how to get one.
pub fn legacy_database_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("LEGACY_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "LEGACY_TEST_DATABASE_URL is not set: run ./scripts/test (it starts a PostgreSQL \
                 server), or point it at a server of yours, e.g. postgres://postgres@127.0.0.1:5432/postgres"
            )
        });
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/legacy_users.sql");
        psql(&url, &["-f", fixture.to_str().unwrap()]);
        url
    })
    .clone()
}

/// The MariaDB server the test command started (`LEGACY_TEST_MYSQL_URL`, a `mysql://` URL of the
/// `legacy` database), with the users of `tests/fixtures/legacy_users_mysql.sql` loaded (once per
/// test process; the script is idempotent).
pub fn legacy_mysql_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("LEGACY_TEST_MYSQL_URL").unwrap_or_else(|_| {
            panic!(
                "LEGACY_TEST_MYSQL_URL is not set: run ./scripts/test (it starts a MariaDB \
                 server), or point it at a server of yours, e.g. mysql://legacy:pw@127.0.0.1:3306/legacy"
            )
        });
        let fixture =
            std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/legacy_users_mysql.sql"))
                .unwrap();
        mysql(&url, &fixture);
        url
    })
    .clone()
}

/// Runs SQL through the `mariadb` client against `url` (a `mysql://user:password@host:port/db`
/// URL), stopping on the first error; returns its output (tab-separated, no headers).
pub fn mysql(url: &str, sql: &str) -> String {
    let rest = url.strip_prefix("mysql://").expect("a mysql:// URL");
    let (credentials, location) = rest.split_once('@').expect("user:password@host");
    let (user, password) = credentials.split_once(':').expect("user:password");
    let (address, database) = location.split_once('/').expect("host:port/database");
    let database = database.split('?').next().unwrap_or(database);
    let (host, port) = address.split_once(':').unwrap_or((address, "3306"));
    let output = std::process::Command::new("mariadb")
        .args([
            "--no-defaults",
            "--batch",
            "--skip-column-names",
            "--protocol=TCP",
        ])
        .args(["-h", host, "-P", port, "-u", user, "-D", database])
        .env("MYSQL_PWD", password)
        .args(["-e", sql])
        .output()
        .expect("the mariadb client (Debian package mariadb-client) must be installed");
    assert!(
        output.status.success(),
        "mariadb: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `psql` against `url` with `args`, stopping on the first error; returns its output.
pub fn psql(url: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url])
        .args(args)
        .output()
        .expect("psql (Debian package postgresql-client) must be installed");
    assert!(
        output.status.success(),
        "psql {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The DynamoDB-protocol server the test command started (`STATE_TEST_DYNAMODB_URL`). Without
/// the variable the tests that need it fail, saying how to get one.
pub fn dynamodb_url() -> String {
    std::env::var("STATE_TEST_DYNAMODB_URL").unwrap_or_else(|_| {
        panic!(
            "STATE_TEST_DYNAMODB_URL is not set: run ./scripts/test (it starts moto's server), or \
             start one (pip install 'moto[server]'; moto_server -p 5005) and set it to http://127.0.0.1:5005"
        )
    })
}

/// A DynamoDB client for `url` with the test credentials, for set-up calls (not a trigger's: a
/// loaded test machine gets more time than Cognito gives).
pub async fn dynamodb_client(url: &str) -> aws_sdk_dynamodb::Client {
    dynamodb_client_within(url, Duration::from_secs(20)).await
}

/// A DynamoDB client for `url` with the test credentials, every call within `timeout` (the
/// project's SDK set-up, as a trigger's store has it).
pub async fn dynamodb_client_within(url: &str, timeout: Duration) -> aws_sdk_dynamodb::Client {
    let config = cognito_passwordless::aws::sdk_config_loader(timeout)
        .expect("TLS roots")
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::from_keys(
            "AKIDTESTTESTTESTTEST",
            "test-secret-key",
            None,
        ))
        .endpoint_url(url)
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// Creates a fresh state table named `name` (pk/sk strings, on-demand) and returns its name.
pub async fn create_state_table(client: &aws_sdk_dynamodb::Client, name: &str) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let table = format!("{name}-{}-{}", std::process::id(), unique());
    let created = client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // The name is this process's own: it exists only because the SDK retried a first attempt
        // that the server carried out too slowly (a loaded machine).
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|service| service.is_resource_in_use_exception()) => {}
        Err(error) => panic!("cannot create the state table {table}: {error:?}"),
    }
    table
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The answer of a function that answered, or a test failure saying what happened instead.
pub fn response(outcome: Invocation) -> Value {
    match outcome {
        Invocation::Response(value) => value,
        other => panic!("expected a response, got {other:?}"),
    }
}

/// The `(errorType, errorMessage)` of a function that returned an error, or a test failure.
pub fn function_error(outcome: Invocation) -> (String, String) {
    match outcome {
        Invocation::FunctionError {
            error_type,
            error_message,
        } => (error_type, error_message),
        other => panic!("expected a function error, got {other:?}"),
    }
}

/// Everything the functions wrote, one line each.
pub fn log_text(output: &OutputLog) -> String {
    output
        .lines()
        .into_iter()
        .map(|line| line.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `local-cognito sign-in` with `args` (the built binaries, no inherited configuration) and
/// `env`; returns its exit code and everything it printed.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = std::process::Command::new(binary("local-cognito"))
        .args(["sign-in", "--bin-dir"])
        .arg(binary_dir())
        .args(args)
        .env_remove("CARGO")
        .env_remove("SMS_PROVIDER")
        .env_remove("EMAIL_PROVIDER")
        .env_remove("AUTH_FLOW")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (output.status.code().unwrap_or(-1), printed(&output))
}

/// Everything a finished process printed: standard output, then standard error.
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
