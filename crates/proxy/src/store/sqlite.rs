//! SQLite in WAL mode: the embedded default, one file beside one proxy.

use super::claims::{ClaimStore, Claims};
use super::db::{Db, Shared};
use super::events::{EventStore, Events};
use super::links::{LinkStore, Links};
use super::staff::{StaffDb, StaffStore};
use super::{
    limit_of, pending_first, review_from_db, source_from_db, status_from_db, to_i64, to_u64,
    Backlog, DeliveryState, Dump, EventRecord, ListFilter, Lookup, NewEvent, PaymentStore,
    StoreError, StoredAttempt, StoredPayment,
};
use crate::domain::clock::after;
use crate::domain::days::DayTotal;
use crate::domain::payment::{Metadata, PaymentRecord, Review};
use paydigital::Status;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

macro_rules! payment_columns {
    () => {
        "id, invoice, status, status_word, amount, unique_code, total_amount, qr_content, \
         payment_url, expires_at, paid_at, created_at, description, customer_name, reference, \
         item, source, metadata, late, idempotency_key, request_fingerprint, review, \
         payment_link_id, created_by, receipt_token"
    };
}

macro_rules! select_columns {
    () => {
        concat!("SELECT ", payment_columns!(), " FROM payments")
    };
}

/// SQLite in WAL mode, one connection behind a mutex (plenty for one shop's payments). The
/// blocking code here and the async layer (`store/db/`, which the links are written on)
/// share that one connection and its lock, so their transactions never interleave.
pub struct SqliteStore {
    conn: Shared,
    links: Links,
    events: Events,
    staff: StaffDb,
    claims: Claims,
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

pub(super) fn to_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(super) fn from_ms(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn from_unix(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn metadata_to_db(metadata: &Metadata) -> Result<Option<String>, StoreError> {
    if metadata.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(metadata)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn metadata_from_db(text: Option<String>) -> Result<Metadata, StoreError> {
    text.map_or(Ok(Metadata::new()), |t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))
    })
}

/// A row selected with `select_columns!`. Conversions that can fail on corrupt data give a
/// StoreError, kept apart from SQLite's own errors.
fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<PaymentRecord, StoreError>> {
    let record = (|| {
        Ok(PaymentRecord {
            id: row
                .get::<_, Option<String>>(0)?
                .ok_or_else(|| StoreError::Corrupt("a payment without an id".into()))?,
            invoice: row.get(1)?,
            status: status_from_db(&row.get::<_, String>(2)?)?,
            status_word: row.get(3)?,
            amount: to_u64(row.get(4)?)?,
            unique_code: to_u64(row.get(5)?)?,
            total_amount: to_u64(row.get(6)?)?,
            qr_content: row.get(7)?,
            payment_url: row.get(8)?,
            expires_at: from_unix(row.get(9)?)?,
            paid_at: row.get::<_, Option<i64>>(10)?.map(from_unix).transpose()?,
            created_at: from_unix(row.get(11)?)?,
            description: row.get(12)?,
            customer_name: row.get(13)?,
            reference: row.get(14)?,
            item: row.get(15)?,
            source: source_from_db(&row.get::<_, String>(16)?)?,
            metadata: metadata_from_db(row.get(17)?)?,
            late: row.get(18)?,
            idempotency_key: row.get(19)?,
            request_fingerprint: row.get(20)?,
            review: review_from_db(row.get(21)?)?,
            payment_link_id: row.get(22)?,
            created_by: row.get(23)?,
            receipt_token: row
                .get::<_, Option<String>>(24)?
                .ok_or_else(|| StoreError::Corrupt("a payment without a receipt token".into()))?,
        })
    })();
    Ok(record)
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

fn insert_event(conn: &Connection, event: &NewEvent) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO events (id, payment_id, type, created_at, body, state, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?4)",
    )?
    .execute(params![
        event.id,
        event.payment_id,
        event.event_type,
        to_ms(event.created_at),
        event.body
    ])?;
    Ok(())
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
        let mut dump = self.dump_payments_and_audit()?;
        dump.staff = staff;
        (dump.links, dump.link_form_secret) = self.links.dump().await?;
        Ok(dump)
    }

    fn dump_payments_and_audit(&self) -> Result<Dump, StoreError> {
        self.with(|conn| {
            let mut payments = conn.prepare(concat!(
                "SELECT ",
                payment_columns!(),
                ", next_check_at FROM payments ORDER BY rowid"
            ))?;
            let payments = payments.query_map([], |row| {
                let next: Option<i64> = row.get(25)?;
                Ok(decode(row)?.and_then(|record| {
                    Ok(StoredPayment {
                        record,
                        next_check_at: next.map(from_ms).transpose()?,
                    })
                }))
            })?;
            let payments = collect(payments)?;
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
                payments,
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

    /// Reads one payment by a unique column. The statements are prepared once per
    /// connection and cached: this is on every status read's path.
    fn select(
        conn: &Connection,
        by: Lookup,
        value: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let sql = match by {
            Lookup::Id => concat!(select_columns!(), " WHERE id = ?1"),
            Lookup::IdempotencyKey => concat!(select_columns!(), " WHERE idempotency_key = ?1"),
            Lookup::ReceiptToken => concat!(select_columns!(), " WHERE receipt_token = ?1"),
        };
        let mut statement = conn.prepare_cached(sql)?;
        statement.query_row([value], decode).optional()?.transpose()
    }
}

impl PaymentStore for SqliteStore {
    fn links(&self) -> &dyn LinkStore {
        &self.links
    }

    fn events(&self) -> &dyn EventStore {
        &self.events
    }

    fn staff(&self) -> &dyn StaffStore {
        &self.staff
    }

    fn claims(&self) -> &dyn ClaimStore {
        &self.claims
    }

    fn insert(
        &self,
        p: &PaymentRecord,
        created: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO payments (id, invoice, status, status_word, amount, unique_code,
                    total_amount, qr_content, payment_url, expires_at, paid_at, created_at,
                    description, customer_name, reference, item, source, metadata, late,
                    idempotency_key, request_fingerprint, review, next_check_at, payment_link_id,
                    created_by, receipt_token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
                params![
                    p.id,
                    p.invoice,
                    p.status.as_str(),
                    p.status_word,
                    to_i64(p.amount)?,
                    to_i64(p.unique_code)?,
                    to_i64(p.total_amount)?,
                    p.qr_content,
                    p.payment_url,
                    to_unix(p.expires_at),
                    p.paid_at.map(to_unix),
                    to_unix(p.created_at),
                    p.description,
                    p.customer_name,
                    p.reference,
                    p.item,
                    p.source.as_str(),
                    metadata_to_db(&p.metadata)?,
                    p.late,
                    p.idempotency_key,
                    p.request_fingerprint,
                    p.review.map(Review::as_str),
                    next_check.map(to_ms),
                    p.payment_link_id,
                    p.created_by,
                    p.receipt_token,
                ],
            )?;
            if let Some(key) = &p.idempotency_key {
                conn.prepare_cached("DELETE FROM idempotency_claims WHERE key = ?1")?
                    .execute([key])?;
                // A link payment consumes the reservation its create took (same key).
                if p.payment_link_id.is_some() {
                    conn.prepare_cached("DELETE FROM link_reservations WHERE key = ?1")?
                        .execute([key])?;
                }
            }
            insert_event(conn, created)
        })
    }

    fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::Id, id))
    }

    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::IdempotencyKey, key))
    }

    fn find_by_receipt_token(&self, token: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::ReceiptToken, token))
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<PaymentRecord>, StoreError> {
        let now = to_unix(filter.now.unwrap_or_else(OffsetDateTime::now_utc));
        // A pending payment past its expiry is expired for whoever lists it, as in the views.
        let status = filter.status.map(|status| match status {
            Status::Pending => "status = 'pending' AND expires_at > :now",
            Status::Paid => "status = 'paid'",
            Status::Expired => {
                "(status = 'expired' OR (status = 'pending' AND expires_at <= :now))"
            }
        });
        let mut sql = String::from(select_columns!());
        sql.push_str(" WHERE (:reference IS NULL OR reference = :reference)");
        sql.push_str(" AND (:after IS NULL OR created_at > :after)");
        sql.push_str(" AND (:until IS NULL OR created_at < :until)");
        sql.push_str(" AND (:created_by IS NULL OR created_by = :created_by)");
        if filter.search.is_some() {
            sql.push_str(
                " AND (id = :search OR invoice = :search OR reference = :search
                       OR lower(customer_name) LIKE :pattern ESCAPE '\\')",
            );
        }
        // Newest first by insertion order: a page boundary stays put while payments arrive.
        sql.push_str(" AND (:before IS NULL OR rowid < :before)");
        if let Some(status) = status {
            sql.push_str(" AND ");
            sql.push_str(status);
        }
        sql.push_str(" ORDER BY rowid DESC LIMIT :limit");
        self.with(|conn| {
            let before: Option<i64> = match &filter.before_id {
                None => None,
                Some(id) => Some(
                    conn.query_row("SELECT rowid FROM payments WHERE id = ?1", [id], |row| {
                        row.get(0)
                    })
                    .optional()?
                    .ok_or_else(|| StoreError::UnknownCursor(id.clone()))?,
                ),
            };
            let mut statement = conn.prepare_cached(&sql)?;
            let limit = limit_of(filter.limit);
            let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
                (":reference", &filter.reference),
                (":created_by", &filter.created_by),
                (":before", &before),
                (":limit", &limit),
            ];
            let after = filter.created_after.map(to_unix);
            named.push((":after", &after));
            let until = filter.created_before.map(to_unix);
            named.push((":until", &until));
            let search = filter.search.as_deref().map(str::trim);
            let pattern = search.map(super::contains_pattern);
            if search.is_some() {
                named.push((":search", &search));
                named.push((":pattern", &pattern));
            }
            if status.is_some_and(|s| s.contains(":now")) {
                named.push((":now", &now));
            }
            let rows = statement.query_map(named.as_slice(), decode)?;
            let mut records = Vec::new();
            for row in rows {
                records.push(row??);
            }
            Ok(records)
        })
    }

    fn transition(
        &self,
        to: &PaymentRecord,
        from: Status,
        event: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        self.in_transaction(|conn| {
            // `status = from`: the change applies to the state it was decided on, or not at
            // all (another request or instance got there first).
            let changed = conn.execute(
                "UPDATE payments SET status = ?3, status_word = ?4, paid_at = ?5, late = ?6,
                    next_check_at = ?7
                 WHERE id = ?1 AND status = ?2",
                params![
                    to.id,
                    from.as_str(),
                    to.status.as_str(),
                    to.status_word,
                    to.paid_at.map(to_unix),
                    to.late,
                    next_check.map(to_ms),
                ],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            insert_event(conn, event)?;
            Ok(true)
        })
    }

    fn checked(
        &self,
        id: &str,
        status_word: Option<&str>,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.prepare_cached(
                "UPDATE payments SET status_word = COALESCE(?2, status_word), next_check_at = ?3
                 WHERE id = ?1",
            )?
            .execute(params![id, status_word, next_check.map(to_ms)])?;
            Ok(())
        })
    }

    fn mark_for_review(&self, id: &str, review: Review) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.prepare_cached("UPDATE payments SET review = ?2 WHERE id = ?1")?
                .execute(params![id, review.as_str()])?;
            Ok(())
        })
    }

    fn claim_due_checks(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        self.in_transaction(|conn| {
            let mut statement = conn.prepare_cached(concat!(
                "UPDATE payments SET next_check_at = ?2 WHERE id IN (
                    SELECT id FROM payments WHERE next_check_at IS NOT NULL AND next_check_at <= ?1
                    ORDER BY status <> 'pending', next_check_at LIMIT ?3) RETURNING ",
                payment_columns!()
            ))?;
            let limit = limit_of(limit);
            let rows = statement
                .query_map(params![to_ms(now), to_ms(after(now, lease)), limit], decode)?;
            collect(rows).map(pending_first)
        })
    }

    fn health(&self) -> Result<(), StoreError> {
        // No count: `count(*)` scans the table under the store's lock.
        self.with(super::sqlite_faults::probe)
    }

    fn backlog(&self, now: OffsetDateTime) -> Result<Backlog, StoreError> {
        self.with(|conn| {
            // Both over partial indexes: the payments still checked, the undelivered events.
            let (pending, expired): (i64, i64) = conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(expires_at > ?1), 0), COALESCE(SUM(expires_at <= ?1), 0)
                     FROM payments WHERE next_check_at IS NOT NULL AND status <> 'paid'",
                )?
                .query_row(params![to_unix(now)], |row| Ok((row.get(0)?, row.get(1)?)))?;
            let (events, oldest): (i64, Option<i64>) = conn
                .prepare_cached(
                    "SELECT COUNT(*), MIN(created_at) FROM events WHERE state = 'pending'",
                )?
                .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(Backlog {
                payments_pending: to_u64(pending)?,
                payments_expired_watched: to_u64(expired)?,
                events_pending: to_u64(events)?,
                oldest_pending_event_at: oldest.map(from_ms).transpose()?,
            })
        })
    }

    fn paid_by_day(
        &self,
        since: OffsetDateTime,
        zone: time::UtcOffset,
    ) -> Result<Vec<DayTotal>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT (paid_at + ?2) / 86400 AS day, COUNT(*), SUM(total_amount)
                 FROM payments WHERE status = 'paid' AND paid_at >= ?1
                 GROUP BY day ORDER BY day",
            )?;
            let rows = statement.query_map(
                params![to_unix(since), i64::from(zone.whole_seconds())],
                |row| {
                    let (day, count, total): (i64, i64, i64) =
                        (row.get(0)?, row.get(1)?, row.get(2)?);
                    Ok((|| {
                        Ok(DayTotal {
                            day,
                            count: to_u64(count)?,
                            total: to_u64(total)?,
                        })
                    })())
                },
            )?;
            collect(rows)
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
            reopened
                .get(&suite::id_of("PYG1"))
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
