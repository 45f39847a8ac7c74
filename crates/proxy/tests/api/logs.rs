//! `CHECKOUT_LOG_FORMAT=json`: the binary's log lines, read from its standard error as a log
//! collector would, after the merchant API (with the bearer key), the hosted page, a
//! staff sign-in (a session cookie) and a webhook delivery: every line is one JSON object, a
//! request's line names its route, status, time, request id and payment, and no secret is
//! in any line — not even where PayDigital's error or a client's header quotes one.

use crate::helpers::{
    banner_url, free_port, sandbox_config, signal, MERCHANT_KEY, SECRET_KEY, STORE_ID,
    WEBHOOK_SECRET,
};
use crate::receiver::Receiver;
use paydigital_proxy::upstream::sandbox::Faults;
use serde_json::{json, Value};
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_paydigital-proxy");
const OWNER: &str = "pemilik@toko.example";
const PASSWORD: &str = "sandi-PASSWORDSECRET-panjang";

/// The binary, started with `command`, its standard error read line by line as it comes (a
/// full pipe would stall the proxy) and its banner read from standard output.
struct Logged {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Logged {
    /// Starts it; returns it and the base URL its banner names.
    fn start(mut command: std::process::Command) -> (Logged, String) {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let stderr = child.stderr.take().expect("stderr");
        let reader = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr)
                    .lines()
                    .map_while(Result::ok)
                {
                    lines.lock().expect("lines").push(line);
                }
            })
        };
        let stdout = child.stdout.take().expect("stdout");
        let mut banner = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut banner)
            .expect("prints its URL");
        let url = banner_url(&banner).unwrap_or_else(|| panic!("unexpected banner {banner:?}"));
        (
            Logged {
                child,
                lines,
                reader,
            },
            url,
        )
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Waits until some line contains `text`.
    async fn wait_for_line(&self, text: &str) -> bool {
        crate::helpers::wait_for(Duration::from_secs(10), || {
            std::future::ready(self.lines().iter().any(|l| l.contains(text)))
        })
        .await
    }

    /// Stops it (SIGTERM) and returns every line it wrote, each parsed as one JSON object.
    fn stop(mut self) -> (Vec<String>, Vec<Value>) {
        signal(&self.child, "TERM");
        let _ = self.child.wait();
        let _ = self.reader.join();
        let lines = self.lines.lock().expect("lines").clone();
        let parsed = lines
            .iter()
            .map(|line| {
                serde_json::from_str::<Value>(line)
                    .unwrap_or_else(|e| panic!("not one JSON object: {line:?}: {e}"))
            })
            .collect();
        (lines, parsed)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_with_the_request_and_never_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("checkout.sqlite");
    let added = std::process::Command::new(BIN)
        .args(["staff", "add", OWNER, "--role", "owner", "--password-stdin"])
        .env("CHECKOUT_DATABASE", &database)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                writeln!(stdin, "{PASSWORD}")?;
            }
            child.wait()
        })
        .expect("staff add runs");
    assert!(added.success());
    let (receiver, hook_url) = Receiver::start().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = std::process::Command::new(BIN);
    command
        .args([
            "serve",
            "--sandbox",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("CHECKOUT_DATABASE", &database)
        .env("CHECKOUT_LOG_FORMAT", "json")
        .env("CHECKOUT_INSTANCE_ID", "checkout-logs-1")
        .env("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY)
        .env("CHECKOUT_PUBLIC_URL", &base)
        .env("CHECKOUT_WEBHOOK_URL", &hook_url)
        .env("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("CHECKOUT_STATUS_REFRESH_MS", "0")
        .env_remove("RUST_LOG")
        .env_remove("PAYDIGITAL_API_KEY")
        .env_remove("PAYDIGITAL_API_KEY_FILE");
    let (proxy, url) = Logged::start(command);
    assert_eq!(url, base);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let created: Value = http
        .post(format!("{base}/api/merchant/payments"))
        .bearer_auth(MERCHANT_KEY)
        .json(&json!({ "amount": 25_000, "reference": "ORDER-LOG" }))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let invoice = created["invoice"].as_str().expect("invoice").to_owned();
    let page = http
        .get(format!("{base}/pay/{id}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200);
    // A wrong key is refused, and is not logged either.
    let wrong = http
        .get(format!("{base}/api/merchant/payments"))
        .bearer_auth("mk_WRONGKEY_0123456789abcdef0123456789")
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong.status(), 401);
    // A sign-in: the password goes in, a session cookie comes out and is used.
    let signed_in = http
        .post(format!("{base}/admin/login"))
        .header("origin", &base)
        .form(&[("email", OWNER), ("password", PASSWORD)])
        .send()
        .await
        .expect("answers");
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let session = cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .expect("name=value");
    let dashboard = http
        .get(format!("{base}/admin/payments"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("answers");
    assert_eq!(dashboard.status(), 200);
    // Paid in the sandbox: the webhook goes out (and its attempt is logged).
    let paid = http
        .post(format!("{base}/sandbox/payments/{invoice}/pay"))
        .send()
        .await
        .expect("answers");
    assert!(paid.status().is_success(), "{}", paid.status());
    receiver
        .wait_for("payment.paid", Duration::from_secs(15), |seen| {
            seen.iter().any(|r| r.kind() == "payment.paid")
        })
        .await;
    let logged = crate::helpers::wait_for(Duration::from_secs(5), || {
        std::future::ready(
            proxy
                .lines()
                .iter()
                .filter(|l| l.contains("webhook attempt"))
                .count()
                >= 2,
        )
    })
    .await;
    let (lines, parsed) = proxy.stop();
    assert!(logged, "two webhook attempts logged: {lines:#?}");

    for (line, object) in lines.iter().zip(&parsed) {
        assert!(object.is_object(), "{line}");
        assert!(
            object["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
                && object["level"].is_string()
                && object["message"].is_string(),
            "time, level and message: {line}"
        );
        for secret in [
            MERCHANT_KEY,
            "WRONGKEY",
            WEBHOOK_SECRET,
            WEBHOOK_SECRET.trim_start_matches("whsec_"),
            session.as_str(),
            "PASSWORDSECRET",
        ] {
            assert!(!line.contains(secret), "a secret in the log: {line}");
        }
    }
    let request = |method: &str, route: &str, status: u64| {
        parsed
            .iter()
            .find(|o| {
                o["message"] == "request"
                    && o["method"] == method
                    && o["route"] == route
                    && o["status"] == status
            })
            .unwrap_or_else(|| panic!("no {method} {route} {status} line in {lines:#?}"))
    };
    let create = request("POST", "/api/merchant/payments", 201);
    assert_eq!(create["payment_id"], id.as_str(), "{create}");
    assert_eq!(create["level"], "INFO");
    assert!(create["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    // Request ids are counted per process: the instance tells two proxies' lines apart.
    assert_eq!(create["instance_id"], "checkout-logs-1", "{create}");
    assert!(
        create["duration_ms"].as_f64().is_some_and(|d| d > 0.0),
        "{create}"
    );
    let hosted = request("GET", "/pay/{id}", 200);
    assert_eq!(hosted["payment_id"], id.as_str());
    assert_ne!(
        hosted["request_id"], create["request_id"],
        "one id a request"
    );
    request("GET", "/api/merchant/payments", 401);
    request("POST", "/admin/login", 303);
    request("GET", "/admin/payments", 200);
    // A line logged inside a request carries it: the create's own line names its request.
    let made = parsed
        .iter()
        .find(|o| o["message"] == "payment created")
        .expect("the create's own line");
    assert_eq!(made["span"]["id"], create["request_id"], "{made}");
    assert_eq!(made["span"]["instance_id"], "checkout-logs-1", "{made}");
    assert_eq!(made["id"], id.as_str());
    // The webhook worker's lines name the payment.
    let attempt = parsed
        .iter()
        .find(|o| o["message"] == "webhook attempt")
        .expect("an attempt");
    assert_eq!(attempt["payment"], id.as_str());
    let started = parsed
        .iter()
        .find(|o| o["message"] == "listening")
        .expect("the start");
    assert_eq!(started["instance_id"], "checkout-logs-1");
}

/// PayDigital refusing a create with an error that quotes the key back (the sandbox's
/// `echo_key` fault), and clients whose `X-Request-Id` is a secret (it fits the id's
/// alphabet, so the proxy keeps and logs it): the answer and every log line hold
/// `[redacted]` where the secret was, never the secret. The create's warning, written inside
/// its request, names the instance as the access line does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_quoted_by_paydigital_or_a_client_never_reach_the_log() {
    let sandbox = paydigital_proxy::start_sandbox(
        "127.0.0.1:0".parse().expect("addr"),
        sandbox_config(),
        Faults {
            echo_key: true,
            ..Faults::default()
        },
    )
    .await
    .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = std::process::Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CHECKOUT_DATABASE", dir.path().join("checkout.sqlite"))
        .env("CHECKOUT_LOG_FORMAT", "json")
        .env("CHECKOUT_INSTANCE_ID", "checkout-logs-2")
        .env("PAYDIGITAL_API_KEY", SECRET_KEY)
        .env("PAYDIGITAL_STORE_ID", STORE_ID)
        .env("PAYDIGITAL_BASE_URL", sandbox.url())
        .env("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY)
        .env("CHECKOUT_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
        .env("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env(
            "CHECKOUT_STATIC_DIR",
            dir.path().join("dist").display().to_string(),
        )
        .env_remove("RUST_LOG")
        .env_remove("PAYDIGITAL_API_KEY_FILE");
    let (proxy, base) = Logged::start(command);
    let http = reqwest::Client::new();

    let refused = http
        .post(format!("{base}/api/merchant/payments"))
        .bearer_auth(MERCHANT_KEY)
        .json(&json!({ "amount": 25_000, "reference": "ORDER-ECHO" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 502);
    let answer = refused.text().await.expect("body");
    assert!(!answer.contains("SUPERSECRET"), "{answer}");
    // The sandbox did quote it: what reached the log had the key in it.
    assert_eq!(
        sandbox.sandbox.as_deref().expect("sandbox state").calls()["endpoints"]["create_payment"],
        1
    );
    for secret in [
        SECRET_KEY,
        MERCHANT_KEY,
        WEBHOOK_SECRET,
        WEBHOOK_SECRET.trim_start_matches("whsec_"),
    ] {
        let answered = http
            .get(format!("{base}/api/merchant/payments"))
            .bearer_auth(MERCHANT_KEY)
            .header("x-request-id", secret)
            .send()
            .await
            .expect("answers");
        assert_eq!(answered.status(), 200);
    }
    // The last request's own line is the signal that every earlier line is written.
    let written = crate::helpers::wait_for(Duration::from_secs(10), || {
        std::future::ready(
            proxy
                .lines()
                .iter()
                .filter(|l| l.contains("\"route\":\"/api/merchant/payments\""))
                .count()
                >= 5,
        )
    })
    .await;
    assert!(proxy.wait_for_line("upstream failure").await);
    let (lines, parsed) = proxy.stop();
    assert!(written, "five request lines: {lines:#?}");
    for line in &lines {
        for secret in [
            "SUPERSECRET",
            "MERCHANTSECRET",
            WEBHOOK_SECRET.trim_start_matches("whsec_"),
        ] {
            assert!(
                !line
                    .to_ascii_uppercase()
                    .contains(&secret.to_ascii_uppercase()),
                "a secret in the log: {line}"
            );
        }
    }
    let failure = parsed
        .iter()
        .find(|o| o["message"] == "upstream failure")
        .unwrap_or_else(|| panic!("the create's warning: {lines:#?}"));
    let detail = failure["detail"].as_str().expect("detail");
    assert!(
        detail.contains("Invalid API key [redacted]"),
        "PayDigital's words, the key redacted: {failure}"
    );
    // Written inside the create's request: its span names the request and the instance.
    let create = parsed
        .iter()
        .find(|o| o["message"] == "request" && o["method"] == "POST")
        .expect("the create's access line");
    assert_eq!(create["status"], 502);
    assert_eq!(failure["span"]["id"], create["request_id"], "{failure}");
    assert_eq!(
        failure["span"]["instance_id"], "checkout-logs-2",
        "{failure}"
    );
    assert_eq!(create["instance_id"], "checkout-logs-2", "{create}");
    // Each client's request id was a secret: logged as the marker.
    let redacted_ids = parsed
        .iter()
        .filter(|o| o["message"] == "request" && o["request_id"] == "[redacted]")
        .count();
    assert_eq!(redacted_ids, 4, "{lines:#?}");
}
