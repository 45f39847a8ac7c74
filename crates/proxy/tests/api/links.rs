//! Payment links end to end (`payment-links.md`): the merchant API (create with
//! `Idempotency-Key`, list with paging, read, `PATCH active`), the customer's page `/l/{id}`
//! (a GET never creates, Open Graph tags, the Pay form once per token, 410 sold out /
//! deactivated / expired, bounds), `max_payments` under ten simultaneous presses, and
//! `source: "link"` with `payment_link_id` in the views, the events API and the webhook body.

use crate::helpers::{error_code, wait_for, TestApp, MERCHANT_KEY, PUBLIC_URL, WEBHOOK_SECRET};
use crate::receiver::Receiver;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The page's form token (the hidden `token` field).
fn token_of(page: &str) -> String {
    let at = page.find(r#"name="token" value=""#).expect("a token field") + 20;
    page[at..]
        .split('"')
        .next()
        .expect("token value")
        .to_owned()
}

async fn page(app: &TestApp, id: &str) -> reqwest::Response {
    browser()
        .get(format!("{}/l/{id}", app.proxy.url()))
        .send()
        .await
        .expect("proxy answers")
}

/// Opens the link's page (which must be payable) and returns its token.
async fn open(app: &TestApp, id: &str) -> String {
    let response = page(app, id).await;
    assert_eq!(response.status(), 200);
    token_of(&response.text().await.expect("text"))
}

async fn press(app: &TestApp, id: &str, form: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .post(format!("{}/l/{id}", app.proxy.url()))
        .form(form)
        .send()
        .await
        .expect("proxy answers")
}

/// Presses Pay; it must redirect to a hosted page: that payment's id.
async fn press_ok(app: &TestApp, id: &str, form: &[(&str, &str)]) -> String {
    let response = press(app, id, form).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    location
        .strip_prefix("/pay/")
        .unwrap_or_else(|| panic!("a hosted page, not {location}"))
        .to_owned()
}

async fn payments(app: &TestApp) -> Vec<Value> {
    app.merchant_get("payments?limit=100").await["data"]
        .as_array()
        .expect("data")
        .clone()
}

#[tokio::test]
async fn a_link_is_created_once_per_key_read_listed_and_deactivated() {
    let app = TestApp::spawn().await;
    let body = json!({"title": "Kopi susu 1 liter", "amount": 25000, "max_payments": 50,
        "metadata": {"sku": "KS1"}, "success_url": "https://toko.example/terima-kasih"});
    let first = app
        .merchant(
            Method::POST,
            "payment-links",
            Some(MERCHANT_KEY),
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status(), 201);
    let link: Value = first.json().await.expect("json");
    let id = link["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("plink_") && id.len() == 28, "{id}");
    assert_eq!(link["title"], "Kopi susu 1 liter");
    assert_eq!(link["amount"], 25000);
    assert_eq!(link["min_amount"], Value::Null);
    assert_eq!(link["max_payments"], 50);
    assert_eq!(link["active"], true);
    assert_eq!(link["paid_count"], 0);
    assert_eq!(link["metadata"], json!({"sku": "KS1"}));
    assert_eq!(link["url"], format!("{PUBLIC_URL}/l/{id}"));
    assert_eq!(
        link["poster_url"],
        format!("{PUBLIC_URL}/l/{id}/poster.png")
    );

    // Idempotency-Key: the same body → the same link; another body → 409.
    let with_key = |body: Value| {
        app.http
            .post(format!("{}/api/merchant/payment-links", app.proxy.url()))
            .bearer_auth(MERCHANT_KEY)
            .header("Idempotency-Key", "link-1")
            .json(&body)
            .send()
    };
    let keyed: Value = with_key(body.clone())
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let again = with_key(body.clone()).await.expect("send");
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], keyed["id"]);
    assert_ne!(keyed["id"], link["id"], "no key, no replay");
    let other = with_key(json!({"title": "Teh"})).await.expect("send");
    assert_eq!(other.status(), 409);
    assert_eq!(error_code(other).await, "idempotency_conflict");

    assert_eq!(app.merchant_get(&format!("payment-links/{id}")).await, link);
    for missing in [
        "payment-links/plink_AAAAAAAAAAAAAAAAAAAAAA",
        "payment-links/pay_x",
        "payment-links/..%2Fpayments",
    ] {
        let response = app
            .merchant(Method::GET, missing, Some(MERCHANT_KEY), None)
            .await;
        assert_eq!(response.status(), 404, "{missing}");
    }

    // Paging, newest first, as payments: three links, two a page.
    app.create_link(json!({"title": "Donasi", "min_amount": 5000}))
        .await;
    let page1 = app.merchant_get("payment-links?limit=2").await;
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|l| l["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(ids(&page1).len(), 2);
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page2 = app
        .merchant_get(&format!("payment-links?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&page2), std::slice::from_ref(&id));
    assert_eq!(page2["next_cursor"], Value::Null);

    // PATCH: only `active`; links are never deleted.
    let path = format!("payment-links/{id}");
    let patch = |body: Value| app.merchant(Method::PATCH, &path, Some(MERCHANT_KEY), Some(body));
    let off = patch(json!({"active": false})).await;
    assert_eq!(off.status(), 200);
    assert_eq!(off.json::<Value>().await.expect("json")["active"], false);
    let wrong = patch(json!({"active": false, "title": "x"})).await;
    assert_eq!(wrong.status(), 400);
    let wrong: Value = wrong.json().await.expect("json");
    assert_eq!(wrong["error"]["field"], "title", "{wrong}");
    let not_bool = patch(json!({"active": "no"})).await;
    assert_eq!(not_bool.status(), 400);
    assert_eq!(
        ids(&app.merchant_get("payment-links?active=false").await),
        std::slice::from_ref(&id)
    );
    assert!(!ids(&app.merchant_get("payment-links?active=true").await).contains(&id));
    let bad = app
        .merchant(
            Method::GET,
            "payment-links?active=maybe",
            Some(MERCHANT_KEY),
            None,
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(page(&app, &id).await.status(), 410);
    assert_eq!(patch(json!({"active": true})).await.status(), 200);
    assert_eq!(page(&app, &id).await.status(), 200);

    // Without the key, nothing.
    let anonymous = app.merchant(Method::GET, "payment-links", None, None).await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_bad_link_is_refused_naming_what_is_wrong() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({"amount": 25000}), "title"),
        (json!({"title": "   ", "amount": 25000}), "title"),
        (json!({"title": "x".repeat(121)}), "title"),
        (json!({"title": "Kopi", "amount": 999}), "amount"),
        (json!({"title": "Kopi", "amount": 25000.5}), "amount"),
        (
            json!({"title": "Kopi", "min_amount": 20000, "max_amount": 10000}),
            "min_amount",
        ),
        (
            json!({"title": "Kopi", "max_amount": 10_000_001}),
            "max_amount",
        ),
        (json!({"title": "Kopi", "max_payments": 0}), "max_payments"),
        (
            json!({"title": "Kopi", "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"title": "Kopi", "expires_at": "besok"}),
            "expires_at",
        ),
        (
            json!({"title": "Kopi", "success_url": "javascript:alert(1)"}),
            "success_url",
        ),
        (
            json!({"title": "Kopi", "success_url": "//evil.example"}),
            "success_url",
        ),
        (json!({"title": "Kopi", "prize": 1}), "prize"),
    ] {
        let response = app
            .merchant(
                Method::POST,
                "payment-links",
                Some(MERCHANT_KEY),
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let both = app
        .merchant(
            Method::POST,
            "payment-links",
            Some(MERCHANT_KEY),
            Some(json!({"title": "Kopi", "amount": 25000, "min_amount": 1000})),
        )
        .await;
    assert_eq!(both.status(), 400);
    assert_eq!(app.merchant_get("payment-links").await["data"], json!([]));
}

#[tokio::test]
async fn the_page_never_creates_and_the_form_pays_once_per_token() {
    let app = TestApp::spawn().await;
    let link = app
        .create_link(json!({"title": "Kopi <b>susu</b>", "amount": 25000,
        "description": "Satu liter", "success_url": "/terima-kasih"}))
        .await;
    let id = link["id"].as_str().expect("id");

    // Chat previews fetch the page, again and again: nothing is created.
    let first = page(&app, id).await;
    assert_eq!(first.status(), 200);
    let csp = first.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    for part in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert_eq!(first.headers()["cache-control"], "no-store");
    let html = first.text().await.expect("text");
    assert!(
        html.contains(r#"<meta property="og:title" content="Kopi &lt;b&gt;susu&lt;/b&gt;">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<meta property="og:description" content="Rp 25.000 · Satu liter">"#),
        "{html}"
    );
    assert!(
        html.contains("<html lang=\"id\"") && html.contains(">Bayar</button>"),
        "{html}"
    );
    assert!(!html.contains("<script"), "nothing runs on the page");
    for _ in 0..20 {
        assert_eq!(page(&app, id).await.status(), 200);
    }
    let english = browser()
        .get(format!("{}/l/{id}", app.proxy.url()))
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    assert!(english.contains(">Pay</button>"), "{english}");
    assert_eq!(payments(&app).await, Vec::<Value>::new());
    assert_eq!(app.create_calls(), 0, "PayDigital was not asked either");

    // Pay: one payment per form, however often it is sent.
    let token = token_of(&html);
    let paid = press_ok(&app, id, &[("token", &token)]).await;
    assert_eq!(
        press_ok(&app, id, &[("token", &token)]).await,
        paid,
        "a reload"
    );
    let twice = futures_join(&app, id, &token).await;
    assert_eq!(twice, [paid.clone(), paid.clone()], "a double click");
    assert_eq!(app.create_calls(), 1);
    let payment = app.merchant_get(&format!("payments/{paid}")).await;
    assert_eq!(payment["source"], "link");
    assert_eq!(payment["payment_link_id"], id);
    assert_eq!(payment["amount"], 25000);
    assert_eq!(payment["description"], "Kopi <b>susu</b>");
    let hosted = app
        .http
        .get(format!("{}/pay/{paid}", app.proxy.url()))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    assert!(
        hosted.contains(r#"success-url="/terima-kasih""#),
        "{hosted}"
    );

    // A new view, a new token: a second customer's payment.
    let second = press_ok(&app, id, &[("token", &open(&app, id).await)]).await;
    assert_ne!(second, paid);
    assert_eq!(payments(&app).await.len(), 2);

    // Forged, another link's, or no token: a page saying so, nothing made.
    let other = app
        .create_link(json!({"title": "Teh", "amount": 5000}))
        .await;
    let other_id = other["id"].as_str().expect("id");
    let other_token = open(&app, other_id).await;
    for form in [
        vec![("token", other_token.as_str())],
        vec![("token", "AAAA")],
        vec![],
    ] {
        let response = press(&app, id, &form).await;
        assert_eq!(response.status(), 400, "{form:?}");
        assert!(response
            .text()
            .await
            .expect("text")
            .contains("role=\"alert\""));
    }
    // Another site's form: refused.
    let cross = browser()
        .post(format!("{}/l/{id}", app.proxy.url()))
        .header("Origin", "https://evil.example")
        .form(&[("token", open(&app, id).await.as_str())])
        .send()
        .await
        .expect("answers");
    assert_eq!(cross.status(), 403);
    assert_eq!(payments(&app).await.len(), 2);

    for missing in [
        "plink_AAAAAAAAAAAAAAAAAAAAAA",
        "pay_AAAAAAAAAAAAAAAAAAAAAA",
        "x",
    ] {
        assert_eq!(page(&app, missing).await.status(), 404, "{missing}");
        assert_eq!(
            press(&app, missing, &[("token", &token)]).await.status(),
            404
        );
    }
}

/// The same form sent twice at once.
async fn futures_join(app: &TestApp, id: &str, token: &str) -> [String; 2] {
    let form = [("token", token)];
    let (a, b) = tokio::join!(press_ok(app, id, &form), press_ok(app, id, &form));
    [a, b]
}

#[tokio::test]
async fn an_open_amount_is_held_to_the_links_bounds() {
    let app = TestApp::spawn().await;
    let link = app
        .create_link(json!({"title": "Donasi", "min_amount": 5000, "max_amount": 50000}))
        .await;
    let id = link["id"].as_str().expect("id");
    let html = page(&app, id).await.text().await.expect("text");
    assert!(
        html.contains(r#"min="5000""#) && html.contains(r#"max="50000""#),
        "{html}"
    );
    assert!(html.contains("Rp 5.000 – Rp 50.000"), "{html}");
    for typed in ["4999", "50001", "", "lima ribu", "-5000"] {
        let response = press(
            &app,
            id,
            &[("token", &open(&app, id).await), ("amount", typed)],
        )
        .await;
        assert_eq!(response.status(), 400, "{typed:?}");
        let text = response.text().await.expect("text");
        assert!(text.contains("role=\"alert\""), "{typed:?}: {text}");
        assert!(
            text.contains(r#"name="token""#),
            "the form again, with a fresh token"
        );
    }
    assert_eq!(payments(&app).await.len(), 0);
    let paid = press_ok(
        &app,
        id,
        &[("token", &open(&app, id).await), ("amount", "12.500")],
    )
    .await;
    assert_eq!(
        app.merchant_get(&format!("payments/{paid}")).await["amount"],
        12500
    );
}

#[tokio::test]
async fn sold_out_deactivated_and_expired_links_answer_410_and_create_nothing() {
    let app = TestApp::spawn().await;
    let link = app
        .create_link(json!({"title": "Kaos edisi terbatas", "amount": 150000, "max_payments": 1}))
        .await;
    let id = link["id"].as_str().expect("id");
    let token = open(&app, id).await;
    let paid = press_ok(&app, id, &[("token", &token)]).await;
    let payment = app.merchant_get(&format!("payments/{paid}")).await;
    // Open, not paid: the page still shows, but a second customer is told to wait.
    let busy = press(&app, id, &[("token", &open(&app, id).await)]).await;
    assert_eq!(busy.status(), 409);
    assert!(busy.headers().contains_key("retry-after"));
    assert!(busy.text().await.expect("text").contains("Sedang dibayar"));
    app.pay(payment["invoice"].as_str().expect("invoice"));
    assert_eq!(
        page(&app, id).await.status(),
        200,
        "an open payment may still expire unpaid"
    );
    // The merchant's read asks PayDigital: the payment is recorded paid.
    assert!(
        wait_for(Duration::from_secs(10), || async {
            app.merchant_get(&format!("payments/{paid}")).await["status"] == "paid"
        })
        .await,
        "the payment is recorded paid"
    );
    let read = app.merchant_get(&format!("payment-links/{id}")).await;
    assert_eq!(read["paid_count"], 1);
    assert_eq!(read["paid_total"], payment["total_amount"]);
    let sold = page(&app, id).await;
    assert_eq!(sold.status(), 410);
    assert!(sold.text().await.expect("text").contains("habis"));
    // The first form again: its own payment, not a new one.
    assert_eq!(press_ok(&app, id, &[("token", &token)]).await, paid);
    assert_eq!(payments(&app).await.len(), 1);

    let off = app
        .create_link(json!({"title": "Teh", "amount": 5000}))
        .await;
    let off_id = off["id"].as_str().expect("id");
    let off_token = open(&app, off_id).await;
    app.merchant(
        Method::PATCH,
        &format!("payment-links/{off_id}"),
        Some(MERCHANT_KEY),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(page(&app, off_id).await.status(), 410);
    assert_eq!(
        press(&app, off_id, &[("token", &off_token)]).await.status(),
        410
    );

    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let expiring = app
        .create_link(json!({"title": "Promo kilat", "amount": 5000, "expires_at": soon}))
        .await;
    let expiring_id = expiring["id"].as_str().expect("id");
    let expiring_token = open(&app, expiring_id).await;
    assert!(
        wait_for(Duration::from_secs(10), || async {
            page(&app, expiring_id).await.status() == 410
        })
        .await,
        "the link expires"
    );
    assert_eq!(
        press(&app, expiring_id, &[("token", &expiring_token)])
            .await
            .status(),
        410
    );
    assert_eq!(
        payments(&app).await.len(),
        1,
        "nothing created for any of them"
    );
}

/// Ten customers press Pay at the same moment on a link with `max_payments: 1`, spread over
/// the proxies at `urls` (one or several on one database): one payment, nine "being paid".
pub async fn ten_presses_make_one_payment(urls: &[String]) {
    let http = reqwest::Client::new();
    let link: Value = http
        .post(format!("{}/api/merchant/payment-links", urls[0]))
        .bearer_auth(MERCHANT_KEY)
        .json(&json!({"title": "Sepatu ukuran 42", "amount": 350000, "max_payments": 1}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let id = link["id"].as_str().expect("id").to_owned();
    let mut tokens = Vec::new();
    for n in 0..10 {
        let url = &urls[n % urls.len()];
        let html = browser()
            .get(format!("{url}/l/{id}"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        tokens.push(token_of(&html));
    }
    // Every press waits at the barrier, then all ten go at once.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let presses: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(n, token)| {
            let url = urls[n % urls.len()].clone();
            let (id, start) = (id.clone(), start.clone());
            tokio::spawn(async move {
                let client = browser();
                start.wait().await;
                client
                    .post(format!("{url}/l/{id}"))
                    .form(&[("token", token.as_str())])
                    .send()
                    .await
                    .expect("answers")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for press in presses {
        statuses.push(press.await.expect("task"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    let listed: Value = http
        .get(format!("{}/api/merchant/payments?limit=100", urls[0]))
        .bearer_auth(MERCHANT_KEY)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let made: Vec<&Value> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|p| p["payment_link_id"] == id.as_str())
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_simultaneous_presses_on_the_last_place_make_one_payment() {
    let app = TestApp::spawn().await;
    ten_presses_make_one_payment(&[app.proxy.url()]).await;
    assert_eq!(app.create_calls(), 1, "PayDigital was asked once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_payment_says_so_in_the_webhook_and_the_events_api() {
    let (receiver, url) = Receiver::start().await;
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_WEBHOOK_URL", &url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("CHECKOUT_STATUS_REFRESH_MS", "500"),
    ])
    .await;
    let link = app
        .create_link(json!({"title": "Kopi", "amount": 25000}))
        .await;
    let id = link["id"].as_str().expect("id");
    let paid = press_ok(&app, id, &[("token", &open(&app, id).await)]).await;
    let invoice = app.merchant_get(&format!("payments/{paid}")).await["invoice"]
        .as_str()
        .expect("invoice")
        .to_owned();
    app.pay(&invoice);
    receiver
        .wait_for("payment.paid", Duration::from_secs(20), |seen| {
            seen.iter().any(|r| r.kind() == "payment.paid")
        })
        .await;
    for received in receiver.seen() {
        assert_eq!(received.payment(), paid);
        assert_eq!(received.json["data"]["source"], "link", "{}", received.body);
        assert_eq!(
            received.json["data"]["payment_link_id"], id,
            "{}",
            received.body
        );
    }
    let events = app.merchant_get("events").await;
    let data = events["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    for event in data {
        assert_eq!(event["data"]["payment_link_id"], id);
        assert_eq!(event["data"]["source"], "link");
    }
    let read = app.merchant_get(&format!("payment-links/{id}")).await;
    assert_eq!(read["paid_count"], 1);
}
