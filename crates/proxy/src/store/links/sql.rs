//! The links' statements, said once for both databases with sea-query, and a link's row
//! read by column name. What the two schemas keep differently (times, JSON, the insertion
//! order) is asked of the [`Dialect`].

use super::{amount_from_db, amount_to_db, LinkFilter};
use crate::domain::links::{LinkWithTotals, PaymentLink};
use crate::domain::payment::Metadata;
use crate::store::db::{Dialect, Fixed, Row, Unit};
use crate::store::{limit_of, to_i64, StoreError};
use sea_query::{
    Alias, Asterisk, Expr, Func, InsertStatement, OnConflict, Order, Query, SelectStatement,
    SimpleExpr, Value,
};
use std::sync::LazyLock;
use time::OffsetDateTime;

pub(super) const LINKS: &str = "payment_links";
pub(super) const RESERVATIONS: &str = "link_reservations";
pub(super) const SECRET: &str = "link_form_secret";
const PAYMENTS: &str = "payments";

/// A link's own columns, as [`insert`] writes them and [`decode`] reads them.
const COLUMNS: [&str; 14] = [
    "id",
    "title",
    "description",
    "amount",
    "min_amount",
    "max_amount",
    "max_payments",
    "expires_at",
    "success_url",
    "metadata",
    "active",
    "created_at",
    "idempotency_key",
    "request_fingerprint",
];

pub(super) fn name(name: &str) -> Alias {
    Alias::new(name)
}

/// `table.column`.
fn of(table: &str, column: &str) -> Expr {
    Expr::col((name(table), name(column)))
}

/// `(SELECT expr FROM payments p WHERE p.payment_link_id = l.id AND ...)`.
fn per_link_payments(expr: SimpleExpr, conditions: Vec<SimpleExpr>) -> SimpleExpr {
    let mut sub = Query::select();
    sub.expr(expr)
        .from_as(name(PAYMENTS), name("p"))
        .and_where(of("p", "payment_link_id").equals((name("l"), name("id"))));
    for condition in conditions {
        sub.and_where(condition);
    }
    SimpleExpr::SubQuery(None, Box::new(sub.into_sub_query_statement()))
}

/// `COUNT(*)`.
fn count() -> SimpleExpr {
    Func::count(Expr::col(Asterisk)).into()
}

/// Links (`l`) with their paid payments' count (`paid_count`) and total (`paid_total`). Built
/// once and copied: every link read starts here, and building it costs more than copying.
pub(super) fn select_links() -> SelectStatement {
    static SELECT: LazyLock<SelectStatement> = LazyLock::new(|| {
        // A word, not a value: the statement's values are only what a call gives.
        let paid = || of("p", "status").eq(SimpleExpr::Constant("paid".into()));
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast back, on both (a no-op on SQLite).
        let total = Func::cast_as(
            Func::coalesce([Func::sum(of("p", "total_amount")).into(), Expr::cust("0")]),
            name("BIGINT"),
        );
        Query::select()
            .columns(COLUMNS.map(|c| (name("l"), name(c))))
            .expr_as(per_link_payments(count(), vec![paid()]), name("paid_count"))
            .expr_as(
                per_link_payments(total.into(), vec![paid()]),
                name("paid_total"),
            )
            .from_as(name(LINKS), name("l"))
            .to_owned()
    });
    SELECT.clone()
}

/// One link by its id (a placeholder for it): the read of every link page and API call.
pub(super) static LINK_BY_ID: Fixed = Fixed::new(|| select_link_by("id", ""));

/// One link by a unique column.
pub(super) fn select_link_by(column: &str, value: &str) -> SelectStatement {
    select_links()
        .and_where(of("l", column).eq(value))
        .to_owned()
}

/// [`select_links`] for one link with what holds its places at `now`: its open payments
/// (`open`: pending, not expired) and its reservations other than `key`'s (`reserved`). One
/// statement, one snapshot: a payment replacing its reservation meanwhile is counted once.
pub(super) fn select_link_use(
    dialect: Dialect,
    link_id: &str,
    key: &str,
    now: OffsetDateTime,
) -> SelectStatement {
    let open = per_link_payments(
        count(),
        vec![
            of("p", "status").eq(SimpleExpr::Constant("pending".into())),
            // A payment's own times: seconds on SQLite.
            of("p", "expires_at").gt(dialect.time(now, Unit::Seconds)),
        ],
    );
    let mut reserved = Query::select();
    reserved
        .expr(count())
        .from_as(name(RESERVATIONS), name("r"))
        .and_where(of("r", "link_id").equals((name("l"), name("id"))))
        .and_where(of("r", "key").ne(key));
    select_link_by("id", link_id)
        .expr_as(open, name("open"))
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(reserved.into_sub_query_statement())),
            name("reserved"),
        )
        .to_owned()
}

/// The list a filter asks for, newest first; `before`: the cursor link's insertion order.
pub(super) fn select_page(
    dialect: Dialect,
    filter: &LinkFilter,
    before: Option<i64>,
) -> SelectStatement {
    let order = (name("l"), dialect.insertion_order());
    let mut select = select_links();
    select
        .and_where_option(filter.active.map(|active| of("l", "active").eq(active)))
        .and_where_option(before.map(|before| Expr::col(order.clone()).lt(before)))
        .order_by(order, Order::Desc)
        .limit(u64::try_from(limit_of(filter.limit)).unwrap_or(u64::MAX));
    select
}

/// Every link, oldest first (`migrate --to`).
pub(super) fn select_all(dialect: Dialect) -> SelectStatement {
    select_links()
        .order_by((name("l"), dialect.insertion_order()), Order::Asc)
        .to_owned()
}

/// Writes `l`; `on_conflict` says what gives way.
pub(super) fn insert(
    dialect: Dialect,
    l: &PaymentLink,
    on_conflict: OnConflict,
) -> Result<InsertStatement, StoreError> {
    let (fixed, min, max) = amount_to_db(l.amount);
    let int = |n: Option<u64>| -> Result<Value, StoreError> {
        Ok(Value::BigInt(n.map(to_i64).transpose()?))
    };
    let metadata = if l.metadata.is_empty() {
        None
    } else {
        Some(serde_json::to_value(&l.metadata).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    };
    let values: [SimpleExpr; 14] = [
        l.id.clone().into(),
        l.title.clone().into(),
        l.description.clone().into(),
        int(fixed)?.into(),
        int(min)?.into(),
        int(max)?.into(),
        Value::BigInt(l.max_payments.map(i64::from)).into(),
        dialect.opt_time(l.expires_at, Unit::Millis).into(),
        l.success_url.clone().into(),
        dialect.json(metadata).into(),
        l.active.into(),
        dialect.time(l.created_at, Unit::Millis).into(),
        l.idempotency_key.clone().into(),
        l.request_fingerprint.clone().into(),
    ];
    let mut insert = Query::insert();
    insert
        .into_table(name(LINKS))
        .columns(COLUMNS.map(name))
        .values(values)
        .map_err(|e| StoreError::Build(e.to_string()))?
        .on_conflict(on_conflict);
    Ok(insert)
}

/// A link's row (as [`select_links`] reads it).
pub(super) fn decode(row: &Row) -> Result<LinkWithTotals, StoreError> {
    Ok(LinkWithTotals {
        link: PaymentLink {
            id: row.text("id")?,
            title: row.text("title")?,
            description: row.opt_text("description")?,
            amount: amount_from_db(
                row.opt_u64("amount")?,
                row.opt_u64("min_amount")?,
                row.opt_u64("max_amount")?,
            ),
            max_payments: row.opt_u32("max_payments")?,
            expires_at: row.opt_time("expires_at", Unit::Millis)?,
            success_url: row.opt_text("success_url")?,
            metadata: row.opt_json::<Metadata>("metadata")?.unwrap_or_default(),
            active: row.bool("active")?,
            created_at: row.time("created_at", Unit::Millis)?,
            idempotency_key: row.opt_text("idempotency_key")?,
            request_fingerprint: row.opt_text("request_fingerprint")?,
        },
        paid_count: row.u64("paid_count")?,
        paid_total: row.u64("paid_total")?,
    })
}
