//! The merchant API, the hosted page and QR images against a real proxy and sandbox
//! (`docs/merchant-api.md`).

use crate::helpers::{captured_logs, error_code, free_port, TestApp, MERCHANT_KEY, PUBLIC_URL};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

fn order(reference: &str, amount: u64) -> Value {
    json!({ "amount": amount, "reference": reference, "description": "Pesanan",
            "customer_name": "Budi", "metadata": { "cart": "c_81", "channel": "web" } })
}

#[tokio::test]
async fn the_shop_server_creates_reads_and_sees_more_than_a_browser() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let payment = app.merchant_create(order("ORDER-1001", 125_000)).await;
    let id = payment["id"].as_str().expect("id");
    assert_eq!(payment["amount"], 125_000);
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["source"], "merchant");
    assert_eq!(payment["reference"], "ORDER-1001");
    assert_eq!(
        payment["metadata"],
        json!({ "cart": "c_81", "channel": "web" })
    );
    assert_eq!(payment["late"], false);
    assert_eq!(payment["item"], Value::Null);
    assert_eq!(payment["checkout_url"], format!("{PUBLIC_URL}/pay/{id}"));
    assert!(payment["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with("+07:00")));
    assert!(payment["qr_content"]
        .as_str()
        .is_some_and(|q| q.starts_with("000201")));

    let read = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(read["reference"], "ORDER-1001");
    assert_eq!(read["invoice"], payment["invoice"]);
    // The browser's view of the same payment keeps the shop's notes to itself.
    let public = app.status_json(id).await;
    assert_eq!(public["id"], id);
    assert!(public.get("metadata").is_none() && public.get("reference").is_none());

    app.pay(payment["invoice"].as_str().expect("invoice"));
    let paid = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(paid["status"], "paid");
    assert!(paid["paid_at"].as_str().is_some());

    // A browser's open-amount payment is told apart.
    let browser = app.create_ok(10_000).await;
    let seen = app
        .merchant_get(&format!("payments/{}", browser["id"].as_str().expect("id")))
        .await;
    assert_eq!(seen["source"], "browser");
}

#[tokio::test]
async fn only_the_key_holders_server_gets_in() {
    let app = TestApp::spawn().await;
    let body = Some(order("ORDER-1", 10_000));
    for key in [
        None,
        Some("wrong"),
        Some(&MERCHANT_KEY[..MERCHANT_KEY.len() - 1]),
    ] {
        let response = app
            .merchant(Method::POST, "payments", key, body.clone())
            .await;
        assert_eq!(response.status(), 401, "{key:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(error_code(response).await, "unauthorized");
    }
    // A web page (it names its Origin) never uses the key, even the right one.
    let from_page = app
        .http
        .post(format!("{}/api/merchant/payments", app.proxy.url()))
        .bearer_auth(MERCHANT_KEY)
        .header("Origin", "https://toko.example")
        .json(&order("ORDER-1", 10_000))
        .send()
        .await
        .expect("answer");
    assert_eq!(from_page.status(), 403);
    assert!(from_page
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert_eq!(error_code(from_page).await, "origin_not_allowed");
    let preflight = app
        .http
        .request(
            Method::OPTIONS,
            format!("{}/api/merchant/payments", app.proxy.url()),
        )
        .header("Origin", "https://toko.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("answer");
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert_eq!(app.create_calls(), 0);
    assert!(
        !captured_logs().contains(MERCHANT_KEY),
        "the key is never logged"
    );

    let off = TestApp::spawn_with(&[("CHECKOUT_MERCHANT_KEY", "")]).await;
    let response = off
        .merchant(Method::GET, "payments", Some(MERCHANT_KEY), None)
        .await;
    assert_eq!(
        response.status(),
        401,
        "no key configured: the merchant API is off"
    );
}

#[tokio::test]
async fn bad_orders_name_the_field_and_reach_no_upstream_call() {
    let app = TestApp::spawn().await;
    let metadata_21: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    for (body, code, field) in [
        (json!({ "amount": 1000.5 }), "invalid_request", "amount"),
        (json!({ "amount": "125000" }), "invalid_request", "amount"),
        (json!({ "amount": -5 }), "invalid_request", "amount"),
        (
            json!({ "reference": "ORDER-1" }),
            "invalid_request",
            "amount",
        ),
        (json!({ "amount": 999 }), "amount_out_of_range", "amount"),
        (
            json!({ "amount": 10_000_001 }),
            "amount_out_of_range",
            "amount",
        ),
        (
            json!({ "amount": 5000, "reference": "R".repeat(129) }),
            "invalid_request",
            "reference",
        ),
        (
            json!({ "amount": 5000, "reference": 1001 }),
            "invalid_request",
            "reference",
        ),
        (
            json!({ "amount": 5000, "description": "D".repeat(256) }),
            "invalid_request",
            "description",
        ),
        (
            json!({ "amount": 5000, "metadata": metadata_21 }),
            "invalid_request",
            "metadata",
        ),
        (
            json!({ "amount": 5000, "metadata": { "cart": 81 } }),
            "invalid_request",
            "metadata.cart",
        ),
        (
            json!({ "amount": 5000, "metadata": ["cart"] }),
            "invalid_request",
            "metadata",
        ),
        (
            json!({ "amount": 5000, "metadata": { "k".repeat(41): "v" } }),
            "invalid_request",
            &format!("metadata.{}", "k".repeat(41)),
        ),
        (
            json!({ "amount": 5000, "metadata": { "note": "v".repeat(501) } }),
            "invalid_request",
            "metadata.note",
        ),
        (
            json!({ "amount": 5000, "currency": "IDR" }),
            "invalid_request",
            "currency",
        ),
    ] {
        let response = app
            .merchant(
                Method::POST,
                "payments",
                Some(MERCHANT_KEY),
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let broken = app
        .http
        .post(format!("{}/api/merchant/payments", app.proxy.url()))
        .bearer_auth(MERCHANT_KEY)
        .header("Content-Type", "application/json")
        .body("{\"amount\": 5000,")
        .send()
        .await
        .expect("answer");
    assert_eq!(broken.status(), 400);
    assert_eq!(error_code(broken).await, "invalid_request");
    assert_eq!(app.create_calls(), 0, "nothing reached PayDigital");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_one_payment_and_browsers_cannot_claim_it() {
    let app = TestApp::spawn().await;
    app.set_faults(json!({ "latency_ms": 150, "only": "create" }));
    let body = order("ORDER-7", 50_000);
    let send = || {
        app.http
            .post(format!("{}/api/merchant/payments", app.proxy.url()))
            .bearer_auth(MERCHANT_KEY)
            .header("Idempotency-Key", "order-ORDER-7")
            .json(&body)
            .send()
    };
    let answers = futures::future::join_all((0..10).map(|_| send())).await;
    let mut ids = HashSet::new();
    for answer in answers {
        let answer = answer.expect("answer");
        assert_eq!(answer.status(), 201);
        let payment: Value = answer.json().await.expect("json");
        ids.insert(payment["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.create_calls(), 1);

    let mut other = body.clone();
    other["amount"] = json!(60_000);
    let conflict = app
        .http
        .post(format!("{}/api/merchant/payments", app.proxy.url()))
        .bearer_auth(MERCHANT_KEY)
        .header("Idempotency-Key", "order-ORDER-7")
        .json(&other)
        .send()
        .await
        .expect("answer");
    assert_eq!(conflict.status(), 409);
    assert_eq!(error_code(conflict).await, "idempotency_conflict");

    // A page that sends the shop server's key gets a payment of its own, not the order's.
    let browser = app
        .create_with_key(json!({ "amount": 50_000 }), "order-ORDER-7")
        .await;
    assert_eq!(browser.status(), 201);
    let browser: Value = browser.json().await.expect("json");
    assert!(!ids.contains(browser["id"].as_str().expect("id")));
    assert_eq!(app.create_calls(), 2);
}

#[tokio::test]
async fn lists_page_newest_first_without_skipping_while_payments_arrive() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let mut made = Vec::new();
    for i in 0..5 {
        let p = app
            .merchant_create(order(&format!("LIST-{i}"), 10_000 + i))
            .await;
        made.push(p["id"].as_str().expect("id").to_owned());
    }
    let first = app.merchant_get("payments?limit=2").await;
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(ids(&first), [made[4].clone(), made[3].clone()]);
    // Payments arrive between two pages: the next page carries on where the last ended.
    app.merchant_create(order("LIST-new", 20_000)).await;
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = app
        .merchant_get(&format!("payments?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second), [made[2].clone(), made[1].clone()]);
    let cursor = second["next_cursor"].as_str().expect("cursor");
    let last = app
        .merchant_get(&format!("payments?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&last), [made[0].clone()]);
    assert_eq!(last["next_cursor"], Value::Null);

    let by_reference = app.merchant_get("payments?reference=LIST-3").await;
    assert_eq!(ids(&by_reference), [made[3].clone()]);
    let paid = app.merchant_get(&format!("payments/{}", made[1])).await;
    app.pay(paid["invoice"].as_str().expect("invoice"));
    app.merchant_get(&format!("payments/{}", made[1])).await;
    assert_eq!(
        ids(&app.merchant_get("payments?status=paid").await),
        [made[1].clone()]
    );
    assert_eq!(
        app.merchant_get("payments?created_after=2999-01-01").await["data"],
        json!([])
    );
    assert_eq!(
        app.merchant_get("payments").await["data"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        // As the document's patterns say: plain digits, the exact word.
        ("limit=05", "limit"),
        ("limit=%2B5", "limit"),
        ("limit=%205", "limit"),
        ("status=lunas", "status"),
        ("status=%20paid", "status"),
        ("created_after=kemarin", "created_after"),
        ("cursor=PYG1", "cursor"),
        ("cursor=pay_AAAAAAAAAAAAAAAAAAAAAA", "cursor"),
    ] {
        let response = app
            .merchant(
                Method::GET,
                &format!("payments?{query}"),
                Some(MERCHANT_KEY),
                None,
            )
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["field"], field, "{query}");
    }
    // A parameter given twice is the contract's JSON error too, not axum's plain text.
    let twice = app
        .merchant(
            Method::GET,
            "payments?limit=5&limit=6",
            Some(MERCHANT_KEY),
            None,
        )
        .await;
    assert_eq!(twice.status(), 400);
    assert_eq!(twice.headers()["content-type"], "application/json");
    assert_eq!(error_code(twice).await, "invalid_request");
}

#[tokio::test]
async fn the_hosted_page_shows_the_widget_in_the_customers_language_under_a_strict_csp() {
    let app = TestApp::spawn().await;
    let payment = app
        .merchant_create(json!({ "amount": 42_000, "description": "Kopi <b>&</b> Roti" }))
        .await;
    let id = payment["id"].as_str().expect("id");
    let page = |lang: &'static str, path: String| {
        app.http
            .get(format!("{}{path}", app.proxy.url()))
            .header("Accept-Language", lang)
            .send()
    };
    let english = page("en-US,en;q=0.9", format!("/pay/{id}"))
        .await
        .expect("answer");
    assert_eq!(english.status(), 200);
    let csp = english.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    let html = english.text().await.expect("html");
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(&format!(
        r#"<paydigital-checkout payment="{id}" lang="en">"#
    )));
    assert!(html.contains(r#"<script src="/checkout/paydigital-checkout.js" defer>"#));
    assert!(
        html.contains("Kopi &lt;b&gt;&amp;&lt;/b&gt; Roti"),
        "escaped: {html}"
    );
    assert!(!html.contains("<script>"), "no inline script");
    assert!(
        !html.contains("test-mode"),
        "a live proxy's page says nothing of test mode"
    );
    let indonesian = page("id-ID,id;q=0.9,en;q=0.8", format!("/pay/{id}"))
        .await
        .expect("answer")
        .text()
        .await
        .expect("html");
    assert!(indonesian.contains(r#"<html lang="id">"#));
    for missing in [
        "/pay/pay_AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        format!("/pay/{}", payment["invoice"].as_str().expect("invoice")),
    ] {
        assert_eq!(
            page("id", missing.clone()).await.expect("answer").status(),
            404,
            "{missing}"
        );
    }
}

/// Reads a QR image with zbar (an implementation other than ours).
fn zbar_decode(image: &[u8], extension: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("qr.{extension}"));
    std::fs::write(&path, image).expect("write");
    let output = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("zbarimg (Debian's zbar-tools; make test installs it): {e}"));
    assert!(
        output.status.success(),
        "zbarimg: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim_end_matches('\n')
        .to_owned()
}

#[tokio::test]
async fn qr_images_are_drawn_here_and_scan_back_to_the_exact_payload() {
    let app = TestApp::spawn().await;
    let payment = app.merchant_create(json!({ "amount": 77_000 })).await;
    let id = payment["id"].as_str().expect("id");
    let qr = payment["qr_content"].as_str().expect("qr");
    let get = |path: &str| {
        app.http
            .get(format!("{}/api/payments/{id}/{path}", app.proxy.url()))
            .send()
    };
    let png = get("qr.png").await.expect("answer");
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(
        png.headers()["cache-control"],
        "public, max-age=86400, immutable"
    );
    let png = png.bytes().await.expect("png");
    assert_eq!(zbar_decode(&png, "png"), qr);

    let svg = get("qr.svg").await.expect("answer");
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(
        svg.headers()["cache-control"],
        "public, max-age=86400, immutable"
    );
    let svg = svg.text().await.expect("svg");
    assert!(svg.contains("<svg") && !svg.contains("<script"));
}

#[tokio::test]
async fn the_books_list_reads_the_store_while_the_server_runs() {
    let app = TestApp::spawn_with(&[("CHECKOUT_STATUS_REFRESH_MS", "0")]).await;
    let paid = app.merchant_create(order("BOOKS-1", 30_000)).await;
    app.merchant_create(order("BOOKS-2", 40_000)).await;
    app.pay(paid["invoice"].as_str().expect("invoice"));
    app.merchant_get(&format!("payments/{}", paid["id"].as_str().expect("id")))
        .await;
    let database = &app.vars["CHECKOUT_DATABASE"];
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
            .args(["payments", "list", "--database", database])
            .args(args)
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let json: Value =
        serde_json::from_str(&run(&["--format", "json", "--status", "paid"])).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(1));
    assert_eq!(json[0]["id"], paid["id"]);
    assert_eq!(json[0]["reference"], "BOOKS-1");
    let csv = run(&["--format", "csv"]);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .is_some_and(|h| h.starts_with("created_at,id,invoice,status")));
    assert_eq!(lines.count(), 2);
    let table = run(&[]);
    assert!(
        table.contains("BOOKS-2") && table.contains("Rp 30."),
        "{table}"
    );
    assert_eq!(
        run(&["--format", "json", "--since", "2999-01-01"]).trim(),
        "[]"
    );
}

/// The README's merchant snippets, run as a merchant would run them.
fn snippet(name: &str) -> (std::path::PathBuf, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/merchant")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("snippet");
    (path, text)
}

#[tokio::test]
async fn the_readme_snippets_create_payments() {
    let app = TestApp::spawn().await;
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .expect("README");
    for name in [
        "create-payment.sh",
        "create-payment.mjs",
        "create-payment.php",
    ] {
        let (_, text) = snippet(name);
        assert!(
            readme.contains(text.trim_end()),
            "README.md shows examples/merchant/{name} as it is"
        );
    }
    for (program, name, reference) in [
        ("sh", "create-payment.sh", "ORDER-1001"),
        ("node", "create-payment.mjs", "ORDER-1002"),
    ] {
        let (path, _) = snippet(name);
        let run = || async {
            let output = tokio::process::Command::new(program)
                .arg(&path)
                .env("PROXY_URL", app.proxy.url())
                .env("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY)
                .output()
                .await
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            assert!(
                output.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let payment: Value = serde_json::from_slice(&output.stdout).expect("JSON out");
            payment
        };
        // Run twice: the idempotency key makes it one payment.
        let first = run().await;
        let again = run().await;
        assert_eq!(first["reference"], reference, "{name}");
        assert_eq!(first["id"], again["id"], "{name}: retried, not doubled");
        let id = first["id"].as_str().expect("id");
        assert_eq!(first["checkout_url"], format!("{PUBLIC_URL}/pay/{id}"));
    }
}

/// `php -S` serving one of the README's PHP snippets, as a shop's web server would run it,
/// with `env` in its environment; the child (killed when dropped) and its base URL. Fails
/// with a clear message where `php` is missing (`make setup-native-tests` installs it).
async fn php_server(
    script: &std::path::Path,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let child = tokio::process::Command::new("php")
        .args(["-S", &address])
        .arg(script)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "php: {e}. The README's PHP snippets run with Debian's php-cli and php-curl: \
                 run `make setup-native-tests`"
            )
        });
    let listening = crate::helpers::wait_for(std::time::Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(&address).await.is_ok()
    })
    .await;
    assert!(
        listening,
        "php -S {address} {} did not listen",
        script.display()
    );
    (child, format!("http://{address}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_php_snippets_create_a_payment_and_verify_webhooks() {
    use paydigital_proxy::config::WebhookSecret;
    use paydigital_proxy::webhooks::signatures;
    let (receive, text) = snippet("receive-webhook.php");
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .expect("README");
    assert!(
        readme.contains(text.trim_end()),
        "README.md shows examples/merchant/receive-webhook.php as it is"
    );
    let (receiver, receiver_url) = php_server(
        &receive,
        &[("CHECKOUT_WEBHOOK_SECRET", crate::helpers::WEBHOOK_SECRET)],
    )
    .await;
    let app = TestApp::spawn_with(&[
        (
            "CHECKOUT_WEBHOOK_URL",
            &format!("{receiver_url}/webhooks/paydigital"),
        ),
        ("CHECKOUT_WEBHOOK_SECRET", crate::helpers::WEBHOOK_SECRET),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "200ms,200ms"),
    ])
    .await;

    // create-payment.php behind PHP's web server: the shopper is sent to the hosted page.
    let (create, _) = snippet("create-payment.php");
    let (_creator, creator_url) = php_server(
        &create,
        &[
            ("PROXY_URL", app.proxy.url().as_str()),
            ("CHECKOUT_MERCHANT_KEY", MERCHANT_KEY),
        ],
    )
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let checkout = || async {
        let response = http
            .get(format!("{creator_url}/checkout"))
            .send()
            .await
            .expect("php answers");
        assert_eq!(response.status(), 303, "create-payment.php redirects");
        response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    };
    let first = checkout().await;
    let again = checkout().await;
    assert_eq!(
        first, again,
        "retried with the same Idempotency-Key: one payment"
    );
    let id = first
        .strip_prefix(&format!("{PUBLIC_URL}/pay/"))
        .unwrap_or_else(|| panic!("{first} is the hosted page"))
        .to_owned();
    let payment = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(payment["reference"], "ORDER-1003");
    assert_eq!(payment["amount"], 150_000);
    assert_eq!(payment["customer_name"], "Andi");

    // receive-webhook.php took the proxy's real, signed deliveries (204), the first time.
    app.pay(payment["invoice"].as_str().expect("invoice"));
    app.merchant_get(&format!("payments/{id}")).await;
    let events = app
        .events_when(std::time::Duration::from_secs(15), |events| {
            events["data"].as_array().is_some_and(|all| {
                all.len() == 2 && all.iter().all(|e| e["delivery"]["state"] == "delivered")
            })
        })
        .await;
    for event in events["data"].as_array().expect("events") {
        assert_eq!(event["delivery"]["state"], "delivered", "{event}");
        assert_eq!(event["delivery"]["attempts"], 1, "{event}");
    }

    // And it refuses what was not signed with the secret, or was changed, or is old.
    let secret = WebhookSecret::parse(crate::helpers::WEBHOOK_SECRET).expect("secret");
    let other = WebhookSecret::parse("whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=")
        .expect("another secret");
    let body = json!({ "type": "payment.paid", "timestamp": "2026-11-24T15:10:00+07:00",
                       "livemode": false, "data": payment })
    .to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let deliver = |body: String, timestamp: i64, signature: String| {
        let http = http.clone();
        let url = format!("{receiver_url}/webhooks/paydigital");
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .header("webhook-id", "evt_php_test")
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body)
                .send()
                .await
                .expect("php answers")
                .status()
                .as_u16()
        }
    };
    let signed = signatures(std::slice::from_ref(&secret), "evt_php_test", now, &body);
    assert_eq!(
        deliver(body.clone(), now, signed.clone()).await,
        204,
        "genuine"
    );
    let tampered = body.replace("150000", "1500");
    assert_ne!(tampered, body);
    assert_eq!(deliver(tampered, now, signed).await, 400, "tampered body");
    let forged = signatures(std::slice::from_ref(&other), "evt_php_test", now, &body);
    assert_eq!(
        deliver(body.clone(), now, forged).await,
        400,
        "another secret"
    );
    let rotating = signatures(&[other, secret.clone()], "evt_php_test", now, &body);
    assert_eq!(
        deliver(body.clone(), now, rotating).await,
        204,
        "one of two known"
    );
    let old = now - 600;
    let replayed = signatures(std::slice::from_ref(&secret), "evt_php_test", old, &body);
    assert_eq!(deliver(body, old, replayed).await, 400, "replayed later");
    drop(receiver);
}

/// Numbers as JSON Schema counts them (and so the OpenAPI document, and every client
/// generated from it): `125000.0` and `1.25e5` are the integer 125000; a fraction, a negative
/// number or a string is refused, naming `amount`.
#[tokio::test]
async fn a_whole_number_written_with_a_point_is_that_integer() {
    let app = TestApp::spawn().await;
    let post = |body: &'static str| {
        app.http
            .post(format!("{}/api/merchant/payments", app.proxy.url()))
            .bearer_auth(MERCHANT_KEY)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    for body in [r#"{"amount": 125000.0}"#, r#"{"amount": 1.25e5}"#] {
        let response = post(body).await.expect("answer");
        assert_eq!(response.status(), 201, "{body}");
        let payment: Value = response.json().await.expect("json");
        assert_eq!(payment["amount"], json!(125_000), "{body}: {payment}");
    }
    for body in [
        r#"{"amount": 1000.5}"#,
        r#"{"amount": "125000"}"#,
        r#"{"amount": -5}"#,
        r#"{"amount": 1e300}"#,
    ] {
        let response = post(body).await.expect("answer");
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["field"], "amount", "{body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("whole number")),
            "{body}: {answer}"
        );
    }
}

/// `bearer` is `Bearer` (the scheme is case-insensitive); a client's request id is kept when
/// it looks like one and replaced when it does not (nobody writes into our logs at will).
#[tokio::test]
async fn the_bearer_scheme_is_any_case_and_a_wild_request_id_is_replaced() {
    let app = TestApp::spawn().await;
    let list = |authorization: String, request_id: &'static str| {
        app.http
            .get(format!("{}/api/merchant/payments", app.proxy.url()))
            .header("Authorization", authorization)
            .header("x-request-id", request_id)
            .send()
    };
    let lower = list(format!("bearer {MERCHANT_KEY}"), "lb-7f3a.1_z")
        .await
        .expect("answer");
    assert_eq!(lower.status(), 200);
    assert_eq!(
        lower.headers()["x-request-id"],
        "lb-7f3a.1_z",
        "a fit id is kept"
    );
    let other_scheme = list(format!("Basic {MERCHANT_KEY}"), "x")
        .await
        .expect("answer");
    assert_eq!(other_scheme.status(), 401);
    let wild = list(
        format!("Bearer {MERCHANT_KEY}"),
        "<script>alert(1)</script>",
    )
    .await
    .expect("answer");
    assert_eq!(wild.status(), 200);
    let replaced = wild.headers()["x-request-id"].to_str().expect("ascii");
    assert!(
        !replaced.is_empty() && replaced.bytes().all(|b| b.is_ascii_digit()),
        "{replaced}"
    );
}
