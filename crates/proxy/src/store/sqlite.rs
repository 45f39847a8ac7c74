//! SQLite in WAL mode: the embedded default, one file beside one proxy.

use super::db::{Db, Shared};
use super::links::{LinkStore, Links};
use super::payments::{PaymentRows, StoredPayments};
use super::{
    budget_step, limit_of, oldest_due_first, Attempt, DeliveryState, Dump, EventFilter,
    EventRecord, KeyClaim, PaymentStore, RefreshClaim, StoreError, StoredAttempt,
};
use crate::domain::clock::{after, before};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// SQLite in WAL mode, one connection behind a mutex (plenty for one shop's payments). The
/// blocking code here and the async layer (`store/db/`, which the links are written on)
/// share that one connection and its lock, so their transactions never interleave.
pub struct SqliteStore {
    conn: Shared,
    links: Links,
    payments: StoredPayments,
}

/// A migration's step in Rust, for data SQL cannot make (random ids).
type RustStep = fn(&Connection) -> Result<(), StoreError>;

/// One schema version: SQL, then (where needed) a step in Rust, in one transaction.
struct Migration {
    sql: &'static str,
    then: Option<RustStep>,
}

/// Schema versions, applied in order; `PRAGMA user_version` says how many have run.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: r#"
CREATE TABLE payments (
    invoice             TEXT PRIMARY KEY NOT NULL,
    status              TEXT NOT NULL,
    status_word         TEXT,
    amount              INTEGER NOT NULL,
    unique_code         INTEGER NOT NULL,
    total_amount        INTEGER NOT NULL,
    qr_content          TEXT NOT NULL,
    payment_url         TEXT,
    expires_at          INTEGER NOT NULL,
    paid_at             INTEGER,
    created_at          INTEGER NOT NULL,
    description         TEXT NOT NULL,
    customer_name       TEXT NOT NULL,
    reference           TEXT,
    item                TEXT,
    idempotency_key     TEXT UNIQUE,
    request_fingerprint TEXT
);
CREATE INDEX payments_reference ON payments(reference);
"#,
        then: None,
    },
    // Public ids, the merchant API's fields, and idempotency keys scoped by who sent them
    // (until now only browsers could).
    Migration {
        sql: r#"
ALTER TABLE payments ADD COLUMN id TEXT;
ALTER TABLE payments ADD COLUMN source TEXT NOT NULL DEFAULT 'browser';
ALTER TABLE payments ADD COLUMN metadata TEXT;
ALTER TABLE payments ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
UPDATE payments SET source = 'catalog' WHERE item IS NOT NULL;
UPDATE payments SET idempotency_key = 'browser:' || idempotency_key
    WHERE idempotency_key IS NOT NULL;
"#,
        then: Some(assign_ids),
    },
    // Confirmation without a browser (when to ask PayDigital next, in unix ms), and the
    // webhook outbox: every state change writes its event in the same transaction.
    Migration {
        sql: r#"
ALTER TABLE payments ADD COLUMN next_check_at INTEGER;
UPDATE payments SET next_check_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
    WHERE status <> 'paid';
CREATE INDEX payments_next_check ON payments(next_check_at) WHERE next_check_at IS NOT NULL;
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    payment_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status     TEXT
);
CREATE INDEX events_undelivered ON events(payment_id, seq) WHERE state = 'pending';
CREATE TABLE attempts (
    event_id TEXT NOT NULL,
    at       INTEGER NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX attempts_event ON attempts(event_id);
"#,
        then: None,
    },
    // Several proxies on one store (PostgreSQL, and SQLite files that two processes open):
    // work is claimed in the store. When an upstream status read was last claimed, a
    // delivery's lease, and the claims on idempotency keys whose payment is being created.
    Migration {
        sql: r#"
ALTER TABLE payments ADD COLUMN refresh_claimed_at INTEGER;
ALTER TABLE events ADD COLUMN leased_until INTEGER;
CREATE TABLE idempotency_claims (
    key         TEXT PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    claimed_at  INTEGER NOT NULL
);
"#,
        then: None,
    },
    // v5: a payment PayDigital said something unbelievable about (`Review`); the upstream
    // budget's state.
    Migration {
        sql: r#"
ALTER TABLE payments ADD COLUMN review TEXT;
CREATE TABLE upstream_budget (
    kind   TEXT PRIMARY KEY NOT NULL,
    tat_ms INTEGER NOT NULL
);
"#,
        then: None,
    },
    // v6: the shop's people (`store/staff.rs`: accounts, sessions by token hash, failed
    // sign-ins, the audit log; times in unix ms), how long each delivery attempt took, and
    // the indexes the dashboard reads by (the live feed by event time, the week by paid time).
    Migration {
        sql: r#"
CREATE TABLE staff (
    email         TEXT PRIMARY KEY NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    email        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX staff_sessions_email ON staff_sessions(email);
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures(subject, at);
CREATE INDEX login_failures_at ON login_failures(at);
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    ip      TEXT
);
ALTER TABLE attempts ADD COLUMN duration_ms INTEGER;
CREATE INDEX events_created ON events(created_at);
CREATE INDEX payments_paid ON payments(paid_at) WHERE paid_at IS NOT NULL;
"#,
        then: None,
    },
    // v7 — payment links (issue #22): the links, the payments made through each, and the
    // reservations that hold a link's `max_payments` while PayDigital is asked.
    Migration {
        sql: r#"
CREATE TABLE payment_links (
    id                  TEXT PRIMARY KEY NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT,
    amount              INTEGER,
    min_amount          INTEGER,
    max_amount          INTEGER,
    max_payments        INTEGER,
    expires_at          INTEGER,
    success_url         TEXT,
    metadata            TEXT,
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    idempotency_key     TEXT UNIQUE,
    request_fingerprint TEXT
);
CREATE INDEX payment_links_active ON payment_links(active);
CREATE TABLE link_reservations (
    key        TEXT PRIMARY KEY NOT NULL,
    link_id    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX link_reservations_link ON link_reservations(link_id, expires_at);
ALTER TABLE payments ADD COLUMN payment_link_id TEXT;
CREATE INDEX payments_link ON payments(payment_link_id) WHERE payment_link_id IS NOT NULL;
CREATE TABLE link_form_secret (
    id     INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    secret TEXT NOT NULL
);
"#,
        then: None,
    },
    // v8: who charged a payment at the counter; the counter lists one person's recent sales.
    Migration {
        sql: r#"
ALTER TABLE payments ADD COLUMN created_by TEXT;
CREATE INDEX payments_counter ON payments(created_by, created_at) WHERE created_by IS NOT NULL;
"#,
        then: None,
    },
    // v9: receipts (`/r/{token}`): every payment, old ones too, gets its own random token.
    Migration {
        sql: "ALTER TABLE payments ADD COLUMN receipt_token TEXT;",
        then: Some(assign_receipt_tokens),
    },
];

/// Gives every payment made before receipts existed a token, from the OS's random source
/// (SQLite has no secure random function of its own).
fn assign_receipt_tokens(conn: &Connection) -> Result<(), StoreError> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM payments WHERE receipt_token IS NULL")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE payments SET receipt_token = ?1 WHERE id = ?2")?;
    for id in ids {
        update.execute(params![crate::domain::ids::new_receipt_token(), id])?;
    }
    conn.execute_batch("CREATE UNIQUE INDEX payments_receipt ON payments(receipt_token);")?;
    Ok(())
}

/// Gives every payment made before ids existed one, from the OS's random source.
fn assign_ids(conn: &Connection) -> Result<(), StoreError> {
    let invoices: Vec<String> = conn
        .prepare("SELECT invoice FROM payments WHERE id IS NULL")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE payments SET id = ?1 WHERE invoice = ?2")?;
    for invoice in invoices {
        update.execute(params![crate::domain::ids::new_payment_id(), invoice])?;
    }
    conn.execute_batch("CREATE UNIQUE INDEX payments_id ON payments(id);")?;
    Ok(())
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

pub(super) fn to_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(super) fn from_ms(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

macro_rules! event_fields {
    () => {
        "id, payment_id, type, created_at, body, state, attempts, next_attempt_at, \
         last_attempt_at, last_status, leased_until"
    };
}

macro_rules! event_columns {
    () => {
        concat!("SELECT ", event_fields!(), " FROM events")
    };
}

fn decode_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<EventRecord, StoreError>> {
    let event = (|| {
        Ok(EventRecord {
            id: row.get(0)?,
            payment_id: row.get(1)?,
            event_type: row.get(2)?,
            created_at: from_ms(row.get(3)?)?,
            body: row.get(4)?,
            state: DeliveryState::from_db(&row.get::<_, String>(5)?)?,
            attempts: row.get(6)?,
            next_attempt_at: from_ms(row.get(7)?)?,
            last_attempt_at: row.get::<_, Option<i64>>(8)?.map(from_ms).transpose()?,
            last_status: row.get(9)?,
            leased_until: row.get::<_, Option<i64>>(10)?.map(from_ms).transpose()?,
        })
    })();
    Ok(event)
}

macro_rules! attempt_columns {
    () => {
        "SELECT event_id, at, outcome, duration_ms FROM attempts"
    };
}

fn decode_attempt(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredAttempt, StoreError>> {
    let (event_id, at, outcome, duration): (String, i64, String, Option<i64>) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    Ok(from_ms(at).map(|at| StoredAttempt {
        event_id,
        at,
        outcome,
        duration_ms: duration.and_then(|d| u64::try_from(d).ok()),
    }))
}

fn collect<T>(
    rows: impl Iterator<Item = rusqlite::Result<Result<T, StoreError>>>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

impl SqliteStore {
    /// Opens (or creates) the database and brings its schema up to date. A file that is not
    /// SQLite, another program's database or a damaged store is refused before anything is
    /// written to it (`sqlite_faults.rs`).
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        super::sqlite_faults::refuse_what_is_not_sqlite(path)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(super::sqlite_faults::BUSY_TIMEOUT)?;
        super::sqlite_faults::refuse_foreign_or_damaged(&conn, path)?;
        SqliteStore::init(conn)
    }

    /// Everything in the store, oldest first, for `migrate --to`.
    pub async fn dump(&self) -> Result<Dump, StoreError> {
        let staff = super::staff::StaffStore::list_staff(self)?;
        let mut dump = self.dump_events_and_audit()?;
        dump.staff = staff;
        // After the events: every event's payment was written with or before it, so none
        // is copied without its payment. Read by column name (`store/payments/sql.rs`).
        dump.payments = self.payments.dump().await?;
        (dump.links, dump.link_form_secret) = self.links.dump().await?;
        Ok(dump)
    }

    fn dump_events_and_audit(&self) -> Result<Dump, StoreError> {
        self.with(|conn| {
            let mut events = conn.prepare(concat!(event_columns!(), " ORDER BY seq"))?;
            let events = collect(events.query_map([], decode_event)?)?;
            let mut attempts = conn.prepare(concat!(attempt_columns!(), " ORDER BY rowid"))?;
            let attempts = collect(attempts.query_map([], decode_attempt)?)?;
            let mut audit =
                conn.prepare("SELECT at, actor, action, subject, ip FROM audit_log ORDER BY seq")?;
            let audit = collect(audit.query_map([], |row| {
                let at: i64 = row.get(0)?;
                let (actor, action, subject, ip) =
                    (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
                Ok(from_ms(at).map(|at| super::staff::AuditEntry {
                    at,
                    actor,
                    action,
                    subject,
                    ip,
                }))
            })?)?;
            Ok(Dump {
                payments: Vec::new(),
                events,
                attempts,
                staff: Vec::new(),
                audit,
                links: Vec::new(),
                link_form_secret: None,
            })
        })
    }

    /// Ends every delivery lease. A SQLite file belongs to one proxy, so at that proxy's
    /// start any lease is one its previous run held when it died: its events go out now
    /// rather than when the lease would have lapsed. (Never called by the CLI, which may run
    /// beside the server.)
    pub fn end_leases_of_a_previous_run(&self) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE events SET leased_until = NULL WHERE leased_until IS NOT NULL",
                [],
            )?;
            Ok(())
        })
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        // WAL lets reads run beside a write; FULL syncs each commit before we answer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(super::sqlite_faults::BUSY_TIMEOUT)?;
        let applied: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if applied > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: applied,
                known: SCHEMA_VERSION,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            // IMMEDIATE: a second process opening the same file waits instead of migrating
            // twice; it then finds the version moved on and skips.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now: usize = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
            if now > index {
                continue;
            }
            tx.execute_batch(migration.sql)?;
            if let Some(then) = migration.then {
                then(&tx)?;
            }
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        let conn = Arc::new(Mutex::new(conn));
        Ok(SqliteStore {
            links: Links::new(Db::Sqlite(conn.clone())),
            payments: StoredPayments::new(Db::Sqlite(conn.clone())),
            conn,
        })
    }

    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&conn)
    }

    /// `f` in one transaction: all of it is written, or none.
    pub(super) fn in_transaction<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

impl PaymentStore for SqliteStore {
    fn links(&self) -> &dyn LinkStore {
        &self.links
    }

    fn payments(&self) -> &dyn PaymentRows {
        &self.payments
    }

    fn take_upstream_call(
        &self,
        kind: &str,
        now: OffsetDateTime,
        interval: Duration,
        slack_ms: i64,
    ) -> Result<Option<Duration>, StoreError> {
        let now = to_ms(now);
        let interval = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        self.in_transaction(|conn| {
            conn.prepare_cached(
                "INSERT INTO upstream_budget (kind, tat_ms) VALUES (?1, 0) ON CONFLICT DO NOTHING",
            )?
            .execute([kind])?;
            let tat: i64 = conn
                .prepare_cached("SELECT tat_ms FROM upstream_budget WHERE kind = ?1")?
                .query_row([kind], |row| row.get(0))?;
            match budget_step(tat, now, interval, slack_ms) {
                Ok(next) => {
                    conn.prepare_cached("UPDATE upstream_budget SET tat_ms = ?2 WHERE kind = ?1")?
                        .execute(params![kind, next])?;
                    Ok(None)
                }
                Err(wait) => Ok(Some(wait)),
            }
        })
    }

    fn release_refresh(&self, id: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.prepare_cached("UPDATE payments SET refresh_claimed_at = NULL WHERE id = ?1")?
                .execute([id])?;
            Ok(())
        })
    }

    fn claim_refresh(
        &self,
        id: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<RefreshClaim, StoreError> {
        self.in_transaction(|conn| {
            let claimed = conn
                .prepare_cached(
                    "UPDATE payments SET refresh_claimed_at = ?2
                     WHERE id = ?1 AND (refresh_claimed_at IS NULL OR refresh_claimed_at <= ?3)",
                )?
                .execute(params![id, to_ms(now), to_ms(before(now, window))])?;
            if claimed == 1 {
                return Ok(RefreshClaim::Mine);
            }
            let at: Option<Option<i64>> = conn
                .prepare_cached("SELECT refresh_claimed_at FROM payments WHERE id = ?1")?
                .query_row([id], |row| row.get(0))
                .optional()?;
            match at {
                None => Ok(RefreshClaim::NoSuchPayment),
                Some(at) => Ok(RefreshClaim::Taken {
                    at: at.map(from_ms).transpose()?.unwrap_or(now),
                }),
            }
        })
    }

    fn claim_due_events(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.in_transaction(|conn| {
            let mut statement = conn.prepare_cached(concat!(
                "UPDATE events SET leased_until = ?2 WHERE seq IN (
                    SELECT seq FROM events AS e
                    WHERE state = 'pending' AND next_attempt_at <= ?1
                      AND (leased_until IS NULL OR leased_until <= ?1)
                      AND NOT EXISTS (SELECT 1 FROM events AS earlier
                          WHERE earlier.payment_id = e.payment_id AND earlier.state = 'pending'
                            AND earlier.seq < e.seq)
                    ORDER BY next_attempt_at LIMIT ?3) RETURNING ",
                event_fields!()
            ))?;
            let limit = limit_of(limit);
            let rows = statement.query_map(
                params![to_ms(now), to_ms(after(now, lease)), limit],
                decode_event,
            )?;
            collect(rows).map(oldest_due_first)
        })
    }

    fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<bool, StoreError> {
        let (state, next) = attempt.then.leaves();
        let next = next.map(to_ms);
        self.in_transaction(|conn| {
            // `IS`: NULL matches NULL (an attempt made without a claim, as `resend` queues).
            let updated = conn.execute(
                "UPDATE events SET state = ?2, attempts = attempts + 1,
                    next_attempt_at = COALESCE(?3, next_attempt_at), last_attempt_at = ?4,
                    last_status = ?5, leased_until = NULL
                 WHERE id = ?1 AND leased_until IS ?6",
                params![
                    event_id,
                    state.as_str(),
                    next,
                    to_ms(attempt.at),
                    attempt.outcome,
                    attempt.lease.map(to_ms)
                ],
            )?;
            if updated == 0 {
                return Ok(false);
            }
            conn.execute(
                "INSERT INTO attempts (event_id, at, outcome, duration_ms) VALUES (?1, ?2, ?3, ?4)",
                params![
                    event_id,
                    to_ms(attempt.at),
                    attempt.outcome,
                    attempt
                        .duration
                        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                ],
            )?;
            Ok(true)
        })
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        self.with(|conn| {
            let after: Option<i64> = match &filter.after_id {
                None => None,
                Some(id) => Some(
                    conn.query_row("SELECT seq FROM events WHERE id = ?1", [id], |row| {
                        row.get(0)
                    })
                    .optional()?
                    .ok_or_else(|| StoreError::UnknownCursor(id.clone()))?,
                ),
            };
            let mut statement = conn.prepare_cached(concat!(
                event_columns!(),
                " WHERE (?1 IS NULL OR seq > ?1) AND (?2 IS NULL OR state = ?2)
                  ORDER BY seq LIMIT ?3"
            ))?;
            let limit = limit_of(filter.limit);
            let rows = statement.query_map(
                params![after, filter.state.map(DeliveryState::as_str), limit],
                decode_event,
            )?;
            collect(rows)
        })
    }

    fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        self.with(|conn| {
            let changed = conn.execute(
                "UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?2
                 WHERE id = ?1",
                params![event_id, to_ms(now)],
            )?;
            Ok(changed > 0)
        })
    }

    fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale: Duration,
    ) -> Result<KeyClaim, StoreError> {
        self.in_transaction(|conn| {
            let claimed = conn
                .prepare_cached(
                    "INSERT INTO idempotency_claims (key, fingerprint, claimed_at)
                     VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE
                        SET fingerprint = excluded.fingerprint, claimed_at = excluded.claimed_at
                        WHERE idempotency_claims.claimed_at <= ?4",
                )?
                .execute(params![
                    key,
                    fingerprint,
                    to_ms(now),
                    to_ms(before(now, stale))
                ])?;
            if claimed == 1 {
                return Ok(KeyClaim::Mine);
            }
            let fingerprint: String = conn
                .prepare_cached("SELECT fingerprint FROM idempotency_claims WHERE key = ?1")?
                .query_row([key], |row| row.get(0))?;
            Ok(KeyClaim::Held { fingerprint })
        })
    }

    fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.prepare_cached("DELETE FROM idempotency_claims WHERE key = ?1")?
                .execute([key])?;
            Ok(())
        })
    }

    fn payment_events(&self, payment_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(concat!(
                event_columns!(),
                " WHERE payment_id = ?1 ORDER BY seq"
            ))?;
            let rows = collect(statement.query_map([payment_id], decode_event)?);
            rows
        })
    }

    fn payment_attempts(&self, payment_id: &str) -> Result<Vec<StoredAttempt>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(concat!(
                attempt_columns!(),
                " WHERE event_id IN (SELECT id FROM events WHERE payment_id = ?1) ORDER BY at, rowid"
            ))?;
            let rows = collect(statement.query_map([payment_id], decode_attempt)?);
            rows
        })
    }

    fn events_since(
        &self,
        since: OffsetDateTime,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.with(|conn| {
            // `after` unknown: nothing at or before `since` is read again (NULL compares false).
            let mut statement = conn.prepare_cached(concat!(
                event_columns!(),
                " WHERE created_at >= ?1 AND (?3 IS NULL OR (created_at, seq) >
                   (SELECT created_at, seq FROM events WHERE id = ?3))
                 ORDER BY created_at, seq LIMIT ?2"
            ))?;
            let rows = collect(
                statement.query_map(params![to_ms(since), limit_of(limit), after], decode_event)?,
            );
            rows
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    fn fresh() -> SqliteStore {
        SqliteStore::in_memory().expect("in-memory store")
    }

    suite::store_suite!(fresh());

    #[test]
    fn a_first_refusal_is_noted_and_audited_together() {
        let store = fresh();
        // A trigger makes the audit table refuse rows, as a full disk or a broken table would.
        let refuse_audit = |on: bool| {
            let sql = if on {
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
                 BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
            } else {
                "DROP TRIGGER refuse_audit"
            };
            store
                .with(|conn| Ok(conn.execute_batch(sql)?))
                .expect("trigger");
        };
        suite::a_first_refusal_is_noted_and_audited_together(&store, &refuse_audit);
    }

    #[test]
    fn survives_reopening_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkout.sqlite");
        suite::put(
            &SqliteStore::open(&path).expect("open"),
            &suite::sample("PYG1", None),
        )
        .expect("insert");
        let reopened = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            suite::wait(reopened.payments().get(&suite::id_of("PYG1")))
                .expect("get")
                .map(|p| p.total_amount),
            Some(10_387)
        );
        drop(reopened);
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
            .expect("bump");
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::TooNew { found, known }) if found == known + 1
        ));
    }
}
