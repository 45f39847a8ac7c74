//! Backups of a SQLite store (storage.md "Backups"): `paydigital-proxy backup` while writers
//! keep creating payments, `restore` (refused while a proxy serves the store, or for a file
//! that is not a store of this binary or an older one), the proxy's scheduled snapshots
//! (`CHECKOUT_BACKUP_DIR`) and their metrics, and what `backup` says on PostgreSQL. The
//! commands run as the real binary; proxies run in process or as the binary where a process
//! must stop. The scheduled snapshots are `scheduled.rs`.

use crate::helpers::{read_until, serve_binary, signal, wait_for, TestApp};
use paydigital_proxy::store::SQLITE_SCHEMA_VERSION;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod scheduled;

const BIN: &str = env!("CARGO_BIN_EXE_paydigital-proxy");

/// `paydigital-proxy <args>` on the store `database`.
fn run(database: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("CHECKOUT_DATABASE", database)
        .output()
        .expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file in `dir` with the SHA-256 of its content: what "nothing changed" compares.
fn hashes(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .expect("reads the folder")
        .map(|entry| {
            let entry = entry.expect("entry");
            let name = entry.file_name().into_string().expect("UTF-8");
            let digest = if entry.file_type().expect("type").is_file() {
                format!(
                    "{:x}",
                    Sha256::digest(std::fs::read(entry.path()).expect("reads"))
                )
            } else {
                "folder".into()
            };
            (name, digest)
        })
        .collect()
}

/// `PRAGMA integrity_check`, the schema version and the payment ids of a SQLite file.
pub(super) fn inspect(path: &Path) -> (String, usize, HashSet<String>) {
    let conn = rusqlite::Connection::open(path).expect("opens");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    let version: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("user_version");
    let mut ids = conn.prepare("SELECT id FROM payments").expect("payments");
    let ids = ids
        .query_map([], |row| row.get::<_, String>(0))
        .expect("ids")
        .collect::<Result<HashSet<_>, _>>()
        .expect("ids");
    (integrity, version, ids)
}

fn count(path: &Path, table: &str) -> u64 {
    let conn = rusqlite::Connection::open(path).expect("opens");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("count")
}

/// `N payments, N events, N staff` as `backup` printed them.
fn printed_counts(stdout: &str) -> (u64, u64, u64) {
    let number = |word: &str| -> u64 {
        let before = stdout
            .split(&format!(" {word}"))
            .next()
            .expect("the word is there");
        before
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a count of {word} in {stdout:?}"))
    };
    (number("payments"), number("events"), number("staff"))
}

#[tokio::test]
async fn a_backup_taken_while_three_writers_create_holds_every_acknowledged_payment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("live.sqlite");
    let db_text = db.display().to_string();
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_DATABASE", db_text.as_str()),
        // As fast as three writers can go: a minute's budget (60000, one a millisecond:
        // finer is rounded to nothing and races) is far more than they make.
        ("CHECKOUT_CREATES_PER_MINUTE", "60000"),
        ("CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN", "60000"),
    ])
    .await;
    // Each writer posts creates until told to stop; every answer is a 201, kept with the
    // moment it was received.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3u64)
        .map(|writer| {
            let (http, url) = (
                app.http.clone(),
                format!("{}/api/payments", app.proxy.url()),
            );
            let (acked, stop) = (acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let response = http
                        .post(&url)
                        .json(&json!({ "amount": 10_000 + writer * 1000 + n % 1000 }))
                        .send()
                        .await
                        .expect("answers");
                    let status = response.status();
                    let body: Value = response.json().await.expect("JSON");
                    assert_eq!(status, 201, "every create is kept: {body}");
                    let id = body["id"].as_str().expect("id").to_owned();
                    acked.lock().expect("acked").push((id, Instant::now()));
                }
            })
        })
        .collect();
    let enough = wait_for(Duration::from_secs(30), || {
        let n = acked.lock().expect("acked").len();
        std::future::ready(n >= 30)
    })
    .await;
    assert!(enough, "the writers create payments");

    let target = dir.path().join("backup.sqlite");
    let began = Instant::now();
    let output = tokio::process::Command::new(BIN)
        .args(["backup", target.to_str().expect("UTF-8")])
        .env("CHECKOUT_DATABASE", &db)
        .output()
        .await
        .expect("runs");
    let finished = Instant::now();
    // A few more while the proxy keeps going, then stop the writers.
    let total = acked.lock().expect("acked").len();
    wait_for(Duration::from_secs(10), || {
        let n = acked.lock().expect("acked").len();
        std::future::ready(n >= total + 5)
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer saw only 201s");
    }
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));

    let acked = acked.lock().expect("acked").clone();
    let before: HashSet<String> = acked
        .iter()
        .filter(|(_, at)| *at <= began)
        .map(|(id, _)| id.clone())
        .collect();
    let during = acked
        .iter()
        .filter(|(_, at)| *at > began && *at <= finished)
        .count();
    assert!(during > 0, "the writers kept writing while the backup ran");

    let (integrity, version, ids) = inspect(&target);
    assert_eq!(integrity, "ok");
    assert_eq!(
        version, SQLITE_SCHEMA_VERSION,
        "a store of this binary's version"
    );
    let missing: Vec<_> = before.difference(&ids).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged payments are missing: {missing:?}",
        missing.len(),
        before.len()
    );
    let printed = printed_counts(&stdout);
    assert_eq!(
        printed,
        (
            count(&target, "payments"),
            count(&target, "events"),
            count(&target, "staff")
        ),
        "{stdout}"
    );
    assert!(printed.0 >= 30, "{stdout}");
    // It opens as a store of this version, migrating nothing, and reads as one.
    let store = paydigital_proxy::store::SqliteStore::open(&target).expect("opens as a store");
    let one = before.iter().next().expect("one");
    let record = paydigital_proxy::store::PaymentStore::payments(&store)
        .get(one)
        .await
        .expect("reads")
        .expect("there");
    assert_eq!(&record.id, one);
    assert!(
        !dir.path().join("backup.sqlite.tmp").exists(),
        "no temporary is left"
    );
}

/// A payment created through a proxy run as the binary; its id.
async fn create(http: &reqwest::Client, url: &str) -> String {
    let response = http
        .post(format!("{url}/api/payments"))
        .json(&json!({ "amount": 25_000 }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    body["id"].as_str().expect("id").to_owned()
}

async fn status_of(http: &reqwest::Client, url: &str, id: &str) -> u16 {
    http.get(format!("{url}/api/payments/{id}"))
        .send()
        .await
        .expect("answers")
        .status()
        .as_u16()
}

/// A proxy run as the binary, killed if the test fails before it is stopped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn serve(db: &Path) -> (Served, String) {
    let (child, url) = serve_binary(db, &[]);
    (Served(child), url)
}

async fn stop(mut served: Served) {
    let child = &mut served.0;
    signal(child, "TERM");
    let exited = read_until(
        Duration::from_secs(10),
        || std::future::ready(child.try_wait().expect("wait")),
        Option::is_some,
    )
    .await;
    if exited.is_none() {
        let _ = child.kill();
        panic!("did not stop on SIGTERM");
    }
}

#[tokio::test]
async fn restore_refuses_while_a_proxy_serves_then_puts_the_backup_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live = dir.path().join("live");
    std::fs::create_dir(&live).expect("folder");
    let db = live.join("checkout.sqlite");
    let backup = dir.path().join("backup.sqlite");
    let http = reqwest::Client::new();

    let (mut served, url) = serve(&db);
    let kept = [create(&http, &url).await, create(&http, &url).await];
    let output = run(
        &db.display().to_string(),
        &["backup", backup.to_str().expect("UTF-8")],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let later = create(&http, &url).await;

    // Held still (SIGSTOP) so that its own writes cannot change the files meanwhile: the
    // lock is still held, and the refusal must change nothing.
    signal(&served.0, "STOP");
    let files_before = hashes(&live);
    let backup_before = hashes(dir.path());
    let output = run(
        &db.display().to_string(),
        &["restore", backup.to_str().expect("UTF-8")],
    );
    let files_after = hashes(&live);
    let backup_after = hashes(dir.path());
    signal(&served.0, "CONT");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("a proxy is serving") && stderr.contains("stop it first"),
        "{stderr}"
    );
    assert_eq!(
        files_before, files_after,
        "nothing in the store's folder changed"
    );
    assert_eq!(backup_before, backup_after, "nor the backup");
    assert_eq!(status_of(&http, &url, &later).await, 200, "still serving");
    // Killed, not stopped: what it committed last is still in `-wal`, not in the main file,
    // and must be in the store kept aside all the same.
    signal(&served.0, "KILL");
    served.0.wait().expect("reaped");
    let wal = live.join("checkout.sqlite-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "the killed proxy left its -wal"
    );

    let output = run(
        &db.display().to_string(),
        &["restore", backup.to_str().expect("UTF-8")],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("2 payments"), "{stdout}");
    let aside: Vec<PathBuf> = std::fs::read_dir(&live)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("checkout.sqlite.before-restore-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "the old store is kept beside: {aside:?}");
    assert!(stdout.contains(&aside[0].display().to_string()), "{stdout}");
    // The old store, with what its -wal held, is whole in the file kept aside.
    let (integrity, _, old_ids) = inspect(&aside[0]);
    assert_eq!(integrity, "ok");
    assert!(old_ids.contains(&later) && kept.iter().all(|id| old_ids.contains(id)));
    assert!(
        !wal.exists(),
        "the old store's -wal is not left for the new file"
    );

    let (served, url) = serve(&db);
    for id in &kept {
        assert_eq!(status_of(&http, &url, id).await, 200, "{id} is back");
    }
    assert_eq!(
        status_of(&http, &url, &later).await,
        404,
        "a payment made after the backup is not in it"
    );
    stop(served).await;
}

#[tokio::test]
async fn restore_refuses_random_bytes_and_a_newer_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live = dir.path().join("live");
    std::fs::create_dir(&live).expect("folder");
    let db = live.join("checkout.sqlite");
    drop(paydigital_proxy::store::SqliteStore::open(&db).expect("a store"));
    let given = dir.path().join("given");
    std::fs::create_dir(&given).expect("folder");

    let random = given.join("random.sqlite");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, bytes).expect("writes");
    let newer = given.join("newer.sqlite");
    drop(paydigital_proxy::store::SqliteStore::open(&newer).expect("a store"));
    rusqlite::Connection::open(&newer)
        .and_then(|c| c.pragma_update(None, "user_version", SQLITE_SCHEMA_VERSION + 1))
        .expect("made newer");
    let not_a_store = given.join("other.sqlite");
    rusqlite::Connection::open(&not_a_store)
        .and_then(|c| c.execute_batch("CREATE TABLE notes (text TEXT)"))
        .expect("another program's database");

    let before = hashes(&live);
    for (file, says) in [
        (&random, "not a SQLite database"),
        (&newer, "newer than this binary"),
        (&not_a_store, "not a payment store"),
        (&given.join("missing.sqlite"), "no payment store at"),
    ] {
        let output = run(
            &db.display().to_string(),
            &["restore", file.to_str().expect("UTF-8")],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{file:?}: {stderr}");
        assert!(stderr.contains(says), "{file:?}: {stderr}");
        assert_eq!(hashes(&live), before, "{file:?}: the store is untouched");
    }
}

#[tokio::test]
async fn restore_takes_an_older_store_which_the_next_start_migrates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let given = dir.path().join("store-v4.sqlite");
    let fixture = format!(
        "{}/tests/fixtures/store-v4.sqlite",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::copy(fixture, &given).expect("copy the fixture");
    let before = std::fs::read(&given).expect("reads");
    let db = dir.path().join("live").join("checkout.sqlite");
    std::fs::create_dir(dir.path().join("live")).expect("folder");

    let output = run(
        &db.display().to_string(),
        &["restore", given.to_str().expect("UTF-8")],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains("there was no store") && stdout.contains("(schema version 4)"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&given).expect("reads"),
        before,
        "the backup is not changed"
    );
    let (integrity, version, ids) = inspect(&db);
    assert_eq!(
        (integrity.as_str(), version),
        ("ok", 4),
        "restored as it was"
    );
    assert!(!ids.is_empty());
    drop(paydigital_proxy::store::SqliteStore::open(&db).expect("migrates"));
    let (_, version, migrated) = inspect(&db);
    assert_eq!((version, migrated), (SQLITE_SCHEMA_VERSION, ids));
}

#[tokio::test]
async fn backup_and_restore_refuse_the_store_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("checkout.sqlite");
    drop(paydigital_proxy::store::SqliteStore::open(&db).expect("a store"));
    let before = hashes(dir.path());
    for command in ["backup", "restore"] {
        let output = run(
            &db.display().to_string(),
            &[command, db.to_str().expect("UTF-8")],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("is the store itself"),
            "{command}: {stderr}"
        );
        assert_eq!(hashes(dir.path()), before, "{command}: nothing changed");
    }
}

#[tokio::test]
async fn a_proxy_does_not_start_on_a_store_being_restored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("checkout.sqlite");
    let lock = paydigital_proxy::store::backup::StoreLock::alone(&db).expect("the restore's");
    let vars = [
        ("PAYDIGITAL_API_KEY", "k"),
        ("PAYDIGITAL_STORE_ID", "S"),
        ("CHECKOUT_LISTEN", "127.0.0.1:0"),
        ("CHECKOUT_DATABASE", db.to_str().expect("UTF-8")),
    ];
    let config = paydigital_proxy::config::Config::from_vars(
        |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        },
        false,
    )
    .expect("config");
    let Err(refused) = paydigital_proxy::start(config.clone(), None).await else {
        panic!("started during a restore");
    };
    assert!(refused.to_string().contains("a restore of"), "{refused}");
    assert!(!db.exists(), "the store was not opened");
    drop(lock);
    let running = paydigital_proxy::start(config, None).await.expect("starts");
    running.stop().await;
}

#[tokio::test]
async fn backup_and_restore_on_postgresql_say_pg_dump_and_pg_restore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("out.dump");
    // Never connected to: what to run is known from the URL alone.
    let url = "postgres://shop:Sekr3tPassw0rd@localhost:5432/checkout";
    let output = run(url, &["backup", target.to_str().expect("UTF-8")]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pg_dump --format=custom --file={} 'postgres://shop@localhost:5432/checkout'",
            target.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("Sekr3t"), "no password: {stderr}");
    assert!(!target.exists());
    let output = run(url, &["restore", target.to_str().expect("UTF-8")]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pg_restore") && !stderr.contains("Sekr3t"),
        "{stderr}"
    );
}
