//! The payments' statements, said once for both databases with sea-query, and a payment's
//! row read by column name ([`payment_from_row`]). What the two schemas keep differently (a
//! payment's times in seconds, its next check in milliseconds, metadata as text or `jsonb`,
//! the insertion order, the clock claims read) is asked of the [`Dialect`].
//!
//! A new nullable payment column is one name in [`COLUMNS`], one value in [`insert`] and
//! one field in [`payment_from_row`]: every read, the claims' `RETURNING` and `migrate --to`
//! take their columns from here.

use super::super::db::{Clock, Dialect, Fixed, Row, Unit};
use super::super::{limit_of, review_from_db, source_from_db, status_from_db, to_i64};
use super::super::{ListFilter, NewEvent, StoreError};
use crate::domain::payment::{Metadata, PaymentRecord, Review};
use paydigital::Status;
use sea_query::{
    Alias, Asterisk, Cond, Expr, Func, InsertStatement, LikeExpr, OnConflict, Order, Query,
    SelectStatement, SimpleExpr, UpdateStatement, Value,
};
use std::sync::LazyLock;
use std::time::Duration;
use time::OffsetDateTime;

pub(super) const PAYMENTS: &str = "payments";
const EVENTS: &str = "events";
const KEY_CLAIMS: &str = "idempotency_claims";
const RESERVATIONS: &str = "link_reservations";

/// A payment's own columns, as [`insert`] writes them and [`payment_from_row`] reads them.
const COLUMNS: &[&str] = &[
    "id",
    "invoice",
    "status",
    "status_word",
    "amount",
    "unique_code",
    "total_amount",
    "qr_content",
    "payment_url",
    "expires_at",
    "paid_at",
    "created_at",
    "description",
    "customer_name",
    "reference",
    "item",
    "source",
    "metadata",
    "late",
    "idempotency_key",
    "request_fingerprint",
    "review",
    "payment_link_id",
    "created_by",
    "receipt_token",
];

/// When the confirmation worker asks PayDigital next (milliseconds, unlike the payment's own
/// times): written and claimed here, read by `migrate --to` only.
const NEXT_CHECK: &str = "next_check_at";

fn name(name: &str) -> Alias {
    Alias::new(name)
}

fn col(column: &str) -> Expr {
    Expr::col(name(column))
}

/// A word in the SQL itself, not a value: a statement's values are only what a call gives.
fn word(word: &str) -> SimpleExpr {
    SimpleExpr::Constant(word.into())
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Build(e.to_string())
}

/// Every payment column of `payments`. Built once and copied: every read starts here.
fn select_payments() -> SelectStatement {
    static SELECT: LazyLock<SelectStatement> = LazyLock::new(|| {
        Query::select()
            .columns(COLUMNS.iter().copied().map(name))
            .from(name(PAYMENTS))
            .to_owned()
    });
    SELECT.clone()
}

/// One payment by a unique column (a placeholder for its value).
fn select_by(column: &str) -> SelectStatement {
    select_payments().and_where(col(column).eq("")).to_owned()
}

/// A payment by its id: every status read the cache misses (what `make bench` reads).
pub(super) static BY_ID: Fixed = Fixed::new(|| select_by("id"));
/// A payment by its scoped idempotency key (every create with a key looks first).
pub(super) static BY_KEY: Fixed = Fixed::new(|| select_by("idempotency_key"));
/// A payment by its receipt token (`/r/{token}`).
pub(super) static BY_RECEIPT: Fixed = Fixed::new(|| select_by("receipt_token"));

/// Writes `p` with when it is next checked; `on_conflict`: what gives way (none: a payment
/// whose id, invoice, key or token is there already is refused).
pub(super) fn insert(
    dialect: Dialect,
    p: &PaymentRecord,
    next_check: Option<OffsetDateTime>,
    on_conflict: Option<OnConflict>,
) -> Result<InsertStatement, StoreError> {
    let int = |n: u64| -> Result<SimpleExpr, StoreError> { Ok(to_i64(n)?.into()) };
    let values: Vec<SimpleExpr> = vec![
        p.id.clone().into(),
        p.invoice.clone().into(),
        p.status.as_str().into(),
        p.status_word.clone().into(),
        int(p.amount)?,
        int(p.unique_code)?,
        int(p.total_amount)?,
        p.qr_content.clone().into(),
        p.payment_url.clone().into(),
        dialect.time(p.expires_at, Unit::Seconds).into(),
        dialect.opt_time(p.paid_at, Unit::Seconds).into(),
        dialect.time(p.created_at, Unit::Seconds).into(),
        p.description.clone().into(),
        p.customer_name.clone().into(),
        p.reference.clone().into(),
        p.item.clone().into(),
        p.source.as_str().into(),
        dialect.json(metadata_to_db(&p.metadata)?).into(),
        p.late.into(),
        p.idempotency_key.clone().into(),
        p.request_fingerprint.clone().into(),
        Value::from(p.review.map(Review::as_str)).into(),
        p.payment_link_id.clone().into(),
        p.created_by.clone().into(),
        p.receipt_token.clone().into(),
        dialect.opt_time(next_check, Unit::Millis).into(),
    ];
    let mut insert = Query::insert();
    insert
        .into_table(name(PAYMENTS))
        .columns(COLUMNS.iter().copied().chain([NEXT_CHECK]).map(name))
        .values(values)
        .map_err(build_error)?;
    if let Some(on_conflict) = on_conflict {
        insert.on_conflict(on_conflict);
    }
    Ok(insert)
}

/// No metadata is NULL (as both stores always kept it), never `{}`.
fn metadata_to_db(metadata: &Metadata) -> Result<Option<serde_json::Value>, StoreError> {
    if metadata.is_empty() {
        return Ok(None);
    }
    serde_json::to_value(metadata)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))
}

/// The event telling of a payment's change, due for delivery at once: written in the same
/// transaction as the change (`insert`, `transition`).
pub(crate) fn insert_event(dialect: Dialect, e: &NewEvent) -> Result<InsertStatement, StoreError> {
    let at = dialect.time(e.created_at, Unit::Millis);
    let mut insert = Query::insert();
    insert
        .into_table(name(EVENTS))
        .columns(
            [
                "id",
                "payment_id",
                "type",
                "created_at",
                "body",
                "state",
                "next_attempt_at",
            ]
            .map(name),
        )
        .values([
            e.id.clone().into(),
            e.payment_id.clone().into(),
            e.event_type.into(),
            at.clone().into(),
            e.body.clone().into(),
            word("pending"),
            at.into(),
        ])
        .map_err(build_error)?;
    Ok(insert)
}

/// Drops the claim on `key` (its payment is stored: from now on the key lives on it).
pub(super) fn delete_key_claim(key: &str) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(name(KEY_CLAIMS))
        .and_where(col("key").eq(key))
        .to_owned()
}

/// Ends the link reservation taken under `key` (its payment now holds the place).
pub(super) fn delete_reservation(key: &str) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(name(RESERVATIONS))
        .and_where(col("key").eq(key))
        .to_owned()
}

/// Writes `to`'s new state if the payment is still in `from`: the change applies to the
/// state it was decided on, or not at all (another request or instance got there first).
pub(super) fn transition(
    dialect: Dialect,
    to: &PaymentRecord,
    from: Status,
    next_check: Option<OffsetDateTime>,
) -> UpdateStatement {
    Query::update()
        .table(name(PAYMENTS))
        .values([
            (name("status"), to.status.as_str().into()),
            (name("status_word"), to.status_word.clone().into()),
            (
                name("paid_at"),
                dialect.opt_time(to.paid_at, Unit::Seconds).into(),
            ),
            (name("late"), to.late.into()),
            (
                name(NEXT_CHECK),
                dialect.opt_time(next_check, Unit::Millis).into(),
            ),
        ])
        .and_where(col("id").eq(to.id.as_str()))
        .and_where(col("status").eq(from.as_str()))
        .to_owned()
}

/// PayDigital's word (when it said one) and the next check.
pub(super) fn checked(
    dialect: Dialect,
    id: &str,
    status_word: Option<&str>,
    next_check: Option<OffsetDateTime>,
) -> UpdateStatement {
    Query::update()
        .table(name(PAYMENTS))
        .value(
            name("status_word"),
            Func::coalesce([Expr::val(status_word).into(), col("status_word").into()]),
        )
        .value(name(NEXT_CHECK), dialect.opt_time(next_check, Unit::Millis))
        .and_where(col("id").eq(id))
        .to_owned()
}

pub(super) fn mark_for_review(id: &str, review: Review) -> UpdateStatement {
    Query::update()
        .table(name(PAYMENTS))
        .value(name("review"), review.as_str())
        .and_where(col("id").eq(id))
        .to_owned()
}

/// Claims up to `limit` payments whose check is due at the clock's now (pending ones
/// first), pushing each `lease` ahead, and returns them. PostgreSQL locks the rows it picks
/// and skips rows another proxy's claim holds (`FOR UPDATE SKIP LOCKED`), then re-checks
/// that each is still due; SQLite runs it in an IMMEDIATE transaction, the only writer.
pub(super) fn claim_due_checks(
    dialect: Dialect,
    clock: Clock,
    now: OffsetDateTime,
    lease: Duration,
    limit: usize,
) -> UpdateStatement {
    let now_ms = || dialect.now(clock, now, Unit::Millis);
    let order = dialect.insertion_order();
    let mut due = Query::select();
    due.column(order.clone())
        .from(name(PAYMENTS))
        .and_where(col(NEXT_CHECK).is_not_null())
        .and_where(col(NEXT_CHECK).lte(now_ms()))
        .order_by_expr(col("status").ne(word("pending")), Order::Asc)
        .order_by(name(NEXT_CHECK), Order::Asc)
        .limit(u64::try_from(limit_of(limit)).unwrap_or(u64::MAX))
        .lock_with_behavior(
            sea_query::LockType::Update,
            sea_query::LockBehavior::SkipLocked,
        );
    Query::update()
        .table(name(PAYMENTS))
        .value(
            name(NEXT_CHECK),
            dialect.now_plus(clock, now, lease, Unit::Millis),
        )
        .and_where(Expr::col(order).in_subquery(due))
        .and_where(col(NEXT_CHECK).lte(now_ms()))
        .returning(Query::returning().columns(COLUMNS.iter().copied().map(name)))
        .to_owned()
}

/// The list a filter asks for, newest first by insertion order (a page boundary stays put
/// while payments arrive); `before`: the cursor payment's insertion order. Only the
/// conditions the filter sets are written.
pub(super) fn select_page(
    dialect: Dialect,
    filter: &ListFilter,
    before: Option<i64>,
) -> SelectStatement {
    let order = dialect.insertion_order();
    let seconds = |at: OffsetDateTime| dialect.time(at, Unit::Seconds);
    let mut select = select_payments();
    select
        .and_where_option(filter.reference.as_deref().map(|r| col("reference").eq(r)))
        .and_where_option(
            filter
                .created_by
                .as_deref()
                .map(|c| col("created_by").eq(c)),
        )
        .and_where_option(
            filter
                .created_after
                .map(|at| col("created_at").gt(seconds(at))),
        )
        .and_where_option(
            filter
                .created_before
                .map(|at| col("created_at").lt(seconds(at))),
        )
        .and_where_option(before.map(|before| Expr::col(order.clone()).lt(before)));
    if let Some(search) = filter.search.as_deref().map(str::trim) {
        let pattern = LikeExpr::new(contains_pattern(search)).escape('\\');
        select.cond_where(
            Cond::any()
                .add(col("id").eq(search))
                .add(col("invoice").eq(search))
                .add(col("reference").eq(search))
                .add(Expr::expr(dialect.lower_ascii(col("customer_name").into())).like(pattern)),
        );
    }
    // A pending payment past its expiry is expired for whoever lists it, as in the views.
    let now = || seconds(filter.now.unwrap_or_else(OffsetDateTime::now_utc));
    let pending = || col("status").eq(word("pending"));
    match filter.status {
        None => {}
        Some(Status::Pending) => {
            select.and_where(pending().and(col("expires_at").gt(now())));
        }
        Some(Status::Paid) => {
            select.and_where(col("status").eq(word("paid")));
        }
        Some(Status::Expired) => {
            select.cond_where(
                Cond::any()
                    .add(col("status").eq(word("expired")))
                    .add(pending().and(col("expires_at").lte(now()))),
            );
        }
    }
    select
        .order_by(order, Order::Desc)
        .limit(u64::try_from(limit_of(filter.limit)).unwrap_or(u64::MAX));
    select
}

/// `text` for a `LIKE` pattern that finds it anywhere: its own `%`, `_` and `\` are
/// escaped (`ESCAPE '\'`), so a search for `50%` finds `50%`, not everything. Lowered in
/// ASCII only, as [`Dialect::lower_ascii`] lowers the names it is compared with.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// What was paid since `since`, per day in a zone `offset` seconds east of UTC: `day`
/// (days since 1970-01-01 there), `count` and `total`.
pub(super) fn paid_by_day(dialect: Dialect, since: OffsetDateTime, offset: i64) -> SelectStatement {
    let day = Expr::expr(dialect.unix_seconds(name("paid_at")))
        .add(offset)
        .div(SimpleExpr::Constant(86_400i64.into()));
    Query::select()
        .expr_as(day, name("day"))
        .expr_as(count(), name("count"))
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast back, on both (a no-op on SQLite).
        .expr_as(
            Func::cast_as(Func::sum(col("total_amount")), name("BIGINT")),
            name("total"),
        )
        .from(name(PAYMENTS))
        .and_where(col("status").eq(word("paid")))
        .and_where(col("paid_at").gte(dialect.time(since, Unit::Seconds)))
        .group_by_col(name("day"))
        .order_by(name("day"), Order::Asc)
        .to_owned()
}

/// `COUNT(*)`.
fn count() -> SimpleExpr {
    Func::count(Expr::col(Asterisk)).into()
}

/// `COUNT(CASE WHEN condition THEN 1 END)`: how many rows meet `condition`.
fn count_where(condition: SimpleExpr) -> SimpleExpr {
    let one = SimpleExpr::Constant(1i64.into());
    Func::count(Expr::case(condition, one)).into()
}

/// The payments still checked (`next_check_at` set, not paid), still payable at `now`
/// (`pending`) or past their expiry (`expired`): over the partial index of checked payments.
pub(super) fn watched_payments(dialect: Dialect, now: OffsetDateTime) -> SelectStatement {
    let now = || dialect.time(now, Unit::Seconds);
    Query::select()
        .expr_as(count_where(col("expires_at").gt(now())), name("pending"))
        .expr_as(count_where(col("expires_at").lte(now())), name("expired"))
        .from(name(PAYMENTS))
        .and_where(col(NEXT_CHECK).is_not_null())
        .and_where(col("status").ne(word("paid")))
        .to_owned()
}

/// The undelivered events: how many (`events`), and when the oldest was written
/// (`oldest`): over the partial index of pending events.
pub(super) fn undelivered_events() -> SelectStatement {
    Query::select()
        .expr_as(count(), name("events"))
        .expr_as(Func::min(col("created_at")), name("oldest"))
        .from(name(EVENTS))
        .and_where(col("state").eq(word("pending")))
        .to_owned()
}

/// Every payment with when it is next checked, oldest first (`migrate --to`).
pub(super) fn select_all(dialect: Dialect) -> SelectStatement {
    select_payments()
        .column(name(NEXT_CHECK))
        .order_by(dialect.insertion_order(), Order::Asc)
        .to_owned()
}

/// A payment's row, by column name (as [`select_payments`] reads it, or a claim returns it).
pub(crate) fn payment_from_row(row: &Row) -> Result<PaymentRecord, StoreError> {
    Ok(PaymentRecord {
        id: row.text("id")?,
        invoice: row.text("invoice")?,
        status: status_from_db(&row.text("status")?)?,
        status_word: row.opt_text("status_word")?,
        amount: row.u64("amount")?,
        unique_code: row.u64("unique_code")?,
        total_amount: row.u64("total_amount")?,
        qr_content: row.text("qr_content")?,
        payment_url: row.opt_text("payment_url")?,
        expires_at: row.time("expires_at", Unit::Seconds)?,
        paid_at: row.opt_time("paid_at", Unit::Seconds)?,
        created_at: row.time("created_at", Unit::Seconds)?,
        description: row.text("description")?,
        customer_name: row.text("customer_name")?,
        reference: row.opt_text("reference")?,
        item: row.opt_text("item")?,
        source: source_from_db(&row.text("source")?)?,
        metadata: row.opt_json::<Metadata>("metadata")?.unwrap_or_default(),
        late: row.bool("late")?,
        idempotency_key: row.opt_text("idempotency_key")?,
        request_fingerprint: row.opt_text("request_fingerprint")?,
        review: review_from_db(row.opt_text("review")?)?,
        payment_link_id: row.opt_text("payment_link_id")?,
        created_by: row.opt_text("created_by")?,
        receipt_token: row.text("receipt_token")?,
    })
}

/// When a payment (as [`select_all`] reads it) is next checked.
pub(super) fn next_check_from_row(row: &Row) -> Result<Option<OffsetDateTime>, StoreError> {
    row.opt_time(NEXT_CHECK, Unit::Millis)
}
