//! A payment link's poster (`payment-links.md`): `/l/{id}/poster.png` and `.svg`, a
//! printable A6 page whose QR a phone camera opens as the link's URL — read back here by
//! zbar, an independent decoder — with the title, the amount and "Scan untuk bayar".

use crate::helpers::{TestApp, MERCHANT_KEY, PUBLIC_URL};
use reqwest::Method;
use serde_json::json;

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", app.proxy.url()))
        .await
        .expect("proxy answers")
}

/// What zbar reads from a PNG.
fn zbar(png: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("poster.png");
    std::fs::write(&file, png).expect("write");
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .expect("zbarimg (zbar-tools, installed by make setup-native-tests)");
    assert!(out.status.success(), "zbar found no code: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn the_png_poster_opens_the_link_page() {
    let app = TestApp::spawn().await;
    let link = app
        .create_link(json!({ "title": "Kopi susu 1 liter", "amount": 25000 }))
        .await;
    let id = link["id"].as_str().expect("id");
    let poster_url = link["poster_url"].as_str().expect("poster_url");
    assert_eq!(poster_url, format!("{PUBLIC_URL}/l/{id}/poster.png"));

    let response = get(&app, &format!("/l/{id}/poster.png")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.expect("body");
    assert_eq!(zbar(&png), format!("{PUBLIC_URL}/l/{id}"));
    assert_eq!(link["url"], format!("{PUBLIC_URL}/l/{id}"));
}

#[tokio::test]
async fn the_svg_poster_is_a6_with_title_amount_and_what_to_do() {
    let app = TestApp::spawn().await;
    let link = app
        .create_link(
            json!({ "title": "Nasi <goreng> & teh", "min_amount": 10000, "max_amount": 50000 }),
        )
        .await;
    let id = link["id"].as_str().expect("id");
    let response = get(&app, &format!("/l/{id}/poster.svg")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .starts_with("default-src 'none'"));
    let svg = response.text().await.expect("text");
    assert!(svg.contains(r#"width="105mm" height="148mm""#), "A6: {svg}");
    assert!(svg.contains("Nasi &lt;goreng&gt; &amp; teh"));
    assert!(svg.contains("Rp 10.000 – Rp 50.000"));
    assert!(svg.contains("Scan untuk bayar"));
    assert!(svg.contains(&format!("{PUBLIC_URL}/l/{id}")));
}

#[tokio::test]
async fn a_deactivated_link_keeps_its_poster_and_an_unknown_one_has_none() {
    let app = TestApp::spawn().await;
    let link = app
        .create_link(json!({ "title": "Es teh", "amount": 5000 }))
        .await;
    let id = link["id"].as_str().expect("id");
    let patched = app
        .merchant(
            Method::PATCH,
            &format!("payment-links/{id}"),
            Some(MERCHANT_KEY),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(
        get(&app, &format!("/l/{id}/poster.svg")).await.status(),
        200
    );
    for path in [
        "/l/plink_AAAAAAAAAAAAAAAAAAAAAA/poster.png",
        "/l/not-a-link/poster.svg",
    ] {
        assert_eq!(get(&app, path).await.status(), 404, "{path}");
    }
}
