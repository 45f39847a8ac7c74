//! The sandbox speaks PayDigital's wire format, refuses what PayDigital refuses, and its
//! customer pages work.

use paydigital::wire::{self, JAKARTA};
use paydigital_proxy::upstream::sandbox::{Faults, SandboxConfig};
use serde_json::Value;

async fn sandbox() -> paydigital_proxy::Running {
    paydigital_proxy::start_sandbox(
        "127.0.0.1:0".parse().expect("addr"),
        SandboxConfig::default(),
        Faults::default(),
    )
    .await
    .expect("starts")
}

const KEY: &str = paydigital_proxy::config::SANDBOX_API_KEY;
const STORE: &str = paydigital_proxy::config::SANDBOX_STORE_ID;

fn form(store: &str, amount: &str) -> String {
    format!("store_id={store}&amount={amount}&description=Kopi&customer_name=Budi")
}

async fn create(url: &str, key: Option<&str>, body: String) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/api/create_payment.php"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("answers");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

#[tokio::test]
async fn creates_like_paydigital() {
    let server = sandbox().await;
    let (status, body) = create(&server.url(), Some(KEY), form(STORE, "10000")).await;
    assert_eq!(status, 200);
    let created = wire::parse_create(&body, JAKARTA).expect("PayDigital's shape");
    assert!(
        created.invoice.starts_with("PYG") && created.invoice.len() == 20,
        "{}",
        created.invoice
    );
    assert!((1..=999).contains(&created.unique_code));
    assert_eq!(created.total_amount, 10_000 + created.unique_code);
    paydigital::qris::verify_for_total(&created.qr_content, created.total_amount)
        .expect("valid QRIS for the total");
    let minutes = (created.expired_at - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!((14..=15).contains(&minutes), "{minutes}");
    let raw: Value = serde_json::from_str(&body).expect("json");
    let expired_at = raw["data"]["expired_at"].as_str().expect("text");
    assert_eq!(
        expired_at.len(),
        19,
        "zoneless YYYY-MM-DD HH:MM:SS: {expired_at}"
    );
    // The payment page and QR image are the sandbox's own, never a third party's.
    for url in [
        created.payment_url.expect("payment_url"),
        created.qr_url.expect("qr_url"),
    ] {
        assert!(url.starts_with(&server.url()), "{url}");
        assert_eq!(
            reqwest::get(&url).await.expect("answers").status(),
            200,
            "{url}"
        );
    }
    // The key may also come as a form field.
    let (status, _) = create(
        &server.url(),
        None,
        format!("{}&api_key={KEY}", form(STORE, "5000")),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn refuses_like_paydigital() {
    let server = sandbox().await;
    let url = server.url();
    for (key, body, expected) in [
        (Some("wrong-key"), form(STORE, "10000"), "Invalid API key"),
        (None, form(STORE, "10000"), "Invalid API key"),
        (Some(KEY), form("OTHER-STORE", "10000"), "Store not found"),
        (Some(KEY), form(STORE, "999"), "Minimum amount is 1000"),
        (Some(KEY), form(STORE, "sepuluh"), "Invalid amount"),
    ] {
        let (status, body) = create(&url, key, body).await;
        assert!(status >= 400, "{expected}: {status}");
        match wire::parse_create(&body, JAKARTA) {
            Err(wire::UpstreamError::Refused { message, .. }) => assert_eq!(message, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }
    let wrong_method = reqwest::get(format!("{url}/api/create_payment.php"))
        .await
        .expect("answers");
    assert_eq!(wrong_method.status(), 405);
    let unknown = reqwest::Client::new()
        .get(format!("{url}/api/payment.php?invoice=PYG0"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("answers");
    assert_eq!(unknown.status(), 404);
    let body = unknown.text().await.expect("body");
    assert!(matches!(
        wire::parse_status(&body, JAKARTA),
        Err(wire::UpstreamError::Refused { .. })
    ));
}

#[tokio::test]
async fn pay_and_expire_from_the_customer_side() {
    let server = sandbox().await;
    let url = server.url();
    let (_, body) = create(&url, Some(KEY), form(STORE, "10000")).await;
    let created = wire::parse_create(&body, JAKARTA).expect("created");
    let page = reqwest::get(format!("{url}/sandbox"))
        .await
        .expect("answers")
        .text()
        .await
        .expect("html");
    assert!(page.contains(&created.invoice) && page.contains("Bayar"));
    let client = reqwest::Client::new();
    let expired: Value = client
        .post(format!("{url}/sandbox/payments/{}/expire", created.invoice))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(expired["status"], "expired");
    // QRIS codes stay payable after their time.
    let paid: Value = client
        .post(format!("{url}/sandbox/payments/{}/pay", created.invoice))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(paid["status"], "paid");
    let status = client
        .post(format!("{url}/api/payment.php"))
        .bearer_auth(KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("invoice={}", created.invoice))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("body");
    let reply = wire::parse_status(&status, JAKARTA).expect("status");
    assert_eq!(reply.status, paydigital::Status::Paid);
    assert!(reply.paid_at.is_some());
    let calls: Value = client
        .get(format!("{url}/sandbox/calls"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(calls["endpoints"]["create_payment"], 1);
    assert_eq!(calls["invoices"][&created.invoice], 1);
}
