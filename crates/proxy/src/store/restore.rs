//! `paydigital-proxy restore FILE`: a checked backup put in place of a SQLite store that no
//! proxy is serving, the old store kept beside it as `<db>.before-restore-<UTC time>`.
//!
//! Order matters for a crash at any moment: the backup is first copied (and checked, and
//! synced) to a temporary name beside the store; the old store is checkpointed, so that
//! everything it committed is in its main file, and hard-linked aside; only then does one
//! rename swap the new file in. The store's path names the old store or the new one, never
//! nothing and never half of one.

use super::backup::{
    check, copy_checked, io, remove_if_there, same_file, sql, stamp, sync_folder_of, BackupError,
    Counts, Expect, StoreLock,
};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// What the restored store holds.
    pub counts: Counts,
    /// Where the old store is kept (`None`: there was none).
    pub aside: Option<PathBuf>,
    /// The old store could not be checkpointed (a damaged file, say): its `-wal` was kept
    /// beside it too, under the matching name, so nothing it committed is lost.
    pub wal_kept: bool,
}

/// Puts `backup` in place of the store at `db`, as of `now` (the old store's new name).
/// Refused while a proxy serves `db`, and for a file that is not a sound payment store or
/// whose schema is newer than this binary's; then nothing is changed.
pub fn restore(backup: &Path, db: &Path, now: OffsetDateTime) -> Result<Restored, BackupError> {
    if !backup.is_file() {
        return Err(BackupError::Missing(backup.to_owned()));
    }
    if same_file(backup, db) {
        return Err(BackupError::SameFile(backup.to_owned()));
    }
    // The file as given is checked (read only) before anything is written, even the lock.
    check(backup, Expect::NotNewer)?;
    let _alone = StoreLock::alone(db)?;
    let mut temp = db.as_os_str().to_owned();
    temp.push(".restore.tmp");
    let temp = PathBuf::from(temp);
    let counts = copy_checked(backup, &temp, Expect::NotNewer)?;
    let swapped = set_aside(db, now).and_then(|(aside, wal_kept)| {
        std::fs::rename(&temp, db).map_err(io(db))?;
        sync_folder_of(db)?;
        Ok((aside, wal_kept))
    });
    match swapped {
        Ok((aside, wal_kept)) => Ok(Restored {
            counts,
            aside,
            wal_kept,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// `path` with `suffix` added to its name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Keeps the old store at `<db>.before-restore-<now>` (a hard link: `db` still names it
/// until the new file is renamed over it), with its committed data in that file; removes its
/// `-wal` and `-shm`, which would otherwise be read as the new file's. `None` when there is
/// no old store.
fn set_aside(db: &Path, now: OffsetDateTime) -> Result<(Option<PathBuf>, bool), BackupError> {
    let wal = with_suffix(db, "-wal");
    let shm = with_suffix(db, "-shm");
    if !db.exists() {
        remove_if_there(&wal)?;
        remove_if_there(&shm)?;
        return Ok((None, false));
    }
    let aside = with_suffix(db, &format!(".before-restore-{}", stamp(now)));
    let aside_wal = with_suffix(&aside, "-wal");
    if let Some(taken) = [&aside, &aside_wal].into_iter().find(|p| p.exists()) {
        return Err(BackupError::Exists(taken.clone()));
    }
    // Copied first: SQLite may drop a `-wal` it cannot use when its connection to a damaged
    // store closes, and that may be the only copy of the last payments.
    let had_wal = wal.exists();
    if had_wal {
        std::fs::copy(&wal, &aside_wal)
            .and_then(|_| std::fs::File::open(&aside_wal)?.sync_all())
            .map_err(io(&aside_wal))?;
    }
    let checkpointed = checkpoint(db);
    if let Err(e) = &checkpointed {
        tracing::warn!(error = %e, "restore: the old store could not be checkpointed; its -wal is kept beside it");
    }
    link_or_copy(db, &aside)?;
    let wal_kept = had_wal && checkpointed.is_err();
    if !wal_kept {
        // What it held is in the main file now.
        remove_if_there(&aside_wal)?;
    }
    remove_if_there(&wal)?;
    remove_if_there(&shm)?;
    sync_folder_of(&aside)?;
    Ok((Some(aside), wal_kept))
}

/// Moves everything the old store committed from its `-wal` into its main file. No proxy
/// serves it (the lock says so), so the checkpoint must complete.
fn checkpoint(db: &Path) -> Result<(), BackupError> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(db))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql(db))?;
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(sql(db))?;
    if busy != 0 {
        return Err(BackupError::Io {
            path: db.to_owned(),
            source: std::io::Error::other("another process is using it"),
        });
    }
    conn.close().map_err(|(_, e)| sql(db)(e))
}

fn link_or_copy(from: &Path, to: &Path) -> Result<(), BackupError> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .and_then(|_| std::fs::File::open(to)?.sync_all())
        .map_err(io(to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    /// A damaged store is what a restore is for: it cannot be checkpointed, so it is kept
    /// aside as it is (with its `-wal`), and the backup goes in.
    #[test]
    fn a_damaged_store_is_kept_aside_with_its_wal_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let backup = dir.path().join("backup.sqlite");
        drop(SqliteStore::open(&backup).unwrap());
        let db = dir.path().join("checkout.sqlite");
        std::fs::write(&db, vec![0x5a; 4096]).unwrap();
        std::fs::write(with_suffix(&db, "-wal"), b"what it last wrote").unwrap();
        let now = time::macros::datetime!(2026-12-07 18:15:00 UTC);

        let restored = restore(&backup, &db, now).unwrap();

        let aside = dir
            .path()
            .join("checkout.sqlite.before-restore-20261207T181500Z");
        assert_eq!(restored.aside.as_deref(), Some(aside.as_path()));
        assert!(restored.wal_kept);
        assert_eq!(std::fs::read(&aside).unwrap(), vec![0x5a; 4096]);
        assert_eq!(
            std::fs::read(with_suffix(&aside, "-wal")).unwrap(),
            b"what it last wrote"
        );
        assert!(!with_suffix(&db, "-wal").exists());
        assert_eq!(
            check(&db, Expect::Current).unwrap().schema_version,
            crate::store::SQLITE_SCHEMA_VERSION
        );
        // The same second again would need the same name: refused, nothing overwritten.
        assert!(matches!(
            restore(&backup, &db, now),
            Err(BackupError::Exists(_))
        ));
        assert!(!with_suffix(&db, ".restore.tmp").exists());
    }
}
