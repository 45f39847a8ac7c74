//! What nobody may do to a shop (`../shared/spec/security.md`), against the sandbox playing a
//! broken or hostile PayDigital: nothing it answers reaches a page unchecked, is stored when
//! absurd, or can make the proxy panic or fill its memory.

use crate::helpers::{
    captured_logs, error_code, start_polling, stored_payment, TestApp, MERCHANT_KEY,
};
use paydigital_proxy::store::Database;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn a_javascript_payment_url_never_reaches_a_page() {
    let app = TestApp::spawn().await;
    // The sandbox's own page is http on this machine: shown.
    let local = app.create_ok(10_000).await;
    assert!(local["payment_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("http://127.0.0.1:")));
    for url in [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "http://paydigital.example/pay/PYG1",
    ] {
        app.set_faults(json!({ "payment_url": url }));
        let browser = app.create_ok(10_000).await;
        assert_eq!(browser["payment_url"], Value::Null, "{url}");
        let shop = app.merchant_create(json!({ "amount": 10_000 })).await;
        assert_eq!(shop["payment_url"], Value::Null, "{url}");
        let id = shop["id"].as_str().expect("id");
        let read = app.merchant_get(&format!("payments/{id}")).await;
        assert_eq!(read["payment_url"], Value::Null, "{url}");
    }
    app.set_faults(json!({ "payment_url": "https://paydigital.biz.id/pay/PYG1" }));
    assert_eq!(
        app.create_ok(10_000).await["payment_url"],
        "https://paydigital.biz.id/pay/PYG1"
    );
}

#[tokio::test]
async fn an_expiry_outside_a_sane_window_is_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    for expired_at in ["9999-12-31 23:59:59", "2001-01-01 00:00:00"] {
        app.set_faults(json!({ "expired_at": expired_at }));
        let response = app.create(json!({ "amount": 10_000 })).await;
        assert_eq!(response.status(), 502, "{expired_at}");
        assert_eq!(error_code(response).await, "upstream_error");
    }
    let listed = app.merchant_get("payments").await;
    assert_eq!(listed["data"], json!([]), "nothing stored");
}

#[tokio::test]
async fn a_stored_time_at_the_end_of_the_calendar_is_read_without_a_panic() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let id = "pay_FARFUTUREFARFUTURE0000";
    let database = Database::parse(&app.vars["CHECKOUT_DATABASE"]).expect("database");
    let store = database.open(1).await.expect("store");
    let (record, event) = stored_payment(
        id,
        "evt_FARFARFARFARFARFARFARF",
        time::macros::datetime!(9999-12-31 23:59:59 +07:00),
    );
    store
        .payments()
        .insert(&record, &event, None)
        .await
        .expect("insert");
    for _ in 0..3 {
        let read = app.status(id).await;
        assert_eq!(read.status(), 200);
        let read: Value = read.json().await.expect("json");
        assert_eq!(read["status"], "pending");
        let shop = app
            .merchant(
                Method::GET,
                &format!("payments/{id}"),
                Some(MERCHANT_KEY),
                None,
            )
            .await;
        assert_eq!(shop.status(), 200);
    }
    assert_eq!(app.proxy_health().await, 200, "the server is still up");
}

#[tokio::test]
async fn a_multi_megabyte_answer_is_not_read() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let payment = app.create_ok(10_000).await;
    let id = payment["id"].as_str().expect("id");
    app.set_faults(json!({ "oversized": true }));
    let response = app.create(json!({ "amount": 10_000 })).await;
    assert_eq!(response.status(), 502);
    assert_eq!(error_code(response).await, "upstream_error");
    // A read whose refresh gets such an answer keeps what is known.
    app.pay(payment["invoice"].as_str().expect("invoice"));
    assert_eq!(app.status_json(id).await["status"], "pending");
    app.set_faults(json!({}));
    assert_eq!(app.status_json(id).await["status"], "paid");
}

#[tokio::test]
async fn browsers_name_no_reference_when_the_shop_turns_it_off() {
    let app = TestApp::spawn_with(&[("CHECKOUT_BROWSER_REFERENCE", "off")]).await;
    let response = app
        .create(json!({ "amount": 10_000, "reference": "ORDER-1001" }))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["field"], "reference");
    assert_eq!(app.create(json!({ "amount": 10_000 })).await.status(), 201);
    let shop = app
        .merchant_create(json!({ "amount": 10_000, "reference": "ORDER-1001" }))
        .await;
    assert_eq!(shop["reference"], "ORDER-1001");
    assert_eq!(shop["source"], "merchant");
}

#[tokio::test]
async fn an_answer_with_other_amounts_or_for_another_invoice_changes_nothing() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let read = |id: String| {
        let app = &app;
        async move { app.merchant_get(&format!("payments/{id}")).await }
    };
    let payment = app
        .merchant_create(json!({ "amount": 10_000, "reference": "ORDER-R1" }))
        .await;
    let id = payment["id"].as_str().expect("id").to_owned();
    assert_eq!(read(id.clone()).await["review"], Value::Null);
    // PayDigital says "paid", for a rupiah more than the customer was asked to pay.
    app.pay(payment["invoice"].as_str().expect("invoice"));
    app.set_faults(json!({ "amount_delta": 1 }));
    let doubted = read(id.clone()).await;
    assert_eq!(
        doubted["status"], "pending",
        "a paid that does not fit is not believed"
    );
    assert_eq!(doubted["review"], "amount_mismatch");
    assert!(
        captured_logs().contains("marked for review"),
        "an error is logged"
    );
    // The true answer is believed when it comes; the mark stays for a person to clear.
    app.set_faults(json!({}));
    let paid = read(id.clone()).await;
    assert_eq!(
        (&paid["status"], &paid["review"]),
        (&json!("paid"), &json!("amount_mismatch"))
    );

    // An answer about another invoice.
    let other = app.merchant_create(json!({ "amount": 20_000 })).await;
    let other_id = other["id"].as_str().expect("id").to_owned();
    app.pay(other["invoice"].as_str().expect("invoice"));
    app.set_faults(json!({ "other_invoice": true }));
    let doubted = read(other_id.clone()).await;
    assert_eq!(
        (&doubted["status"], &doubted["review"]),
        (&json!("pending"), &json!("invoice_mismatch"))
    );
    app.set_faults(json!({}));
    // And the shop is told nothing but the truth: no payment.paid for the doubted answers.
    let events = app.merchant_get("events?limit=100").await;
    let paid_events: Vec<&Value> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|e| e["type"] == "payment.paid")
        .collect();
    assert_eq!(
        paid_events.len(),
        1,
        "only the believed paid: {paid_events:?}"
    );
    assert_eq!(paid_events[0]["payment_id"], id.as_str());
}

/// Reads from `stream` until the server closes it; how long that took from `since`.
async fn closed_by_server(
    stream: &mut tokio::net::TcpStream,
    since: std::time::Instant,
) -> std::time::Duration {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return since.elapsed(),
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn a_client_sending_headers_slowly_is_cut_and_the_others_are_served() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let started = std::time::Instant::now();
    let mut slow = tokio::net::TcpStream::connect(app.proxy.addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: pay.toko.example\r\n")
        .await
        .expect("write");
    // One more header line a second, never the blank line that ends them.
    let dripping = tokio::spawn(async move {
        for n in 0.. {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let line = format!("X-Drip-{n}: {n}\r\n");
            if slow.write_all(line.as_bytes()).await.is_err() {
                return (slow, n);
            }
            if n > 30 {
                return (slow, n);
            }
        }
        unreachable!("the loop returns")
    });
    // Meanwhile everyone else is answered at once.
    for _ in 0..5 {
        assert_eq!(app.proxy_health().await, 200);
    }
    let (mut slow, drips) = dripping.await.expect("dripper");
    let cut_after = closed_by_server(&mut slow, started).await;
    assert!(drips <= 12, "the server kept reading headers for {drips} s");
    assert!(
        cut_after >= std::time::Duration::from_secs(9)
            && cut_after <= std::time::Duration::from_secs(14),
        "cut after {cut_after:?}, not about 10 s"
    );
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_for_a_free_one() {
    let app = TestApp::spawn_with(&[("CHECKOUT_MAX_CONNECTIONS", "2")]).await;
    // Two connections that send nothing hold both slots until the header timeout cuts them.
    let held_since = std::time::Instant::now();
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(
            tokio::net::TcpStream::connect(app.proxy.addr)
                .await
                .expect("connect"),
        );
    }
    // Once the server has taken both (a request on each would be answered), a third waits.
    let third = app.proxy_health().await;
    let waited = held_since.elapsed();
    assert_eq!(third, 200, "answered once a slot was free");
    assert!(
        waited >= std::time::Duration::from_secs(9),
        "answered after {waited:?}: the cap did not hold"
    );
    for mut stream in held {
        let closed = closed_by_server(&mut stream, held_since).await;
        assert!(closed <= std::time::Duration::from_secs(14), "{closed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_polling_storm_never_pushes_paydigital_past_the_cap() {
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_UPSTREAM_MAX_RPS", "4"),
        ("CHECKOUT_STATUS_REFRESH_MS", "0"),
    ])
    .await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let payment = app.create_ok(10_000 + i).await;
        ids.push(payment["id"].as_str().expect("id").to_owned());
    }
    let calls = || {
        app.sandbox_state().calls()["endpoints"]["payment_status"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = calls();
    let started = std::time::Instant::now();
    // Every payment watched by a browser that polls as fast as it can, for 3 s.
    let urls = ids
        .iter()
        .map(|id| format!("{}/api/payments/{id}", app.proxy.url()))
        .collect();
    let reads = start_polling(&app.http, urls, started + std::time::Duration::from_secs(3)).await;
    let (made, elapsed) = (calls() - before, started.elapsed().as_secs_f64());
    assert!(reads > 200, "{reads} reads");
    assert!(
        made as f64 <= 4.0 * elapsed + 2.0,
        "{made} status calls in {elapsed:.1} s at a cap of 4/s, for {reads} reads"
    );
    assert!(made >= 4, "not vacuous: reads did ask, {made} times");
}

#[tokio::test]
async fn creates_past_the_budget_are_503_upstream_busy_and_reach_nobody() {
    let app = TestApp::spawn_with(&[("CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN", "3")]).await;
    for _ in 0..3 {
        app.merchant_create(json!({ "amount": 10_000 })).await;
    }
    let busy = app
        .merchant(
            Method::POST,
            "payments",
            Some(MERCHANT_KEY),
            Some(json!({ "amount": 10_000 })),
        )
        .await;
    assert_eq!(busy.status(), 503);
    let retry_after: u64 = busy.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=21).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(busy).await, "upstream_busy");
    assert_eq!(
        app.create(json!({ "amount": 10_000 })).await.status(),
        503,
        "browsers too"
    );
    assert_eq!(app.create_calls(), 3, "PayDigital saw three creates");
}

#[tokio::test]
async fn payments_check_asks_once_even_after_the_grace_and_readers_then_see_it() {
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_LATE_PAYMENT_GRACE_SECS", "0"),
        ("CHECKOUT_STATUS_REFRESH_MS", "0"),
    ])
    .await;
    let payment = app.create_ok(10_000).await;
    let (id, invoice) = (
        payment["id"].as_str().expect("id"),
        payment["invoice"].as_str().expect("invoice"),
    );
    app.sandbox_state().expire(invoice).expect("known");
    assert_eq!(app.status_json(id).await["status"], "expired");
    // Paid long after: past the grace nobody asks by themselves, browsers never do.
    app.pay(invoice);
    let calls = app.sandbox_state().status_calls(invoice);
    assert_eq!(app.status_json(id).await["status"], "expired");
    assert_eq!(app.sandbox_state().status_calls(invoice), calls);
    // Async: the sandbox answering it runs on this test's runtime.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
        .args(["payments", "check", id])
        .envs(&app.vars)
        .output()
        .await
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checked: Value = serde_json::from_slice(&output.stdout).expect("the payment as JSON");
    assert_eq!(
        (&checked["status"], &checked["late"]),
        (&json!("paid"), &json!(true))
    );
    assert_eq!(
        app.sandbox_state().status_calls(invoice),
        calls + 1,
        "asked once"
    );
    // The running proxy answers it from the store, without a call of its own.
    assert_eq!(app.status_json(id).await["status"], "paid");
    assert_eq!(app.sandbox_state().status_calls(invoice), calls + 1);
}
