//! `paydigital-proxy migrate --to postgres://...`: a SQLite store's payments, events and
//! delivery state, copied into PostgreSQL and served from there; a second run copies nothing.

use crate::helpers::{fresh_postgres_database, read_until, TestApp};
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

fn migrate(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
        .arg("migrate")
        .args(args)
        .env_remove("CHECKOUT_DATABASE")
        .output()
        .expect("runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What the merchant API shows of every payment and event: the same before and after.
async fn books(app: &TestApp) -> (Value, Value) {
    let payments = app.merchant_get("payments?limit=100").await;
    let events = app.merchant_get("events?limit=100").await;
    (payments["data"].clone(), events["data"].clone())
}

#[tokio::test]
async fn a_sqlite_store_moves_to_postgres_once_with_its_delivery_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = dir.path().join("old.sqlite").display().to_string();
    // Webhooks to a closed port: every event has failed attempts to carry over.
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_DATABASE", &sqlite),
        ("CHECKOUT_STATUS_REFRESH_MS", "0"),
        ("CHECKOUT_WEBHOOK_URL", "http://127.0.0.1:9/hooks"),
        (
            "CHECKOUT_WEBHOOK_SECRET",
            "whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=",
        ),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "1h"),
    ])
    .await;
    let paid = app
        .merchant_create(
            json!({ "amount": 20_000, "reference": "ORDER-OLD-1", "metadata": { "cart": "c_1" } }),
        )
        .await;
    app.merchant_create(json!({ "amount": 30_000, "reference": "ORDER-OLD-2" }))
        .await;
    app.pay(paid["invoice"].as_str().expect("invoice"));
    let paid_id = paid["id"].as_str().expect("id");
    assert_eq!(
        app.merchant_get(&format!("payments/{paid_id}")).await["status"],
        "paid"
    );
    // Until both `payment.created` events have had their (failed) first attempt; the
    // `payment.paid` waits behind its payment's first event.
    let before = read_until(
        Duration::from_secs(10),
        || books(&app),
        |(_, events)| {
            let events = events.as_array().cloned().unwrap_or_default();
            let tried = events
                .iter()
                .filter(|e| e["delivery"]["attempts"] == 1)
                .count();
            events.len() == 3 && tried == 2
        },
    )
    .await;
    assert_eq!(before.0.as_array().map(Vec::len), Some(2));
    assert_eq!(before.1.as_array().map(Vec::len), Some(3));
    // A payment link, with what its page's forms are signed with.
    let link = app
        .merchant(
            reqwest::Method::POST,
            "payment-links",
            Some(crate::helpers::MERCHANT_KEY),
            Some(json!({ "title": "Kopi susu", "amount": 25_000, "max_payments": 5 })),
        )
        .await;
    assert_eq!(link.status(), 201);
    let link: Value = link.json().await.expect("json");
    let link_id = link["id"].as_str().expect("id").to_owned();
    let form = reqwest::get(format!("{}/l/{link_id}", app.proxy.url()))
        .await
        .expect("link page")
        .text()
        .await
        .expect("text");
    let link_before = app.merchant_get(&format!("payment-links/{link_id}")).await;
    // An owner, who must be able to sign in after the move with the same password.
    let added = Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
        .args([
            "staff",
            "add",
            "pemilik@toko.example",
            "--role",
            "owner",
            "--password-stdin",
            "--database",
            &sqlite,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"kata-sandi-pemilik-toko\n")?;
            child.wait()
        })
        .expect("staff add runs");
    assert!(added.success());
    let sandbox = app.sandbox;
    app.proxy.stop().await;

    let postgres = fresh_postgres_database().await;
    let (ok, out, err) = migrate(&["--to", &postgres, "--from", &sqlite]);
    assert!(ok, "{err}");
    assert!(
        out.contains(
            "2 of 2 payments, 3 of 3 events, 2 attempts, 1 of 1 links, 1 of 1 staff, 1 of 1 audit lines copied"
        ),
        "{out}"
    );
    let password = postgres
        .split_once("postgres:")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(p, _)| p.to_owned())
        .expect("password");
    assert!(!out.contains(&password) && !err.contains(&password));
    let (ok, out, err) = migrate(&["--to", &postgres, "--from", &sqlite]);
    assert!(ok, "{err}");
    assert!(
        out.contains(
            "0 of 2 payments, 0 of 3 events, 0 attempts, 0 of 1 links, 0 of 1 staff, 0 of 1 audit lines copied"
        ),
        "run twice, nothing doubled: {out}"
    );

    // A proxy on PostgreSQL answers exactly as the old one did. It talks to the same
    // PayDigital (the old sandbox): a second sandbox would number its first invoice as the
    // first one did, and within the same second that is the same invoice number.
    let paydigital = sandbox.url();
    let moved = TestApp::spawn_with(&[
        ("CHECKOUT_DATABASE", &postgres),
        ("CHECKOUT_STATUS_REFRESH_MS", "0"),
        ("PAYDIGITAL_BASE_URL", &paydigital),
    ])
    .await;
    let after = books(&moved).await;
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/admin/login", moved.proxy.url()))
        .header("origin", crate::helpers::PUBLIC_URL)
        .form(&[
            ("email", "pemilik@toko.example"),
            ("password", "kata-sandi-pemilik-toko"),
        ])
        .send()
        .await
        .expect("answers");
    assert_eq!(signed_in.status(), 303, "the owner signs in on PostgreSQL");
    // Payments read back now: `expires_in` and `server_time` are of this moment.
    let strip = |items: &Value| -> Vec<Value> {
        let clock = |payment: &mut Value| {
            if let Some(fields) = payment.as_object_mut() {
                fields.remove("expires_in");
                fields.remove("server_time");
            }
        };
        items
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| {
                clock(&mut item);
                if let Some(data) = item.get_mut("data") {
                    clock(data);
                }
                item
            })
            .collect()
    };
    assert_eq!(strip(&after.0), strip(&before.0), "payments");
    assert_eq!(
        strip(&after.1),
        strip(&before.1),
        "events and their delivery"
    );
    let stripped: Vec<Value> = strip(&after.1);
    let tried: Vec<&Value> = stripped
        .iter()
        .filter(|e| e["delivery"]["attempts"] == 1)
        .collect();
    assert_eq!(tried.len(), 2);
    assert!(tried
        .iter()
        .all(|e| e["delivery"]["state"] == "pending" && e["delivery"]["last_status"].is_string()));
    let one = moved.merchant_get(&format!("payments/{paid_id}")).await;
    assert_eq!(one["metadata"]["cart"], "c_1");
    assert_eq!(one["status"], "paid");
    // The link came along as it was, and a form its page showed before the move still pays.
    assert_eq!(
        moved
            .merchant_get(&format!("payment-links/{link_id}"))
            .await,
        link_before
    );
    let token = form
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's token");
    let pressed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/l/{link_id}", moved.proxy.url()))
        .header("origin", moved.proxy.url())
        .form(&[("token", token)])
        .send()
        .await
        .expect("answers");
    assert_eq!(pressed.status(), 303, "the old form pays on PostgreSQL");
    drop(sandbox);

    // Wrong arguments say what is wrong.
    let (ok, _, err) = migrate(&["--to", &sqlite, "--from", &sqlite]);
    assert!(
        !ok && err.contains("--to must be a PostgreSQL URL"),
        "{err}"
    );
    let (ok, _, err) = migrate(&["--to", &postgres, "--from", "/nonexistent.sqlite"]);
    assert!(
        !ok && err.contains("no payment store at /nonexistent.sqlite"),
        "{err}"
    );
}
