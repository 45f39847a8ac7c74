//! The claims' statements, said once for both databases with sea-query, and [`Now`]: whose
//! clock a claim reads, the one thing about them that differs per database.

use super::Clock;
use crate::domain::clock::before;
use crate::store::db::{Dialect, Unit};
use crate::store::StoreError;
use sea_query::{
    Alias, DeleteStatement, Expr, InsertStatement, OnConflict, Query, SelectStatement, SimpleExpr,
    UpdateStatement,
};
use std::time::Duration;
use time::OffsetDateTime;

const PAYMENTS: &str = "payments";
const KEY_CLAIMS: &str = "idempotency_claims";
const BUDGET: &str = "upstream_budget";
/// The column the budget's read returns the database's clock in (milliseconds).
pub(super) const NOW_MS: &str = "now_ms";

fn name(name: &str) -> Alias {
    Alias::new(name)
}

/// A duration in the milliseconds both schemas count claims in.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whose clock a statement reads. PostgreSQL (outside tests that play time forward) reads
/// its own, `now()`: several proxies decide by one clock, whatever theirs say. SQLite, one
/// proxy's file, takes the caller's `now`, kept as the frozen schema keeps it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Now {
    dialect: Dialect,
    database: bool,
}

impl Now {
    pub(super) fn of(dialect: Dialect, clock: Clock) -> Now {
        Now {
            dialect,
            database: dialect == Dialect::Postgres && clock == Clock::Database,
        }
    }

    /// Now: the database's clock, or `at` as a column keeps a time.
    fn at(self, at: OffsetDateTime, unit: Unit) -> SimpleExpr {
        if self.database {
            Expr::cust("now()")
        } else {
            self.dialect.time(at, unit).into()
        }
    }

    /// `by` before now.
    fn earlier(self, at: OffsetDateTime, by: Duration, unit: Unit) -> SimpleExpr {
        if self.database {
            Expr::cust_with_values(
                "now() - CAST($1 AS BIGINT) * interval '1 millisecond'",
                [millis(by)],
            )
        } else {
            self.dialect.time(before(at, by), unit).into()
        }
    }

    /// The budget's clock, in milliseconds since the epoch, where the database gives it:
    /// `clock_timestamp()`, the time of the read itself (not of the transaction's start),
    /// since the row lock may have queued it behind other proxies.
    pub(super) fn budget_clock(self) -> Option<SimpleExpr> {
        self.database
            .then(|| Expr::cust("(extract(epoch FROM clock_timestamp()) * 1000)::bigint"))
    }
}

/// Claims payment `id`'s status read unless one was claimed within `window`: one row
/// changed, or none. (`refresh_claimed_at`: milliseconds on SQLite.)
pub(super) fn claim_refresh(
    now: Now,
    id: &str,
    at: OffsetDateTime,
    window: Duration,
) -> UpdateStatement {
    let claimed = || Expr::col(name("refresh_claimed_at"));
    Query::update()
        .table(name(PAYMENTS))
        .value(name("refresh_claimed_at"), now.at(at, Unit::Millis))
        .and_where(Expr::col(name("id")).eq(id))
        .and_where(
            claimed()
                .is_null()
                .or(claimed().lte(now.earlier(at, window, Unit::Millis))),
        )
        .to_owned()
}

/// When payment `id`'s status read was last claimed (no row: no such payment).
pub(super) fn select_refresh_claim(id: &str) -> SelectStatement {
    Query::select()
        .column(name("refresh_claimed_at"))
        .from(name(PAYMENTS))
        .and_where(Expr::col(name("id")).eq(id))
        .to_owned()
}

pub(super) fn release_refresh(id: &str) -> UpdateStatement {
    Query::update()
        .table(name(PAYMENTS))
        // A NULL of no type: the column is an integer on SQLite, a timestamptz on PostgreSQL.
        .value(
            name("refresh_claimed_at"),
            SimpleExpr::Keyword(sea_query::Keyword::Null),
        )
        .and_where(Expr::col(name("id")).eq(id))
        .to_owned()
}

/// Claims `key` for `fingerprint`: a new claim, or one taken over from a holder whose claim
/// is older than `stale` (the upsert's `WHERE` re-checks it on the row it conflicts with, so
/// of two takers one wins). One row changed, or none: held.
pub(super) fn claim_key(
    now: Now,
    key: &str,
    fingerprint: &str,
    at: OffsetDateTime,
    stale: Duration,
) -> Result<InsertStatement, StoreError> {
    let mut insert = Query::insert();
    insert
        .into_table(name(KEY_CLAIMS))
        .columns([name("key"), name("fingerprint"), name("claimed_at")])
        .values([key.into(), fingerprint.into(), now.at(at, Unit::Millis)])
        .map_err(|e| StoreError::Build(e.to_string()))?
        .on_conflict(
            OnConflict::column(name("key"))
                .update_columns([name("fingerprint"), name("claimed_at")])
                .action_and_where(
                    Expr::col((name(KEY_CLAIMS), name("claimed_at"))).lte(now.earlier(
                        at,
                        stale,
                        Unit::Millis,
                    )),
                )
                .to_owned(),
        );
    Ok(insert)
}

/// Who holds `key`'s claim: its request fingerprint.
pub(super) fn select_key_holder(key: &str) -> SelectStatement {
    Query::select()
        .column(name("fingerprint"))
        .from(name(KEY_CLAIMS))
        .and_where(Expr::col(name("key")).eq(key))
        .to_owned()
}

pub(super) fn release_key(key: &str) -> DeleteStatement {
    Query::delete()
        .from_table(name(KEY_CLAIMS))
        .and_where(Expr::col(name("key")).eq(key))
        .to_owned()
}

/// The budget's row for `kind`, made on its first use (nothing taken yet).
pub(super) fn insert_budget(kind: &str) -> Result<InsertStatement, StoreError> {
    let mut insert = Query::insert();
    insert
        .into_table(name(BUDGET))
        .columns([name("kind"), name("tat_ms")])
        .values([kind.into(), 0_i64.into()])
        .map_err(|e| StoreError::Build(e.to_string()))?
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    Ok(insert)
}

/// `kind`'s theoretical arrival time (and the database's clock, where it has the one every
/// proxy reads: [`NOW_MS`]), its row locked until the transaction ends.
pub(super) fn select_budget(now: Now, kind: &str) -> SelectStatement {
    let mut select = Query::select()
        .column(name("tat_ms"))
        .from(name(BUDGET))
        .and_where(Expr::col(name("kind")).eq(kind))
        .to_owned();
    if let Some(clock) = now.budget_clock() {
        select.expr_as(clock, name(NOW_MS));
    }
    now.dialect.lock_for_update(&mut select);
    select
}

pub(super) fn update_budget(kind: &str, tat_ms: i64) -> UpdateStatement {
    Query::update()
        .table(name(BUDGET))
        .value(name("tat_ms"), tat_ms)
        .and_where(Expr::col(name("kind")).eq(kind))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn postgres_claims_read_the_databases_clock_and_sqlite_the_callers() {
        let at = datetime!(2026-11-24 09:00:00.123 UTC);
        let window = Duration::from_secs(2);
        let (sql, values) =
            claim_refresh(Now::of(Dialect::Postgres, Clock::Database), "p", at, window)
                .build_any(Dialect::Postgres.builder());
        assert!(
            sql.contains(r#"SET "refresh_claimed_at" = now()"#)
                && sql.contains("now() - CAST($2 AS BIGINT) * interval '1 millisecond'"),
            "{sql}"
        );
        assert_eq!(values.0.last(), Some(&sea_query::Value::from(2_000_i64)));
        let (sql, values) =
            claim_refresh(Now::of(Dialect::Sqlite, Clock::Database), "p", at, window)
                .build_any(Dialect::Sqlite.builder());
        assert!(!sql.contains("now()"), "{sql}");
        assert_eq!(
            values.0,
            vec![
                sea_query::Value::from(1_795_510_800_123_i64),
                sea_query::Value::from("p"),
                sea_query::Value::from(1_795_510_798_123_i64),
            ]
        );
        let (sql, _) = select_budget(Now::of(Dialect::Sqlite, Clock::Database), "status")
            .build_any(Dialect::Sqlite.builder());
        assert!(
            !sql.contains(NOW_MS) && !sql.contains("FOR UPDATE"),
            "{sql}"
        );
        let (sql, _) = select_budget(Now::of(Dialect::Postgres, Clock::Database), "status")
            .build_any(Dialect::Postgres.builder());
        assert!(
            sql.contains("clock_timestamp()") && sql.ends_with("FOR UPDATE"),
            "{sql}"
        );
    }
}
