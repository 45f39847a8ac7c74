//! The one place for each real difference between the two databases' SQL and schemas that
//! sea-query does not already say (it writes each database's placeholders, quoting,
//! `ON CONFLICT ... DO UPDATE`/`DO NOTHING` upserts, and drops `FOR UPDATE` where SQLite has
//! no row locks). Each difference is one method here, with why it differs.

use super::row::Unit;
use crate::domain::clock::after;
use sea_query::{
    Alias, Expr, Func, LockBehavior, LockType, PostgresQueryBuilder, Query, QueryBuilder,
    SelectStatement, SimpleExpr, SqliteQueryBuilder, Value,
};
use std::time::Duration;
use time::OffsetDateTime;

/// Whose clock claims and leases read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The database's own where it has one: every PostgreSQL instance reads the same clock,
    /// so a proxy whose clock is skewed neither takes work early nor breaks another's lease.
    /// SQLite has none worth the name (its file belongs to one proxy): the caller's `now`.
    Database,
    /// The `now` each call is given, on both (tests that play time forward).
    #[cfg(test)]
    Caller,
}

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
    /// PostgreSQL `timestamptz`, cut to the same `unit` as SQLite would keep it, so that a
    /// value read back, or compared with, is the same on both. (A payment's times were
    /// given to PostgreSQL to the millisecond here before; its older code cut them to the
    /// second, as SQLite does.)
    pub(crate) fn time(self, at: OffsetDateTime, unit: Unit) -> Value {
        match self {
            Dialect::Sqlite => Value::BigInt(Some(unit.to_int(at))),
            Dialect::Postgres => Value::from(cut(at, unit)),
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

    /// Like [`Dialect::lock_for_update`], but rows another transaction holds are passed over
    /// rather than waited for (`FOR UPDATE SKIP LOCKED`): of several proxies claiming work
    /// at once, each takes different rows. Nothing on SQLite, for the same reason.
    pub(crate) fn lock_skip_locked(self, select: &mut SelectStatement) {
        select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }

    /// A time the database gave back, to be matched exactly (a delivery lease: its holder's
    /// token). Not rounded as [`Dialect::time`] rounds a caller's time: PostgreSQL keeps the
    /// microseconds its own clock set; SQLite, the integer of `unit` it was given.
    pub(crate) fn exact_time(self, at: OffsetDateTime, unit: Unit) -> Value {
        match self {
            Dialect::Sqlite => Value::BigInt(Some(unit.to_int(at))),
            Dialect::Postgres => Value::from(at),
        }
    }

    /// `expr` lowered in ASCII only, the same on both: SQLite's own `lower()` lowers ASCII
    /// only, PostgreSQL's lowers what its database's locale says (Unicode under a UTF-8
    /// locale, ASCII under `C`), so a search for `élan` found `Élan` on one database and not
    /// the other. `translate` spells the ASCII alphabet out for PostgreSQL (SQLite has no
    /// `translate`). The pattern compared with it is lowered the same way in Rust.
    pub(crate) fn lower_ascii(self, expr: SimpleExpr) -> SimpleExpr {
        match self {
            Dialect::Sqlite => Func::lower(expr).into(),
            Dialect::Postgres => Func::cust(Alias::new("translate"))
                .args([
                    expr,
                    SimpleExpr::Constant("ABCDEFGHIJKLMNOPQRSTUVWXYZ".into()),
                    SimpleExpr::Constant("abcdefghijklmnopqrstuvwxyz".into()),
                ])
                .into(),
        }
    }

    /// A time column kept in whole seconds (a payment's own times) as unix seconds, an
    /// integer: SQLite keeps it so; PostgreSQL's `timestamptz` is asked its epoch.
    pub(crate) fn unix_seconds(self, column: Alias) -> SimpleExpr {
        match self {
            Dialect::Sqlite => Expr::col(column).into(),
            Dialect::Postgres => Func::cast_as(
                Expr::cust_with_expr("extract(epoch FROM $1)", Expr::col(column)),
                Alias::new("BIGINT"),
            )
            .into(),
        }
    }

    /// The moment a claim or a lease is measured from, as a column keeping `unit` compares
    /// with it: on PostgreSQL the database's clock (`now()`), which every instance sharing
    /// the database reads alike, however skewed their own; on SQLite, whose file one proxy
    /// serves, that proxy's `now`. `clock` lets tests play PostgreSQL's time forward.
    pub(crate) fn now(self, clock: Clock, now: OffsetDateTime, unit: Unit) -> SimpleExpr {
        match (self, clock) {
            (Dialect::Postgres, Clock::Database) => Expr::cust("now()"),
            _ => self.time(now, unit).into(),
        }
    }

    /// [`Dialect::now`] plus `by` (a lease's end).
    pub(crate) fn now_plus(
        self,
        clock: Clock,
        now: OffsetDateTime,
        by: Duration,
        unit: Unit,
    ) -> SimpleExpr {
        match (self, clock) {
            (Dialect::Postgres, Clock::Database) if by.is_zero() => Expr::cust("now()"),
            (Dialect::Postgres, Clock::Database) => {
                // bigint * interval: a parameter of its own type would be read as a float.
                let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
                Expr::cust("now()").add(
                    SimpleExpr::from(Func::cast_as(Expr::val(ms), Alias::new("bigint")))
                        .mul(Expr::cust("interval '1 millisecond'")),
                )
            }
            _ => Expr::val(self.time(after(now, by), unit)).into(),
        }
    }

    /// The address of a row in a table without a key: SQLite's implicit `rowid`, PostgreSQL's
    /// `ctid` (it has no rowid). To change one of several equal rows (a forgiven sign-in
    /// failure), and to order rows of otherwise equal keys the same way at every read (the
    /// `attempts` of one instant: tables without an identity column on PostgreSQL).
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

/// A time cut to `unit` (what both schemas keep of it).
fn cut(at: OffsetDateTime, unit: Unit) -> OffsetDateTime {
    let nanos = match unit {
        Unit::Seconds => 0,
        Unit::Millis => at.nanosecond() / 1_000_000 * 1_000_000,
    };
    at.replace_nanosecond(nanos).unwrap_or(at)
}
