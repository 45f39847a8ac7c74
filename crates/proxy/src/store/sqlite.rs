//! SQLite in WAL mode: the embedded default, one file beside one proxy.

use super::claims::{ClaimStore, Claims};
use super::db::{Db, Shared};
use super::events::{EventStore, Events};
use super::links::{LinkStore, Links};
use super::payments::{PaymentRows, StoredPayments};
use super::staff::{StaffDb, StaffStore};
use super::{DeliveryState, Dump, EventRecord, PaymentStore, StoreError, StoredAttempt};
use rusqlite::{params, Connection};
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// SQLite in WAL mode, one connection behind a mutex (plenty for one shop's payments). The
/// blocking code here and the async layer (`store/db/`, which the links are written on)
/// share that one connection and its lock, so their transactions never interleave.
pub struct SqliteStore {
    conn: Shared,
    links: Links,
    events: Events,
    staff: StaffDb,
    claims: Claims,
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
    // v6: the shop's people (`store/staff/`: accounts, sessions by token hash, failed
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

/// How many versions the frozen list above has: the shared list (`store/migrations/`)
/// goes on counting from here.
pub(super) const FROZEN: usize = MIGRATIONS.len();

/// The schema version this binary writes on SQLite: the frozen versions, then the shared
/// ones (`store::SQLITE_SCHEMA_VERSION`).
pub const SCHEMA_VERSION: usize = FROZEN + super::migrations::SHARED.len();

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
        let staff = self.staff.list_staff().await?;
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
        super::migrations::apply_sqlite(&mut conn, FROZEN, super::migrations::SHARED)?;
        let conn = Arc::new(Mutex::new(conn));
        Ok(SqliteStore {
            links: Links::new(Db::Sqlite(conn.clone())),
            events: Events::new(Db::Sqlite(conn.clone())),
            staff: StaffDb::new(Db::Sqlite(conn.clone())),
            claims: Claims::new(Db::Sqlite(conn.clone())),
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
}

impl PaymentStore for SqliteStore {
    fn payments(&self) -> &dyn PaymentRows {
        &self.payments
    }

    fn events(&self) -> &dyn EventStore {
        &self.events
    }

    fn claims(&self) -> &dyn ClaimStore {
        &self.claims
    }

    fn staff(&self) -> &dyn StaffStore {
        &self.staff
    }

    fn links(&self) -> &dyn LinkStore {
        &self.links
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
