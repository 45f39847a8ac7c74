//! `backup FILE` (a checked copy of the SQLite store, taken while proxies serve it) and
//! `restore FILE` (a backup put back in place of a store no proxy serves). The work is in
//! `store/backup.rs` and `store/restore.rs`; here, which store, and what is said. On
//! PostgreSQL both name the tool to use instead (`pg_dump`, `pg_restore`).

use super::{say, CliError, StoreArg};
use paydigital_proxy::store::backup::backup as copy_store;
use paydigital_proxy::store::restore::restore as put_back;
use paydigital_proxy::store::Database;
use std::path::{Path, PathBuf};

/// The SQLite file `store` names; on PostgreSQL, why not and what to run instead.
fn sqlite_file(store: &StoreArg, pg_advice: impl Fn(&str) -> String) -> Result<PathBuf, CliError> {
    match Database::parse(&store.database).map_err(|e| CliError::Failed(e.to_string()))? {
        Database::Sqlite(path) => Ok(path),
        // The URL as shown never holds its password: pg_dump asks for it, or reads
        // PGPASSWORD or ~/.pgpass.
        Database::Postgres(url) => Err(CliError::Failed(pg_advice(&url.to_string()))),
    }
}

pub fn backup(target: &Path, store: &StoreArg) -> Result<(), CliError> {
    let source = sqlite_file(store, |url| {
        format!(
            "{url} is PostgreSQL: back it up with PostgreSQL's own tool, e.g.\n  \
             pg_dump --format=custom --file={} '{url}'\n(it asks for the password, or reads \
             PGPASSWORD or ~/.pgpass; restore with pg_restore)",
            target.display()
        )
    })?;
    let counts = copy_store(&source, target).map_err(|e| CliError::Failed(e.to_string()))?;
    say(&format!(
        "{} -> {}: {} payments, {} events, {} staff (schema version {}); integrity check ok",
        source.display(),
        target.display(),
        counts.payments,
        counts.events,
        counts.staff,
        counts.schema_version,
    ));
    Ok(())
}

pub fn restore(backup: &Path, store: &StoreArg) -> Result<(), CliError> {
    let db = sqlite_file(store, |url| {
        format!(
            "{url} is PostgreSQL: restore a pg_dump backup with PostgreSQL's own tool, e.g.\n  \
             pg_restore --clean --if-exists --dbname='{url}' {}",
            backup.display()
        )
    })?;
    let restored = put_back(backup, &db, time::OffsetDateTime::now_utc())
        .map_err(|e| CliError::Failed(e.to_string()))?;
    match &restored.aside {
        Some(aside) => say(&format!(
            "the previous store is kept at {}{}",
            aside.display(),
            if restored.wal_kept {
                " (with its -wal: it could not be checkpointed)"
            } else {
                ""
            }
        )),
        None => say(&format!("there was no store at {} before", db.display())),
    }
    say(&format!(
        "restored {} -> {}: {}; start the proxy",
        backup.display(),
        db.display(),
        restored.counts
    ));
    Ok(())
}
