//! The staff tables' statements, said once for both databases with sea-query, and their rows
//! read by column name. Times are milliseconds on SQLite (migration v6) and `timestamptz` on
//! PostgreSQL (v3), given to the millisecond on both ([`Dialect::time`] with `Unit::Millis`).

use super::{role_from_db, AuditEntry, AuditRecord, StaffMember, StaffSession};
use crate::domain::staff::Email;
use crate::store::db::{Dialect, Fixed, Row, Unit};
use crate::store::{limit_of, StoreError};
use sea_query::{
    Alias, DeleteStatement, Expr, InsertStatement, JoinType, OnConflict, Order, Query,
    SelectStatement, SimpleExpr,
};
use time::OffsetDateTime;

const STAFF: &str = "staff";
const SESSIONS: &str = "staff_sessions";
const FAILURES: &str = "login_failures";
const AUDIT: &str = "audit_log";

/// An account's columns, as [`insert_member`] writes them and [`member`] reads them.
const MEMBER_COLUMNS: [&str; 4] = ["email", "role", "password_hash", "created_at"];
/// An audit line's columns (besides `seq`, which the database numbers).
const AUDIT_COLUMNS: [&str; 5] = ["at", "actor", "action", "subject", "ip"];

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

fn built(
    result: Result<&mut InsertStatement, sea_query::error::Error>,
) -> Result<InsertStatement, StoreError> {
    result
        .map(|insert| insert.to_owned())
        .map_err(|e| StoreError::Build(e.to_string()))
}

// ---- Accounts.

/// Adds an account unless its email has one.
pub(super) fn insert_member(
    dialect: Dialect,
    m: &StaffMember,
) -> Result<InsertStatement, StoreError> {
    let values: [SimpleExpr; 4] = [
        m.email.as_str().into(),
        m.role.as_str().into(),
        m.password_hash.clone().into(),
        dialect.time(m.created_at, Unit::Millis).into(),
    ];
    built(
        Query::insert()
            .into_table(name(STAFF))
            .columns(MEMBER_COLUMNS.map(name))
            .on_conflict(OnConflict::column(name("email")).do_nothing().to_owned())
            .values(values),
    )
}

/// Every account (in no order: [`super::StaffDb`] sorts them, the same on both databases).
pub(super) fn select_members() -> SelectStatement {
    Query::select()
        .columns(MEMBER_COLUMNS.map(name))
        .from(name(STAFF))
        .to_owned()
}

/// One account by its email (a placeholder for it): read at every sign-in.
pub(super) static MEMBER_BY_EMAIL: Fixed =
    Fixed::new(|| select_members().and_where(col("email").eq("")).to_owned());

pub(super) fn delete_member(email: &Email) -> DeleteStatement {
    Query::delete()
        .from_table(name(STAFF))
        .and_where(col("email").eq(email.as_str()))
        .to_owned()
}

pub(super) fn set_password_hash(email: &Email, hash: &str) -> sea_query::UpdateStatement {
    Query::update()
        .table(name(STAFF))
        .value(name("password_hash"), hash)
        .and_where(col("email").eq(email.as_str()))
        .to_owned()
}

pub(super) fn member(row: &Row) -> Result<StaffMember, StoreError> {
    Ok(StaffMember {
        email: Email::from_stored(row.text("email")?),
        role: role_from_db(&row.text("role")?)?,
        password_hash: row.text("password_hash")?,
        created_at: row.time("created_at", Unit::Millis)?,
    })
}

// ---- Sessions.

pub(super) fn insert_session(
    dialect: Dialect,
    token_hash: &str,
    email: &Email,
    now: OffsetDateTime,
) -> Result<InsertStatement, StoreError> {
    let now = dialect.time(now, Unit::Millis);
    built(
        Query::insert()
            .into_table(name(SESSIONS))
            .columns(["token_hash", "email", "created_at", "last_seen_at"].map(name))
            .values([
                token_hash.into(),
                email.as_str().into(),
                now.clone().into(),
                now.into(),
            ]),
    )
}

/// A session by its token's hash (a placeholder for it), with its account's role as the
/// staff table says now: read at every page and poll of the dashboard.
pub(super) static SESSION_BY_TOKEN: Fixed = Fixed::new(|| {
    Query::select()
        .column((name("s"), name("email")))
        .column((name("st"), name("role")))
        .column((name("s"), name("created_at")))
        .column((name("s"), name("last_seen_at")))
        .from_as(name(SESSIONS), name("s"))
        .join_as(
            JoinType::InnerJoin,
            name(STAFF),
            name("st"),
            of("st", "email").equals((name("s"), name("email"))),
        )
        .and_where(of("s", "token_hash").eq(""))
        .to_owned()
});

/// A session's row as [`SESSION_BY_TOKEN`] reads it, and its last use as stored.
pub(super) fn session(row: &Row) -> Result<StaffSession, StoreError> {
    Ok(StaffSession {
        email: Email::from_stored(row.text("email")?),
        role: role_from_db(&row.text("role")?)?,
        created_at: row.time("created_at", Unit::Millis)?,
        last_seen_at: row.time("last_seen_at", Unit::Millis)?,
    })
}

pub(super) fn delete_session(token_hash: &str) -> DeleteStatement {
    Query::delete()
        .from_table(name(SESSIONS))
        .and_where(col("token_hash").eq(token_hash))
        .to_owned()
}

/// Every session of an account.
pub(super) fn delete_sessions_of(email: &Email) -> DeleteStatement {
    Query::delete()
        .from_table(name(SESSIONS))
        .and_where(col("email").eq(email.as_str()))
        .to_owned()
}

pub(super) fn touch_session(
    dialect: Dialect,
    token_hash: &str,
    now: OffsetDateTime,
) -> sea_query::UpdateStatement {
    Query::update()
        .table(name(SESSIONS))
        .value(name("last_seen_at"), dialect.time(now, Unit::Millis))
        .and_where(col("token_hash").eq(token_hash))
        .to_owned()
}

// ---- Failed sign-ins.

/// Forgets the failures at or before `since` (they have left the window).
pub(super) fn delete_failures_until(dialect: Dialect, since: OffsetDateTime) -> DeleteStatement {
    Query::delete()
        .from_table(name(FAILURES))
        .and_where(col("at").lte(dialect.time(since, Unit::Millis)))
        .to_owned()
}

/// The `n`-th newest (from 0) of `subject`'s failures after `since`, as `at`.
pub(super) fn select_nth_newest_failure(
    dialect: Dialect,
    subject: &str,
    since: OffsetDateTime,
    n: u32,
) -> SelectStatement {
    Query::select()
        .column(name("at"))
        .from(name(FAILURES))
        .and_where(col("subject").eq(subject))
        .and_where(col("at").gt(dialect.time(since, Unit::Millis)))
        .order_by(name("at"), Order::Desc)
        .limit(1)
        .offset(u64::from(n))
        .to_owned()
}

/// A row when `subject` has a failure (or a note) after `since`; none otherwise.
pub(super) fn select_any_failure(
    dialect: Dialect,
    subject: &str,
    since: OffsetDateTime,
) -> SelectStatement {
    Query::select()
        .column(name("subject"))
        .from(name(FAILURES))
        .and_where(col("subject").eq(subject))
        .and_where(col("at").gt(dialect.time(since, Unit::Millis)))
        .limit(1)
        .to_owned()
}

pub(super) fn insert_failure(
    dialect: Dialect,
    subject: &str,
    at: OffsetDateTime,
) -> Result<InsertStatement, StoreError> {
    built(
        Query::insert()
            .into_table(name(FAILURES))
            .columns([name("subject"), name("at")])
            .values([subject.into(), dialect.time(at, Unit::Millis).into()]),
    )
}

/// One of `subject`'s failures counted at `at` (the table has no key: one row by its
/// address, so that of two failures of one moment only one is taken back).
pub(super) fn delete_one_failure(
    dialect: Dialect,
    subject: &str,
    at: OffsetDateTime,
) -> DeleteStatement {
    let address = dialect.row_address();
    let one = Query::select()
        .column(address.clone())
        .from(name(FAILURES))
        .and_where(col("subject").eq(subject))
        .and_where(col("at").eq(dialect.time(at, Unit::Millis)))
        .limit(1)
        .to_owned();
    Query::delete()
        .from_table(name(FAILURES))
        .and_where(Expr::col(address).in_subquery(one))
        .to_owned()
}

// ---- The audit log.

/// Appends an audit line: the one statement every writer of the log uses, alone or inside
/// a larger transaction (a refusal's note and its line are one write).
pub(super) fn insert_audit(
    dialect: Dialect,
    e: &AuditEntry,
) -> Result<InsertStatement, StoreError> {
    built(
        Query::insert()
            .into_table(name(AUDIT))
            .columns(AUDIT_COLUMNS.map(name))
            .values([
                dialect.time(e.at, Unit::Millis).into(),
                e.actor.clone().into(),
                e.action.clone().into(),
                e.subject.clone().into(),
                e.ip.clone().into(),
            ]),
    )
}

/// `limit` lines newest first, before `before_seq` if given.
pub(super) fn select_audit_page(before_seq: Option<i64>, limit: usize) -> SelectStatement {
    Query::select()
        .column(name("seq"))
        .columns(AUDIT_COLUMNS.map(name))
        .from(name(AUDIT))
        .and_where_option(before_seq.map(|seq| col("seq").lt(seq)))
        .order_by(name("seq"), Order::Desc)
        .limit(u64::try_from(limit_of(limit)).unwrap_or(u64::MAX))
        .to_owned()
}

pub(super) fn audit_record(row: &Row) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.i64("seq")?,
        entry: AuditEntry {
            at: row.time("at", Unit::Millis)?,
            actor: row.text("actor")?,
            action: row.text("action")?,
            subject: row.opt_text("subject")?,
            ip: row.opt_text("ip")?,
        },
    })
}
