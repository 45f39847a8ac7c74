//! The shared list's runner on SQLite: after the frozen list, in the same file, with the
//! same counter (`PRAGMA user_version`), one `IMMEDIATE` transaction per migration.

use super::{shared_applied, Migration};
use crate::store::db::Dialect;
use crate::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};

fn version(conn: &Connection) -> Result<usize, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies what `list` has that the store at `conn` has not run yet; its `frozen` versions
/// must have run already.
pub(crate) fn apply_sqlite(
    conn: &mut Connection,
    frozen: usize,
    list: &[Migration],
) -> Result<(), StoreError> {
    let applied = version(conn)?;
    if applied < frozen {
        return Err(StoreError::Corrupt(format!(
            "schema version {applied}: the frozen migrations (to {frozen}) have not run"
        )));
    }
    let done = shared_applied(applied, frozen, list)?;
    for (index, migration) in list.iter().enumerate().skip(done) {
        // IMMEDIATE: a second process opening the same file waits instead of migrating
        // twice; it then finds the version moved on and skips.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if shared_applied(version(&tx)?, frozen, list)? > index {
            continue;
        }
        for statement in (migration.statements)(Dialect::Sqlite) {
            tx.execute_batch(&statement)?;
        }
        let version = frozen.saturating_add(index).saturating_add(1);
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(
            version,
            migration = migration.name,
            "SQLite schema migrated"
        );
    }
    Ok(())
}
