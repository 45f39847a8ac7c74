//! Receipts (`receipts.md`): `receipt_url` in every view that should carry it, the receipt
//! page in each state (paid, late, not paid, unknown) with its headers and without what a
//! forwarded link must not show, and its PNG (read back: the pixels of the right receipt and
//! a QR that opens it).

use crate::helpers::{TestApp, PUBLIC_URL};
use paydigital_proxy::posters::receipt::{png, Receipt};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use serde_json::{json, Value};
use std::time::Duration;

/// `10387` → `Rp 10.387`, written here apart from the proxy's own formatting.
fn rupiah(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("Rp {out}")
}

/// A paid merchant payment with a customer name and metadata a receipt must not show.
async fn paid_payment(app: &TestApp) -> Value {
    let created = app
        .merchant_create(json!({
            "amount": 10_000,
            "reference": "ORDER-R1",
            "description": "Kopi susu",
            "customer_name": "Budi Rahasia",
            "metadata": { "cart": "c_secret" }
        }))
        .await;
    app.pay(created["invoice"].as_str().expect("invoice"));
    let id = created["id"].as_str().expect("id");
    let paid = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(paid["status"], "paid");
    paid
}

async fn get(app: &TestApp, path: &str, lang: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.proxy.url()))
        .header("Accept-Language", lang)
        .send()
        .await
        .expect("answers")
}

fn token_of(payment: &Value) -> String {
    let url = payment["receipt_url"].as_str().expect("receipt_url");
    url.strip_prefix(&format!("{PUBLIC_URL}/r/"))
        .unwrap_or_else(|| panic!("{url} is under {PUBLIC_URL}/r/"))
        .to_owned()
}

fn page_headers_are_private(response: &reqwest::Response) {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header(CACHE_CONTROL.as_str()), "no-store");
    assert_eq!(header("x-robots-tag"), "noindex");
    let csp = header(CONTENT_SECURITY_POLICY.as_str());
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
}

#[tokio::test]
async fn a_paid_payments_receipt_says_paid_with_its_facts_and_nothing_private() {
    let app = TestApp::spawn().await;
    let created = app
        .merchant_create(json!({ "amount": 10_000, "reference": "ORDER-R0" }))
        .await;
    let id = created["id"].as_str().expect("id");
    let token = token_of(&created);
    assert!(token.len() >= 22, "128 bits in base64url: {token}");
    assert!(!token.contains(id.trim_start_matches("pay_")), "not the id");
    // Before it is paid: the browser is not given the receipt, and the page says only that.
    let browser = app.status_json(id).await;
    assert!(browser.get("receipt_url").is_none(), "{browser}");
    let unpaid = get(&app, &format!("/r/{token}"), "id").await;
    assert_eq!(unpaid.status(), 200);
    page_headers_are_private(&unpaid);
    let html = unpaid.text().await.expect("html");
    assert!(html.contains("Belum dibayar"), "{html}");
    assert!(!html.contains("Rp ") && !html.contains("ORDER-R0") && !html.contains("LUNAS"));

    let paid = paid_payment(&app).await;
    let id = paid["id"].as_str().expect("id");
    let token = token_of(&paid);
    let browser = app.status_json(id).await;
    assert_eq!(
        browser["receipt_url"], paid["receipt_url"],
        "the browser's, once paid"
    );
    let total = paid["total_amount"].as_u64().expect("total");
    let response = get(&app, &format!("/r/{token}"), "id-ID,id;q=0.9").await;
    assert_eq!(response.status(), 200);
    page_headers_are_private(&response);
    let html = response.text().await.expect("html");
    for said in [
        "LUNAS",
        &rupiah(total),
        "Kopi susu",
        "ORDER-R1",
        paid["invoice"].as_str().expect("invoice"),
        "WIB",
        "QRIS via PayDigital",
        "Online",
        "Diverifikasi oleh pay.toko.example: halaman ini dibaca dari catatan toko saat dibuka",
        "Toko Sandbox",
        r#"<meta name="robots" content="noindex">"#,
    ] {
        assert!(html.contains(said), "{said}: {html}");
    }
    for never in [
        "Budi Rahasia",
        "c_secret",
        id,
        paid["qr_content"].as_str().expect("qr"),
        "terlambat",
    ] {
        assert!(!html.contains(never), "{never} shown: {html}");
    }
    let english = get(&app, &format!("/r/{token}"), "en-US,en;q=0.9")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        english.contains("PAID")
            && english.contains("Verified by pay.toko.example")
            && english.contains(r#"<html lang="en">"#),
        "{english}"
    );
    // Unknown: a token of the right shape, and junk, are 404s.
    for unknown in [
        "/r/AAAAAAAAAAAAAAAAAAAAAA",
        "/r/..%2F..",
        "/r/AAAAAAAAAAAAAAAAAAAAAA.png",
    ] {
        assert_eq!(get(&app, unknown, "id").await.status(), 404, "{unknown}");
    }
    // The receipt stays the payment's: a second read gives the same URL.
    assert_eq!(
        app.merchant_get(&format!("payments/{id}")).await["receipt_url"],
        paid["receipt_url"]
    );
}

#[tokio::test]
async fn the_customers_name_is_shown_only_when_the_shop_turns_it_on() {
    let app = TestApp::spawn_with(&[("CHECKOUT_RECEIPT_SHOWS_CUSTOMER", "on")]).await;
    let paid = paid_payment(&app).await;
    let html = get(&app, &format!("/r/{}", token_of(&paid)), "id")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Budi Rahasia") && html.contains("Pelanggan"),
        "{html}"
    );
    assert!(!html.contains("c_secret"), "never metadata");
}

#[tokio::test]
async fn a_late_payment_says_so_and_an_expired_one_says_not_paid() {
    let app = TestApp::spawn().await;
    let store = paydigital_proxy::store::Database::parse(&app.vars["CHECKOUT_DATABASE"])
        .expect("db")
        .open(1)
        .await
        .expect("open");
    let past = time::OffsetDateTime::now_utc() - Duration::from_secs(3600);
    let (mut late, late_event) = crate::helpers::stored_payment(
        "pay_LateLateLateLateLateLa",
        "evt_LateLateLateLateLateLa",
        past,
    );
    late.status = paydigital::Status::Paid;
    late.late = true;
    late.paid_at = Some(past + Duration::from_secs(600));
    let (expired, expired_event) = crate::helpers::stored_payment(
        "pay_GoneGoneGoneGoneGoneGo",
        "evt_GoneGoneGoneGoneGoneGo",
        past,
    );
    let (late_token, expired_token) = (late.receipt_token.clone(), expired.receipt_token.clone());
    for (record, event) in [(&late, &late_event), (&expired, &expired_event)] {
        store
            .payments()
            .insert(record, event, None)
            .await
            .expect("insert");
    }
    let html = get(&app, &format!("/r/{late_token}"), "id")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("LUNAS") && html.contains("Dibayar terlambat"),
        "{html}"
    );
    let english = get(&app, &format!("/r/{late_token}"), "en")
        .await
        .text()
        .await
        .expect("html");
    assert!(english.contains("Paid late"), "{english}");
    let response = get(&app, &format!("/r/{expired_token}"), "en").await;
    assert_eq!(response.status(), 200, "a forwarded link explains itself");
    let html = response.text().await.expect("html");
    assert!(
        html.contains("Not paid") && !html.contains("PAID") && !html.contains("Rp "),
        "{html}"
    );
}

/// `21:53:50+07:00` of `2026-12-07` → `07-12-2026 21:53:50 WIB`, apart from the proxy's code.
fn wib(rfc3339: &str) -> String {
    let (date, rest) = rfc3339.split_once('T').expect("a time");
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next(), parts.next(), parts.next());
    let clock = rest.get(..8).expect("hh:mm:ss");
    assert!(rest.ends_with("+07:00"), "{rfc3339}");
    format!(
        "{}-{}-{} {clock} WIB",
        d.unwrap_or(""),
        m.unwrap_or(""),
        y.unwrap_or("")
    )
}

#[tokio::test]
async fn the_png_is_the_receipt_with_its_amount_and_a_qr_that_opens_it() {
    let app = TestApp::spawn().await;
    let paid = paid_payment(&app).await;
    let token = token_of(&paid);
    let response = get(&app, &format!("/r/{token}.png"), "id").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()["x-robots-tag"], "noindex");
    let served = response.bytes().await.expect("png");
    // The very pixels of a receipt for this amount (written here, not by the proxy): a
    // wrong amount, invoice or time would be another picture.
    let amount = rupiah(paid["total_amount"].as_u64().expect("total"));
    let paid_at = wib(paid["paid_at"].as_str().expect("paid_at"));
    let url = paid["receipt_url"].as_str().expect("url");
    let expected = Receipt {
        shop: "Toko Sandbox",
        late: false,
        amount: &amount,
        what_for: "Kopi susu",
        reference: Some("ORDER-R1"),
        invoice: paid["invoice"].as_str().expect("invoice"),
        paid_at: &paid_at,
        source: "Online",
        customer: None,
        host: "pay.toko.example",
        url: Some(url),
    };
    assert!(
        served.as_ref() == png(Some(&expected)).expect("png"),
        "the right receipt"
    );
    let wrong = Receipt {
        amount: &rupiah(paid["total_amount"].as_u64().expect("total") + 1),
        ..expected
    };
    assert!(
        served.as_ref() != png(Some(&wrong)).expect("png"),
        "not another amount's"
    );
    // Its QR, read by zbar, opens the receipt page.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("receipt.png");
    std::fs::write(&file, &served).expect("write");
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&file)
        .output()
        .expect("zbarimg (Debian's zbar-tools, installed by make setup-native-tests)");
    assert!(out.status.success(), "zbarimg found no code: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), url);
    // Not paid: the picture says only that.
    let open = app.merchant_create(json!({ "amount": 20_000 })).await;
    let unpaid = get(&app, &format!("/r/{}.png", token_of(&open)), "id").await;
    assert_eq!(unpaid.status(), 200);
    let unpaid = unpaid.bytes().await.expect("png");
    assert!(unpaid.as_ref() == png(None).expect("png"));
}

/// `/r/{token}/qr.svg` rasterised and read back by zbar.
async fn qr_on(app: &TestApp, path: &str) -> String {
    let response = get(app, path, "id").await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()[CONTENT_TYPE], "image/svg+xml");
    let svg = response.text().await.expect("svg");
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).expect("svg");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("pixmap");
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("qr.png");
    pixmap.save_png(&file).expect("png");
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&file)
        .output()
        .expect("zbarimg (Debian's zbar-tools, installed by make setup-native-tests)");
    assert!(out.status.success(), "zbarimg found no code: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn the_counter_and_the_dashboard_give_the_receipt() {
    use crate::admin::{shop, Browser, CASHIER, CASHIER_PASSWORD, OWNER, OWNER_PASSWORD};
    let app = shop(&[]).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let sale = cashier.charge(15_000, "receipt-sale").await;
    let id = sale["payment"].as_str().expect("id");
    let view = app.merchant_get(&format!("payments/{id}")).await;
    assert_eq!(
        sale["receipt_url"], view["receipt_url"],
        "the counter's is the payment's"
    );
    let qr = sale["receipt_qr"].as_str().expect("receipt_qr");
    assert_eq!(qr, format!("/r/{}/qr.svg", token_of(&view)));
    assert_eq!(
        qr_on(&app, qr).await,
        view["receipt_url"].as_str().expect("url")
    );
    // No QR of a token that is not a receipt's.
    assert_eq!(
        get(&app, "/r/AAAAAAAAAAAAAAAAAAAAAA/qr.svg", "id")
            .await
            .status(),
        404
    );
    // The payment's detail links its receipt.
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let detail = owner.page(&format!("/admin/payments/{id}")).await;
    assert!(
        detail.contains(&format!(r#"href="/r/{}""#, token_of(&view)))
            && detail.contains("Lihat struk"),
        "{detail}"
    );
}

#[tokio::test]
async fn cek_bukti_bayar_tells_ours_from_another_hosts_and_lookalikes_and_audits_each() {
    use crate::admin::{shop, Browser, CASHIER, CASHIER_PASSWORD, OWNER, OWNER_PASSWORD};
    let app = shop(&[]).await;
    let paid = paid_payment(&app).await;
    let url = paid["receipt_url"].as_str().expect("url").to_owned();
    let token = token_of(&paid);
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let check = |pasted: String| {
        let cashier = &cashier;
        async move {
            let response = cashier
                .post("/admin/receipts", &[("receipt", &pasted)])
                .await;
            assert_eq!(response.status(), 200, "{pasted}");
            response.text().await.expect("html")
        }
    };
    // Ours, by link or by token: the payment it belongs to.
    for pasted in [url.clone(), token.clone()] {
        let html = check(pasted).await;
        assert!(html.contains(r#"data-answer="ours""#), "{html}");
        assert!(
            html.contains(paid["invoice"].as_str().expect("invoice")),
            "{html}"
        );
        assert!(html.contains(&format!(
            "/admin/payments/{}",
            paid["id"].as_str().expect("id")
        )));
    }
    // The same real token on another host: a fake page, not ours.
    let html = check(format!("https://pay.toko.example.evil.test/r/{token}")).await;
    assert!(
        html.contains(r#"data-answer="not-ours""#)
            && html.contains("Bukan struk dari toko ini")
            && html.contains("pay.toko.example.evil.test")
            && !html.contains(paid["invoice"].as_str().expect("invoice")),
        "{html}"
    );
    // A lookalike token (one character changed) on our host: not ours.
    let mut lookalike = token.clone();
    let last = if lookalike.ends_with('A') { 'B' } else { 'A' };
    lookalike.pop();
    lookalike.push(last);
    let html = check(format!("{PUBLIC_URL}/r/{lookalike}")).await;
    assert!(html.contains(r#"data-answer="not-ours""#), "{html}");
    // Each of the four checks is in the audit log, with what was found.
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let audit = owner.page("/admin/audit").await;
    assert_eq!(audit.matches("receipt_check").count(), 4, "{audit}");
    assert!(audit.contains("not ours: another host (pay.toko.example.evil.test)"));
    assert!(audit.contains("not ours: unknown token"));
    // From another site, nothing is checked.
    let refused = cashier
        .post_from(
            "/admin/receipts",
            &[("receipt", &url)],
            Some("https://evil.test"),
        )
        .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn the_command_line_and_the_events_give_the_same_receipt_url() {
    let app = TestApp::spawn().await;
    let paid = paid_payment(&app).await;
    let id = paid["id"].as_str().expect("id");
    let url = paid["receipt_url"].as_str().expect("url");
    let out = crate::admin::cli(
        &app,
        &[
            "payments",
            "receipt",
            id,
            "--public-url",
            &format!("{PUBLIC_URL}/"),
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), url);
    let unknown = crate::admin::cli(
        &app,
        &[
            "payments",
            "receipt",
            "pay_AAAAAAAAAAAAAAAAAAAAAA",
            "--public-url",
            PUBLIC_URL,
        ],
        "",
    )
    .await;
    assert!(!unknown.status.success(), "{unknown:?}");
    // A webhook's body is the events API's: its payment carries the receipt too.
    let events = app
        .events_when(Duration::from_secs(10), |events| {
            events["data"]
                .as_array()
                .is_some_and(|all| all.iter().any(|e| e["type"] == "payment.paid"))
        })
        .await;
    let paid_event = events["data"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["type"] == "payment.paid"))
        .expect("payment.paid");
    assert_eq!(paid_event["data"]["receipt_url"], url, "{paid_event}");
}
