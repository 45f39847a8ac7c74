//! Three proxies on one PostgreSQL (`docs/scale-out.md`), each its own process, with a
//! sandbox PayDigital and a real webhook receiver: what held for one proxy holds for the
//! group — one payment per `Idempotency-Key`, one upstream status read per invoice per
//! refresh window, every instance answering a change within the window, each confirmation
//! check done once, each event sent by one instance at a time and taken over after a
//! `kill -9` mid-delivery, and a database restart the proxies ride out by themselves.
//!
//! The test runs its own throwaway PostgreSQL 15 cluster (scripts/postgres.sh), so that it
//! can stop and start it under the proxies without touching any other test's database.

use crate::helpers::{
    banner_url, sandbox_config, signal, start_polling, wait_for, MERCHANT_KEY, SECRET_KEY,
    STORE_ID, WEBHOOK_SECRET,
};
use crate::receiver::{ok, Receiver, Reply};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REFRESH: Duration = Duration::from_millis(1000);
const LEASE_SECS: u64 = 20;
/// Connections each instance may hold.
const POOL: i64 = 3;

/// A PostgreSQL cluster of this test's own; removed when dropped.
struct Cluster {
    dir: String,
    url: String,
    password: String,
}

fn postgres_script(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
    let output = Command::new(script).args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "scripts/postgres.sh {args:?} failed (PostgreSQL 15 is needed: make setup-postgres): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

impl Cluster {
    fn start() -> Cluster {
        let exports: HashMap<String, String> = postgres_script(&["start"])
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        let url = exports["PAYDIGITAL_TEST_POSTGRES"].clone();
        let password = url
            .split_once("postgres:")
            .and_then(|(_, rest)| rest.split_once('@'))
            .map(|(password, _)| password.to_owned())
            .expect("the URL has a password");
        Cluster {
            dir: exports["PAYDIGITAL_PG_DIR"].clone(),
            url,
            password,
        }
    }

    fn pause(&self) {
        postgres_script(&["pause", &self.dir]);
    }

    fn resume(&self) {
        postgres_script(&["resume", &self.dir]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
        let _ = Command::new(script).args(["stop", &self.dir]).status();
    }
}

/// One `paydigital-proxy serve` process; killed when dropped.
struct Proxy {
    name: &'static str,
    child: Child,
    url: String,
    log: std::path::PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the three at once (their migrations race on an empty database), then waits for
/// each to print its URL.
fn start_proxies(
    names: &[&'static str],
    database: &str,
    sandbox: &str,
    hooks: &str,
    dir: &std::path::Path,
) -> Vec<Proxy> {
    let children: Vec<(&'static str, Child, std::path::PathBuf)> = names
        .iter()
        .map(|&name| {
            let log = dir.join(format!("{name}.log"));
            let child = Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
                // Logs go to stdout (after the URL line), errors to stderr: both to the file.
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("PAYDIGITAL_BASE_URL", sandbox)
                .env("PAYDIGITAL_API_KEY", SECRET_KEY)
                .env("PAYDIGITAL_STORE_ID", STORE_ID)
                .env("CHECKOUT_DATABASE", database)
                .env("CHECKOUT_STATIC_DIR", dir.join("dist"))
                .env(
                    "CHECKOUT_STATUS_REFRESH_MS",
                    REFRESH.as_millis().to_string(),
                )
                .env("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY)
                // Which instance sent an attempt, for the receiver to tell.
                .env("CHECKOUT_WEBHOOK_URL", format!("{hooks}?via={name}"))
                .env("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET)
                .env("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "1s,1s,1s,1s,1s")
                .env("CHECKOUT_WEBHOOK_LEASE_SECS", LEASE_SECS.to_string())
                .env("CHECKOUT_DATABASE_POOL", POOL.to_string())
                .env("RUST_LOG", "info")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starts");
            (name, child, log)
        })
        .collect();
    // Each child is a `Proxy` (killed when dropped) before anything here can panic.
    let mut proxies: Vec<Proxy> = children
        .into_iter()
        .map(|(name, child, log)| Proxy {
            name,
            child,
            url: String::new(),
            log,
        })
        .collect();
    for proxy in &mut proxies {
        let file = Arc::new(Mutex::new(
            std::fs::File::create(&proxy.log).expect("log file"),
        ));
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let stdout = proxy.child.stdout.take().expect("stdout");
        let stderr = proxy.child.stderr.take().expect("stderr");
        let copy = |reader: Box<dyn std::io::Read + Send>,
                    url: Option<std::sync::mpsc::Sender<String>>| {
            let file = file.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    if let (Some(u), Some(tx)) = (banner_url(&line), &url) {
                        let _ = tx.send(u);
                    }
                    use std::io::Write;
                    let _ = writeln!(file.lock().expect("log"), "{line}");
                }
            })
        };
        copy(Box::new(stdout), Some(url_tx));
        copy(Box::new(stderr), None);
        proxy.url = url_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "{} did not start; log: {}",
                    proxy.name,
                    std::fs::read_to_string(&proxy.log).unwrap_or_default()
                )
            });
    }
    proxies
}

async fn merchant_create(
    http: &reqwest::Client,
    proxy: &Proxy,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = http
        .post(format!("{}/api/merchant/payments", proxy.url))
        .bearer_auth(MERCHANT_KEY)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("answers")
}

async fn status_of(http: &reqwest::Client, proxy: &Proxy, id: &str) -> Option<String> {
    let response = http
        .get(format!("{}/api/payments/{id}", proxy.url))
        .send()
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["status"].as_str().map(str::to_owned)
}

async fn health(http: &reqwest::Client, proxy: &Proxy) -> u16 {
    http.get(format!("{}/healthz", proxy.url))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_proxies_on_one_postgres_behave_as_one() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = paydigital_proxy::start_sandbox(
        "127.0.0.1:0".parse().expect("addr"),
        sandbox_config(),
        paydigital_proxy::upstream::sandbox::Faults::default(),
    )
    .await
    .expect("sandbox");
    let upstream = sandbox.sandbox.clone().expect("sandbox state");
    let (receiver, hooks) = Receiver::start().await;
    let mut proxies = start_proxies(
        &["a", "b", "c"],
        &cluster.url,
        &sandbox.url(),
        &hooks,
        dir.path(),
    );
    let http = reqwest::Client::new();

    // Payments nobody reads: only the confirmation workers ask about them.
    let unwatched_since = Instant::now();
    let mut unwatched = Vec::new();
    for (i, proxy) in proxies.iter().enumerate() {
        let body = json!({ "amount": 12_000 + i as u64, "reference": format!("ORDER-QUIET-{i}") });
        let created = merchant_create(&http, proxy, &body, None).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.expect("json");
        unwatched.push(created["invoice"].as_str().expect("invoice").to_owned());
    }

    // One Idempotency-Key sent to all three at once: one payment, one upstream create.
    let creates = || {
        upstream.calls()["endpoints"]["create_payment"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = creates();
    let race = json!({ "amount": 25_000, "reference": "ORDER-RACE" });
    let answers = futures::future::join_all(
        proxies
            .iter()
            .map(|p| merchant_create(&http, p, &race, Some("race-key-1"))),
    )
    .await;
    let mut ids = Vec::new();
    for answer in answers {
        assert!(answer.status().is_success(), "{}", answer.status());
        let body: Value = answer.json().await.expect("json");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "one payment: {ids:?}");
    assert_eq!(creates() - before, 1, "one upstream create for the group");

    // Browsers' reads spread over the three for 4 s: one upstream read per window.
    let watched = merchant_create(
        &http,
        &proxies[0],
        &json!({ "amount": 31_000, "reference": "ORDER-WATCHED" }),
        None,
    )
    .await;
    let watched: Value = watched.json().await.expect("json");
    let (id, invoice) = (
        watched["id"].as_str().expect("id").to_owned(),
        watched["invoice"].as_str().expect("invoice").to_owned(),
    );
    let calls_before = upstream.status_calls(&invoice);
    let started = Instant::now();
    let urls = (0..12)
        .map(|n| format!("{}/api/payments/{id}", proxies[n % 3].url))
        .collect();
    let readers = start_polling(&http, urls, started + Duration::from_secs(4));
    // Meanwhile: no instance holds more connections than CHECKOUT_DATABASE_POOL.
    let (watcher, connection) = tokio_postgres::connect(&cluster.url, tokio_postgres::NoTls)
        .await
        .expect("watch the cluster");
    tokio::spawn(connection);
    let mut most = 0;
    while started.elapsed() < Duration::from_secs(4) {
        let row = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'paydigital-proxy'",
                &[],
            )
            .await
            .expect("count");
        most = most.max(row.get::<_, i64>(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(watcher);
    assert!(
        (1..=3 * POOL).contains(&most),
        "{most} connections for three instances of pool {POOL}"
    );
    let reads = readers.await;
    let calls = upstream.status_calls(&invoice) - calls_before;
    let windows = started.elapsed().as_secs_f64() / REFRESH.as_secs_f64();
    assert!(reads > 100, "{reads} reads");
    assert!(
        calls >= 2 && calls as f64 <= windows.ceil() + 1.0,
        "{calls} upstream reads for {reads} reads over {windows:.1} windows"
    );

    // Paid: every instance answers paid within the window of the first, never pending after.
    upstream.pay(&invoice).expect("sandbox knows it");
    let paid_at = Instant::now();
    let mut first_paid: [Option<Instant>; 3] = [None; 3];
    while first_paid.iter().any(Option::is_none) && paid_at.elapsed() < Duration::from_secs(10) {
        for (i, proxy) in proxies.iter().enumerate() {
            if first_paid[i].is_none()
                && status_of(&http, proxy, &id).await.as_deref() == Some("paid")
            {
                first_paid[i] = Some(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen: Vec<Instant> = first_paid
        .iter()
        .map(|t| t.expect("every instance saw paid"))
        .collect();
    let first = *seen.iter().min().expect("three");
    let last = *seen.iter().max().expect("three");
    assert!(
        last - first <= REFRESH + Duration::from_millis(400),
        "the last instance answered paid {:?} after the first",
        last - first
    );
    for _ in 0..10 {
        for proxy in &proxies {
            assert_eq!(status_of(&http, proxy, &id).await.as_deref(), Some("paid"));
        }
    }

    // Webhooks: the created and paid events of the watched payment in order, each delivered.
    receiver
        .wait_for("ORDER-WATCHED's events", Duration::from_secs(10), |seen| {
            let kinds: Vec<&str> = seen
                .iter()
                .filter(|a| a.reference() == "ORDER-WATCHED")
                .map(|a| a.kind())
                .collect();
            kinds == ["payment.created", "payment.paid"]
        })
        .await;

    // kill -9 mid-delivery: the receiver holds the first attempt; nobody else sends the event
    // while its sender lives; after the kill, another instance sends it (same id).
    receiver.script(|received, before| {
        if before == 0 && received.reference() == "ORDER-KILL" {
            Reply {
                delay: Duration::from_secs(60),
                ..ok()
            }
        } else {
            ok()
        }
    });
    let created = merchant_create(
        &http,
        &proxies[1],
        &json!({ "amount": 41_000, "reference": "ORDER-KILL" }),
        None,
    )
    .await;
    assert_eq!(created.status(), 201);
    receiver
        .wait_for("the first attempt", Duration::from_secs(10), |seen| {
            seen.iter().any(|a| a.reference() == "ORDER-KILL")
        })
        .await;
    let held = receiver.for_reference("ORDER-KILL").remove(0);
    // Each living instance delivers a payment of its own after the hold began: each made a
    // delivery pass in which the held event was due but for its lease.
    for (i, proxy) in proxies.iter().enumerate() {
        if proxy.name == held.via {
            continue;
        }
        let reference = format!("ORDER-PASS-{i}");
        let body = json!({ "amount": 42_000 + i as u64, "reference": reference });
        assert_eq!(
            merchant_create(&http, proxy, &body, None).await.status(),
            201
        );
        receiver
            .wait_for(&reference, Duration::from_secs(10), |seen| {
                seen.iter()
                    .any(|a| a.reference() == reference && a.via == proxy.name)
            })
            .await;
    }
    assert_eq!(
        receiver.for_reference("ORDER-KILL").len(),
        1,
        "no second send while the first sender holds the lease"
    );
    let sender = proxies
        .iter()
        .position(|p| p.name == held.via)
        .expect("a proxy sent it");
    let mut killed = proxies.remove(sender);
    signal(&killed.child, "KILL");
    let killed_at = Instant::now();
    let _ = killed.child.wait();
    receiver
        .wait_for(
            "another instance to take the delivery over",
            Duration::from_secs(LEASE_SECS + 10),
            |seen| {
                seen.iter()
                    .filter(|a| a.reference() == "ORDER-KILL")
                    .count()
                    >= 2
            },
        )
        .await;
    let again = receiver.for_reference("ORDER-KILL").remove(1);
    assert_eq!(again.id, held.id, "the same webhook-id");
    assert_ne!(again.via, held.via, "sent by a living instance");
    assert!(killed_at.elapsed() <= Duration::from_secs(LEASE_SECS + 10));

    // No event was ever sent twice at once (the held attempt's sender is dead: left out).
    let attempts = receiver.seen();
    for a in &attempts {
        for b in &attempts {
            if a.id != b.id || a.at >= b.at || a.at == held.at {
                continue;
            }
            let a_done = a.answered.expect("answered");
            assert!(a_done <= b.at, "{} sent twice at once: {a:?} {b:?}", a.id);
        }
    }

    // The unwatched payments were checked by one instance at a time (every 5 s while open).
    let elapsed = unwatched_since.elapsed().as_secs_f64();
    for invoice in &unwatched {
        let calls = upstream.status_calls(invoice);
        let due = (elapsed / 5.0).floor();
        assert!(
            calls as f64 >= due - 1.0 && calls as f64 <= due + 1.0,
            "{invoice}: {calls} checks in {elapsed:.1} s"
        );
    }

    // The database goes away under the running proxies and comes back.
    cluster.pause();
    for proxy in &proxies {
        wait_for(Duration::from_secs(5), || async {
            health(&http, proxy).await == 503
        })
        .await;
        assert_eq!(
            health(&http, proxy).await,
            503,
            "{}: /healthz while the database is down",
            proxy.name
        );
        // The body is the document's `HealthDown` (`openapi.rs`): only here is the store down.
        let down: Value = http
            .get(format!("{}/healthz", proxy.url))
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("json");
        let document: Value =
            serde_json::from_str(paydigital_proxy::http::openapi::document_json()).expect("json");
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["HealthDownCode"]["enum"],
            json!([down["error"]["code"]]),
            "{down}"
        );
        let example = &schemas["HealthDown"]["example"];
        assert_eq!(
            example["error"]
                .as_object()
                .map(|e| e.keys().collect::<Vec<_>>()),
            down["error"]
                .as_object()
                .map(|e| e.keys().collect::<Vec<_>>()),
            "{down}"
        );
        // Which fault it is, in the operator's words.
        assert_eq!(down["status"], "unavailable", "{down}");
        assert_eq!(down["store"], "unreachable", "{down}");
        // What the instance holds in memory is still answered.
        assert_eq!(status_of(&http, proxy, &id).await.as_deref(), Some("paid"));
        // A create is a clear 503 the client retries, never a 500 or "upstream busy".
        let body = json!({ "amount": 14_000, "reference": "ORDER-PAUSED" });
        let refused = merchant_create(&http, proxy, &body, None).await;
        assert_eq!(refused.status(), 503, "{}: create while paused", proxy.name);
        assert!(refused.headers().contains_key("retry-after"));
        let refused: Value = refused.json().await.expect("json");
        assert_eq!(refused["error"]["code"], "store_unavailable", "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("is unreachable")),
            "{refused}"
        );
    }
    cluster.resume();
    for (i, proxy) in proxies.iter().enumerate() {
        wait_for(Duration::from_secs(15), || async {
            health(&http, proxy).await == 200
        })
        .await;
        assert_eq!(
            health(&http, proxy).await,
            200,
            "{}: recovers without a restart",
            proxy.name
        );
        let body = json!({ "amount": 15_000 + i as u64, "reference": "ORDER-AFTER" });
        assert_eq!(
            merchant_create(&http, proxy, &body, None).await.status(),
            201
        );
    }

    // A storm, once three are running again: thirty payments polled through all three at
    // once. Each instance alone would allow 5 status calls a second; together they still
    // make 5 (the budget is the group's). Last, because it starves the workers' checks.
    proxies.extend(start_proxies(
        &["d"],
        &cluster.url,
        &sandbox.url(),
        &hooks,
        dir.path(),
    ));
    assert_eq!(proxies.len(), 3);
    let mut stormed = Vec::new();
    for i in 0..30u64 {
        let body = json!({ "amount": 60_000 + i });
        let created = merchant_create(&http, &proxies[i as usize % 3], &body, None).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.expect("json");
        stormed.push(created["id"].as_str().expect("id").to_owned());
    }
    let status_calls = || {
        upstream.calls()["endpoints"]["payment_status"]
            .as_u64()
            .unwrap_or(0)
    };
    let calls_before = status_calls();
    let storm_started = Instant::now();
    let urls = stormed
        .iter()
        .enumerate()
        .map(|(n, id)| format!("{}/api/payments/{id}", proxies[n % 3].url))
        .collect();
    let storm_reads = start_polling(&http, urls, storm_started + Duration::from_secs(3)).await;
    let (made, elapsed) = (
        status_calls() - calls_before,
        storm_started.elapsed().as_secs_f64(),
    );
    assert!(storm_reads > 100, "{storm_reads} reads");
    assert!(
        made as f64 <= 5.0 * elapsed + 2.0,
        "{made} status calls from the group in {elapsed:.1} s at a cap of 5/s"
    );

    // The database password never reached a log line, the outage's errors included.
    for proxy in proxies.iter().chain(std::iter::once(&killed)) {
        let log = std::fs::read_to_string(&proxy.log).expect("log");
        assert!(
            !log.contains(&cluster.password),
            "{}: password logged",
            proxy.name
        );
    }
    let outage_logged = proxies.iter().any(|p| {
        std::fs::read_to_string(&p.log)
            .unwrap_or_default()
            .contains("health check failed")
    });
    assert!(outage_logged, "the outage is in the logs");
}

/// A payment link's `max_payments` holds for the group: ten customers pressing Pay at once on
/// its last place, spread over three proxies on one PostgreSQL, make one payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_presses_on_three_proxies_fill_a_links_last_place_once() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = paydigital_proxy::start_sandbox(
        "127.0.0.1:0".parse().expect("addr"),
        sandbox_config(),
        paydigital_proxy::upstream::sandbox::Faults::default(),
    )
    .await
    .expect("sandbox");
    let upstream = sandbox.sandbox.clone().expect("sandbox state");
    let (_receiver, hooks) = Receiver::start().await;
    let proxies = start_proxies(
        &["a", "b", "c"],
        &cluster.url,
        &sandbox.url(),
        &hooks,
        dir.path(),
    );
    let urls: Vec<String> = proxies.iter().map(|p| p.url.clone()).collect();
    crate::links::ten_presses_make_one_payment(&urls).await;
    assert_eq!(
        upstream.calls()["endpoints"]["create_payment"].as_u64(),
        Some(1),
        "PayDigital was asked once"
    );
}
