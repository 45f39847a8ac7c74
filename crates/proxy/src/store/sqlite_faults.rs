//! SQLite's faults met before they hurt: at open, a file that is not a payment store (not
//! SQLite at all, another program's database, a damaged store) is refused with its name and
//! what is wrong, and never written to; for `/healthz`, what a plain read cannot see — the
//! write lock held by another connection, a full disk.

use super::types::{StoreError, Unavailability};
use rusqlite::Connection;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// How long a write waits for another connection's lock before it answers "busy".
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long `/healthz` waits for the write lock: a load balancer wants an answer now, and a
/// write that holds the lock longer than this is what it should hear about.
const PROBE_WAIT: Duration = Duration::from_millis(200);

/// Below this much free space where the file lives, the store's disk counts as full: a
/// transaction's WAL frames and a checkpoint need room (pages are 4 KiB).
const MIN_FREE_BYTES: u64 = 128 * 1024;

/// The first 16 bytes of every SQLite database file.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses, before SQLite touches it, a file that is not SQLite at all. A missing or empty
/// file is a new store.
pub(super) fn refuse_what_is_not_sqlite(path: &Path) -> Result<(), StoreError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::unavailable(
                Unavailability::CannotOpen,
                format!("{}: {e}", path.display()),
            ))
        }
    };
    let mut head = Vec::with_capacity(HEADER.len());
    file.take(HEADER.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| {
            StoreError::unavailable(Unavailability::Io, format!("{}: {e}", path.display()))
        })?;
    if head.is_empty() || head.as_slice() == HEADER.as_slice() {
        return Ok(());
    }
    Err(StoreError::Corrupt(format!(
        "{} is not a SQLite database (it does not begin with SQLite's header): it was left \
         unchanged; point CHECKOUT_DATABASE at the payment store, or at a new file",
        path.display()
    )))
}

/// Refuses, by reading only, a SQLite file that is another program's database or a damaged
/// store: our migrations must never run in someone else's database, and a damaged file is
/// restored from a backup by a person, not "repaired" by us. Runs before anything is written.
pub(super) fn refuse_foreign_or_damaged(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let named = |e: StoreError| match e {
        StoreError::Corrupt(detail) => StoreError::Corrupt(format!(
            "{} is damaged or not a SQLite database ({detail}): it was left unchanged; \
             restore it from a backup",
            path.display()
        )),
        e => e,
    };
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| named(e.into()))?;
    let mut tables = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )
        .map_err(|e| named(e.into()))?;
    let tables = tables
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| named(e.into()))?;
    // A store at version 0 has no tables (each migration commits with its version); a store
    // past version 0 has its payments.
    let ours = if version == 0 {
        tables.is_empty()
    } else {
        tables.iter().any(|t| t == "payments")
    };
    if !ours {
        let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
        return Err(StoreError::Foreign(format!(
            "{} is another program's SQLite database, not a payment store (schema version \
             {version}, tables: {}): it was left unchanged; point CHECKOUT_DATABASE at the \
             payment store, or at a new file",
            path.display(),
            shown.join(", ")
        )));
    }
    // `quick_check` reads every page (not the indexes against their tables): a damaged page
    // is found now, not by the payment whose row sits on it.
    let mut check = conn
        .prepare("PRAGMA quick_check(5)")
        .map_err(|e| named(e.into()))?;
    let found = check
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| named(e.into()))?;
    if found != ["ok"] {
        return Err(named(StoreError::Corrupt(format!(
            "PRAGMA quick_check: {}",
            found.join("; ")
        ))));
    }
    Ok(())
}

/// What `/healthz` asks of a SQLite store besides a read: can it take the write lock now,
/// and has its disk room for a write. Which of them fails is the answer's reason.
pub(super) fn probe(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?;
    conn.busy_timeout(PROBE_WAIT)?;
    let lock = conn.execute_batch("BEGIN IMMEDIATE");
    conn.busy_timeout(BUSY_TIMEOUT)?;
    lock?;
    conn.execute_batch("ROLLBACK")?;
    // An in-memory database has no path (`Some("")`) and no disk.
    if let Some(path) = conn.path().filter(|p| !p.is_empty()) {
        let free = free_bytes(Path::new(path))?;
        if free < MIN_FREE_BYTES {
            return Err(StoreError::unavailable(
                Unavailability::DiskFull,
                format!("{free} bytes free beside {path}"),
            ));
        }
    }
    Ok(())
}

/// Free space an unprivileged writer may use on the file system holding `file`.
fn free_bytes(file: &Path) -> Result<u64, StoreError> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stats = rustix::fs::statvfs(dir).map_err(|e| {
        StoreError::unavailable(Unavailability::Io, format!("{}: {e}", dir.display()))
    })?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_or_empty_file_is_welcome_and_random_bytes_are_not() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("new.db");
        assert!(refuse_what_is_not_sqlite(&missing).is_ok());
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").expect("write");
        assert!(refuse_what_is_not_sqlite(&empty).is_ok());
        let noise = dir.path().join("noise.db");
        std::fs::write(&noise, b"PK\x03\x04 a zip, not a database").expect("write");
        let e = refuse_what_is_not_sqlite(&noise).expect_err("refused");
        assert!(e.to_string().contains("noise.db"), "{e}");
        assert!(e.to_string().contains("not a SQLite database"), "{e}");
    }

    #[test]
    fn another_programs_database_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("notes.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .expect("table");
        let e = refuse_foreign_or_damaged(&conn, &path).expect_err("refused");
        assert!(matches!(e, StoreError::Foreign(_)), "{e:?}");
        assert!(e.to_string().contains("notes.db"), "{e}");
        assert!(e.to_string().contains("notes"), "{e}");
        // Another program that keeps a version of its own is still not us.
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        assert!(matches!(
            refuse_foreign_or_damaged(&conn, &path),
            Err(StoreError::Foreign(_))
        ));
    }

    #[test]
    fn the_probe_passes_on_a_healthy_store_and_names_a_held_lock() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.db");
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        probe(&conn).expect("healthy");
        let other = Connection::open(&path).expect("other");
        other.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        let started = std::time::Instant::now();
        let e = probe(&conn).expect_err("locked");
        assert_eq!(e.unavailability(), Some(Unavailability::Busy), "{e:?}");
        assert!(
            started.elapsed() < BUSY_TIMEOUT,
            "answers before a write would"
        );
        other.execute_batch("ROLLBACK").expect("unlock");
        probe(&conn).expect("healthy again");
    }
}
