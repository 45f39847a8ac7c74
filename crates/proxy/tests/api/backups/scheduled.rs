//! The proxy's scheduled snapshots (`CHECKOUT_BACKUP_DIR`): taken on time, pruned to
//! `CHECKOUT_BACKUP_KEEP` without touching anything else in the folder, counted in
//! `/metrics`, and a failing one counted while the proxy serves on.

use super::inspect;
use crate::helpers::{wait_for, TestApp};
use paydigital_proxy::store::SQLITE_SCHEMA_VERSION;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Our snapshots in `dir` (`paydigital-<time>.sqlite`).
fn snapshots_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("paydigital-2") && n.ends_with("Z.sqlite"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

async fn metric(http: &reqwest::Client, addr: std::net::SocketAddr, line: &str) -> u64 {
    let page = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    page.lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{line} in\n{page}"))
}

#[tokio::test]
async fn the_proxy_keeps_the_newest_snapshots_and_counts_a_failed_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("live.sqlite");
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).expect("folder");
    let notes = snaps.join("notes.txt");
    std::fs::write(&notes, "the shop's own file").expect("writes");
    let look_alike = snaps.join("paydigital-old.sqlite");
    std::fs::write(&look_alike, "not ours").expect("writes");
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_DATABASE", db.to_str().expect("UTF-8")),
        ("CHECKOUT_BACKUP_DIR", snaps.to_str().expect("UTF-8")),
        ("CHECKOUT_BACKUP_EVERY", "1s"),
        ("CHECKOUT_BACKUP_KEEP", "2"),
        ("CHECKOUT_METRICS_LISTEN", "127.0.0.1:0"),
    ])
    .await;
    let addr = app.proxy.metrics_addr.expect("metrics are on");
    let paid = app.create_ok(30_000).await;
    let ok = r#"checkout_backup_snapshots_total{result="ok"}"#;
    let failed = r#"checkout_backup_snapshots_total{result="failed"}"#;

    // Pruning follows each new snapshot, so a look between the two may see one more.
    let mut most = 0;
    let enough = wait_for(Duration::from_secs(30), || {
        most = most.max(snapshots_in(&snaps).len());
        let http = app.http.clone();
        async move { metric(&http, addr, ok).await >= 4 }
    })
    .await;
    assert!(enough, "snapshots are taken every second");
    assert!(
        most <= 3,
        "at most KEEP (+ the one just written) at any moment: {most}"
    );
    let two = wait_for(Duration::from_secs(5), || {
        std::future::ready(snapshots_in(&snaps).len() == 2)
    })
    .await;
    assert!(two, "the newest 2 are kept: {:?}", snapshots_in(&snaps));
    assert_eq!(
        std::fs::read_to_string(&notes).expect("still there"),
        "the shop's own file"
    );
    assert_eq!(
        std::fs::read_to_string(&look_alike).expect("still there"),
        "not ours"
    );
    let newest = snapshots_in(&snaps).pop().expect("one");
    let (integrity, version, ids) = inspect(&newest);
    assert_eq!((integrity.as_str(), version), ("ok", SQLITE_SCHEMA_VERSION));
    assert!(ids.contains(paid["id"].as_str().expect("id")));
    assert_eq!(metric(&app.http, addr, failed).await, 0);
    let last = metric(
        &app.http,
        addr,
        "checkout_backup_last_success_timestamp_seconds",
    )
    .await;
    let now = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .unsigned_abs();
    assert!(now.abs_diff(last) <= 10, "last success {last}, now {now}");

    // The folder becomes a file: snapshots fail, are counted, and the proxy serves on.
    std::fs::remove_dir_all(&snaps).expect("removed");
    std::fs::write(&snaps, "in the way").expect("a file where the folder was");
    let counted = wait_for(Duration::from_secs(30), || {
        let http = app.http.clone();
        async move { metric(&http, addr, failed).await >= 1 }
    })
    .await;
    assert!(counted, "a failed snapshot is counted");
    assert!(crate::helpers::captured_logs().contains("backup snapshot failed"));
    assert_eq!(app.proxy_health().await, 200);
    app.create_ok(31_000).await;
    assert_eq!(
        std::fs::read_to_string(&snaps).expect("untouched"),
        "in the way"
    );
}
