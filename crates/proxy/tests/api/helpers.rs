//! Test harness: a sandbox PayDigital and a proxy, each on port 0, with logs captured
//! (zero-to-production's `tests/api/helpers.rs`, adapted); the test PostgreSQL; the proxy
//! binary as a process of its own; waiting for a condition.

use paydigital_proxy::config::Config;
use paydigital_proxy::upstream::sandbox::{Faults, Sandbox, SandboxConfig};
use paydigital_proxy::Running;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// A key distinctive enough to grep for in every response and log line.
pub const SECRET_KEY: &str = "pd_live_SUPERSECRET_9f8e7d6c";
pub const STORE_ID: &str = "TOKO-UJI-01";
/// The shop server's key for the merchant API (as distinctive, for the same reason).
pub const MERCHANT_KEY: &str = "mk_test_MERCHANTSECRET_0123456789abcdef";
pub const PUBLIC_URL: &str = "https://pay.toko.example";
/// The webhook signing secret proxies under test sign with (Standard Webhooks' example).
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Default)]
pub struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged so far by any test in this binary, at TRACE level.
pub fn captured_logs() -> String {
    let sink = log_sink();
    let bytes = sink.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn log_sink() -> &'static LogSink {
    static SINK: OnceLock<LogSink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = LogSink::default();
        let writer = sink.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        sink
    })
}

pub struct TestApp {
    pub proxy: Running,
    pub sandbox: Running,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub vars: HashMap<String, String>,
}

pub fn sandbox_config() -> SandboxConfig {
    SandboxConfig {
        api_key: SECRET_KEY.into(),
        store_id: STORE_ID.into(),
        ..SandboxConfig::default()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// A sandbox and a proxy pointed at it; `vars` add to or override the environment.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        log_sink();
        let sandbox = paydigital_proxy::start_sandbox(
            "127.0.0.1:0".parse().expect("addr"),
            sandbox_config(),
            Faults::default(),
        )
        .await
        .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut env: HashMap<String, String> = [
            ("PAYDIGITAL_API_KEY", SECRET_KEY.to_owned()),
            ("PAYDIGITAL_STORE_ID", STORE_ID.to_owned()),
            ("PAYDIGITAL_BASE_URL", sandbox.url()),
            ("CHECKOUT_LISTEN", "127.0.0.1:0".to_owned()),
            ("CHECKOUT_DATABASE", test_database(dir.path()).await),
            (
                "CHECKOUT_STATIC_DIR",
                dir.path().join("dist").display().to_string(),
            ),
            ("CHECKOUT_STATUS_REFRESH_MS", "2000".to_owned()),
            // Tests read one payment many times a second; the budget has tests of its own.
            ("CHECKOUT_UPSTREAM_MAX_RPS", "1000".to_owned()),
            ("CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN", "100000".to_owned()),
            ("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY.to_owned()),
            ("CHECKOUT_PUBLIC_URL", PUBLIC_URL.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in vars {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let proxy = start_proxy(&env).await;
        TestApp {
            proxy,
            sandbox,
            http: reqwest::Client::new(),
            dir,
            vars: env,
        }
    }

    /// Stops the proxy and starts a new one on the same database and sandbox.
    pub async fn restart_proxy(self) -> TestApp {
        let TestApp {
            proxy,
            sandbox,
            http,
            dir,
            vars,
        } = self;
        proxy.stop().await;
        let proxy = start_proxy(&vars).await;
        TestApp {
            proxy,
            sandbox,
            http,
            dir,
            vars,
        }
    }

    pub fn sandbox_state(&self) -> &Sandbox {
        self.sandbox.sandbox.as_deref().expect("sandbox state")
    }

    pub fn set_faults(&self, faults: Value) {
        let faults: Faults = serde_json::from_value(faults).expect("faults");
        self.sandbox_state().set_faults(faults);
    }

    pub fn create_calls(&self) -> u64 {
        self.sandbox_state().calls()["endpoints"]["create_payment"]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn create(&self, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/payments", self.proxy.url()))
            .json(&body)
            .send()
            .await
            .expect("proxy answers")
    }

    pub async fn create_with_key(&self, body: Value, key: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/payments", self.proxy.url()))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .expect("proxy answers")
    }

    /// Creates a payment that must succeed, and returns its JSON.
    pub async fn create_ok(&self, amount: u64) -> Value {
        let response = self.create(json!({ "amount": amount })).await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("json")
    }

    pub async fn status(&self, invoice: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/payments/{invoice}", self.proxy.url()))
            .send()
            .await
            .expect("proxy answers")
    }

    pub async fn status_json(&self, invoice: &str) -> Value {
        let response = self.status(invoice).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// `/healthz`'s status.
    pub async fn proxy_health(&self) -> u16 {
        self.http
            .get(format!("{}/healthz", self.proxy.url()))
            .send()
            .await
            .expect("proxy answers")
            .status()
            .as_u16()
    }

    /// A merchant API call with `key` (`None`: no Authorization header).
    pub async fn merchant(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}/api/merchant/{path}", self.proxy.url()));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("proxy answers")
    }

    /// Creates a payment through the merchant API, which must succeed.
    /// A payment link made through the merchant API (201 expected); its JSON.
    pub async fn create_link(&self, body: Value) -> Value {
        let response = self
            .merchant(
                reqwest::Method::POST,
                "payment-links",
                Some(MERCHANT_KEY),
                Some(body),
            )
            .await;
        assert_eq!(response.status(), 201, "a payment link is made");
        response.json().await.expect("json")
    }

    pub async fn merchant_create(&self, body: Value) -> Value {
        let response = self
            .merchant(
                reqwest::Method::POST,
                "payments",
                Some(MERCHANT_KEY),
                Some(body),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("json")
    }

    /// A merchant GET that must succeed.
    pub async fn merchant_get(&self, path: &str) -> Value {
        let response = self
            .merchant(reqwest::Method::GET, path, Some(MERCHANT_KEY), None)
            .await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("json")
    }

    /// The events API's first page once `ready` holds for it (after `limit`, as it is then:
    /// the test's assertions say what was wrong).
    pub async fn events_when(
        &self,
        limit: std::time::Duration,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        read_until(limit, || self.merchant_get("events"), ready).await
    }

    pub fn pay(&self, invoice: &str) {
        self.sandbox_state()
            .pay(invoice)
            .expect("sandbox knows the invoice");
    }
}

/// The store a test runs on: a SQLite file in `dir`, or, with
/// `PAYDIGITAL_TEST_BACKEND=postgres` (`make test` runs the API tests both ways), a new
/// database on the cluster `PAYDIGITAL_TEST_POSTGRES` names.
pub async fn test_database(dir: &std::path::Path) -> String {
    match std::env::var("PAYDIGITAL_TEST_BACKEND").as_deref() {
        Ok("postgres") => fresh_postgres_database().await,
        Ok("sqlite") | Err(_) => dir.join("checkout.sqlite").display().to_string(),
        Ok(other) => panic!("PAYDIGITAL_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// The test cluster's URL (`make test` starts it). Without it the test fails, never skips.
pub fn postgres_server() -> String {
    std::env::var("PAYDIGITAL_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "PAYDIGITAL_TEST_POSTGRES is not set: run `make test` (it starts a throwaway \
             PostgreSQL 15), or `eval \"$(scripts/postgres.sh start)\"` first"
        )
    })
}

/// A new, empty database on the test cluster; its URL.
pub async fn fresh_postgres_database() -> String {
    use rand::Rng;
    let server = postgres_server();
    let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .expect("the test cluster answers");
    let connection = tokio::spawn(connection);
    let name = format!("api_{:016x}", rand::thread_rng().gen::<u64>());
    // template0: nobody is ever connected to it, so parallel tests may copy it at once.
    client
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
        .await
        .expect("create database");
    drop(client);
    let _ = connection.await;
    let (base, _) = server
        .rsplit_once('/')
        .expect("PAYDIGITAL_TEST_POSTGRES ends with /DBNAME");
    format!("{base}/{name}")
}

async fn start_proxy(env: &HashMap<String, String>) -> Running {
    let config = Config::from_vars(|name| env.get(name).cloned(), false).expect("valid config");
    paydigital_proxy::start(config, None)
        .await
        .expect("proxy starts")
}

/// Reads the error code of an error response.
pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("error body is JSON");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}

/// `paydigital-proxy serve --sandbox` as its own process (for `kill -9`), on a free port over
/// `database`, with `env` added; returns the child and its base URL.
pub fn serve_binary(
    database: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0"])
        .env("CHECKOUT_DATABASE", database)
        .env("RUST_LOG", "warn")
        // A real key would make `--sandbox` refuse to start.
        .env_remove("PAYDIGITAL_API_KEY")
        .env_remove("PAYDIGITAL_API_KEY_FILE")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("prints its URL");
    let url = banner_url(&line).unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, url)
}

/// A port free a moment ago, for a server whose URL must be known before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The base URL in `serve`'s first line, `PayDigital checkout: http://127.0.0.1:PORT/`.
pub fn banner_url(line: &str) -> Option<String> {
    line.trim()
        .strip_prefix("PayDigital checkout: ")
        .and_then(|u| u.strip_suffix('/'))
        .map(str::to_owned)
}

/// Sends `signal` (`KILL`, `TERM`) to a child process.
pub fn signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal}");
}

/// Reads with `read` every 50 ms until `ready` holds for what it read, or `limit` has
/// passed; the last read either way.
pub async fn read_until<T, F: std::future::Future<Output = T>>(
    limit: std::time::Duration,
    mut read: impl FnMut() -> F,
    ready: impl Fn(&T) -> bool,
) -> T {
    let last = std::cell::RefCell::new(None);
    wait_for(limit, || {
        let next = read();
        let (last, ready) = (&last, &ready);
        async move {
            let value = next.await;
            let done = ready(&value);
            *last.borrow_mut() = Some(value);
            done
        }
    })
    .await;
    last.into_inner()
        .unwrap_or_else(|| unreachable!("wait_for reads at least once"))
}

/// Polls `ready` every 50 ms until it holds (`true`) or `limit` has passed (`false`).
pub async fn wait_for<F: std::future::Future<Output = bool>>(
    limit: std::time::Duration,
    mut ready: impl FnMut() -> F,
) -> bool {
    let start = std::time::Instant::now();
    loop {
        if ready().await {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Browsers polling: a task per URL, each reading it as fast as it can until `until`, every
/// read a 200. The tasks start now; the future is the reads they made, all together.
pub fn start_polling(
    http: &reqwest::Client,
    urls: Vec<String>,
    until: std::time::Instant,
) -> impl std::future::Future<Output = u32> {
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let http = http.clone();
            tokio::spawn(async move {
                let mut reads = 0u32;
                while std::time::Instant::now() < until {
                    let status = http.get(&url).send().await.expect("answers").status();
                    assert_eq!(status, 200, "{url}: every read is answered");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    async move {
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("poller");
        }
        total
    }
}

/// A pending payment and its `payment.created` event, as a store written by another
/// release (or by hand) may hold them: for tests that put one in a store directly.
pub fn stored_payment(
    id: &str,
    event_id: &str,
    expires_at: time::OffsetDateTime,
) -> (
    paydigital_proxy::domain::payment::PaymentRecord,
    paydigital_proxy::store::NewEvent,
) {
    use paydigital_proxy::domain::payment::{PaymentRecord, Source};
    let now = time::OffsetDateTime::now_utc();
    let record = PaymentRecord {
        id: id.into(),
        invoice: format!("PYG-{id}"),
        status: paydigital::Status::Pending,
        status_word: None,
        amount: 10_000,
        unique_code: 1,
        total_amount: 10_001,
        qr_content: "000201".into(),
        payment_url: None,
        expires_at,
        paid_at: None,
        created_at: now,
        description: "Kopi".into(),
        customer_name: "Budi".into(),
        reference: None,
        item: None,
        source: Source::Merchant,
        metadata: Default::default(),
        late: false,
        idempotency_key: None,
        request_fingerprint: None,
        review: None,
        payment_link_id: None,
        created_by: None,
        receipt_token: paydigital_proxy::domain::ids::new_receipt_token(),
    };
    let event = paydigital_proxy::store::NewEvent {
        id: event_id.into(),
        payment_id: id.into(),
        event_type: "payment.created",
        created_at: now,
        body: "{}".into(),
    };
    (record, event)
}
