//! The shop's server is told: confirmation without a browser and signed webhooks, against the
//! sandbox and a real HTTP receiver that answers as each test scripts it.

use crate::helpers::{free_port, signal, wait_for, TestApp, MERCHANT_KEY, WEBHOOK_SECRET};
use crate::receiver::{ok, Received, Receiver, Reply};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A proxy whose webhooks go to `url`, retrying quickly.
async fn app_for(url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("CHECKOUT_WEBHOOK_URL", url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("CHECKOUT_STATUS_REFRESH_MS", "500"),
    ];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// Checks a signature with the official npm `standardwebhooks` package.
async fn verified_by_npm(received: &Received) -> String {
    verified_by_npm_with(received, WEBHOOK_SECRET).await
}

/// The same, with `secret` as the receiver's one secret.
async fn verified_by_npm_with(received: &Received, secret: &str) -> String {
    let input = json!({
        "secret": secret,
        "headers": {
            "webhook-id": received.id,
            "webhook-timestamp": received.timestamp,
            "webhook-signature": received.signature,
        },
        "body": received.body,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/verify-webhook.mjs");
    let mut child = tokio::process::Command::new("node")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(input.to_string().as_bytes())
            .await
            .expect("write");
    }
    let output = child.wait_with_output().await.expect("node ends");
    assert!(
        output.status.success(),
        "standardwebhooks (npm; `make setup` installs it in examples/shop) refused it: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_with_no_browser_open_the_shop_is_told_by_a_signed_webhook() {
    let (receiver, url) = Receiver::start().await;
    let app = app_for(&url, &[]).await;
    let payment = app
        .merchant_create(json!({ "amount": 45_000, "reference": "ORDER-HOOK" }))
        .await;
    let id = payment["id"].as_str().expect("id").to_owned();
    receiver
        .wait_for("payment.created", Duration::from_secs(5), |seen| {
            seen.iter().any(|r| r.kind() == "payment.created")
        })
        .await;
    // The customer pays and closes the tab: nobody reads the payment any more.
    app.pay(payment["invoice"].as_str().expect("invoice"));
    let paid_upstream = Instant::now();
    receiver
        .wait_for("payment.paid", Duration::from_secs(15), |seen| {
            seen.iter().any(|r| r.kind() == "payment.paid")
        })
        .await;
    let seen = receiver.seen();
    let paid = seen
        .iter()
        .find(|r| r.kind() == "payment.paid")
        .expect("paid");
    assert!(paid.at - paid_upstream < Duration::from_secs(15));
    assert_eq!(paid.payment(), id);
    assert_eq!(paid.json["data"]["status"], "paid");
    assert_eq!(paid.json["data"]["late"], false);
    assert_eq!(paid.json["data"]["reference"], "ORDER-HOOK");
    // A live proxy (this one talks to the sandbox as to PayDigital) says so in every event.
    assert_eq!(
        (&paid.json["livemode"], &paid.json["data"]["livemode"]),
        (&json!(true), &json!(true))
    );
    assert!(paid.id.starts_with("evt_"));
    assert_eq!(verified_by_npm(paid).await, "payment.paid");
    let created = seen
        .iter()
        .find(|r| r.kind() == "payment.created")
        .expect("created");
    assert_eq!(verified_by_npm(created).await, "payment.created");
    // A tampered body does not verify.
    let mut forged = paid.clone();
    forged.body = forged.body.replace("45000", "4500");
    let input = forged.clone();
    let refused = tokio::spawn(async move { verified_by_npm(&input).await });
    assert!(
        refused.await.is_err(),
        "npm's verify refuses a changed body"
    );
    assert!(!paid.body.contains(MERCHANT_KEY) && !paid.body.contains(crate::helpers::SECRET_KEY));

    // The receiver has it; the proxy records the answer a moment later.
    let events = app
        .events_when(Duration::from_secs(5), |events| {
            events["data"][1]["delivery"]["state"] == "delivered"
        })
        .await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["payment.created", "payment.paid"]);
    assert_eq!(events["data"][1]["delivery"]["state"], "delivered");
    assert_eq!(events["data"][1]["data"]["status"], "paid");
    assert_eq!(events["data"][1]["payment_id"], id.as_str());
    assert_eq!(events["next_cursor"], Value::Null);
    let first = events["data"][0]["id"].as_str().expect("id");
    let rest = app
        .merchant_get(&format!("events?after={first}&limit=1"))
        .await;
    assert_eq!(rest["data"][0]["type"], "payment.paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_secrets_a_receiver_knowing_either_one_verifies() {
    const NEW: &str = "whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=";
    let (receiver, url) = Receiver::start().await;
    let both = format!("{WEBHOOK_SECRET} {NEW}");
    let app = app_for(&url, &[("CHECKOUT_WEBHOOK_SECRET", &both)]).await;
    app.merchant_create(json!({ "amount": 44_000 })).await;
    receiver
        .wait_for("payment.created", Duration::from_secs(5), |seen| {
            !seen.is_empty()
        })
        .await;
    let received = receiver.seen().remove(0);
    assert_eq!(
        received.signature.split(' ').count(),
        2,
        "{}",
        received.signature
    );
    assert!(received.signature.split(' ').all(|s| s.starts_with("v1,")));
    // A receiver still on the old secret, and one already on the new: both verify.
    assert_eq!(
        verified_by_npm_with(&received, WEBHOOK_SECRET).await,
        "payment.created"
    );
    assert_eq!(
        verified_by_npm_with(&received, NEW).await,
        "payment.created"
    );
    // Not vacuous: a secret the proxy does not sign with is refused.
    let other = paydigital_proxy::webhooks::new_secret();
    let refused = tokio::spawn(async move { verified_by_npm_with(&received, &other).await });
    assert!(refused.await.is_err(), "an unknown secret does not verify");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_one_id_and_410_abandons() {
    let (receiver, url) = Receiver::start().await;
    // 500, 503 (asking for a short wait), then 200 for created events; 410 for the rest.
    receiver.script(|received, before| match (received.kind(), before) {
        ("payment.created", 0) => Reply {
            status: 500,
            ..ok()
        },
        ("payment.created", 1) => Reply {
            status: 503,
            retry_after: Some("1"),
            ..ok()
        },
        ("payment.created", _) => Reply {
            status: 200,
            ..ok()
        },
        _ => Reply {
            status: 410,
            ..ok()
        },
    });
    let app = app_for(&url, &[]).await;
    let payment = app.merchant_create(json!({ "amount": 46_000 })).await;
    receiver
        .wait_for("three attempts", Duration::from_secs(10), |seen| {
            seen.len() >= 3
        })
        .await;
    let seen = receiver.seen();
    assert!(seen.iter().all(|r| r.id == seen[0].id), "one webhook-id");
    // Retry-After: 1 stretched the 200 ms retry to a second.
    assert!(seen[2].at - seen[1].at >= Duration::from_millis(900));
    app.pay(payment["invoice"].as_str().expect("invoice"));
    receiver
        .wait_for("payment.paid", Duration::from_secs(15), |seen| {
            seen.iter().any(|r| r.kind() == "payment.paid")
        })
        .await;
    // Once no event is pending the deliverer claims none: nothing more can arrive.
    let events = app
        .events_when(Duration::from_secs(10), |events| {
            events["data"]
                .as_array()
                .is_some_and(|all| all.iter().all(|e| e["delivery"]["state"] != "pending"))
        })
        .await;
    let seen = receiver.seen();
    assert_eq!(
        seen.len(),
        4,
        "created three times, paid once (410), then silence"
    );
    let created = &events["data"][0]["delivery"];
    assert_eq!(
        (created["state"].clone(), created["attempts"].clone()),
        (json!("delivered"), json!(3))
    );
    assert_eq!(created["last_status"], "HTTP 200");
    let paid = &events["data"][1]["delivery"];
    assert_eq!(
        (paid["state"].clone(), paid["attempts"].clone()),
        (json!("abandoned"), json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_payment_is_told_as_expired_then_paid_late() {
    let (receiver, url) = Receiver::start().await;
    let app = app_for(&url, &[]).await;
    let payment = app.merchant_create(json!({ "amount": 47_000 })).await;
    let invoice = payment["invoice"].as_str().expect("invoice");
    app.sandbox_state().expire(invoice).expect("known");
    receiver
        .wait_for("payment.expired", Duration::from_secs(15), |seen| {
            seen.iter().any(|r| r.kind() == "payment.expired")
        })
        .await;
    app.pay(invoice);
    receiver
        .wait_for("payment.paid", Duration::from_secs(60), |seen| {
            seen.iter().any(|r| r.kind() == "payment.paid")
        })
        .await;
    let kinds: Vec<String> = receiver
        .seen()
        .iter()
        .map(|r| r.kind().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["payment.created", "payment.expired", "payment.paid"]
    );
    let paid = receiver.seen().pop().expect("paid");
    assert_eq!(paid.json["data"]["late"], true);
    let read = app
        .merchant_get(&format!("payments/{}", payment["id"].as_str().expect("id")))
        .await;
    assert_eq!(
        (read["status"].clone(), read["late"].clone()),
        (json!("paid"), json!(true))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_hanging_on_one_payment_does_not_hold_back_another() {
    let (receiver, url) = Receiver::start().await;
    receiver.script(|received, _| {
        if received.json["data"]["reference"] == "SLOW" {
            Reply {
                delay: Duration::from_secs(30),
                ..ok()
            }
        } else {
            ok()
        }
    });
    let app = app_for(&url, &[]).await;
    app.merchant_create(json!({ "amount": 48_000, "reference": "SLOW" }))
        .await;
    receiver
        .wait_for("the slow one", Duration::from_secs(5), |seen| {
            !seen.is_empty()
        })
        .await;
    let started = Instant::now();
    let fast = app
        .merchant_create(json!({ "amount": 49_000, "reference": "FAST" }))
        .await;
    let fast_id = fast["id"].as_str().expect("id").to_owned();
    receiver
        .wait_for("the fast one", Duration::from_secs(3), |seen| {
            seen.iter().any(|r| r.payment() == fast_id)
        })
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_open_payments_keep_upstream_calls_under_the_cap() {
    let app = TestApp::spawn_with(&[("CHECKOUT_UPSTREAM_MAX_RPS", "10")]).await;
    for i in 0..200 {
        let response = app
            .merchant(
                Method::POST,
                "payments",
                Some(MERCHANT_KEY),
                Some(json!({ "amount": 10_000 + i })),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let calls = || {
        app.sandbox_state().calls()["endpoints"]["payment_status"]
            .as_u64()
            .unwrap_or(0)
    };
    // Counted from the worker's first check: 40 more at a cap of 10/s take 4 s, give or take
    // the one in flight at each end. Not vacuous: they must come (how fast depends on this
    // machine's load, hence the long limit).
    assert!(wait_for(Duration::from_secs(30), || std::future::ready(calls() > 0)).await);
    let (before, started) = (calls(), Instant::now());
    let arrived = wait_for(Duration::from_secs(60), || {
        std::future::ready(calls() >= before + 40)
    })
    .await;
    let took = started.elapsed();
    assert!(
        arrived,
        "the worker is checking: {} calls in 60 s",
        calls() - before
    );
    assert!(
        took >= Duration::from_millis(3800),
        "40 status calls in {took:?} at a cap of 10/s"
    );
}

#[tokio::test]
async fn an_unknown_event_cursor_is_a_400() {
    let app = TestApp::spawn().await;
    for query in [
        "events?after=evt_nope",
        "events?after=pay_x",
        "events?limit=0",
    ] {
        let response = app
            .merchant(Method::GET, query, Some(MERCHANT_KEY), None)
            .await;
        assert_eq!(response.status(), 400, "{query}");
    }
}

/// `paydigital-proxy serve --sandbox` as its own process, webhooks to `url`.
fn serve(database: &std::path::Path, url: &str) -> (std::process::Child, String) {
    crate::helpers::serve_binary(
        database,
        &[
            ("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY),
            ("CHECKOUT_WEBHOOK_URL", url),
            ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_before_the_delivery_loses_no_event_and_keeps_its_id() {
    let (receiver, url) = Receiver::start().await;
    // The first attempt of anything hangs: the proxy dies while it waits.
    receiver.script(|_, before| {
        if before == 0 {
            Reply {
                delay: Duration::from_secs(60),
                ..ok()
            }
        } else {
            ok()
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("checkout.sqlite");
    let (mut proxy, base) = serve(&database, &url);
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/api/merchant/payments"))
        .bearer_auth(MERCHANT_KEY)
        .json(&json!({ "amount": 51_000, "reference": "ORDER-KILL" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(created.status(), 201);
    receiver
        .wait_for("the first attempt", Duration::from_secs(5), |seen| {
            seen.len() == 1
        })
        .await;
    signal(&proxy, "KILL");
    proxy.wait().expect("reaped");

    let (mut proxy, base) = serve(&database, &url);
    receiver
        .wait_for("the same event again", Duration::from_secs(10), |seen| {
            seen.len() >= 2
        })
        .await;
    let seen = receiver.seen();
    assert_eq!(
        seen[0].id, seen[1].id,
        "the same webhook-id: the shop dedupes on it"
    );
    assert_eq!(seen[1].kind(), "payment.created");
    assert_eq!(seen[1].json["data"]["reference"], "ORDER-KILL");
    // `serve --sandbox`: no money moved, and every webhook says so.
    assert_eq!(
        (&seen[1].json["livemode"], &seen[1].json["data"]["livemode"]),
        (&json!(false), &json!(false))
    );
    let state = || async {
        http.get(format!("{base}/api/merchant/events"))
            .bearer_auth(MERCHANT_KEY)
            .send()
            .await
            .expect("answers")
            .json::<Value>()
            .await
            .expect("json")["data"][0]["delivery"]["state"]
            .clone()
    };
    wait_for(Duration::from_secs(2), || async {
        state().await == "delivered"
    })
    .await;
    assert_eq!(state().await, "delivered");
    let _ = proxy.kill();
    let _ = proxy.wait();
}

#[test]
fn the_command_line_lists_resends_and_makes_secrets() {
    let run = |args: &[&str], database: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
            .args(args)
            .env("CHECKOUT_DATABASE", database)
            .output()
            .expect("runs")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("checkout.sqlite");
    let secret = run(&["webhooks", "new-secret"], &database);
    assert!(secret.status.success());
    let secret = String::from_utf8_lossy(&secret.stdout).trim().to_owned();
    assert!(
        paydigital_proxy::config::WebhookSecret::parse(&secret).is_ok(),
        "{secret}"
    );
    // A store with one payment and its created event, written as the server would.
    {
        use paydigital_proxy::store::{PaymentStore, SqliteStore};
        let store = SqliteStore::open(&database).expect("store");
        let (record, event) = crate::helpers::stored_payment(
            "pay_AAAAAAAAAAAAAAAAAAAAAA",
            "evt_BBBBBBBBBBBBBBBBBBBBBB",
            time::OffsetDateTime::now_utc(),
        );
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(store.payments().insert(&record, &event, None))
            .expect("insert");
    }
    let listed = run(&["webhooks", "list", "--pending"], &database);
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("evt_BBBBBBBBBBBBBBBBBBBBBB") && listed.contains("pending"),
        "{listed}"
    );
    let failed = String::from_utf8_lossy(&run(&["webhooks", "list", "--failed"], &database).stdout)
        .into_owned();
    assert!(!failed.contains("evt_BBBB"), "{failed}");
    assert!(run(
        &["webhooks", "resend", "evt_BBBBBBBBBBBBBBBBBBBBBB"],
        &database
    )
    .status
    .success());
    let missing = run(&["webhooks", "resend", "evt_nope"], &database);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no event evt_nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_node_receiver_verifies_and_records_a_paid_order() {
    let port = free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/shop/webhook-receiver.mjs"
    );
    let mut node = tokio::process::Command::new("node")
        .arg(script)
        .env("PORT", port.to_string())
        .env("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    wait_for(Duration::from_secs(5), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/webhooks/paydigital");
    let app = app_for(&url, &[]).await;
    let payment = app
        .merchant_create(json!({ "amount": 52_000, "reference": "ORDER-NODE" }))
        .await;
    app.pay(payment["invoice"].as_str().expect("invoice"));
    let total = payment["total_amount"].as_u64().expect("total");
    let mut stdout = node.stdout.take().expect("stdout");
    let mut printed = String::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        use tokio::io::AsyncReadExt;
        let mut buffer = [0u8; 256];
        while !printed.contains('\n') {
            let n = stdout.read(&mut buffer).await.expect("read");
            if n == 0 {
                break;
            }
            printed.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    })
    .await;
    assert!(read.is_ok(), "the receiver printed nothing: {printed:?}");
    assert_eq!(
        printed.trim(),
        format!("paid ORDER-NODE {total} late=false")
    );
    // The receiver prints before it answers: give the proxy a moment to record the answer.
    let events = app
        .events_when(Duration::from_secs(5), |events| {
            events["data"]
                .as_array()
                .is_some_and(|all| all.iter().all(|e| e["delivery"]["state"] == "delivered"))
        })
        .await;
    let states: Vec<Value> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["delivery"]["state"].clone())
        .collect();
    assert_eq!(states, [json!("delivered"), json!("delivered")]);
    let _ = node.kill().await;
}
