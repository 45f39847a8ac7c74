//! New schema changes: ONE list for both databases ([`SHARED`]), each migration written once
//! as sea-query `Table`/`Index` statements (or SQL both accept) and rendered per dialect.
//!
//! The older lists stay as they are, frozen: SQLite's in `store/sqlite.rs` (9 versions,
//! counted by `PRAGMA user_version`) and PostgreSQL's in `store/postgres.rs` (6 versions,
//! counted in `checkout_schema.version`). The shared list is applied after them, and each
//! database's own counter simply goes on counting: shared migration `n` (from 1) is version
//! `9 + n` on SQLite and `6 + n` on PostgreSQL. Each migration runs in its own transaction
//! together with its version bump, so a crash between two leaves the store at a version it
//! can resume from; a store whose counter is past what this binary knows is refused
//! ([`StoreError::TooNew`]), never written to. The two numbers are named for their database
//! (`store::SQLITE_SCHEMA_VERSION`, `store::POSTGRES_SCHEMA_VERSION`), and both mean "every
//! frozen migration of that database, and the same shared ones".
//!
//! # The rule for new columns: one time unit
//! The frozen schemas keep times differently (SQLite: integers, seconds for a payment's own
//! times and milliseconds elsewhere; PostgreSQL: `timestamptz`), which is why
//! `db::Dialect::time` exists. A time column added here is `BIGINT` (`ColumnDef::big_integer`)
//! holding **milliseconds since the Unix epoch, UTC**, on both databases: written with
//! `db::Unit::Millis.to_int`, read with `Row::time(column, Unit::Millis)`, and never
//! `timestamptz`, so that a new column needs no `Dialect` method. Other types: text is `TEXT`,
//! counts and amounts `BIGINT`, flags `BOOLEAN` (sea-query writes SQLite's integer), JSON is
//! `TEXT`.
//!
//! The list starts empty: nothing planned so far needs a schema change (the sessions' `ON
//! DELETE CASCADE`, which only PostgreSQL's frozen schema has, is to agree in code, in the
//! staff store, not by a migration). The runner is tested on both databases with a
//! test-only list (`tests.rs`).

use super::db::Dialect;
use super::StoreError;
use sea_query::{PostgresQueryBuilder, SchemaBuilder, SqliteQueryBuilder};

/// One schema version of the shared list.
pub(crate) struct Migration {
    /// What it is for (the log line when it is applied).
    pub(crate) name: &'static str,
    /// Its statements in one database's SQL, run in order in one transaction.
    pub(crate) statements: fn(Dialect) -> Vec<String>,
}

/// The shared migrations, applied in order after each database's frozen list. Append only:
/// a migration that has shipped is never changed or removed.
pub(crate) const SHARED: &[Migration] = &[];

/// Who renders a `Table`/`Index` statement in `dialect`'s SQL. (Only the tests' list uses it
/// while [`SHARED`] is empty.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn schema_builder(dialect: Dialect) -> &'static dyn SchemaBuilder {
    match dialect {
        Dialect::Sqlite => &SqliteQueryBuilder,
        Dialect::Postgres => &PostgresQueryBuilder,
    }
}

/// How many of `list` a store at version `applied` (whose frozen list has `frozen`
/// versions) has run; a version past what `list` knows is refused.
pub(crate) fn shared_applied(
    applied: usize,
    frozen: usize,
    list: &[Migration],
) -> Result<usize, StoreError> {
    let known = frozen.saturating_add(list.len());
    if applied > known {
        return Err(StoreError::TooNew {
            found: applied,
            known,
        });
    }
    Ok(applied.saturating_sub(frozen))
}

mod postgres;
mod sqlite;

pub(crate) use postgres::apply_postgres;
pub(crate) use sqlite::apply_sqlite;

#[cfg(test)]
mod tests;
