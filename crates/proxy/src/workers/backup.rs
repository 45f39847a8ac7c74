//! Scheduled snapshots of a SQLite store (`CHECKOUT_BACKUP_DIR`): every
//! `CHECKOUT_BACKUP_EVERY` the running proxy writes a checked copy
//! (`store::backup::backup`) named `paydigital-<UTC time>.sqlite` and keeps the newest
//! `CHECKOUT_BACKUP_KEEP` of them. Only names of that exact pattern (and their `.tmp`, left
//! by a crash mid-copy) are ever removed: whatever else the folder holds is not touched.
//! Each snapshot is counted in `/metrics` (ok or failed) and a failure is logged with why;
//! the proxy goes on serving either way.
//!
//! Not a [`super::ClaimedWork`]: nothing is claimed in the store, and one proxy owns a
//! SQLite file. The copy reads the whole file, so it runs on the blocking pool.

use crate::config::BackupConfig;
use crate::metrics::Metrics;
use crate::store::backup::{self, parse_stamp, stamp, BackupError, Counts};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

const PREFIX: &str = "paydigital-";
const SUFFIX: &str = ".sqlite";

/// The snapshots of one store.
pub struct Snapshots {
    source: PathBuf,
    config: BackupConfig,
    metrics: Arc<Metrics>,
}

/// A snapshot written, and what pruning removed.
#[derive(Debug)]
pub struct Taken {
    pub path: PathBuf,
    pub counts: Counts,
    pub removed: Vec<PathBuf>,
}

impl Snapshots {
    pub fn new(source: PathBuf, config: BackupConfig, metrics: Arc<Metrics>) -> Snapshots {
        Snapshots {
            source,
            config,
            metrics,
        }
    }

    /// One snapshot as of `now`, then the oldest beyond `keep` removed.
    pub fn take(&self, now: OffsetDateTime) -> Result<Taken, BackupError> {
        let dir = &self.config.dir;
        std::fs::create_dir_all(dir).map_err(backup::io(dir))?;
        for stale in ours(dir, true)? {
            backup::remove_if_there(&stale.1)?;
        }
        let path = dir.join(format!("{PREFIX}{}{SUFFIX}", stamp(now)));
        // Never over an existing snapshot: a clock set back would otherwise replace one.
        if path.exists() {
            return Err(BackupError::Exists(path));
        }
        let counts = backup::backup(&self.source, &path)?;
        let removed = self.prune()?;
        Ok(Taken {
            path,
            counts,
            removed,
        })
    }

    /// Removes all but the newest `keep` snapshots (by the time in their names).
    fn prune(&self) -> Result<Vec<PathBuf>, BackupError> {
        let mut snapshots = ours(&self.config.dir, false)?;
        snapshots.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        let old: Vec<PathBuf> = snapshots
            .into_iter()
            .skip(self.config.keep)
            .map(|(_, path)| path)
            .collect();
        for path in &old {
            backup::remove_if_there(path)?;
        }
        Ok(old)
    }

    /// How long from `now` until the next snapshot is due: one interval after the newest
    /// one in the folder (so that a restart neither skips one nor takes an extra), at once
    /// when there is none.
    fn first_wait(&self, now: OffsetDateTime) -> Duration {
        let newest = ours(&self.config.dir, false)
            .ok()
            .and_then(|found| found.into_iter().map(|(at, _)| at).max());
        match newest {
            Some(at) => {
                let due = at + self.config.every;
                Duration::try_from(due - now)
                    .unwrap_or(Duration::ZERO)
                    .min(self.config.every)
            }
            None => Duration::ZERO,
        }
    }
}

/// The snapshots in `dir` (with `temp`, the temporaries a crash left instead), with the
/// moment each names. Names that merely look alike are not ours.
fn ours(dir: &Path, temp: bool) -> Result<Vec<(OffsetDateTime, PathBuf)>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(backup::io(dir)(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(backup::io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let name = if temp {
            match name.strip_suffix(".tmp") {
                Some(name) => name,
                None => continue,
            }
        } else {
            name
        };
        let at = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_suffix(SUFFIX))
            .and_then(parse_stamp);
        if let Some(at) = at {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                found.push((at, entry.path()));
            }
        }
    }
    Ok(found)
}

/// Takes snapshots on schedule until the task is stopped.
pub async fn run(snapshots: Arc<Snapshots>) {
    let first = {
        let snapshots = snapshots.clone();
        tokio::task::spawn_blocking(move || snapshots.first_wait(OffsetDateTime::now_utc()))
            .await
            .unwrap_or(Duration::ZERO)
    };
    let mut next = tokio::time::Instant::now() + first;
    loop {
        tokio::time::sleep_until(next).await;
        // The next one is due an interval after this one began, however long it took.
        next = tokio::time::Instant::now() + snapshots.config.every;
        let now = OffsetDateTime::now_utc();
        let work = snapshots.clone();
        let result = tokio::task::spawn_blocking(move || work.take(now))
            .await
            .map_err(|e| e.to_string())
            .and_then(|taken| taken.map_err(|e| e.to_string()));
        match result {
            Ok(taken) => {
                snapshots.metrics.backup_snapshot(true, now);
                tracing::info!(
                    path = %taken.path.display(),
                    counts = %taken.counts,
                    removed = taken.removed.len(),
                    "backup snapshot written"
                );
            }
            Err(e) => {
                snapshots.metrics.backup_snapshot(false, now);
                tracing::error!(error = %e, dir = %snapshots.config.dir.display(), "backup snapshot failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    fn snapshots(dir: &Path, source: PathBuf, keep: usize) -> Snapshots {
        Snapshots::new(
            source,
            BackupConfig {
                dir: dir.join("snaps"),
                every: Duration::from_secs(60),
                keep,
            },
            Arc::new(Metrics::new("px-test")),
        )
    }

    #[test]
    fn keeps_the_newest_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("live.sqlite");
        drop(SqliteStore::open(&source).unwrap());
        let snaps = snapshots(dir.path(), source, 2);
        std::fs::create_dir_all(dir.path().join("snaps")).unwrap();
        let others = [
            "notes.txt",
            "paydigital-old.sqlite",
            "paydigital-20261207T181500Z.db",
        ];
        for name in others {
            std::fs::write(dir.path().join("snaps").join(name), b"mine").unwrap();
        }
        let crashed = dir
            .path()
            .join("snaps/paydigital-20261201T000000Z.sqlite.tmp");
        std::fs::write(&crashed, b"half").unwrap();
        let t0 = time::macros::datetime!(2026-12-07 18:15:00 UTC);
        for minutes in 0..4 {
            let taken = snaps.take(t0 + Duration::from_secs(60 * minutes)).unwrap();
            assert_eq!(taken.counts.payments, 0);
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("snaps"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "notes.txt",
                "paydigital-20261207T181500Z.db",
                "paydigital-20261207T181700Z.sqlite",
                "paydigital-20261207T181800Z.sqlite",
                "paydigital-old.sqlite",
            ]
        );
        assert!(!crashed.exists(), "a crash's temporary is cleaned");
        // The next is due an interval after the newest; a clock set back never overwrites.
        let wait = snaps.first_wait(t0 + Duration::from_secs(3 * 60 + 20));
        assert_eq!(wait, Duration::from_secs(40));
        assert!(matches!(
            snaps.take(t0 + Duration::from_secs(180)),
            Err(BackupError::Exists(_))
        ));
    }
}
