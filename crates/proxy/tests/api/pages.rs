//! Every page the proxy draws for a person, on one layer (`http/pages/`): each answers with
//! a policy that allows nothing inline and no `eval`, and has no inline style or script to
//! need one; its stylesheets and scripts are served under content-hashed names, kept for a
//! year; and a language chosen on one page holds on the next — the dashboard, a payment
//! link's page and the hosted payment page alike.

use crate::admin::{shop, Browser, CASHIER, CASHIER_PASSWORD, OWNER, OWNER_PASSWORD};
use crate::helpers::TestApp;
use reqwest::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A page's policy: there, and nothing in it lets inline code or `eval` run.
fn strict_policy(path: &str, response: &reqwest::Response) -> String {
    let csp = response
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{path} has no Content-Security-Policy"))
        .to_owned();
    for loose in ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"] {
        assert!(!csp.contains(loose), "{path}: {loose} in {csp}");
    }
    assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
    csp
}

/// The page's HTML holds no inline style or script: every `<script>` has a `src`, no
/// `<style>` element, no `style=` attribute, no `on…=` handler.
fn nothing_inline(path: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<style"), "{path} has a <style> element");
    assert!(!lower.contains(" style="), "{path} has a style attribute");
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onerror=",
        " onchange=",
        " oninput=",
    ] {
        assert!(
            !lower.contains(handler),
            "{path} has an inline {handler} handler"
        );
    }
    for (i, _) in lower.match_indices("<script") {
        let tag = lower
            .get(i..)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or("");
        assert!(tag.contains(" src="), "{path} has an inline script: {tag}");
    }
}

/// Every `/assets/…` a page links is served, cached for a year, and named by its content.
async fn assets_of(app: &TestApp, path: &str, html: &str) -> usize {
    let mut found = 0;
    for (i, _) in html.match_indices("\"/assets/") {
        let url = html
            .get(i + 1..)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("");
        let answer = app
            .http
            .get(format!("{}{url}", app.proxy.url()))
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::OK, "{path} links {url}");
        assert_eq!(
            answer.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{url}"
        );
        let name = url.rsplit('/').next().unwrap_or("");
        let hash = name.split('.').nth(1).unwrap_or("");
        assert!(
            hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{url} is not content-hashed"
        );
        found += 1;
    }
    found
}

async fn create_link(app: &TestApp, body: Value) -> String {
    let link = app.create_link(body).await;
    link["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn no_page_allows_or_needs_inline_code() {
    let app = shop(&[]).await;
    let payment = app.merchant_create(json!({ "amount": 25_000 })).await;
    let receipt = payment["receipt_url"]
        .as_str()
        .and_then(|url| url.rsplit('/').next())
        .expect("receipt_url")
        .to_owned();
    let payment = payment["id"].as_str().expect("id").to_owned();
    let fixed = create_link(&app, json!({ "title": "Kopi", "amount": 25_000 })).await;
    let open = create_link(&app, json!({ "title": "Donasi", "min_amount": 5_000 })).await;
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let anyone = Browser::new(&app);

    let mut pages: Vec<(&Browser<'_>, String, StatusCode)> = vec![
        (&anyone, format!("/pay/{payment}"), StatusCode::OK),
        (
            &anyone,
            "/pay/pay_AAAAAAAAAAAAAAAAAAAAAA".into(),
            StatusCode::NOT_FOUND,
        ),
        (&anyone, format!("/l/{fixed}"), StatusCode::OK),
        (&anyone, format!("/l/{open}"), StatusCode::OK),
        (&anyone, "/l/lnk_nothing".into(), StatusCode::NOT_FOUND),
        (&anyone, "/api/docs".into(), StatusCode::OK),
        (&anyone, format!("/r/{receipt}"), StatusCode::OK),
        (
            &anyone,
            "/r/AAAAAAAAAAAAAAAAAAAAAA".into(),
            StatusCode::NOT_FOUND,
        ),
        (&anyone, "/admin/login".into(), StatusCode::OK),
        (&cashier, "/admin/counter".into(), StatusCode::OK),
        (&cashier, "/admin/audit".into(), StatusCode::FORBIDDEN),
    ];
    for path in [
        "/admin/".to_owned(),
        "/admin/payments".to_owned(),
        format!("/admin/payments/{payment}"),
        "/admin/links".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/counter".to_owned(),
        "/admin/receipts".to_owned(),
    ] {
        pages.push((&owner, path, StatusCode::OK));
    }
    let mut assets = 0;
    for (browser, path, status) in &pages {
        let response = browser.get(path).await;
        assert_eq!(response.status(), *status, "{path}");
        strict_policy(path, &response);
        let html = response.text().await.expect("html");
        nothing_inline(path, &html);
        assets += assets_of(&app, path, &html).await;
    }
    assert!(
        assets >= pages.len(),
        "every page links its stylesheet ({assets})"
    );

    // The images a page shows are documents when opened alone: they may run nothing.
    for path in [
        format!("/api/payments/{payment}/qr.svg"),
        format!("/l/{fixed}/poster.svg"),
    ] {
        let response = anyone.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(strict_policy(&path, &response), "default-src 'none'");
    }

    // The sandbox's pages (PayDigital's stand-in) too.
    app.merchant_create(json!({ "amount": 10_000 })).await;
    let list = app
        .http
        .get(format!("{}/sandbox", app.sandbox.url()))
        .send()
        .await
        .expect("answer");
    strict_policy("/sandbox", &list);
    let html = list.text().await.expect("html");
    nothing_inline("/sandbox", &html);
    assert!(
        html.contains("data-action=pay"),
        "the Pay buttons are there"
    );
    let invoice = html
        .split("/sandbox/pay/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a payment's page")
        .to_owned();
    let one = app
        .http
        .get(format!("{}/sandbox/pay/{invoice}", app.sandbox.url()))
        .send()
        .await
        .expect("answer");
    strict_policy("/sandbox/pay", &one);
    nothing_inline("/sandbox/pay", &one.text().await.expect("html"));
    for file in ["sandbox.css", "sandbox.js"] {
        let answer = app
            .http
            .get(format!("{}/sandbox/assets/{file}", app.sandbox.url()))
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::OK, "{file}");
    }
}

/// The `pd_lang` cookie the switch sets, as a browser would send it back.
fn chosen(response: &reqwest::Response) -> String {
    let cookies: Vec<&str> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let site_wide = cookies
        .iter()
        .find(|c| c.starts_with("pd_lang=") && c.contains("Path=/;"))
        .unwrap_or_else(|| panic!("a site-wide language cookie in {cookies:?}"));
    // The old cookie scoped to /admin is cleared, so it cannot shadow the choice there.
    assert!(
        cookies.iter().any(|c| c.starts_with("pd_lang=;")
            && c.contains("Path=/admin")
            && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    site_wide.split(';').next().unwrap_or("").to_owned()
}

/// `path` from a browser asking for `accept_language`, carrying the switch's `cookie`.
async fn as_chosen(
    app: &TestApp,
    path: &str,
    accept_language: &str,
    cookie: &str,
) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.proxy.url()))
        .header(ACCEPT_LANGUAGE, accept_language)
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("answer")
}

#[tokio::test]
async fn a_language_chosen_on_one_page_holds_on_the_next() {
    let app = TestApp::spawn().await;
    let payment = app.merchant_create(json!({ "amount": 25_000 })).await;
    let payment = payment["id"].as_str().expect("id").to_owned();
    let link = create_link(&app, json!({ "title": "Kopi", "amount": 25_000 })).await;
    let browser = Browser::new(&app);

    // The dashboard's sign-in page offers English to a browser that asks for Indonesian.
    let login = browser.page("/admin/login").await;
    assert!(login.contains(r#"<html lang="id">"#));
    assert!(
        login.contains("/lang?to=en&amp;back=%2Fadmin%2Flogin"),
        "{login}"
    );
    let switch = browser.get("/lang?to=en&back=%2Fadmin%2Flogin").await;
    assert_eq!(switch.status(), StatusCode::SEE_OTHER);
    assert_eq!(crate::admin::location(&switch), "/admin/login");
    let english = chosen(&switch);
    assert_eq!(english, "pd_lang=en");

    // The next pages, whatever the browser's own language: English.
    for path in [
        format!("/l/{link}"),
        format!("/pay/{payment}"),
        "/admin/login".into(),
    ] {
        let page = as_chosen(&app, &path, "id-ID,id;q=0.9", &english).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        if !path.starts_with("/admin") {
            let vary = page.headers().get("vary").and_then(|v| v.to_str().ok());
            assert!(
                vary.is_some_and(|v| v.contains("Cookie")),
                "{path} varies by the cookie: {vary:?}"
            );
        }
        let html = page.text().await.expect("html");
        assert!(html.contains(r#"<html lang="en">"#), "{path}: {html}");
        assert!(
            html.contains("Bahasa Indonesia"),
            "{path} offers the way back"
        );
    }
    let pay_button = as_chosen(&app, &format!("/l/{link}"), "", &english)
        .await
        .text()
        .await
        .expect("html");
    assert!(pay_button.contains(">Pay<"), "{pay_button}");

    // Switching back from a link's page returns to that page, in Indonesian.
    let back = browser
        .get(&format!("/lang?to=id&back=%2Fl%2F{link}"))
        .await;
    assert_eq!(crate::admin::location(&back), format!("/l/{link}"));
    let indonesian = chosen(&back);
    let page = as_chosen(&app, &format!("/pay/{payment}"), "en-US", &indonesian)
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains(r#"<html lang="id">"#));
    assert!(page.contains(r#"lang="id">"#), "the widget speaks it too");

    // The switch never sends anyone to another site.
    let away = browser.get("/lang?to=en&back=%2F%2Fevil.example%2F").await;
    assert_eq!(crate::admin::location(&away), "/admin/");
}
