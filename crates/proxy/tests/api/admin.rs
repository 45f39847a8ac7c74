//! The shop's people (`dashboard.md` outside "The counter"): accounts from the command line,
//! signing in and out, the session cookie, the throttle, the same-origin rule, what a cashier
//! may not see, the payments list, detail, Check now, Resend, export, the live feed and the
//! audit log — over HTTP against a real proxy, on SQLite and on PostgreSQL.

use crate::helpers::{read_until, wait_for, TestApp, PUBLIC_URL, WEBHOOK_SECRET};
use crate::receiver::Receiver;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_paydigital-proxy");
pub(crate) const OWNER: &str = "pemilik@toko.example";
pub(crate) const OWNER_PASSWORD: &str = "kata-sandi-pemilik-toko";
pub(crate) const CASHIER: &str = "kasir@toko.example";
pub(crate) const CASHIER_PASSWORD: &str = "kata-sandi-kasir-123";

/// `paydigital-proxy ARGS` on the test's store, with `stdin` on standard input.
pub(crate) async fn cli(app: &TestApp, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = tokio::process::Command::new(BIN)
        .args(args)
        .env("CHECKOUT_DATABASE", &app.vars["CHECKOUT_DATABASE"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin");
    // A command refused on its arguments exits before reading: its stdin is then closed.
    let _ = input.write_all(stdin.as_bytes()).await;
    drop(input);
    child.wait_with_output().await.expect("the binary ends")
}

/// A proxy with an owner and a cashier.
pub(crate) async fn shop(extra: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with(extra).await;
    for (email, role, password) in [
        (OWNER, "owner", OWNER_PASSWORD),
        (CASHIER, "cashier", CASHIER_PASSWORD),
    ] {
        let out = cli(
            &app,
            &["staff", "add", email, "--role", role, "--password-stdin"],
            &format!("{password}\n"),
        )
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    app
}

/// A browser of the dashboard: no redirects followed, its cookie kept by hand.
pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) http: reqwest::Client,
    pub(crate) cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.proxy.url())
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        let mut request = self.http.get(self.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, format!("pd_session={cookie}"));
        }
        request.send().await.expect("proxy answers")
    }

    /// A form POST from the dashboard's own origin (the proxy's public URL).
    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_from(path, form, Some(PUBLIC_URL)).await
    }

    pub(crate) async fn post_from(
        &self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Response {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, format!("pd_session={cookie}"));
        }
        request.send().await.expect("proxy answers")
    }

    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Response {
        let response = self
            .post("/admin/login", &[("email", email), ("password", password)])
            .await;
        if let Some(set) = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            self.cookie = set
                .split(';')
                .next()
                .and_then(|pair| pair.strip_prefix("pd_session="))
                .map(str::to_owned);
        }
        response
    }

    pub(crate) async fn signed_in(app: &'a TestApp, email: &str, password: &str) -> Browser<'a> {
        let mut browser = Browser::new(app);
        let response = browser.sign_in(email, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email} signs in");
        browser
    }

    pub(crate) async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.expect("text")
    }
}

pub(crate) fn location(response: &Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn the_first_owner_is_added_from_the_command_line_and_bad_passwords_are_refused() {
    let app = TestApp::spawn().await;
    let short = cli(
        &app,
        &["staff", "add", OWNER, "--role", "owner", "--password-stdin"],
        "pendek\n",
    )
    .await;
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let bad_role = cli(
        &app,
        &["staff", "add", OWNER, "--role", "admin", "--password-stdin"],
        "cukup-panjang-sekali\n",
    )
    .await;
    assert_eq!(bad_role.status.code(), Some(2));
    let bad_email = cli(
        &app,
        &[
            "staff",
            "add",
            "pemilik",
            "--role",
            "owner",
            "--password-stdin",
        ],
        "cukup-panjang-sekali\n",
    )
    .await;
    assert!(String::from_utf8_lossy(&bad_email.stderr).contains("not an email"));
    let added = cli(
        &app,
        &["staff", "add", OWNER, "--role", "owner", "--password-stdin"],
        &format!("{OWNER_PASSWORD}\n"),
    )
    .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let again = cli(
        &app,
        &[
            "staff",
            "add",
            OWNER,
            "--role",
            "cashier",
            "--password-stdin",
        ],
        &format!("{OWNER_PASSWORD}\n"),
    )
    .await;
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has an account"));
    let list = cli(&app, &["staff", "list"], "").await;
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains(OWNER) && listed.contains("owner"),
        "{listed}"
    );
    // The server (running beside the command) lets the new owner in at once.
    Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    // A new password ends the session and the old password with it.
    let mut browser = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let set = cli(
        &app,
        &["staff", "set-password", OWNER, "--password-stdin"],
        "sandi-baru-yang-panjang\n",
    )
    .await;
    assert!(set.status.success());
    assert_eq!(location(&browser.get("/admin/").await), "/admin/login");
    assert_eq!(
        browser.sign_in(OWNER, OWNER_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser
            .sign_in(OWNER, "sandi-baru-yang-panjang")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let removed = cli(&app, &["staff", "remove", OWNER], "").await;
    assert!(removed.status.success());
    assert_eq!(location(&browser.get("/admin/").await), "/admin/login");
    let audit = cli(&app, &["audit", "list"], "").await;
    let audit = String::from_utf8_lossy(&audit.stdout);
    for action in [
        "staff_added",
        "password_set",
        "staff_removed",
        "sign_in",
        "sign_in_failed",
    ] {
        assert!(audit.contains(action), "{action} in {audit}");
    }
}

#[tokio::test]
async fn a_session_is_a_strict_http_only_cookie_the_server_ends_on_sign_out() {
    let app = shop(&[]).await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/admin/login").await;
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(login.headers()["x-frame-options"], "DENY");
    let form = login.text().await.expect("text");
    for label in [">Email<", ">Kata sandi<", ">Masuk<"] {
        assert!(form.contains(label), "{label}");
    }
    let english = browser
        .http
        .get(browser.url("/admin/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    for label in [">Email<", ">Password<", ">Sign in<"] {
        assert!(english.contains(label), "{label}");
    }
    let signed = browser.sign_in(OWNER, OWNER_PASSWORD).await;
    assert_eq!(location(&signed), "/admin/");
    let cookie = signed.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Secure"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    let token = browser.cookie.clone().expect("a session");
    assert!(token.len() >= 22, "at least 128 bits");
    // The store keeps a hash of the token, not the token.
    let database = &app.vars["CHECKOUT_DATABASE"];
    if std::path::Path::new(database).exists() {
        let path = database;
        let db = rusqlite::Connection::open(path).expect("open");
        let stored: String = db
            .query_row("SELECT token_hash FROM staff_sessions", [], |r| r.get(0))
            .expect("a session row");
        assert_ne!(stored, token);
        assert_eq!(stored.len(), 64);
    }
    assert!(browser.page("/admin/").await.contains(OWNER));
    let out = browser.post("/admin/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .contains("Max-Age=0"));
    // The same cookie again: the login page, and 401 for data.
    assert_eq!(location(&browser.get("/admin/").await), "/admin/login");
    assert_eq!(
        browser.get("/admin/live?since=0").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_a_session_every_page_is_the_login_page_and_data_is_401() {
    let app = shop(&[]).await;
    let mut browser = Browser::new(&app);
    for path in [
        "/admin/",
        "/admin/payments",
        "/admin/payments.csv",
        "/admin/payments/pay_AAAAAAAAAAAAAAAAAAAAAA",
        "/admin/audit",
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/admin/login", "{path}");
    }
    assert_eq!(
        browser.get("/admin/live?since=0").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A cookie the store never issued is no session either.
    browser.cookie = Some("A".repeat(43));
    assert_eq!(
        location(&browser.get("/admin/payments").await),
        "/admin/login"
    );
    let post = browser
        .post("/admin/payments/pay_AAAAAAAAAAAAAAAAAAAAAA/check", &[])
        .await;
    assert_eq!(location(&post), "/admin/login");
}

#[tokio::test]
async fn one_answer_for_a_wrong_email_or_password_and_the_sixth_failure_is_429() {
    let app = shop(&[]).await;
    let mut browser = Browser::new(&app);
    let wrong_email = browser.sign_in("siapa@toko.example", OWNER_PASSWORD).await;
    assert_eq!(wrong_email.status(), StatusCode::UNAUTHORIZED);
    let wrong_email = wrong_email.text().await.expect("text");
    for _ in 0..5 {
        let wrong = browser.sign_in(OWNER, "bukan-kata-sandinya").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            wrong.text().await.expect("text"),
            wrong_email,
            "one answer for both"
        );
    }
    let sixth = browser.sign_in(OWNER, OWNER_PASSWORD).await;
    assert_eq!(
        sixth.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password too"
    );
    // Retry-After: until the first of the five failures (a moment ago) leaves the 15 minutes.
    let retry_after: u64 = sixth
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((840..=900).contains(&retry_after), "{retry_after}");
    assert!(browser.cookie.is_none());
    // Another account from the same address still signs in (the address limit is higher).
    Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    let owner_audit = cli(&app, &["audit", "list"], "").await;
    let log = String::from_utf8_lossy(&owner_audit.stdout);
    assert_eq!(log.matches("sign_in_failed").count(), 6, "{log}");
    assert!(
        log.contains("sign_in_throttled") && log.contains("127.0.0.1"),
        "{log}"
    );
}

#[tokio::test]
async fn guesses_sent_at_once_are_counted_as_they_arrive() {
    let app = shop(&[]).await;
    let browser = Browser::new(&app);
    let guesses = (0..9).map(|n| {
        let password = format!("tebakan-ke-{n}");
        let browser = &browser;
        async move {
            browser
                .post(
                    "/admin/login",
                    &[("email", OWNER), ("password", password.as_str())],
                )
                .await
                .status()
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let wrong = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((wrong, refused), (5, 4), "{answers:?}");
    // Four refusals, one line in the audit log for them.
    let log = cli(&app, &["audit", "list"], "").await;
    let log = String::from_utf8_lossy(&log.stdout);
    assert_eq!(log.matches("sign_in_throttled").count(), 1, "{log}");
}

#[tokio::test]
async fn a_change_from_another_origin_is_refused_and_nothing_is_done() {
    let (receiver, url) = Receiver::start().await;
    let app = shop(&[
        ("CHECKOUT_WEBHOOK_URL", &url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
    ])
    .await;
    let payment = app
        .merchant_create(json!({ "amount": 15000, "reference": "CSRF-1" }))
        .await;
    let id = payment["id"].as_str().expect("id");
    receiver
        .wait_for("the created event", Duration::from_secs(10), |seen| {
            !seen.is_empty()
        })
        .await;
    let event = receiver.seen()[0].id.clone();
    let browser = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let resend = format!("/admin/payments/{id}/events/{event}/resend");
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let refused = browser.post_from(&resend, &[], origin).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    let logout = browser
        .post_from("/admin/logout", &[], Some("https://evil.example"))
        .await;
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    // Nothing was done: still signed in, and the event was not queued again.
    assert!(browser.page("/admin/").await.contains(OWNER));
    let ours = browser.post(&resend, &[]).await;
    assert_eq!(ours.status(), StatusCode::SEE_OTHER);
    receiver
        .wait_for("the resend", Duration::from_secs(10), |seen| {
            seen.len() >= 2
        })
        .await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 2, "the refused ones sent nothing");
    assert_eq!(seen[1].id, event, "the same webhook-id");
    // And the audit log holds the one resend that was done, none of the refused.
    let audit = browser.page("/admin/audit").await;
    assert_eq!(audit.matches("<code>resend</code>").count(), 1, "{audit}");
    assert_eq!(audit.matches("<code>sign_out</code>").count(), 0, "{audit}");
}

#[tokio::test]
async fn a_cashier_sees_todays_payments_and_nothing_of_the_owners() {
    let app = shop(&[]).await;
    let today = app
        .merchant_create(json!({ "amount": 12000, "reference": "HARI-INI" }))
        .await;
    // One from yesterday, put in the store directly.
    let yesterday_id = "pay_YesterdayYesterdayYest";
    {
        let store = paydigital_proxy::store::Database::parse(&app.vars["CHECKOUT_DATABASE"])
            .expect("db")
            .open(1)
            .await
            .expect("open");
        let (mut record, event) = crate::helpers::stored_payment(
            yesterday_id,
            "evt_YesterdayYesterdayYest",
            time::OffsetDateTime::now_utc() - Duration::from_secs(86_400),
        );
        record.created_at = time::OffsetDateTime::now_utc() - Duration::from_secs(2 * 86_400);
        record.reference = Some("KEMARIN".into());
        store
            .payments()
            .insert(&record, &event, None)
            .await
            .expect("insert");
    }
    let cashier = Browser::signed_in(&app, CASHIER, CASHIER_PASSWORD).await;
    assert_eq!(location(&cashier.get("/admin/").await), "/admin/counter");
    let list = cashier.page("/admin/payments").await;
    assert!(
        list.contains("HARI-INI") && !list.contains("KEMARIN"),
        "today only"
    );
    assert!(
        !list.contains("/admin/audit") && !list.contains("payments.csv"),
        "no owner links"
    );
    // Asking for a range does not widen it.
    let wide = cashier
        .page("/admin/payments?from=2000-01-01&to=2100-01-01")
        .await;
    assert!(!wide.contains("KEMARIN"));
    for path in [
        "/admin/audit",
        "/admin/payments.csv",
        &format!("/admin/payments/{yesterday_id}"),
    ] {
        assert_eq!(
            cashier.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        cashier.post("/admin/payments.csv", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let id = today["id"].as_str().expect("id");
    assert!(cashier
        .page(&format!("/admin/payments/{id}"))
        .await
        .contains("Rp 12."));
    let events = app.merchant_get(&format!("events?payment_id={id}")).await;
    let event = events["data"][0]["id"]
        .as_str()
        .unwrap_or("evt_x")
        .to_owned();
    let resend = cashier
        .post(&format!("/admin/payments/{id}/events/{event}/resend"), &[])
        .await;
    assert_eq!(resend.status(), StatusCode::FORBIDDEN);
    // The owner sees both.
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let all = owner.page("/admin/payments").await;
    assert!(all.contains("HARI-INI") && all.contains("KEMARIN"));
}

#[tokio::test]
async fn search_status_dates_and_paging_find_payments() {
    let app = shop(&[]).await;
    let sari = app
        .merchant_create(
            json!({ "amount": 21000, "reference": "ORD-SARI", "customer_name": "Sari Dewi" }),
        )
        .await;
    let budi = app
        .merchant_create(
            json!({ "amount": 22000, "reference": "ORD-BUDI", "customer_name": "Budi 50%" }),
        )
        .await;
    for n in 0..26 {
        app.merchant_create(json!({ "amount": 10000 + n, "reference": format!("ORD-{n:03}") }))
            .await;
    }
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let sari_id = sari["id"].as_str().expect("id");
    for q in [
        "ORD-SARI",
        "sari",
        "DEWI",
        sari_id,
        sari["invoice"].as_str().expect("invoice"),
    ] {
        let found = owner
            .page(&format!("/admin/payments?q={}", urlencode(q)))
            .await;
        assert!(found.contains(&format!("row-{sari_id}")), "{q}");
        assert_eq!(found.matches("<tr id=\"row-").count(), 1, "{q} finds one");
    }
    // `%` is a character, not a wildcard.
    let percent = owner.page("/admin/payments?q=50%25").await;
    assert_eq!(percent.matches("<tr id=\"row-").count(), 1);
    assert!(percent.contains(budi["id"].as_str().expect("id")));
    app.pay(budi["invoice"].as_str().expect("invoice"));
    app.merchant_get(&format!("payments/{}", budi["id"].as_str().expect("id")))
        .await;
    let paid = owner.page("/admin/payments?status=paid").await;
    assert_eq!(paid.matches("<tr id=\"row-").count(), 1);
    // Paging over the cursor: 25 and then the rest, nothing twice.
    let first = owner.page("/admin/payments").await;
    assert_eq!(first.matches("<tr id=\"row-").count(), 25);
    let next = first
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .expect("a next link");
    let next = next
        .trim_end_matches('"')
        .trim_end()
        .trim_end_matches('"')
        .replace("&amp;", "&");
    let second = owner.page(&next).await;
    assert_eq!(second.matches("<tr id=\"row-").count(), 3);
    assert!(
        second.contains(&format!("row-{sari_id}")),
        "the oldest on the last page"
    );
    // Dates: nothing was made in 2020.
    let old = owner
        .page("/admin/payments?from=2020-01-01&to=2020-12-31")
        .await;
    assert_eq!(old.matches("<tr id=\"row-").count(), 0);
    // Nonsense is a 400 naming the field.
    for (query, field) in [
        ("status=refunded", "status"),
        ("from=kemarin", "from"),
        ("after=PYG1", "after"),
    ] {
        let response = owner.get(&format!("/admin/payments?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            response.text().await.expect("text").contains(field),
            "{query}"
        );
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("q", text)])
        .expect("enc")
        .trim_start_matches("q=")
        .to_owned()
}

#[tokio::test]
async fn the_detail_shows_the_timeline_and_check_now_and_resend_work() {
    let (receiver, url) = Receiver::start().await;
    let app = shop(&[
        ("CHECKOUT_WEBHOOK_URL", &url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        // The worker would find the payment paid on its own later; Check now must not wait.
        ("CHECKOUT_STATUS_REFRESH_MS", "60000"),
    ])
    .await;
    let payment = app
        .merchant_create(
            json!({ "amount": 25000, "reference": "DETAIL-1", "metadata": { "meja": "7" } }),
        )
        .await;
    let id = payment["id"].as_str().expect("id").to_owned();
    receiver
        .wait_for("payment.created", Duration::from_secs(10), |seen| {
            seen.len() == 1
        })
        .await;
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    app.pay(payment["invoice"].as_str().expect("invoice"));
    let checked = owner
        .post(&format!("/admin/payments/{id}/check"), &[])
        .await;
    assert_eq!(
        location(&checked),
        format!("/admin/payments/{id}?done=checked")
    );
    let detail = owner
        .page(&format!("/admin/payments/{id}?done=checked"))
        .await;
    assert!(
        detail.contains("data-status=\"paid\""),
        "Check now asked PayDigital"
    );
    assert!(detail.contains("Rp 25.") && detail.contains("DETAIL-1") && detail.contains("meja"));
    receiver
        .wait_for("payment.paid", Duration::from_secs(10), |seen| {
            seen.len() == 2
        })
        .await;
    let paid_event = receiver.seen()[1].id.clone();
    // Both events, each with its attempt (status and duration).
    let detail_path = format!("/admin/payments/{id}");
    let detail = read_until(
        Duration::from_secs(10),
        || owner.page(&detail_path),
        |page| page.matches("<td>HTTP 204</td>").count() == 2,
    )
    .await;
    assert!(detail.contains("payment.created") && detail.contains("payment.paid"));
    assert!(detail.contains(&paid_event));
    assert_eq!(detail.matches("<td>HTTP 204</td>").count(), 2, "{detail}");
    assert!(
        detail.contains("<td class=\"num\">"),
        "a duration per attempt"
    );
    let resent = owner
        .post(
            &format!("/admin/payments/{id}/events/{paid_event}/resend"),
            &[],
        )
        .await;
    assert_eq!(
        location(&resent),
        format!("/admin/payments/{id}?done=resent")
    );
    receiver
        .wait_for("the resend", Duration::from_secs(10), |seen| {
            seen.len() == 3
        })
        .await;
    assert_eq!(receiver.seen()[2].id, paid_event);
    // Another payment's event cannot be resent through this one.
    let other = app.merchant_create(json!({ "amount": 1000 })).await;
    let wrong = owner
        .post(
            &format!(
                "/admin/payments/{}/events/{paid_event}/resend",
                other["id"].as_str().expect("id")
            ),
            &[],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let audit = owner.page("/admin/audit").await;
    assert!(audit.contains("resend") && audit.contains("check") && audit.contains(&paid_event));
}

#[tokio::test]
async fn the_export_is_the_filtered_list_and_no_cell_is_a_formula() {
    let app = shop(&[]).await;
    let evil = app.merchant_create(json!({ "amount": 30000, "customer_name": "=HYPERLINK(\"https://evil.example\")", "reference": "XL-1" })).await;
    app.merchant_create(json!({ "amount": 31000, "reference": "XL-2" }))
        .await;
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let exports = || async {
        owner
            .page("/admin/audit")
            .await
            .matches("<code>export</code>")
            .count()
    };
    // The list's Export is a form that posts its filters.
    let list = owner.page("/admin/payments?q=XL-1").await;
    assert!(
        list.contains(r#"<form method="post" action="/admin/payments.csv">"#)
            && list.contains(r#"<input type="hidden" name="q" value="XL-1">"#),
        "{list}"
    );
    // A GET (a prefetch, a chat preview, an old bookmark) exports and writes nothing: the
    // list with the same filters.
    let asked = owner.get("/admin/payments.csv?q=XL-1").await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&asked), "/admin/payments?q=XL-1");
    // A POST from another origin is refused like every other.
    let forged = owner
        .post_from(
            "/admin/payments.csv",
            &[("q", "XL-1")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(exports().await, 0, "nothing audited yet");
    let response = owner.post("/admin/payments.csv", &[("q", "XL-1")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .expect("disposition")
        .contains("attachment"));
    let csv = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("parses");
    assert_eq!(rows.len(), 1, "only the filtered payment");
    assert!(rows[0].iter().any(|cell| cell == evil["id"]));
    assert!(
        rows[0]
            .iter()
            .all(|cell| !cell.starts_with(['=', '+', '-', '@'])),
        "{:?}",
        rows[0]
    );
    assert!(rows[0].iter().any(|cell| cell.starts_with("'=HYPERLINK")));
    let all = owner
        .post("/admin/payments.csv", &[])
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(
        csv::Reader::from_reader(all.as_bytes()).records().count(),
        2
    );
    assert_eq!(exports().await, 2, "each export audited once");
}

#[tokio::test]
async fn the_live_feed_brings_new_and_paid_payments_with_what_to_say() {
    let app = shop(&[]).await;
    let owner = Browser::signed_in(&app, OWNER, OWNER_PASSWORD).await;
    let since = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let payment = app
        .merchant_create(json!({ "amount": 25000, "reference": "LIVE-1" }))
        .await;
    let id = payment["id"].as_str().expect("id").to_owned();
    let live = |since: i64| {
        let owner = &owner;
        async move {
            owner
                .get(&format!("/admin/live?since={since}&summary=1"))
                .await
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let first = live(since).await;
    let created = first["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["payment"] == id.as_str())
        .cloned()
        .expect("the new payment");
    assert_eq!(created["type"], "payment.created");
    assert!(created["row"]
        .as_str()
        .expect("row")
        .contains(&format!("row-{id}")));
    assert_eq!(created["announce"], Value::Null);
    assert_eq!(created["paid_at"], Value::Null);
    app.pay(payment["invoice"].as_str().expect("invoice"));
    app.merchant_get(&format!("payments/{id}")).await;
    let total = payment["total_amount"].as_u64().expect("total");
    let now = first["now"].as_i64().expect("now");
    let paid = read_until(
        Duration::from_secs(10),
        || live(now),
        |l| {
            l["changes"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "payment.paid"))
        },
    )
    .await;
    let change = paid["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["type"] == "payment.paid")
        .cloned()
        .expect("paid");
    assert_eq!(change["status"], "paid");
    let said = change["announce"].as_str().expect("announcement");
    assert!(
        said.starts_with("Pembayaran diterima, ") && said.ends_with(" rupiah"),
        "{said}"
    );
    assert!(said.contains("dua puluh lima ribu"), "{said} for {total}");
    // When it was paid (what a page compares with when announcing was turned on): within
    // PayDigital's second (its `paid_at` has whole seconds), and not after the feed said so.
    let paid_ms = change["paid_at"].as_i64().expect("paid_at");
    let read = app.merchant_get(&format!("payments/{id}")).await;
    let upstream = time::OffsetDateTime::parse(
        read["paid_at"]
            .as_str()
            .expect("the merchant API's paid_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339")
    .unix_timestamp()
        * 1000;
    assert!(
        (upstream..=upstream + 1000).contains(&paid_ms),
        "{paid_ms} within the second of {upstream}"
    );
    assert!(paid_ms <= paid["now"].as_i64().expect("now"));
    assert!(paid["summary"]
        .as_str()
        .expect("summary")
        .contains(&paydigital::rupiah(total)));
    // The overview shows today's total in what customers really paid.
    assert!(
        wait_for(Duration::from_secs(5), || async {
            owner
                .page("/admin/")
                .await
                .contains(&paydigital::rupiah(total))
        })
        .await
    );
}
