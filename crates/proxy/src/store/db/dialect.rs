//! The one place for each real difference between the two databases' SQL and schemas that
//! sea-query does not already say (it writes each database's placeholders, quoting,
//! `ON CONFLICT ... DO UPDATE`/`DO NOTHING` upserts, and drops `FOR UPDATE` where SQLite has
//! no row locks). Each difference is one method here, with why it differs.

use super::row::Unit;
use sea_query::{
    Alias, Func, LockType, PostgresQueryBuilder, Query, QueryBuilder, SelectStatement,
    SqliteQueryBuilder, Value,
};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Who writes this database's SQL: placeholders (`?` or `$n`), quoting, upserts.
    pub(crate) fn builder(self) -> &'static dyn QueryBuilder {
        match self {
            Dialect::Sqlite => &SqliteQueryBuilder,
            Dialect::Postgres => &PostgresQueryBuilder,
        }
    }

    /// A time as a column keeps it. The frozen schemas differ: SQLite has integers (`unit`
    /// says which: a payment's own times are seconds, the outbox's and links' milliseconds),
    /// PostgreSQL `timestamptz`, given to the millisecond as SQLite would keep it, so that a
    /// value read back is the same on both.
    pub(crate) fn time(self, at: OffsetDateTime, unit: Unit) -> Value {
        match self {
            Dialect::Sqlite => Value::BigInt(Some(unit.to_int(at))),
            Dialect::Postgres => Value::from(millis(at)),
        }
    }

    /// [`Dialect::time`], or NULL of the column's type.
    pub(crate) fn opt_time(self, at: Option<OffsetDateTime>, unit: Unit) -> Value {
        match (self, at) {
            (_, Some(at)) => self.time(at, unit),
            (Dialect::Sqlite, None) => Value::BigInt(None),
            (Dialect::Postgres, None) => Value::from(None::<OffsetDateTime>),
        }
    }

    /// JSON as a column keeps it: SQLite as text, PostgreSQL as `jsonb` (what `psql` users
    /// query). NULL when there is none.
    pub(crate) fn json(self, value: Option<serde_json::Value>) -> Value {
        match self {
            Dialect::Sqlite => Value::from(value.map(|v| v.to_string())),
            Dialect::Postgres => Value::from(value),
        }
    }

    /// The column that orders rows as they were inserted (pages of lists, dumps): SQLite's
    /// implicit `rowid`, PostgreSQL's identity column `seq` (it has no rowid).
    pub(crate) fn insertion_order(self) -> Alias {
        match self {
            Dialect::Sqlite => Alias::new("rowid"),
            Dialect::Postgres => Alias::new("seq"),
        }
    }

    /// Locks the rows `select` reads until the transaction ends, so that what is decided
    /// on them is not decided twice at once: `FOR UPDATE` on PostgreSQL, where several
    /// proxies write at once. SQLite has no row locks (sea-query writes nothing there): its
    /// write transactions begin `IMMEDIATE` (`db/sqlite.rs`), so a whole transaction is the
    /// only writer of the file, which is at least as strong.
    pub(crate) fn lock_for_update(self, select: &mut SelectStatement) {
        select.lock(LockType::Update);
    }

    /// The address of a row in a table without a key, to change one of several equal rows:
    /// SQLite's implicit `rowid`, PostgreSQL's `ctid` (it has no rowid).
    pub(crate) fn row_address(self) -> Alias {
        match self {
            Dialect::Sqlite => Alias::new("rowid"),
            Dialect::Postgres => Alias::new("ctid"),
        }
    }

    /// What makes every transaction that runs it, on any instance, take its turn behind
    /// the others holding `key` until it ends, when what one decides depends on rows it
    /// reads but does not lock (a count of failed sign-ins, which no row holds). PostgreSQL:
    /// a transaction-level advisory lock. SQLite: nothing (`None`), since its write
    /// transactions begin `IMMEDIATE` (`db/sqlite.rs`) and so are the only writer of the
    /// file from their first statement. Run it with `execute` (it returns `void`).
    pub(crate) fn advisory_lock(self, key: i64) -> Option<SelectStatement> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(
                Query::select()
                    .expr(Func::cust(Alias::new("pg_advisory_xact_lock")).arg(key))
                    .to_owned(),
            ),
        }
    }
}

/// A time to the millisecond (what both schemas keep of an outbox or link time).
fn millis(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}
