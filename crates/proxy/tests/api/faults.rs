//! The store misbehaving (storage.md "Faults"): a full disk (a small tmpfs, filled), a SQLite
//! file locked by another connection, an unreachable PostgreSQL, and a file at start that is
//! not a payment store. Each answers `503 store_unavailable` with `Retry-After` or refuses to
//! start, and nothing acknowledged is lost.

use crate::helpers::{wait_for, TestApp, MERCHANT_KEY, WEBHOOK_SECRET};
use crate::receiver::Receiver;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// SQLite's busy timeout (`store/sqlite_faults.rs`): a locked file answers after it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A small tmpfs mounted for one test, unmounted when dropped (a failing test too).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` where mounting is not allowed (not root, no CAP_SYS_ADMIN): the caller skips.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        if output.status.success() {
            return Some(Tmpfs { dir });
        }
        let said = String::from_utf8_lossy(&output.stderr).to_lowercase();
        if [
            "permission denied",
            "not permitted",
            "superuser",
            "only root",
        ]
        .iter()
        .any(|s| said.contains(s))
        {
            return None;
        }
        panic!("mount -t tmpfs failed: {said}");
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a proxy that panicked with the file open must not leave the mount behind.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes `path` until the file system has no room left.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("filler");
    let chunk = vec![0xA5u8; 64 * 1024];
    loop {
        if let Err(e) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            assert_eq!(e.raw_os_error(), Some(28), "ENOSPC, not {e}");
            break;
        }
    }
    // The last partial chunk: page by page, so not a byte is left.
    let page = vec![0xA5u8; 512];
    while file.write_all(&page).and_then(|()| file.sync_all()).is_ok() {}
}

/// `/healthz`: its status and body.
async fn health(app: &TestApp) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}/healthz", app.proxy.url()))
        .send()
        .await
        .expect("answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// A merchant create with `reference`: its status, `Retry-After`, body and how long it took.
async fn create(app: &TestApp, reference: &str) -> (u16, Option<String>, Value, Duration) {
    let started = Instant::now();
    let response = app
        .merchant(
            reqwest::Method::POST,
            "payments",
            Some(MERCHANT_KEY),
            Some(json!({ "amount": 25_000, "reference": reference })),
        )
        .await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        retry_after,
        response.json().await.expect("json"),
        took,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_fast_loses_nothing_and_catches_up_when_space_is_back() {
    let Some(disk) = Tmpfs::mount("4m") else {
        println!("skipped: cannot mount tmpfs (not root / no CAP_SYS_ADMIN)");
        return;
    };
    let database = disk.path().join("checkout.sqlite");
    let (receiver, url) = Receiver::start().await;
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_DATABASE", &database.display().to_string()),
        ("CHECKOUT_WEBHOOK_URL", &url),
        ("CHECKOUT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("CHECKOUT_WEBHOOK_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("CHECKOUT_STATUS_REFRESH_MS", "500"),
    ])
    .await;
    // Three payments acknowledged; two paid and told, the third still pending.
    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let (status, _, body, _) = create(&app, &format!("KEPT-{n}")).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(body);
    }
    for paid in &acknowledged[..2] {
        app.pay(paid["invoice"].as_str().expect("invoice"));
    }
    let settled = |id: Value| {
        move |seen: &[crate::receiver::Received]| {
            seen.iter()
                .any(|r| r.kind() == "payment.paid" && r.payment() == id)
        }
    };
    for paid in &acknowledged[..2] {
        receiver
            .wait_for(
                "payment.paid",
                Duration::from_secs(20),
                settled(paid["id"].clone()),
            )
            .await;
    }
    let pending = acknowledged[2].clone();
    let pending_id = pending["id"].as_str().expect("id").to_owned();

    fill(&disk.path().join("filler"));

    // Creates: a clear 503 at once, never a 201 for a payment that was not kept.
    for n in 0..3 {
        let (status, retry_after, body, took) = create(&app, &format!("FULL-{n}")).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("disk is full"), "{message}");
        assert!(retry_after.is_some(), "Retry-After on {body}");
        assert!(
            took < BUSY_TIMEOUT / 5,
            "a full disk answers at once: {took:?}"
        );
    }
    // Reads of known payments are still answered.
    for known in &acknowledged {
        let id = known["id"].as_str().expect("id");
        let read = app.status(id).await;
        assert_eq!(read.status(), 200, "{id}");
    }
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["store"], "disk_full", "{body}");

    // Paid upstream meanwhile: the proxy's check cannot be written while the disk is full.
    app.pay(pending["invoice"].as_str().expect("invoice"));
    assert!(
        wait_for(Duration::from_secs(10), || async {
            crate::helpers::captured_logs()
                .lines()
                .any(|l| l.contains("cannot read due checks") && l.contains("disk is full"))
        })
        .await,
        "the worker met the full disk and carried on"
    );
    std::fs::remove_file(disk.path().join("filler")).expect("space is back");

    // No restart: the paid status is recorded and told once.
    receiver
        .wait_for(
            "the pending payment's payment.paid",
            Duration::from_secs(30),
            settled(json!(pending_id)),
        )
        .await;
    assert!(
        wait_for(Duration::from_secs(10), || async {
            let events = app.merchant_get("events?limit=100").await;
            events["data"].as_array().is_some_and(|events| {
                events.iter().any(|e| {
                    e["type"] == "payment.paid"
                        && e["data"]["id"] == json!(pending_id)
                        && e["delivery"]["state"] == "delivered"
                })
            })
        })
        .await,
        "the delivery is recorded as delivered"
    );
    let told = receiver
        .seen()
        .iter()
        .filter(|r| r.kind() == "payment.paid" && r.payment() == pending_id)
        .count();
    assert_eq!(told, 1, "payment.paid delivered exactly once");
    let (status, _) = health(&app).await;
    assert_eq!(status, 200, "healthy again without a restart");
    let (status, _, body, _) = create(&app, "AFTER").await;
    assert_eq!(status, 201, "{body}");

    app.proxy.stop().await;
    let db = rusqlite::Connection::open(&database).expect("open");
    for known in &acknowledged {
        let id = known["id"].as_str().expect("id");
        let count: i64 = db
            .query_row("SELECT count(*) FROM payments WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(count, 1, "{id} kept once");
    }
    let status: String = db
        .query_row(
            "SELECT status FROM payments WHERE id = ?1",
            [&pending_id],
            |r| r.get(0),
        )
        .expect("status");
    assert_eq!(status, "paid");
    let refused: i64 = db
        .query_row(
            "SELECT count(*) FROM payments WHERE reference LIKE 'FULL-%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(refused, 0, "no payment that answered 503 exists");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_file_answers_503_busy_until_the_lock_is_released() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("checkout.sqlite");
    let app = TestApp::spawn_with(&[("CHECKOUT_DATABASE", &database.display().to_string())]).await;
    let (status, _, kept, _) = create(&app, "BEFORE-LOCK").await;
    assert_eq!(status, 201, "{kept}");

    // Another program (a careless `sqlite3` session) holds the write lock.
    let other = rusqlite::Connection::open(&database).expect("open");
    other.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["store"], "busy", "{body}");
    let (status, retry_after, body, took) = create(&app, "LOCKED").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("locked"),
        "{body}"
    );
    assert!(retry_after.is_some(), "Retry-After on {body}");
    assert!(took >= BUSY_TIMEOUT, "it waited the busy timeout: {took:?}");
    // Reads go on beside the lock (WAL).
    let read = app.status(kept["id"].as_str().expect("id")).await;
    assert_eq!(read.status(), 200);

    other.execute_batch("ROLLBACK").expect("unlock");
    let (status, _, body, _) = create(&app, "AFTER-LOCK").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    let locked: i64 = other
        .query_row(
            "SELECT count(*) FROM payments WHERE reference = 'LOCKED'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(locked, 0, "the 503 kept nothing");
}

/// `serve --sandbox` over `database`, which must refuse to start: its exit status and
/// stderr.
async fn serve_refused(database: &str) -> (std::process::ExitStatus, String) {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_paydigital-proxy"))
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0"])
        .env("CHECKOUT_DATABASE", database)
        .env("RUST_LOG", "warn")
        .env_remove("PAYDIGITAL_API_KEY")
        .env_remove("PAYDIGITAL_API_KEY_FILE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("refuses within 30 s instead of serving")
        .expect("output");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn digest(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).expect("read")).to_vec()
}

/// A real store with a few payments, closed (its WAL folded into the file).
async fn real_store(path: &Path) {
    use paydigital_proxy::store::{PaymentStore, SqliteStore};
    let store = SqliteStore::open(path).expect("store");
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    for n in 0..50 {
        let (record, event) =
            crate::helpers::stored_payment(&format!("pay_{n:04}"), &format!("evt_{n:04}"), expires);
        store
            .payments()
            .insert(&record, &event, None)
            .await
            .expect("insert");
    }
}

/// Overwrites the payments table's first page with garbage: a store damaged in its middle.
fn damage(path: &Path) {
    let (root, page_size): (i64, i64) = {
        let db = rusqlite::Connection::open(path).expect("open");
        let root = db
            .query_row(
                "SELECT rootpage FROM sqlite_schema WHERE name = 'payments'",
                [],
                |r| r.get(0),
            )
            .expect("root page");
        let size = db
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .expect("page size");
        (root, size)
    };
    let mut bytes = std::fs::read(path).expect("read");
    let start = usize::try_from((root - 1) * page_size).expect("offset");
    let end = start + usize::try_from(page_size).expect("size");
    assert!(end <= bytes.len() && start > 0, "a page inside the file");
    for (i, byte) in bytes[start..end].iter_mut().enumerate() {
        *byte = (i * 7 + 13) as u8;
    }
    std::fs::write(path, bytes).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_sound_store_is_refused_at_start_and_left_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let noise = dir.path().join("noise.sqlite");
    std::fs::write(
        &noise,
        (0..20_000u32)
            .map(|i| (i * 31 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("write");
    let notes = dir.path().join("notes.sqlite");
    rusqlite::Connection::open(&notes)
        .and_then(|db| {
            db.execute_batch(
                "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('buy milk');",
            )
        })
        .expect("another app's database");
    let damaged = dir.path().join("damaged.sqlite");
    real_store(&damaged).await;
    damage(&damaged);

    let cases: [(&PathBuf, &str); 3] = [
        (&noise, "not a SQLite database"),
        (&notes, "another program's SQLite database"),
        (&damaged, "damaged"),
    ];
    for (path, problem) in cases {
        let before = digest(path);
        let (status, stderr) = serve_refused(&path.display().to_string()).await;
        assert!(!status.success(), "{}: {status}; {stderr}", path.display());
        assert!(
            stderr.contains(&path.display().to_string()),
            "names the file: {stderr}"
        );
        assert!(stderr.contains(problem), "says {problem:?}: {stderr}");
        assert_eq!(digest(path), before, "{} unchanged", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_at_start_is_refused_with_a_clear_message() {
    let port = crate::helpers::free_port();
    let url = format!("postgres://checkout@127.0.0.1:{port}/checkout?sslmode=disable");
    let started = Instant::now();
    let (status, stderr) = serve_refused(&url).await;
    assert!(!status.success(), "{status}; {stderr}");
    assert!(
        stderr.contains("is unreachable"),
        "says the database is unreachable: {stderr}"
    );
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "names it: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
