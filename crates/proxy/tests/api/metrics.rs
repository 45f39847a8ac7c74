//! `GET /metrics` (CHECKOUT_METRICS_LISTEN) as Prometheus reads it: scraped after real
//! payments, a sandbox payment and webhook deliveries (one retried), and parsed by the
//! Prometheus project's own Python parser (`prometheus_client`'s
//! `text_string_to_metric_families`, pinned in tools.env, installed by `make setup-native-tests`).

use crate::helpers::{read_until, TestApp, MERCHANT_KEY, WEBHOOK_SECRET};
use crate::receiver::{ok, Receiver, Reply};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// One sample as the parser read it.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The page parsed by prometheus_client; fails on anything Prometheus would not read.
async fn parse(text: &str) -> Vec<Sample> {
    let python = std::env::var("PAYDIGITAL_PROMETHEUS_PYTHON").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/paydigital-checkout/venv/bin/python")
    });
    let script = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = [[s.name, s.labels, s.value] for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]\n\
        print(json.dumps(out))\n";
    let mut child = tokio::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{python}: {e}. The metrics test parses /metrics with Python's prometheus_client: \
                 run `make setup-native-tests` (or set PAYDIGITAL_PROMETHEUS_PYTHON)"
            )
        });
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).await.expect("write");
    }
    let output = child.wait_with_output().await.expect("parser runs");
    assert!(
        output.status.success(),
        "prometheus_client refused the page: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<(String, BTreeMap<String, String>, f64)> =
        serde_json::from_slice(&output.stdout).expect("the parser's JSON");
    rows.into_iter()
        .map(|(name, labels, value)| Sample {
            name,
            labels,
            value,
        })
        .collect()
}

/// The value of the one sample named `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .map(|s| s.value)
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.proxy.metrics_addr.expect("metrics are on");
    let response = app
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_upstream_calls_webhooks_and_the_stores_backlog() {
    let (receiver, url) = Receiver::start().await;
    // The first attempt of the first order's first event fails once: a retry to count.
    receiver.script(|received, before| {
        if received.reference() == "ORDER-M1" && received.kind() == "payment.created" && before == 0
        {
            Reply {
                status: 503,
                ..ok()
            }
        } else {
            ok()
        }
    });
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_METRICS_LISTEN", "127.0.0.1:0"),
        ("CHECKOUT_INSTANCE_ID", "checkout-test-1"),
        ("CHECKOUT_WEBHOOK_URL", &url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("CHECKOUT_STATUS_REFRESH_MS", "0"),
        // Two creates a minute: the third is the budget's to refuse.
        ("CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN", "2"),
    ])
    .await;
    let paid = app
        .merchant_create(json!({ "amount": 45_000, "reference": "ORDER-M1" }))
        .await;
    let open = app
        .merchant_create(json!({ "amount": 20_000, "reference": "ORDER-M2" }))
        .await;
    let refused = app
        .merchant(
            reqwest::Method::POST,
            "payments",
            Some(MERCHANT_KEY),
            Some(json!({ "amount": 30_000, "reference": "ORDER-M3" })),
        )
        .await;
    assert_eq!(refused.status(), 503, "over the create budget");
    let paid_id = paid["id"].as_str().expect("id");
    let open_id = open["id"].as_str().expect("id");
    // The customer pays; a browser reads it twice (the first read asks the sandbox).
    app.pay(paid["invoice"].as_str().expect("invoice"));
    let read = app.status_json(paid_id).await;
    assert_eq!(read["status"], "paid");
    app.status_json(paid_id).await;
    assert_eq!(
        app.status(&format!("{}x", &open_id[..open_id.len() - 1]))
            .await
            .status(),
        404
    );
    receiver
        .wait_for("three events delivered", Duration::from_secs(15), |seen| {
            let delivered = |kind: &str, reference: &str| {
                seen.iter()
                    .any(|r| r.kind() == kind && r.reference() == reference)
            };
            delivered("payment.paid", "ORDER-M1")
                && delivered("payment.created", "ORDER-M2")
                && seen
                    .iter()
                    .filter(|r| r.kind() == "payment.created" && r.reference() == "ORDER-M1")
                    .count()
                    == 2
        })
        .await;
    // The receiver has answered; the outbox is empty once the proxy has recorded it.
    let samples = read_until(
        Duration::from_secs(5),
        || async { parse(&scrape(&app).await).await },
        |samples| {
            value(samples, "checkout_webhook_queue_pending", &[]) == Some(0.0)
                && value(
                    samples,
                    "checkout_webhook_attempts_total",
                    &[("outcome", "delivered")],
                ) == Some(3.0)
        },
    )
    .await;
    let get = |name: &str, labels: &[(&str, &str)]| {
        value(&samples, name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in {samples:#?}"))
    };
    assert_eq!(
        get(
            "checkout_instance_info",
            &[
                ("instance_id", "checkout-test-1"),
                ("version", env!("CARGO_PKG_VERSION"))
            ]
        ),
        1.0
    );
    let requests = "checkout_http_requests_total";
    let create = [("method", "POST"), ("route", "/api/merchant/payments")];
    assert_eq!(
        get(requests, &[create[0], create[1], ("status", "201")]),
        2.0
    );
    assert_eq!(
        get(requests, &[create[0], create[1], ("status", "503")]),
        1.0
    );
    let read = [("method", "GET"), ("route", "/api/payments/{id}")];
    assert_eq!(get(requests, &[read[0], read[1], ("status", "200")]), 2.0);
    assert_eq!(get(requests, &[read[0], read[1], ("status", "404")]), 1.0);
    // The latency histogram: every create in the +Inf bucket, and a sum that is a time.
    assert_eq!(
        get(
            "checkout_http_request_duration_seconds_bucket",
            &[create[0], create[1], ("le", "+Inf")]
        ),
        3.0
    );
    assert_eq!(
        get("checkout_http_request_duration_seconds_count", &create),
        3.0
    );
    let sum = get("checkout_http_request_duration_seconds_sum", &create);
    assert!(sum > 0.0 && sum < 30.0, "{sum}");
    // Labels are bounded: no payment id, no invoice anywhere.
    for sample in &samples {
        for value in sample.labels.values() {
            assert!(
                !value.contains("pay_") && !value.contains("PYG"),
                "{sample:?} carries an id"
            );
        }
    }
    // Upstream: two creates made, one refused by the budget before it was made.
    let calls = "checkout_upstream_calls_total";
    assert_eq!(get(calls, &[("kind", "create"), ("outcome", "ok")]), 2.0);
    assert!(get(calls, &[("kind", "status"), ("outcome", "ok")]) >= 1.0);
    assert_eq!(
        get(
            "checkout_upstream_call_duration_seconds_count",
            &[("kind", "create")]
        ),
        2.0
    );
    assert_eq!(
        get(
            "checkout_upstream_budget_refusals_total",
            &[("call", "create")]
        ),
        1.0
    );
    // Webhooks: three delivered, one retried (the 503).
    let attempts = "checkout_webhook_attempts_total";
    assert_eq!(get(attempts, &[("outcome", "delivered")]), 3.0);
    assert_eq!(get(attempts, &[("outcome", "retry")]), 1.0);
    assert_eq!(get(attempts, &[("outcome", "failed")]), 0.0);
    assert_eq!(
        get("checkout_webhook_attempt_duration_seconds_count", &[]),
        4.0
    );
    assert_eq!(get("checkout_webhook_queue_pending", &[]), 0.0);
    assert_eq!(get("checkout_webhook_queue_oldest_seconds", &[]), 0.0);
    // The store, read at the scrape: one payment still open (the unpaid one).
    assert_eq!(get("checkout_open_payments", &[("status", "pending")]), 1.0);
    assert_eq!(get("checkout_open_payments", &[("status", "expired")]), 0.0);
    assert_eq!(get("checkout_store_up", &[]), 1.0);
    assert_eq!(
        get("checkout_store_errors_total", &[("kind", "query")]),
        0.0
    );
    assert_eq!(
        get("checkout_store_errors_total", &[("kind", "unavailable")]),
        0.0
    );

    // /metrics is on its own listener only: the public one has no such page, and the
    // metrics listener serves nothing else.
    let public = app
        .http
        .get(format!("{}/metrics", app.proxy.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(public.status(), 404);
    let addr = app.proxy.metrics_addr.expect("metrics are on");
    let other = app
        .http
        .get(format!("http://{addr}/api/payments/{paid_id}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn the_queue_age_is_the_oldest_undelivered_event_and_metrics_are_off_by_default() {
    // A receiver that refuses everything: the first event stays in the queue, and ages.
    let (receiver, url) = Receiver::start().await;
    receiver.script(|_, _| Reply {
        status: 500,
        ..ok()
    });
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_METRICS_LISTEN", "127.0.0.1:0"),
        ("CHECKOUT_WEBHOOK_URL", &url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "1h"),
    ])
    .await;
    app.merchant_create(json!({ "amount": 15_000 })).await;
    receiver
        .wait_for("an attempt", Duration::from_secs(5), |seen| {
            !seen.is_empty()
        })
        .await;
    let samples = read_until(
        Duration::from_secs(5),
        || async { parse(&scrape(&app).await).await },
        |samples| {
            value(
                samples,
                "checkout_webhook_attempts_total",
                &[("outcome", "retry")],
            ) == Some(1.0)
                && value(samples, "checkout_webhook_queue_oldest_seconds", &[])
                    .is_some_and(|age| age >= 0.3)
        },
    )
    .await;
    assert_eq!(
        value(
            &samples,
            "checkout_webhook_attempts_total",
            &[("outcome", "retry")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "checkout_webhook_queue_pending", &[]),
        Some(1.0)
    );
    let age = value(&samples, "checkout_webhook_queue_oldest_seconds", &[]).expect("age");
    assert!((0.3..60.0).contains(&age), "{age}");

    let plain = TestApp::spawn().await;
    assert_eq!(
        plain.proxy.metrics_addr, None,
        "off unless CHECKOUT_METRICS_LISTEN"
    );
}
