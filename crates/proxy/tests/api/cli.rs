//! The `paydigital-proxy` binary itself: the `qris` command's output and exit codes, and a
//! real process that is killed with SIGKILL (nothing lost) or stopped with SIGTERM (clean).

use crate::helpers::{read_until, signal};
use serde_json::Value;
use std::process::{Child, Command};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_paydigital-proxy");
const DANA_STATIC: &str = "00020101021126570011ID.DANA.WWW011893600915300060605702090006060570303UMI51440014ID.CO.QRIS.WWW0215ID10190046990790303UMI5204481453033605802ID5912Saifullah.id6014Kota Pontianak61057812463045F72";
const DOKU_DYNAMIC: &str = "00020101021226530012COM.DOKU.WWW0118936008990000002475020424750303URE51440014ID.CO.QRIS.WWW0215ID10200392934820303URE5204539953033605404100055020256035005802ID5911GUREUM SHOP6013JAKARTA PUSAT61051064062070703A016304FD26";

#[test]
fn qris_prints_the_fields_as_json() {
    let output = Command::new(BIN)
        .args(["qris", DOKU_DYNAMIC])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let fields: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(fields["merchant_name"], "GUREUM SHOP");
    assert_eq!(fields["merchant_city"], "JAKARTA PUSAT");
    assert_eq!(fields["amount"], "1000");
    assert_eq!(fields["dynamic"], true);
    assert_eq!(fields["currency"], "360");
    assert_eq!(fields["country"], "ID");
    assert_eq!(fields["merchant_accounts"][0]["guid"], "COM.DOKU.WWW");

    let output = Command::new(BIN)
        .args(["qris", DANA_STATIC])
        .output()
        .expect("runs");
    let fields: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(fields["amount"], Value::Null);
    assert_eq!(fields["dynamic"], false);
}

#[test]
fn qris_exits_1_with_the_reason_for_invalid_codes_and_2_on_usage_errors() {
    let tampered = DANA_STATIC.replace("Saifullah", "Saifullax");
    let output = Command::new(BIN)
        .args(["qris", &tampered])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("crc mismatch"));
    assert!(output.stdout.is_empty());

    let output = Command::new(BIN)
        .args(["qris", "hello"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("000201"));

    let output = Command::new(BIN).args(["qris"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(BIN)
        .args(["frobnicate"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_live_config_without_a_key_refuses_to_start_and_says_which_variable() {
    let output = Command::new(BIN)
        .arg("serve")
        .env_remove("PAYDIGITAL_API_KEY")
        .env_remove("PAYDIGITAL_API_KEY_FILE")
        .env("PAYDIGITAL_STORE_ID", "S1")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PAYDIGITAL_API_KEY"));
}

#[test]
fn the_sandbox_refuses_a_real_key_and_a_public_address_unless_told() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serve = |args: &[&str], key: Option<&str>| {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .args(args)
            .env("CHECKOUT_DATABASE", dir.path().join("checkout.sqlite"))
            .env("RUST_LOG", "warn")
            .env_remove("PAYDIGITAL_API_KEY")
            .env_remove("PAYDIGITAL_API_KEY_FILE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(key) = key {
            command.env("PAYDIGITAL_API_KEY", key);
        }
        command
    };
    let refused = serve(
        &["--sandbox", "--listen", "127.0.0.1:0"],
        Some("pd_live_REAL"),
    )
    .output()
    .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("PAYDIGITAL_API_KEY") && stderr.contains("--sandbox-public"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pd_live_REAL"),
        "the key is not echoed: {stderr}"
    );
    let refused = serve(&["--sandbox", "--listen", "0.0.0.0:0"], None)
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("CHECKOUT_LISTEN"));
    // Told, it starts (and prints its URL).
    let mut child = serve(
        &["--sandbox", "--sandbox-public", "--listen", "127.0.0.1:0"],
        Some("pd_live_REAL"),
    )
    .spawn()
    .expect("starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(crate::helpers::banner_url(&line).is_some(), "{line:?}");
}

/// Starts `serve --sandbox` on a free port over `database`; returns the child and its URL.
fn serve(database: &std::path::Path) -> (Child, String) {
    crate::helpers::serve_binary(database, &[("CHECKOUT_STATUS_REFRESH_MS", "0")])
}

#[tokio::test]
async fn kill_9_loses_nothing_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("checkout.sqlite");
    let http = reqwest::Client::new();

    let (mut child, url) = serve(&database);
    let created: Value = http
        .post(format!("{url}/api/payments"))
        .json(&serde_json::json!({ "amount": 42_000, "reference": "ORDER-KILL" }))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let invoice = created["invoice"].as_str().expect("invoice").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    // Answered means written: kill -9 straight away.
    signal(&child, "KILL");
    child.wait().expect("reaped");

    // The sandbox lived in that process, so it has forgotten the invoice; the proxy has not.
    let (mut child, url) = serve(&database);
    let read: Value = http
        .get(format!("{url}/api/payments/{id}"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(read["invoice"], invoice.as_str());
    assert_eq!(read["total_amount"], created["total_amount"]);
    assert_eq!(read["qr_content"], created["qr_content"]);

    signal(&child, "TERM");
    let exited = read_until(
        Duration::from_secs(5),
        || std::future::ready(child.try_wait().expect("wait")),
        Option::is_some,
    )
    .await;
    let status = exited.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("did not stop on SIGTERM")
    });
    assert!(status.success(), "{status}");
}

/// `paydigital-proxy openapi` writes the committed `docs/openapi.json`, byte for byte, to
/// stdout or to `--output`.
#[test]
fn openapi_writes_the_committed_document() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .expect("docs/openapi.json");
    let out = Command::new(BIN).arg("openapi").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == committed.as_bytes(),
        "docs/openapi.json is stale: cargo run -p paydigital-proxy -- openapi --output docs/openapi.json"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    let status = Command::new(BIN)
        .args(["openapi", "--output"])
        .arg(&file)
        .status()
        .expect("runs");
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&file).expect("written"), committed);
    let refused = Command::new(BIN)
        .args(["openapi", "--output", "/nonexistent-dir/openapi.json"])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot write"));
}
