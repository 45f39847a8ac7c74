//! Stores written by earlier releases (`fixtures/`, see the README beside them) open with
//! today's binary: migrated, every payment kept and readable.

use crate::admin::Browser;
use crate::helpers::{error_code, TestApp, MERCHANT_KEY};
use reqwest::Method;
use serde_json::{json, Value};

/// A proxy on a copy of `fixtures/{name}` (the copy's folder lives as long as the guard).
async fn on_a_copy_of(name: &str) -> (tempfile::TempDir, TestApp) {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join(name);
    let fixture = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(fixture, &database).expect("copy the fixture");
    let app = TestApp::spawn_with(&[("CHECKOUT_DATABASE", &database.display().to_string())]).await;
    (dir, app)
}

#[tokio::test]
async fn a_store_from_before_ids_upgrades_and_keeps_every_payment() {
    let (_dir, app) = on_a_copy_of("store-v1.sqlite").await;

    let list = app.merchant_get("payments?limit=100").await;
    let payments = list["data"].as_array().expect("data");
    let invoices: Vec<&str> = payments
        .iter()
        .map(|p| p["invoice"].as_str().expect("invoice"))
        .collect();
    assert_eq!(
        invoices,
        [
            "PYG20261125202108001",
            "PYG20261125202106003",
            "PYG20261125202106002",
            "PYG20261125202106001"
        ],
        "all four, newest first"
    );
    let by_invoice = |invoice: &str| {
        payments
            .iter()
            .find(|p| p["invoice"] == invoice)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let paid = by_invoice("PYG20261125202106001");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["reference"], "ORDER-OLD-1");
    assert_eq!(paid["source"], "browser");
    assert_eq!(paid["total_amount"], 10_930);
    assert!(paid["paid_at"].as_str().is_some());
    assert_eq!(by_invoice("PYG20261125202106003")["status"], "expired");
    let catalog = by_invoice("PYG20261125202108001");
    assert_eq!(
        (catalog["source"].clone(), catalog["item"].clone()),
        (json!("catalog"), json!("kopi-susu"))
    );

    // Every old payment got its own unguessable id, and is read by it now.
    let mut ids: Vec<&str> = payments
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    for id in &ids {
        assert!(id.starts_with("pay_") && id.len() == 26, "{id}");
        let public = app.status_json(id).await;
        assert_eq!(public["id"], *id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 4);
    let old_url = app.status("PYG20261125202106001").await;
    assert_eq!(
        old_url.status(),
        404,
        "invoice numbers left the public URLs"
    );
    assert_eq!(error_code(old_url).await, "not_found");

    // A browser retrying with its old Idempotency-Key still finds its payment.
    let replay = app
        .create_with_key(json!({ "amount": 15000 }), "old-key-1")
        .await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: Value = replay.json().await.expect("json");
    assert_eq!(replay["invoice"], "PYG20261125202106002");
    assert_eq!(app.create_calls(), 0);

    // And the upgraded store takes new payments, and opens again as it is.
    let new = app.merchant_create(json!({ "amount": 5000 })).await;
    let app = app.restart_proxy().await;
    let again = app
        .merchant(
            Method::GET,
            &format!("payments/{}", new["id"].as_str().expect("id")),
            Some(MERCHANT_KEY),
            None,
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        app.merchant_get("payments?limit=100").await["data"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
}

#[tokio::test]
async fn a_store_from_before_reviews_upgrades_and_keeps_payments_and_events() {
    let (_dir, app) = on_a_copy_of("store-v4.sqlite").await;
    let list = app.merchant_get("payments?limit=100").await;
    let summary: Vec<(String, String, u64, Value)> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or("").to_owned(),
                p["status"].as_str().unwrap_or("").to_owned(),
                p["total_amount"].as_u64().unwrap_or(0),
                p["review"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            // Pending when it was written; its code has expired since.
            (
                "pay_FCAvpDbRw_PA9qkUOziGMA".into(),
                "expired".into(),
                20_411,
                Value::Null
            ),
            (
                "pay_MOY3Nhk7S8Oc6BBO67fvJQ".into(),
                "expired".into(),
                50_757,
                Value::Null
            ),
            (
                "pay_ZXA-pvHKAASA0PwO-OKfig".into(),
                "paid".into(),
                125_997,
                Value::Null
            ),
        ],
        "every payment, newest first, none marked"
    );
    let paid = app
        .merchant_get("payments/pay_ZXA-pvHKAASA0PwO-OKfig")
        .await;
    assert_eq!(paid["reference"], "ORDER-V4-1");
    assert_eq!(paid["metadata"]["cart"], "c_41");
    let events = app.merchant_get("events?limit=100").await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "payment.created").count(), 3);
    // Its idempotency key still replays the same payment.
    let again = app
        .http
        .post(format!("{}/api/merchant/payments", app.proxy.url()))
        .bearer_auth(MERCHANT_KEY)
        .header("Idempotency-Key", "v4-key-1")
        .json(&json!({ "amount": 125_000, "reference": "ORDER-V4-1", "metadata": { "cart": "c_41" } }))
        .send()
        .await
        .expect("answers");
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}

#[tokio::test]
async fn a_store_from_before_the_counter_upgrades_and_keeps_its_links() {
    let (_dir, app) = on_a_copy_of("store-v7.sqlite").await;
    let link = app
        .merchant_get("payment-links/plink_LN6xFHFwR2dSHFmLCiwfvw")
        .await;
    assert_eq!(link["title"], "Kopi Susu V7");
    assert_eq!(
        (link["paid_count"].clone(), link["paid_total"].clone()),
        (json!(1), json!(25_187)),
        "its paid payment still counts"
    );
    let list = app.merchant_get("payments?limit=100").await;
    let summary: Vec<(String, String, String, Value)> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or("").to_owned(),
                p["status"].as_str().unwrap_or("").to_owned(),
                p["source"].as_str().unwrap_or("").to_owned(),
                p["payment_link_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "pay_jl7KXjA4C4pGekBY360XjQ".into(),
                // Pending when written; expired once its 15 minutes passed.
                if summary.first().is_some_and(|p| p.1 == "pending") {
                    "pending"
                } else {
                    "expired"
                }
                .into(),
                "merchant".into(),
                Value::Null
            ),
            (
                "pay_fC1SXKkqC2QViKCytycjgA".into(),
                "paid".into(),
                "link".into(),
                json!("plink_LN6xFHFwR2dSHFmLCiwfvw")
            ),
        ],
        "both payments, newest first"
    );
    // The link's key still answers the same link.
    let again = app
        .http
        .post(format!("{}/api/merchant/payment-links", app.proxy.url()))
        .bearer_auth(MERCHANT_KEY)
        .header("Idempotency-Key", "v7-link-1")
        .json(&json!({ "title": "Kopi Susu V7", "amount": 25_000, "max_payments": 10 }))
        .send()
        .await
        .expect("answers");
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.json::<Value>().await.expect("json")["id"],
        "plink_LN6xFHFwR2dSHFmLCiwfvw"
    );
    // The cashier it held signs in and charges at the counter on the upgraded store.
    let cashier = Browser::signed_in(&app, "kasir@toko.example", "kata-sandi-kasir-123").await;
    let sale = cashier.charge(15_000, "first-sale").await;
    let id = sale["payment"].as_str().expect("id");
    assert_eq!(
        app.merchant_get(&format!("payments/{id}")).await["source"],
        "counter"
    );
}

#[tokio::test]
async fn a_store_from_before_receipts_gives_every_payment_its_own_receipt() {
    let (_dir, app) = on_a_copy_of("store-v8.sqlite").await;
    let paid = app
        .merchant_get("payments/pay_RDfuOr34b4ldifZRyQlW3g")
        .await;
    let open = app
        .merchant_get("payments/pay_c0flRT8q0Wp9caEj7zfKfA")
        .await;
    assert_eq!(paid["status"], "paid");
    let receipt = |p: &Value| {
        p["receipt_url"]
            .as_str()
            .and_then(|url| url.strip_prefix("https://pay.toko.example/r/"))
            .unwrap_or_else(|| panic!("a receipt URL: {p}"))
            .to_owned()
    };
    let (paid_token, open_token) = (receipt(&paid), receipt(&open));
    assert_ne!(paid_token, open_token, "a token each");
    assert!(paid_token.len() >= 22 && !paid_token.contains("RDfuOr34b4ldifZRyQlW3g"));
    // The old paid payment's receipt says paid, with its amount; the open one's says not.
    let page = app
        .http
        .get(format!("{}/r/{paid_token}", app.proxy.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("text");
    assert!(
        html.contains("LUNAS") && html.contains("Rp 10.955"),
        "{html}"
    );
    let page = app
        .http
        .get(format!("{}/r/{open_token}", app.proxy.url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("text");
    assert!(
        html.contains("Belum dibayar") && !html.contains("20.069"),
        "{html}"
    );
    // The same token on every read: it was stored, not made per read.
    let again = app
        .merchant_get("payments/pay_RDfuOr34b4ldifZRyQlW3g")
        .await;
    assert_eq!(receipt(&again), paid_token);
}
