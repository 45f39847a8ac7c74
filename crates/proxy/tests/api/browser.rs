//! The proxy's contract (`docs/proxy-api.md`), end to end against the sandbox.

use crate::helpers::{captured_logs, error_code, TestApp, SECRET_KEY};
use serde_json::{json, Value};

#[tokio::test]
async fn create_returns_a_verified_payment() {
    let app = TestApp::spawn().await;
    let response = app
        .create(json!({ "amount": 10000, "description": "Kopi Susu", "customer_name": "Budi", "reference": "ORDER-7" }))
        .await;
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.expect("json");
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["amount"], 10000);
    let unique = payment["unique_code"].as_u64().expect("unique_code");
    assert!((1..=999).contains(&unique));
    assert_eq!(payment["total_amount"].as_u64(), Some(10000 + unique));
    let qr = payment["qr_content"].as_str().expect("qr");
    let code = paydigital::qris::verify_for_total(qr, 10000 + unique).expect("QR matches total");
    assert!(code.dynamic);
    assert!(payment["expires_at"]
        .as_str()
        .expect("expires_at")
        .ends_with("+07:00"));
    let expires_in = payment["expires_in"].as_u64().expect("expires_in");
    assert!((890..=900).contains(&expires_in), "{expires_in}");
    assert!(payment["server_time"].is_string());
    assert!(payment["payment_url"]
        .as_str()
        .expect("url")
        .contains("/sandbox/pay/"));
    assert_eq!(payment["paid_at"], Value::Null);
}

#[tokio::test]
async fn a_payment_turns_paid_when_the_sandbox_pays_it() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let payment = app.create_ok(25000).await;
    let invoice = payment["invoice"].as_str().expect("invoice");
    let id = payment["id"].as_str().expect("id");
    assert_eq!(app.status_json(id).await["status"], "pending");
    app.pay(invoice);
    let paid = app.status_json(id).await;
    assert_eq!(paid["status"], "paid");
    assert!(paid["paid_at"]
        .as_str()
        .is_some_and(|t| t.ends_with("+07:00")));
    assert_eq!(paid["qr_content"], payment["qr_content"]);
    // Paid is final: no more upstream reads.
    let calls = app.sandbox_state().status_calls(invoice);
    app.status_json(id).await;
    assert_eq!(app.sandbox_state().status_calls(invoice), calls);
}

#[tokio::test]
async fn payment_answers_are_never_cached() {
    let app = TestApp::spawn().await;
    let created = app.create(json!({ "amount": 10000 })).await;
    assert_eq!(created.headers()["cache-control"], "no-store");
    let payment: Value = created.json().await.expect("json");
    let id = payment["id"].as_str().expect("id");
    // A cached "pending" would hide the payment from the customer who just paid.
    let status = app.status(id).await;
    assert_eq!(status.status(), 200);
    assert_eq!(status.headers()["cache-control"], "no-store");
    let missing = app.status("PYG20260101000000001").await;
    assert_eq!(missing.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn public_urls_take_unguessable_ids_and_invoice_numbers_are_404() {
    let app = TestApp::spawn().await;
    let payment = app.create_ok(10000).await;
    let id = payment["id"].as_str().expect("id");
    let invoice = payment["invoice"].as_str().expect("invoice");
    // `pay_` and 22 base64url characters: 128 random bits.
    assert_eq!(id.len(), 26, "{id}");
    assert!(id.starts_with("pay_"));
    assert!(id[4..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(app.create_ok(10000).await["id"], payment["id"]);
    for not_an_id in [
        invoice,
        "PYG20260101000000001",
        "pay_AAAAAAAAAAAAAAAAAAAAAA",
        "pay_..%2F..%2Fetc",
    ] {
        let response = app.status(not_an_id).await;
        assert_eq!(response.status(), 404, "{not_an_id}");
        assert_eq!(error_code(response).await, "not_found");
        for path in ["qr.svg", "qr.png"] {
            let image = app
                .http
                .get(format!(
                    "{}/api/payments/{not_an_id}/{path}",
                    app.proxy.url()
                ))
                .send()
                .await
                .expect("answer");
            assert_eq!(image.status(), 404, "{not_an_id}/{path}");
        }
    }
    // Never asked upstream about what is not ours.
    assert_eq!(
        app.sandbox_state().calls()["endpoints"]["payment_status"],
        Value::Null
    );
    assert_eq!(app.status_json(id).await["invoice"], invoice);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_with_one_idempotency_key_make_one_payment() {
    let app = TestApp::spawn_with(&[]).await;
    app.set_faults(json!({ "latency_ms": 150, "only": "create" }));
    let body = json!({ "amount": 15000, "reference": "ORDER-9" });
    let answers = futures_join(5, || app.create_with_key(body.clone(), "order-9-attempt-1")).await;
    let mut invoices = Vec::new();
    for response in answers {
        assert_eq!(response.status(), 201);
        let payment: Value = response.json().await.expect("json");
        invoices.push(payment["invoice"].as_str().expect("invoice").to_owned());
    }
    invoices.dedup();
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(app.create_calls(), 1);

    let replay = app.create_with_key(body.clone(), "order-9-attempt-1").await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(app.create_calls(), 1);

    let conflict = app
        .create_with_key(json!({ "amount": 16000 }), "order-9-attempt-1")
        .await;
    assert_eq!(conflict.status(), 409);
    assert_eq!(error_code(conflict).await, "idempotency_conflict");
    assert_eq!(app.create_calls(), 1);

    let other = app.create_with_key(body, "order-9-attempt-2").await;
    assert_eq!(other.status(), 201);
    assert_eq!(app.create_calls(), 2);
}

/// Runs `n` requests at once.
async fn futures_join<F, Fut>(n: usize, make: F) -> Vec<reqwest::Response>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    futures::future::join_all((0..n).map(|_| make())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_status_reads_share_one_upstream_call() {
    let app = TestApp::spawn().await;
    let payment = app.create_ok(20000).await;
    let invoice = payment["invoice"].as_str().expect("invoice").to_owned();
    let id = payment["id"].as_str().expect("id").to_owned();
    app.set_faults(json!({ "latency_ms": 200, "only": "status" }));
    let answers = futures_join(50, || app.status(&id)).await;
    for response in answers {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.sandbox_state().status_calls(&invoice), 1);
    // Within the 2 s window, reads are answered from the store.
    app.status_json(&id).await;
    assert_eq!(app.sandbox_state().status_calls(&invoice), 1);
}

/// As JSON Schema counts numbers: `10000.0` is the integer 10000; `10000.5` and `"10000"`
/// are refused with `"field": "amount"`.
#[tokio::test]
async fn a_whole_amount_written_with_a_point_is_that_integer() {
    let app = TestApp::spawn().await;
    let post = |body: &'static str| {
        app.http
            .post(format!("{}/api/payments", app.proxy.url()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let response = post(r#"{"amount": 10000.0}"#).await.expect("answer");
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.expect("json");
    assert_eq!(payment["amount"], json!(10_000), "{payment}");
    for body in [r#"{"amount": 10000.5}"#, r#"{"amount": "10000"}"#] {
        let response = post(body).await.expect("answer");
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["code"], "invalid_request", "{body}");
        assert_eq!(answer["error"]["field"], "amount", "{body}: {answer}");
    }
}

#[tokio::test]
async fn input_is_validated_with_clear_errors() {
    let app = TestApp::spawn().await;
    for (body, code) in [
        (json!({ "amount": 999 }), "amount_out_of_range"),
        (json!({ "amount": 10_000_001 }), "amount_out_of_range"),
        (json!({ "amount": "10000" }), "invalid_request"),
        (json!({ "amount": 10000.5 }), "invalid_request"),
        (json!({ "amount": -5 }), "invalid_request"),
        (json!({}), "invalid_request"),
        (
            json!({ "amount": 10000, "colour": "red" }),
            "invalid_request",
        ),
        (json!({ "item": "kopi-susu" }), "unknown_item"),
        (
            json!({ "amount": 10000, "description": "x".repeat(256) }),
            "invalid_request",
        ),
        (
            json!({ "amount": 10000, "customer_name": "a\u{0}b" }),
            "invalid_request",
        ),
    ] {
        let response = app.create(body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(error_code(response).await, code, "{body}");
    }
    let not_json = app
        .http
        .post(format!("{}/api/payments", app.proxy.url()))
        .header("content-type", "application/json")
        .body("{amount: 1")
        .send()
        .await
        .expect("answer");
    assert_eq!(not_json.status(), 400);
    assert_eq!(error_code(not_json).await, "invalid_request");

    let huge = app
        .http
        .post(format!("{}/api/payments", app.proxy.url()))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"amount\":10000,\"description\":\"{}\"}}",
            "x".repeat(70 * 1024)
        ))
        .send()
        .await
        .expect("answer");
    assert_eq!(huge.status(), 413);
    assert_eq!(error_code(huge).await, "payload_too_large");

    let bad_key = app
        .create_with_key(json!({ "amount": 10000 }), &"k".repeat(129))
        .await;
    assert_eq!(bad_key.status(), 400);
    assert_eq!(app.create_calls(), 0, "nothing invalid reaches upstream");
}

#[tokio::test]
async fn catalog_mode_prices_on_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(
        &catalog,
        "[items.kopi-susu]\nname = \"Kopi Susu Gula Aren\"\nprice = 25000\n",
    )
    .expect("write");
    let app = TestApp::spawn_with(&[("CHECKOUT_CATALOG", catalog.to_str().expect("path"))]).await;
    let response = app.create(json!({ "item": "kopi-susu" })).await;
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.expect("json");
    assert_eq!(payment["amount"], 25000);
    let refused = app.create(json!({ "amount": 1000 })).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(error_code(refused).await, "invalid_request");
    let unknown = app.create(json!({ "item": "teh" })).await;
    assert_eq!(error_code(unknown).await, "unknown_item");
    let summary = app.sandbox_state().calls();
    assert_eq!(summary["endpoints"]["create_payment"], 1);
}

#[tokio::test]
async fn creates_are_rate_limited_per_ip_but_reads_are_not() {
    let app = TestApp::spawn_with(&[("CHECKOUT_CREATES_PER_MINUTE", "2")]).await;
    let first = app.create_ok(10000).await;
    app.create_ok(10000).await;
    let limited = app.create(json!({ "amount": 10000 })).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(limited).await, "rate_limited");
    let id = first["id"].as_str().expect("id");
    for _ in 0..20 {
        assert_eq!(app.status(id).await.status(), 200);
    }
}

/// A create as it reaches the proxy through a reverse proxy that appended `forwarded`.
async fn create_forwarded(app: &TestApp, forwarded: &str) -> u16 {
    app.http
        .post(format!("{}/api/payments", app.proxy.url()))
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "amount": 10000 }))
        .send()
        .await
        .expect("proxy answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_client_cannot_escape_the_create_limit_by_writing_x_forwarded_for() {
    // The test's requests come from 127.0.0.1, standing in for the shop's nginx.
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_CREATES_PER_MINUTE", "2"),
        ("CHECKOUT_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    // nginx appends the address it saw; what the client wrote itself stands left of it.
    for spoofed in ["10.0.0.1", "10.0.0.2, 10.0.0.3"] {
        let forwarded = format!("{spoofed}, 203.0.113.7");
        assert_eq!(create_forwarded(&app, &forwarded).await, 201, "{forwarded}");
    }
    assert_eq!(create_forwarded(&app, "10.0.0.4, 203.0.113.7").await, 429);
    assert_eq!(create_forwarded(&app, "203.0.113.7").await, 429);
    // Another shopper behind the same proxy has a limit of their own.
    assert_eq!(create_forwarded(&app, "198.51.100.2").await, 201);
    // One IPv6 subscriber is one client, whichever address of its /64 it uses.
    assert_eq!(create_forwarded(&app, "2001:db8:5:6::1").await, 201);
    assert_eq!(create_forwarded(&app, "2001:db8:5:6::2").await, 201);
    assert_eq!(create_forwarded(&app, "2001:db8:5:6:ffff::3").await, 429);
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_not_believed() {
    let app = TestApp::spawn_with(&[("CHECKOUT_CREATES_PER_MINUTE", "2")]).await;
    assert_eq!(create_forwarded(&app, "203.0.113.1").await, 201);
    assert_eq!(create_forwarded(&app, "203.0.113.2").await, 201);
    assert_eq!(
        create_forwarded(&app, "203.0.113.3").await,
        429,
        "the peer is the client"
    );
}

#[tokio::test]
async fn origins_are_checked() {
    let app = TestApp::spawn_with(&[("CHECKOUT_ALLOWED_ORIGINS", "https://toko.example")]).await;
    let url = format!("{}/api/payments", app.proxy.url());
    let allowed = app
        .http
        .post(&url)
        .header("Origin", "https://toko.example")
        .json(&json!({ "amount": 10000 }))
        .send()
        .await
        .expect("answer");
    assert_eq!(allowed.status(), 201);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://toko.example"
    );
    let denied = app
        .http
        .post(&url)
        .header("Origin", "https://evil.example")
        .json(&json!({ "amount": 10000 }))
        .send()
        .await
        .expect("answer");
    assert_eq!(denied.status(), 403);
    assert_eq!(error_code(denied).await, "origin_not_allowed");
    let same_origin = app
        .http
        .post(&url)
        .header("Origin", app.proxy.url())
        .json(&json!({ "amount": 10000 }))
        .send()
        .await
        .expect("answer");
    assert_eq!(same_origin.status(), 201);
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://toko.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type,idempotency-key",
        )
        .send()
        .await
        .expect("answer");
    assert!(preflight.status().is_success());
    let allowed_headers = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        allowed_headers.contains("idempotency-key"),
        "{allowed_headers}"
    );
    assert_eq!(app.create_calls(), 2);
}

#[tokio::test]
async fn upstream_faults_never_reach_a_customer_as_a_bad_code() {
    let app = TestApp::spawn_with(&[("PAYDIGITAL_TIMEOUT_SECS", "1")]).await;
    for (fault, status, code) in [
        (json!({ "html_500": true }), 502, "upstream_error"),
        (json!({ "error_in_200": true }), 502, "upstream_error"),
        (json!({ "bad_crc": true }), 502, "upstream_error"),
        (json!({ "wrong_amount_qr": true }), 502, "upstream_error"),
        (json!({ "hang": true }), 504, "upstream_timeout"),
    ] {
        app.set_faults(fault.clone());
        let response = app.create(json!({ "amount": 10000 })).await;
        assert_eq!(response.status(), status, "{fault}");
        let body = response.text().await.expect("body");
        assert!(body.contains(code), "{fault}: {body}");
        assert!(
            !body.contains("Internal Server Error") && !body.contains("Terjadi"),
            "upstream words echoed: {body}"
        );
    }
    for fault in [
        json!({ "php_notice": true }),
        json!({ "numbers_as_strings": true }),
        json!({ "latency_ms": 300 }),
    ] {
        app.set_faults(fault.clone());
        let response = app.create(json!({ "amount": 10000 })).await;
        assert_eq!(response.status(), 201, "{fault}");
        let payment: Value = response.json().await.expect("json");
        assert!(payment["total_amount"].as_u64().is_some(), "{fault}");
    }
}

#[tokio::test]
async fn status_words_and_faults_on_reads() {
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_STATUS_REFRESH_MS", "0"),
        ("PAYDIGITAL_TIMEOUT_SECS", "1"),
    ])
    .await;
    let payment = app.create_ok(10000).await;
    let id = payment["id"].as_str().expect("id");
    for fault in [
        json!({ "status_word": "unpaid" }),
        json!({ "html_500": true, "only": "status" }),
        json!({ "php_notice": true, "only": "status" }),
        json!({ "numbers_as_strings": true }),
        json!({ "error_in_200": true, "only": "status" }),
        json!({ "hang": true, "only": "status" }),
    ] {
        app.set_faults(fault.clone());
        let read = app.status_json(id).await;
        assert_eq!(read["status"], "pending", "{fault}");
    }
    app.set_faults(json!({ "status_word": "PAID", "php_notice": true }));
    let read = app.status_json(id).await;
    assert_eq!(read["status"], "paid");
    app.set_faults(json!({ "status_word": "expired" }));
    assert_eq!(app.status_json(id).await["status"], "paid", "paid is final");

    let other = app.create_ok(10000).await;
    let other = other["id"].as_str().expect("id");
    app.set_faults(json!({ "status_word": "EXPIRED" }));
    assert_eq!(app.status_json(other).await["status"], "expired");
}

#[tokio::test]
async fn a_late_payment_after_expiry_is_still_recorded() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let payment = app.create_ok(10000).await;
    let invoice = payment["invoice"].as_str().expect("invoice");
    let id = payment["id"].as_str().expect("id");
    app.sandbox_state().expire(invoice).expect("known");
    let expired = app.status_json(id).await;
    assert_eq!(expired["status"], "expired");
    app.pay(invoice);
    // Browsers polling an expired payment never drive a call (the worker's schedule checks
    // it through the grace); the shop's server may ask, and the late payment is recorded.
    let calls = app.sandbox_state().status_calls(invoice);
    assert_eq!(app.status_json(id).await["status"], "expired");
    assert_eq!(
        app.sandbox_state().status_calls(invoice),
        calls,
        "no call for a browser"
    );
    let shop = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(
        (&shop["status"], &shop["late"]),
        (&json!("paid"), &json!(true))
    );
    // The browser is told it was late too: the widget says the money came after expiry.
    let read = app.status_json(id).await;
    assert_eq!(
        (&read["status"], &read["late"]),
        (&json!("paid"), &json!(true))
    );
}

#[tokio::test]
async fn the_browser_view_says_late_and_livemode() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    // This proxy is live (the sandbox stands in for PayDigital): a real payment.
    let created = app.create_ok(10000).await;
    assert_eq!(
        (&created["late"], &created["livemode"]),
        (&json!(false), &json!(true))
    );
    let id = created["id"].as_str().expect("id");
    app.pay(created["invoice"].as_str().expect("invoice"));
    let paid = app.status_json(id).await;
    assert_eq!(
        (&paid["status"], &paid["late"], &paid["livemode"]),
        (&json!("paid"), &json!(false), &json!(true)),
        "paid in time is not late"
    );

    // `serve --sandbox`: no money moves, and the browser's view says so from the create on.
    let (mut sandboxed, url) =
        crate::helpers::serve_binary(&app.dir.path().join("sandbox.sqlite"), &[]);
    let create = app
        .http
        .post(format!("{url}/api/payments"))
        .json(&json!({ "amount": 10000 }))
        .send()
        .await
        .expect("answer");
    let status = create.status();
    let test_payment: Value = create.json().await.expect("json");
    let read = match test_payment["id"].as_str() {
        Some(id) => app
            .http
            .get(format!("{url}/api/payments/{id}"))
            .send()
            .await
            .expect("answer")
            .json::<Value>()
            .await
            .expect("json"),
        None => Value::Null,
    };
    let _ = sandboxed.kill();
    let _ = sandboxed.wait();
    assert_eq!(status, 201, "{test_payment}");
    assert_eq!(
        (&test_payment["livemode"], &read["livemode"], &read["late"]),
        (&json!(false), &json!(false), &json!(false))
    );
}

#[tokio::test]
async fn a_restart_keeps_every_payment() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let payment = app
        .create_with_key(json!({ "amount": 30000 }), "restart-key")
        .await;
    let payment: Value = payment.json().await.expect("json");
    let invoice = payment["invoice"].as_str().expect("invoice").to_owned();
    let id = payment["id"].as_str().expect("id").to_owned();
    app.pay(&invoice);
    assert_eq!(app.status_json(&id).await["status"], "paid");
    let app = app.restart_proxy().await;
    let read = app.status_json(&id).await;
    assert_eq!(read["status"], "paid");
    assert_eq!(read["total_amount"], payment["total_amount"]);
    let replay = app
        .create_with_key(json!({ "amount": 30000 }), "restart-key")
        .await;
    let replay: Value = replay.json().await.expect("json");
    assert_eq!(replay["invoice"], invoice.as_str());
    assert_eq!(app.create_calls(), 1);
}

#[tokio::test]
async fn health_reports_the_store() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.proxy.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        response.headers()["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let id = response.headers()["x-request-id"].to_str().expect("ascii");
    assert!(id.parse::<u64>().is_ok(), "a request number: {id}");
}

#[tokio::test]
async fn widget_files_are_served_for_any_origin() {
    let app = TestApp::spawn().await;
    let dist = app.dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(dist.join("index.html"), "<h1>Toko</h1>").expect("write");
    std::fs::write(dist.join("paydigital-checkout.js"), "// loader").expect("write");
    std::fs::write(
        dist.join("paydigital-checkout-widget-0123456789abcdef_bg.wasm"),
        b"\0asm",
    )
    .expect("write");
    let get = |path: &str| app.http.get(format!("{}{path}", app.proxy.url())).send();
    // A live proxy's front page is nobody's shop: the demo storefront is the sandbox's.
    assert_eq!(get("/").await.expect("answer").status(), 404);
    let (mut sandboxed, url) = crate::helpers::serve_binary(
        &app.dir.path().join("sandbox.sqlite"),
        &[("CHECKOUT_STATIC_DIR", &dist.display().to_string())],
    );
    let index = app
        .http
        .get(format!("{url}/"))
        .send()
        .await
        .expect("answer");
    let _ = sandboxed.kill();
    let _ = sandboxed.wait();
    assert_eq!(index.status(), 200);
    assert!(index.text().await.expect("text").contains("Toko"));
    let loader = get("/checkout/paydigital-checkout.js")
        .await
        .expect("answer");
    assert_eq!(loader.status(), 200);
    assert_eq!(loader.headers()["access-control-allow-origin"], "*");
    assert_eq!(loader.headers()["cache-control"], "no-cache");
    assert_eq!(
        loader.headers()["cross-origin-resource-policy"],
        "cross-origin"
    );
    let wasm = get("/checkout/paydigital-checkout-widget-0123456789abcdef_bg.wasm")
        .await
        .expect("answer");
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert!(wasm.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .contains("immutable"));
    assert_eq!(
        get("/checkout/missing.js").await.expect("answer").status(),
        404
    );
}

#[tokio::test]
async fn the_key_never_leaves_the_server() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let mut bodies = String::new();
    let payment = app.create_ok(10000).await;
    bodies.push_str(&payment.to_string());
    let id = payment["id"].as_str().expect("id");
    for fault in [
        json!({ "html_500": true }),
        json!({ "error_in_200": true }),
        json!({}),
    ] {
        app.set_faults(fault);
        bodies.push_str(
            &app.create(json!({ "amount": 10000 }))
                .await
                .text()
                .await
                .expect("body"),
        );
        bodies.push_str(&app.status(id).await.text().await.expect("body"));
    }
    bodies.push_str(
        &app.create(json!({ "amount": 1 }))
            .await
            .text()
            .await
            .expect("body"),
    );
    assert!(!bodies.contains(SECRET_KEY));
    let logs = captured_logs();
    assert!(logs.contains("payment created"), "logs were captured");
    assert!(!logs.contains(SECRET_KEY), "the key was logged");
    assert!(!logs.contains("SUPERSECRET"), "part of the key was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_that_waited_on_a_shared_upstream_read_see_its_result() {
    let app = TestApp::spawn().await;
    let payment = app.create_ok(20000).await;
    let invoice = payment["invoice"].as_str().expect("invoice").to_owned();
    let id = payment["id"].as_str().expect("id").to_owned();
    app.pay(&invoice);
    app.set_faults(json!({ "latency_ms": 300, "only": "status" }));
    let answers = futures_join(20, || app.status(&id)).await;
    for response in answers {
        let read: Value = response.json().await.expect("json");
        assert_eq!(read["status"], "paid");
    }
    assert_eq!(app.sandbox_state().status_calls(&invoice), 1);
}
