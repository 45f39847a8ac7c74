//! Backups of a SQLite store: a consistent copy taken while proxies keep serving and writing
//! ([`backup`], for `paydigital-proxy backup` and the scheduled snapshots of
//! `workers/backup.rs`), the check every copy passes before it is trusted ([`check`]), and
//! the advisory lock by which `serve` tells `restore` that the store is in use
//! ([`StoreLock`]). Putting a backup back is `restore.rs`.
//!
//! A copy is made with `VACUUM INTO` on a read-only connection of its own: in WAL mode that
//! is one read transaction, so it sees one committed state of the whole database while the
//! proxy's connection goes on writing (a `cp` of the file while it runs may catch half of a
//! write, and misses whatever is still in `-wal`). The copy is written to a temporary name
//! beside the target, checked, synced and only then renamed into place, so the target is
//! never half-written and an older good copy is never replaced by a bad one.

use super::SQLITE_SCHEMA_VERSION;
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What a checked copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub payments: u64,
    pub events: u64,
    pub staff: u64,
    /// Its schema version (`PRAGMA user_version`).
    pub schema_version: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} payments, {} events, {} staff (schema version {})",
            self.payments, self.events, self.staff, self.schema_version
        )
    }
}

/// Which schema versions a copy may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this binary's: a backup this binary wrote opens without migrating anything.
    Current,
    /// This binary's or an older one (migrated at the next start): what `restore` takes.
    NotNewer,
}

/// Why a backup (or a check, or a restore) failed. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no payment store at {0}")]
    Missing(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path} is not a payment store: {why}")]
    NotAStore { path: PathBuf, why: String },
    #[error("{path} failed SQLite's integrity check: {detail}")]
    NotIntact { path: PathBuf, detail: String },
    #[error(
        "{path} has schema version {found}, newer than this binary's {known}: use the newer \
         paydigital-proxy"
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("{path} has schema version {found}, not this binary's {known}")]
    OtherVersion {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("{0} already exists: nothing is overwritten")]
    Exists(PathBuf),
    #[error(
        "a proxy is serving {db} (it holds {lock}): stop it first (e.g. systemctl stop \
         paydigital-proxy), then restore"
    )]
    InUse { db: PathBuf, lock: PathBuf },
    #[error("a restore of {db} is under way (it holds {lock}): start the proxy when it is done")]
    Restoring { db: PathBuf, lock: PathBuf },
    #[error("{0} is the store itself: name another file")]
    SameFile(PathBuf),
    #[error("{0} is not a path SQLite can be given (not UTF-8)")]
    Path(PathBuf),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn sql(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// A consistent, checked copy of the store at `source` in `target` (replaced only once the
/// new copy is checked). The temporary file is `<target>.tmp`, beside it; one left by a
/// crash is replaced.
pub fn backup(source: &Path, target: &Path) -> Result<Counts, BackupError> {
    if !source.is_file() {
        return Err(BackupError::Missing(source.to_owned()));
    }
    // Renamed over the store itself, a backup would swap the file under a running proxy.
    if same_file(source, target) {
        return Err(BackupError::SameFile(target.to_owned()));
    }
    // Said here, of the folder: SQLite would name only a file it cannot open.
    if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !folder.is_dir() {
            return Err(io(folder)(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such folder",
            )));
        }
    }
    let temp = temp_name(target);
    let counts = copy_checked(source, &temp, Expect::Current)?;
    std::fs::rename(&temp, target).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        io(target)(e)
    })?;
    sync_folder_of(target)?;
    Ok(counts)
}

/// Whether both paths name one existing file.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `<path>.tmp`: where a copy is written before it is checked.
pub fn temp_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Copies the database at `source` into `temp` (a stale `temp` is removed first), checks
/// the copy as `expect` says and syncs it to disk. On failure `temp` is removed.
pub(crate) fn copy_checked(
    source: &Path,
    temp: &Path,
    expect: Expect,
) -> Result<Counts, BackupError> {
    remove_if_there(temp)?;
    let result = copy(source, temp)
        .and_then(|()| check(temp, expect))
        .and_then(|counts| {
            File::open(temp)
                .and_then(|file| file.sync_all())
                .map_err(io(temp))?;
            Ok(counts)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    result
}

/// `VACUUM INTO` on a read-only connection: one read transaction, so one committed state,
/// while writers go on (WAL mode); the copy is compact and in rollback-journal mode, a
/// single self-contained file.
fn copy(source: &Path, temp: &Path) -> Result<(), BackupError> {
    let conn = open_read_only(source)?;
    let into = temp
        .to_str()
        .ok_or_else(|| BackupError::Path(temp.to_owned()))?;
    conn.execute("VACUUM INTO ?1", [into]).map_err(|e| {
        if is_not_a_database(&e) {
            not_a_store(source, "not a SQLite database")
        } else {
            sql(source)(e)
        }
    })?;
    Ok(())
}

fn open_read_only(path: &Path) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql(path))?;
    // A proxy's commit may hold the file for a moment.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql(path))?;
    Ok(conn)
}

fn not_a_store(path: &Path, why: impl Into<String>) -> BackupError {
    BackupError::NotAStore {
        path: path.to_owned(),
        why: why.into(),
    }
}

/// Random bytes (or a file that is not SQLite's) show up at the first read.
fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase)
    )
}

/// Checks the database at `path` without changing it: SQLite's `integrity_check` says `ok`,
/// it is a payment store, and its schema version is what `expect` allows (so it opens
/// without migrating, or migrates forward). What it holds.
pub fn check(path: &Path, expect: Expect) -> Result<Counts, BackupError> {
    let conn = open_read_only(path)?;
    let read = |e: rusqlite::Error| {
        if is_not_a_database(&e) {
            not_a_store(path, "not a SQLite database")
        } else {
            sql(path)(e)
        }
    };
    let mut integrity = conn.prepare("PRAGMA integrity_check").map_err(read)?;
    let findings = integrity
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(read)?;
    drop(integrity);
    if findings != ["ok"] {
        return Err(BackupError::NotIntact {
            path: path.to_owned(),
            detail: findings.join("; "),
        });
    }
    let version: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(read)?;
    if version == 0 || !has_table(&conn, "payments").map_err(read)? {
        return Err(not_a_store(path, "it holds no payments table"));
    }
    if version > SQLITE_SCHEMA_VERSION {
        return Err(BackupError::TooNew {
            path: path.to_owned(),
            found: version,
            known: SQLITE_SCHEMA_VERSION,
        });
    }
    if expect == Expect::Current && version != SQLITE_SCHEMA_VERSION {
        return Err(BackupError::OtherVersion {
            path: path.to_owned(),
            found: version,
            known: SQLITE_SCHEMA_VERSION,
        });
    }
    let count = |table: &str| -> Result<u64, BackupError> {
        // Tables an older schema has not made yet hold nothing.
        if !has_table(&conn, table).map_err(read)? {
            return Ok(0);
        }
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .map_err(read)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(Counts {
        payments: count("payments")?,
        events: count("events")?,
        staff: count("staff")?,
        schema_version: version,
    })
}

fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

pub(crate) fn remove_if_there(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

/// A rename is durable once the folder that holds the name is synced.
pub(crate) fn sync_folder_of(path: &Path) -> Result<(), BackupError> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(io(folder))
}

/// `serve`'s hold on a SQLite store, tested by `restore` (`<db>.lock`, an advisory `flock`:
/// shared by each proxy, exclusive by a restore). Not SQLite's own locks: in WAL mode any
/// number of connections share the file and a proxy holds no SQLite lock between
/// transactions, so there is nothing there to test; and a restore swaps the file by rename,
/// which those locks (kept on the old inode) would not even see. Released when dropped, or
/// by the kernel when the process dies, so a `kill -9` leaves no stale lock behind.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// `<db>.lock`.
    pub fn path(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// A proxy's share: refused only while a restore holds the store.
    pub fn serving(db: &Path) -> Result<StoreLock, BackupError> {
        let (file, lock) = Self::open(db)?;
        match fs4::FileExt::try_lock_shared(&file) {
            Ok(()) => Ok(StoreLock { _file: file }),
            Err(fs4::TryLockError::WouldBlock) => Err(BackupError::Restoring {
                db: db.to_owned(),
                lock,
            }),
            Err(fs4::TryLockError::Error(e)) => Err(io(&lock)(e)),
        }
    }

    /// A restore's: the store alone, refused at once while any proxy serves it.
    pub fn alone(db: &Path) -> Result<StoreLock, BackupError> {
        let (file, lock) = Self::open(db)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(StoreLock { _file: file }),
            Err(fs4::TryLockError::WouldBlock) => Err(BackupError::InUse {
                db: db.to_owned(),
                lock,
            }),
            Err(fs4::TryLockError::Error(e)) => Err(io(&lock)(e)),
        }
    }

    fn open(db: &Path) -> Result<(File, PathBuf), BackupError> {
        let lock = Self::path(db);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(io(&lock))?;
        Ok((file, lock))
    }
}

/// `20261207T181500Z`: a moment in a file name, UTC, sorting as it runs.
pub fn stamp(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The moment a [`stamp`] names.
pub fn parse_stamp(text: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}
