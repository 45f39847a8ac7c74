//! The counter (`dashboard.md`, "The counter"): the page for cashier and owner, a sale made by
//! `POST /admin/counter/sales` as the signed-in person (`source: counter`, the cashier
//! recorded), one payment per sale key, bad input named, the same-origin rule, the last 12
//! hours of one person's sales, a reload resuming the sale, and the page's own CSP — over
//! HTTP against a real proxy, on SQLite and on PostgreSQL. The keypad, the widget and Paid
//! in real browsers are `e2e/counter.test.cjs`.

#[path = "../../../../build/css.rs"]
mod widget_css;

use crate::admin::{location, shop, Browser, CASHIER, CASHIER_PASSWORD, OWNER, OWNER_PASSWORD};
use crate::helpers::{error_code, read_until, PUBLIC_URL};
use base64::Engine as _;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, ORIGIN};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::Digest as _;
use std::time::Duration;

impl Browser<'_> {
    /// A counter sale as the page sends it: JSON, the sale's key, from `origin`.
    async fn sale_from(&self, body: &Value, key: Option<&str>, origin: Option<&str>) -> Response {
        let mut request = self.http.post(self.url("/admin/counter/sales")).json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, format!("pd_session={cookie}"));
        }
        request.send().await.expect("proxy answers")
    }

    pub(crate) async fn sale(&self, body: Value, key: &str) -> Response {
        self.sale_from(&body, Some(key), Some(PUBLIC_URL)).await
    }

    /// A sale that must be made.
    pub(crate) async fn charge(&self, amount: u64, key: &str) -> Value {
        let response = self.sale(json!({ "amount": amount }), key).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("json")
    }
}

/// What the page hands its script: the `data-sale` attribute, HTML-unescaped.
fn sale_on_page(page: &str) -> Option<Value> {
    let start = page.find("data-sale=\"")? + "data-sale=\"".len();
    let end = start + page[start..].find('"')?;
    let text = page[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).ok()
}

#[tokio::test]
async fn a_cashier_charges_a_sale_that_names_them_everywhere_the_owner_looks() {
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    assert_eq!(location(&cashier.get("/admin/").await), "/admin/counter");
    let page = cashier.page("/admin/counter").await;
    for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "000"] {
        assert!(page.contains(&format!("data-key=\"{key}\"")), "key {key}");
    }
    assert!(
        page.contains("data-key=\"delete\">Hapus<"),
        "Delete is Hapus"
    );
    assert!(page.contains(">Tagih<"), "Charge is Tagih");
    assert!(page.contains("Rp 0"));
    assert!(
        page.contains("href=\"/admin/counter\" aria-current=\"page\""),
        "the nav's Counter is this page"
    );
    assert!(
        page.contains("/checkout/paydigital-checkout.js"),
        "the widget shows the sale"
    );

    let before = app.create_calls();
    let response = cashier
        .sale(
            json!({ "amount": 25000, "note": " 2 kopi susu " }),
            "sale-1",
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let sale: Value = response.json().await.expect("json");
    assert_eq!(app.create_calls(), before + 1);
    let id = sale["payment"].as_str().expect("id").to_owned();
    assert_eq!(sale["status"], "pending");
    assert_eq!(sale["paid_at"], Value::Null);
    assert_eq!(sale["amount"], 25000);
    assert_eq!(sale["note"], "2 kopi susu");
    let total = sale["total_amount"].as_u64().expect("total");
    assert!(total >= 25000);
    assert!(sale["announce"]
        .as_str()
        .expect("announce")
        .starts_with("Pembayaran diterima, dua puluh lima ribu"));
    assert!(sale["row"]
        .as_str()
        .expect("row")
        .contains(&format!("id=\"row-{id}\"")));

    // What the shop's server and the owner see of it.
    let merchant = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(merchant["source"], "counter");
    assert_eq!(merchant["description"], "2 kopi susu");
    assert_eq!(merchant["total_amount"], total);
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let detail = owner.page(&format!("/admin/payments/{id}")).await;
    assert!(
        detail.contains("Ditagih oleh") && detail.contains(CASHIER),
        "{detail}"
    );
    assert!(detail.contains("counter"));
    let csv = owner
        .post("/admin/payments.csv", &[])
        .await
        .text()
        .await
        .expect("the CSV");
    let line = csv.lines().find(|l| l.contains(&id)).expect("in the CSV");
    assert!(
        line.contains(",counter,") && line.ends_with(CASHIER),
        "{line}"
    );
    // The customer's side (what the widget reads) names no member of staff.
    let public = reqwest::get(format!("{}/api/payments/{id}", app.proxy.url()))
        .await
        .expect("proxy answers");
    assert_eq!(public.status(), StatusCode::OK);
    assert!(!public.text().await.expect("text").contains(CASHIER));
}

#[tokio::test]
async fn one_sale_key_makes_one_payment_and_is_the_persons_own() {
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let before = app.create_calls();
    // A double tap: two presses at once with the sale's key.
    let body = json!({ "amount": 12000 });
    let (first, second) = tokio::join!(
        cashier.sale(body.clone(), "tap-tap"),
        cashier.sale(body.clone(), "tap-tap")
    );
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    let replayed = [&first, &second]
        .iter()
        .filter(|r| r.headers().get("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 1, "one made it, the other got it back");
    let first: Value = first.json().await.expect("json");
    let second: Value = second.json().await.expect("json");
    assert_eq!(first["payment"], second["payment"]);
    assert_eq!(app.create_calls(), before + 1, "one payment upstream");
    // The key with another amount is not that sale.
    let other = cashier.sale(json!({ "amount": 13000 }), "tap-tap").await;
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(other).await, "idempotency_conflict");
    // Another person's sale with the same key is theirs, not this one.
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let owners = owner.charge(12000, "tap-tap").await;
    assert_ne!(owners["payment"], first["payment"]);
    assert_eq!(app.create_calls(), before + 2);
}

#[tokio::test]
async fn a_bad_sale_is_refused_naming_what_was_wrong_and_nothing_is_made() {
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let before = app.create_calls();
    for (body, field, code) in [
        (json!({ "amount": 999 }), "amount", "amount_out_of_range"),
        (
            json!({ "amount": 10_000_001 }),
            "amount",
            "amount_out_of_range",
        ),
        (json!({ "amount": "25000" }), "amount", "invalid_request"),
        (json!({ "amount": 1000.5 }), "amount", "invalid_request"),
        (json!({}), "amount", "invalid_request"),
        (
            json!({ "amount": 5000, "note": "x".repeat(141) }),
            "note",
            "invalid_request",
        ),
        (
            json!({ "amount": 5000, "note": "a\u{7}b" }),
            "note",
            "invalid_request",
        ),
        (
            json!({ "amount": 5000, "reference": "ORDER-1" }),
            "reference",
            "invalid_request",
        ),
    ] {
        let response = cashier.sale(body.clone(), "bad").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let keyless = cashier
        .sale_from(&json!({ "amount": 5000 }), None, Some(PUBLIC_URL))
        .await;
    assert_eq!(keyless.status(), StatusCode::BAD_REQUEST);
    let message = keyless.json::<Value>().await.expect("json")["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert_eq!(app.create_calls(), before, "nothing was made");
}

#[tokio::test]
async fn without_a_session_or_from_another_origin_no_sale_is_made() {
    let app = shop(&[]).await;
    let before = app.create_calls();
    let stranger = Browser::new(&app);
    assert_eq!(
        location(&stranger.get("/admin/counter").await),
        "/admin/login"
    );
    let anonymous = stranger
        .sale_from(&json!({ "amount": 5000 }), Some("k1"), Some(PUBLIC_URL))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(anonymous).await, "unauthorized");
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let refused = cashier
            .sale_from(&json!({ "amount": 5000 }), Some("k2"), origin)
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    assert_eq!(app.create_calls(), before, "nothing was made");
    // And the same key from the page itself is a new sale: the refused ones left nothing.
    let made = cashier.sale(json!({ "amount": 5000 }), "k2").await;
    assert_eq!(made.status(), StatusCode::CREATED);
    assert!(made.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn the_counter_lists_its_own_last_12_hours_and_a_reload_resumes_the_sale() {
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    // Two older sales of this cashier, put in the store directly (before today's, as they
    // would have been): 11 and 13 hours ago.
    let now = time::OffsetDateTime::now_utc();
    let mut old_ids = Vec::new();
    for (n, hours) in [(1u32, 11u64), (2, 13)] {
        let store = paydigital_proxy::store::Database::parse(&app.vars["CHECKOUT_DATABASE"])
            .expect("db")
            .open(1)
            .await
            .expect("open");
        let id = format!("pay_CounterEarlierSale000{n}");
        let (mut record, event) = crate::helpers::stored_payment(
            &id,
            &format!("evt_CounterEarlierSale000{n}"),
            now + Duration::from_secs(600),
        );
        record.created_at = now - Duration::from_secs(hours * 3600);
        record.source = paydigital_proxy::domain::payment::Source::Counter;
        record.created_by = Some(CASHIER.to_owned());
        store
            .payments()
            .insert(&record, &event, None)
            .await
            .expect("insert");
        old_ids.push(id);
    }
    let mine = cashier.charge(21000, "mine").await;
    let mine_id = mine["payment"].as_str().expect("id").to_owned();
    let theirs = owner.charge(22000, "theirs").await;
    let theirs_id = theirs["payment"].as_str().expect("id").to_owned();
    let shop_order = app
        .merchant_create(json!({ "amount": 23000, "reference": "WEB-1" }))
        .await;
    let shop_id = shop_order["id"].as_str().expect("id").to_owned();
    let page = cashier.page("/admin/counter").await;
    assert!(
        page.contains(&format!("row-{mine_id}")),
        "this cashier's sale"
    );
    assert!(
        page.contains(&format!("row-{}", old_ids[0])),
        "11 hours ago"
    );
    assert!(
        !page.contains(&format!("row-{}", old_ids[1])),
        "13 hours ago"
    );
    assert!(
        !page.contains(&format!("row-{theirs_id}")),
        "another person's sale"
    );
    assert!(
        !page.contains(&format!("row-{shop_id}")),
        "not a counter sale"
    );
    assert!(sale_on_page(&page).is_none(), "no sale in progress");
    // The cashier opens what their counter lists, made before midnight or not.
    let detail = cashier
        .get(&format!("/admin/payments/{}", old_ids[0]))
        .await;
    assert_eq!(detail.status(), StatusCode::OK);
    // Newest first.
    let newest = page.find(&format!("row-{mine_id}")).expect("listed");
    let older = page.find(&format!("row-{}", old_ids[0])).expect("listed");
    assert!(newest < older);

    // A reload during the sale: the same sale.
    let resumed = cashier
        .page(&format!("/admin/counter?sale={mine_id}"))
        .await;
    let sale = sale_on_page(&resumed).expect("the sale is on the page");
    assert_eq!(sale["payment"], mine_id.as_str());
    assert_eq!(sale["status"], "pending");
    assert_eq!(sale["amount"], 21000);
    assert_eq!(sale["total_amount"], mine["total_amount"]);
    // Anything else in the address is not resumed.
    for other in [
        &theirs_id,
        &shop_id,
        &"pay_NoSuchPaymentAnywhere0".to_owned(),
        &"../x".to_owned(),
    ] {
        let page = cashier.page(&format!("/admin/counter?sale={other}")).await;
        assert!(sale_on_page(&page).is_none(), "{other}");
    }
    // Paid, it reloads as paid.
    let invoice = app.merchant_get(&format!("payments/{mine_id}")).await["invoice"]
        .as_str()
        .expect("invoice")
        .to_owned();
    app.pay(&invoice);
    let path = format!("payments/{mine_id}");
    read_until(
        Duration::from_secs(10),
        || app.merchant_get(&path),
        |p| p["status"] == "paid",
    )
    .await;
    let paid = cashier
        .page(&format!("/admin/counter?sale={mine_id}"))
        .await;
    let resumed = sale_on_page(&paid).expect("sale");
    assert_eq!(resumed["status"], "paid");
    // When it was paid: the page says nothing for a sale paid before it opened (admin.js).
    assert!(resumed["paid_at"].is_i64(), "{resumed}");
}

#[tokio::test]
async fn the_counter_page_may_run_the_widget_and_no_other_page_may() {
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let csp = |response: &Response| {
        response
            .headers()
            .get(CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let counter = csp(&cashier.get("/admin/counter").await);
    // The bytes the widget's fallback `<style>` holds: the stylesheet as its build minifies it.
    let styles = widget_css::minify(include_str!("../../../../www/checkout.css"));
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(styles));
    for part in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval';",
        &format!("style-src 'self' 'sha256-{hash}';"),
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(counter.contains(part), "{part} in {counter}");
    }
    assert!(!counter.contains("unsafe-inline"), "{counter}");
    let payments = csp(&cashier.get("/admin/payments").await);
    assert_eq!(payments, paydigital_proxy::http::admin::ADMIN_CSP);
    let page = cashier.page("/admin/counter").await;
    let src = page
        .split("src=\"/assets/counter.")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the counter's script, by its hashed name");
    let script = cashier.get(&format!("/assets/counter.{src}")).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script
        .text()
        .await
        .expect("text")
        .contains("/admin/counter/sales"));
}

#[tokio::test]
async fn the_live_feed_marks_a_persons_own_counter_sales() {
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let since = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 1000;
    let sale = cashier.charge(18000, "live").await;
    let id = sale["payment"].as_str().expect("id").to_owned();
    let web = app.merchant_create(json!({ "amount": 19000 })).await;
    let web_id = web["id"].as_str().expect("id").to_owned();
    let seen = live_marks(&cashier, since).await;
    assert!(seen.contains(&(id.clone(), json!(true))), "{seen:?}");
    assert!(seen.contains(&(web_id.clone(), json!(false))), "{seen:?}");
    let seen = live_marks(&owner, since).await;
    assert!(
        seen.contains(&(id, json!(false))),
        "not the owner's sale: {seen:?}"
    );
}

/// Each change of `/admin/live` since `since` as (payment, whether it is the asker's counter
/// sale).
async fn live_marks(who: &Browser<'_>, since: i64) -> Vec<(String, Value)> {
    let live: Value = who
        .get(&format!("/admin/live?since={since}"))
        .await
        .json()
        .await
        .expect("json");
    live["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["payment"].as_str().unwrap_or("").to_owned(),
                c["counter"].clone(),
            )
        })
        .collect()
}
