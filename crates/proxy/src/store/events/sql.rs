//! The outbox's statements, said once for both databases with sea-query, and an event's and
//! an attempt's row read by column name. What the two schemas keep differently (times:
//! unix milliseconds on SQLite, `timestamptz` on PostgreSQL), the clock a claim reads and
//! the row locks it takes are asked of the [`Dialect`].

use crate::store::db::dialect::Clock;
use crate::store::db::{Dialect, Row, Unit};
use crate::store::StoredAttempt;
use crate::store::{limit_of, Attempt, DeliveryState, EventFilter, EventRecord, StoreError};
use sea_query::{
    Alias, Expr, InsertStatement, JoinType, Order, Query, SelectStatement, SimpleExpr,
    UpdateStatement,
};
use std::time::Duration;
use time::OffsetDateTime;

const EVENTS: &str = "events";
const ATTEMPTS: &str = "attempts";
/// The outbox's times are milliseconds (SQLite's integers; what PostgreSQL is given).
const UNIT: Unit = Unit::Millis;

/// An event's columns, as [`decode_event`] reads them.
const EVENT_COLUMNS: [&str; 11] = [
    "id",
    "payment_id",
    "type",
    "created_at",
    "body",
    "state",
    "attempts",
    "next_attempt_at",
    "last_attempt_at",
    "last_status",
    "leased_until",
];

/// An attempt's columns, as [`insert_attempt`] writes them and [`decode_attempt`] reads them.
const ATTEMPT_COLUMNS: [&str; 4] = ["event_id", "at", "outcome", "duration_ms"];

fn name(name: &str) -> Alias {
    Alias::new(name)
}

/// `table.column`.
fn of(table: &str, column: &str) -> Expr {
    Expr::col((name(table), name(column)))
}

fn col(column: &str) -> Expr {
    Expr::col(name(column))
}

/// A delivery state as a word of the SQL, not a value: a statement's values are only what
/// a call gives.
fn state_word(state: DeliveryState) -> SimpleExpr {
    SimpleExpr::Constant(state.as_str().into())
}

fn limit(n: usize) -> u64 {
    u64::try_from(limit_of(n)).unwrap_or(u64::MAX)
}

/// Events, every column.
fn select_events() -> SelectStatement {
    Query::select()
        .columns(EVENT_COLUMNS.map(name))
        .from(name(EVENTS))
        .to_owned()
}

/// Takes a lease on due events, as [`super::EventStore::claim_due_events`] says: for each
/// payment only its oldest undelivered event (so a payment's events go out in order), none
/// leased by another proxy, the longest-waiting first; every event it leases is returned.
/// On PostgreSQL rows another proxy's claim is taking are passed over (`SKIP LOCKED`), and
/// the outer `WHERE` checks again what the inner one chose by (two claims racing past each
/// other's locks must not both lease one event); on SQLite the claim's IMMEDIATE
/// transaction is the only writer, so the second check finds what the first did.
pub(super) fn claim_due(
    dialect: Dialect,
    clock: Clock,
    now: OffsetDateTime,
    lease: Duration,
    n: usize,
) -> UpdateStatement {
    let now_expr = || dialect.now_plus(clock, now, Duration::ZERO, UNIT);
    // Nobody holds it, or its holder's lease has run out.
    let free =
        |leased_until: fn() -> Expr| leased_until().is_null().or(leased_until().lte(now_expr()));
    let earlier = Query::select()
        .expr(Expr::cust("1"))
        .from_as(name(EVENTS), name("earlier"))
        .and_where(of("earlier", "payment_id").equals((name("e"), name("payment_id"))))
        .and_where(of("earlier", "state").eq(state_word(DeliveryState::Pending)))
        .and_where(of("earlier", "seq").lt(of("e", "seq")))
        .to_owned();
    let mut due = Query::select();
    due.column((name("e"), name("seq")))
        .from_as(name(EVENTS), name("e"))
        .and_where(of("e", "state").eq(state_word(DeliveryState::Pending)))
        .and_where(of("e", "next_attempt_at").lte(now_expr()))
        .and_where(free(|| of("e", "leased_until")))
        .and_where(Expr::exists(earlier).not())
        .order_by((name("e"), name("next_attempt_at")), Order::Asc)
        .limit(limit(n));
    dialect.lock_skip_locked(&mut due);
    Query::update()
        .table(name(EVENTS))
        .value(
            name("leased_until"),
            dialect.now_plus(clock, now, lease, UNIT),
        )
        .and_where(col("seq").in_subquery(due))
        .and_where(col("state").eq(state_word(DeliveryState::Pending)))
        .and_where(free(|| col("leased_until")))
        .returning(Query::returning().columns(EVENT_COLUMNS.map(name)))
        .to_owned()
}

/// Writes what an attempt leaves the event in and ends its lease, if the attempt's lease
/// is still the event's: its token exactly, or none (an attempt made without a claim).
pub(super) fn record(dialect: Dialect, event_id: &str, attempt: &Attempt) -> UpdateStatement {
    let (state, next) = attempt.then.leaves();
    let mut update = Query::update();
    update
        .table(name(EVENTS))
        .value(name("state"), state.as_str())
        .value(name("attempts"), col("attempts").add(1))
        .value(name("last_attempt_at"), dialect.time(attempt.at, UNIT))
        .value(name("last_status"), attempt.outcome.as_str())
        .value(name("leased_until"), dialect.opt_time(None, UNIT))
        .and_where(col("id").eq(event_id))
        .and_where(match attempt.lease {
            Some(lease) => col("leased_until").eq(dialect.exact_time(lease, UNIT)),
            None => col("leased_until").is_null(),
        });
    // No next attempt (delivered, failed, abandoned): the one planned stays as it was.
    if let Some(next) = next {
        update.value(name("next_attempt_at"), dialect.time(next, UNIT));
    }
    update
}

/// The attempt's own row.
pub(super) fn insert_attempt(
    dialect: Dialect,
    event_id: &str,
    attempt: &Attempt,
) -> Result<InsertStatement, StoreError> {
    let duration = attempt
        .duration
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut insert = Query::insert();
    insert
        .into_table(name(ATTEMPTS))
        .columns(ATTEMPT_COLUMNS.map(name))
        .values([
            event_id.into(),
            dialect.time(attempt.at, UNIT).into(),
            attempt.outcome.as_str().into(),
            duration.into(),
        ])
        .map_err(|e| StoreError::Build(e.to_string()))?;
    Ok(insert)
}

/// An event's place in the outbox (the list's cursor), by id.
pub(super) fn select_seq_of(id: &str) -> SelectStatement {
    Query::select()
        .column(name("seq"))
        .from(name(EVENTS))
        .and_where(col("id").eq(id))
        .to_owned()
}

/// Events in the order they were written, after the cursor's (`after`: its `seq`), as
/// the filter says.
pub(super) fn select_page(filter: &EventFilter, after: Option<i64>) -> SelectStatement {
    select_events()
        .and_where_option(after.map(|seq| col("seq").gt(seq)))
        .and_where_option(filter.state.map(|state| col("state").eq(state.as_str())))
        .order_by(name("seq"), Order::Asc)
        .limit(limit(filter.limit))
        .to_owned()
}

/// Queues an event again, now: pending, its attempts counted afresh.
pub(super) fn resend(dialect: Dialect, event_id: &str, now: OffsetDateTime) -> UpdateStatement {
    Query::update()
        .table(name(EVENTS))
        .value(name("state"), state_word(DeliveryState::Pending))
        .value(name("attempts"), 0)
        .value(name("next_attempt_at"), dialect.time(now, UNIT))
        .and_where(col("id").eq(event_id))
        .to_owned()
}

/// A payment's events, in the order they were written.
pub(super) fn select_of_payment(payment_id: &str) -> SelectStatement {
    select_events()
        .and_where(col("payment_id").eq(payment_id))
        .order_by(name("seq"), Order::Asc)
        .to_owned()
}

/// Every attempt of a payment's events, oldest first; attempts of one instant in the order
/// their rows lie (the attempts table has no key of its own), so every read agrees.
pub(super) fn select_attempts_of_payment(dialect: Dialect, payment_id: &str) -> SelectStatement {
    Query::select()
        .columns(ATTEMPT_COLUMNS.map(|c| (name("a"), name(c))))
        .from_as(name(ATTEMPTS), name("a"))
        .join_as(
            JoinType::InnerJoin,
            name(EVENTS),
            name("e"),
            of("e", "id").equals((name("a"), name("event_id"))),
        )
        .and_where(of("e", "payment_id").eq(payment_id))
        .order_by((name("a"), name("at")), Order::Asc)
        .order_by((name("a"), dialect.row_address()), Order::Asc)
        .to_owned()
}

/// Events written at or after `since`, oldest first, after the event `after` if given (in
/// `(created_at, seq)` order: an unknown `after` compares as NULL, so nothing is read again).
pub(super) fn select_since(
    dialect: Dialect,
    since: OffsetDateTime,
    after: Option<&str>,
    n: usize,
) -> SelectStatement {
    let position = || Expr::tuple([col("created_at").into(), col("seq").into()]);
    let mut select = select_events();
    select.and_where(col("created_at").gte(dialect.time(since, UNIT)));
    if let Some(after) = after {
        let mut of_after = Query::select();
        of_after
            .columns([name("created_at"), name("seq")])
            .from(name(EVENTS))
            .and_where(col("id").eq(after));
        select.and_where(position().gt(SimpleExpr::SubQuery(
            None,
            Box::new(of_after.into_sub_query_statement()),
        )));
    }
    select
        .order_by(name("created_at"), Order::Asc)
        .order_by(name("seq"), Order::Asc)
        .limit(limit(n))
        .to_owned()
}

/// An event's row (every column of [`EVENT_COLUMNS`]).
pub(super) fn decode_event(row: &Row) -> Result<EventRecord, StoreError> {
    let attempts = row.u64("attempts")?;
    Ok(EventRecord {
        id: row.text("id")?,
        payment_id: row.text("payment_id")?,
        event_type: row.text("type")?,
        created_at: row.time("created_at", UNIT)?,
        body: row.text("body")?,
        state: DeliveryState::from_db(&row.text("state")?)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("column attempts: {attempts} attempts")))?,
        next_attempt_at: row.time("next_attempt_at", UNIT)?,
        last_attempt_at: row.opt_time("last_attempt_at", UNIT)?,
        last_status: row.opt_text("last_status")?,
        leased_until: row.opt_time("leased_until", UNIT)?,
    })
}

/// An attempt's row (every column of [`ATTEMPT_COLUMNS`]). A negative duration (no version
/// writes one) reads as none, as it always has.
pub(super) fn decode_attempt(row: &Row) -> Result<StoredAttempt, StoreError> {
    Ok(StoredAttempt {
        event_id: row.text("event_id")?,
        at: row.time("at", UNIT)?,
        outcome: row.text("outcome")?,
        duration_ms: row
            .opt_i64("duration_ms")?
            .and_then(|d| u64::try_from(d).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AfterAttempt;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-24 08:05 UTC);

    #[test]
    fn a_claim_skips_locked_rows_and_reads_the_databases_clock_on_postgresql_only() {
        let lease = Duration::from_secs(60);
        let (pg, values) = claim_due(Dialect::Postgres, Clock::Database, NOW, lease, 10)
            .build_any(Dialect::Postgres.builder());
        assert!(pg.contains("FOR UPDATE SKIP LOCKED"), "{pg}");
        assert!(pg.contains("now()"), "{pg}");
        assert!(pg.contains("RETURNING"), "{pg}");
        // The lease (60000 ms) and the limit: no caller's time is sent.
        assert_eq!(
            values.0,
            vec![sea_query::Value::from(60_000_i64), 10_u64.into()]
        );
        let (sqlite, values) = claim_due(Dialect::Sqlite, Clock::Database, NOW, lease, 10)
            .build_any(Dialect::Sqlite.builder());
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        assert!(!sqlite.contains("now()"), "{sqlite}");
        let now_ms = UNIT.to_int(NOW);
        assert!(values.0.contains(&now_ms.into()), "{values:?}");
        assert!(values.0.contains(&(now_ms + 60_000).into()), "{values:?}");
    }

    #[test]
    fn an_attempt_is_recorded_under_its_own_lease_only() {
        let attempt = |lease| Attempt {
            at: NOW,
            outcome: "HTTP 204".into(),
            then: AfterAttempt::Delivered,
            lease,
            duration: None,
        };
        let (sql, _) = record(Dialect::Postgres, "evt_1", &attempt(None))
            .build_any(Dialect::Postgres.builder());
        assert!(sql.contains(r#""leased_until" IS NULL"#), "{sql}");
        assert!(!sql.contains("next_attempt_at"), "delivered: {sql}");
        // A lease set by PostgreSQL's clock is matched to the microsecond.
        let token = datetime!(2026-11-24 08:06:00.123456 UTC);
        let (sql, values) = record(Dialect::Postgres, "evt_1", &attempt(Some(token)))
            .build_any(Dialect::Postgres.builder());
        assert!(sql.contains(r#""leased_until" = $"#), "{sql}");
        assert!(values.0.contains(&token.into()), "{values:?}");
    }
}
