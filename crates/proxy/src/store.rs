//! Where payments are kept. Every state change is written (and fsynced) before it is
//! answered, so a `kill -9` loses nothing. The trait is small so that a Postgres store can
//! follow when a merchant outgrows one machine.

use paydigital::Status;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Who asked for a payment, and so who chose its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The shop's server, with the merchant key: it priced the order.
    Merchant,
    /// A browser, for an open amount: the browser chose it.
    Browser,
    /// A browser, for a catalog item the proxy priced.
    Catalog,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Merchant => "merchant",
            Source::Browser => "browser",
            Source::Catalog => "catalog",
        }
    }

    fn from_db(word: &str) -> Result<Source, StoreError> {
        match word {
            "merchant" => Ok(Source::Merchant),
            "browser" => Ok(Source::Browser),
            "catalog" => Ok(Source::Catalog),
            other => Err(StoreError::Corrupt(format!("unknown source {other:?}"))),
        }
    }
}

/// The merchant's own key/value notes on a payment (`metadata` in the merchant API).
pub type Metadata = BTreeMap<String, String>;

/// A payment this proxy created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The public id (`pay_...`): the only name a payment has in a URL.
    pub id: String,
    /// PayDigital's invoice number: what the proxy asks upstream about.
    pub invoice: String,
    pub status: Status,
    /// The last word upstream used (`unpaid`, `PAID`, ...), for operators.
    pub status_word: Option<String>,
    pub amount: u64,
    pub unique_code: u64,
    pub total_amount: u64,
    pub qr_content: String,
    pub payment_url: Option<String>,
    pub expires_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub description: String,
    pub customer_name: String,
    pub reference: Option<String>,
    pub item: Option<String>,
    pub source: Source,
    pub metadata: Metadata,
    /// Paid after the proxy had recorded it expired.
    pub late: bool,
    /// Scoped by who sent it (`browser:...`, `merchant:...`): a browser cannot claim the
    /// key a shop's server will use.
    pub idempotency_key: Option<String>,
    /// The canonical request the idempotency key was first used with.
    pub request_fingerprint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store's lock was poisoned by a panic")]
    Poisoned,
    #[error("the database has schema version {found}, newer than this binary's {known}: run the newer paydigital-proxy")]
    TooNew { found: usize, known: usize },
    #[error("no payment {0} to continue the list after")]
    UnknownCursor(String),
}

/// Which payments a list asks for, newest first.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub reference: Option<String>,
    pub status: Option<Status>,
    pub created_after: Option<OffsetDateTime>,
    /// Only payments created before this one (the previous page's last id).
    pub before_id: Option<String>,
    pub limit: usize,
    /// The clock deciding whether a pending payment is past its expiry.
    pub now: Option<OffsetDateTime>,
}

/// Where a webhook event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// A 2xx came back.
    Delivered,
    /// The retry schedule ran out.
    Failed,
    /// The receiver answered 410 Gone.
    Abandoned,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Abandoned => "abandoned",
        }
    }

    fn from_db(word: &str) -> Result<DeliveryState, StoreError> {
        match word {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "failed" => Ok(DeliveryState::Failed),
            "abandoned" => Ok(DeliveryState::Abandoned),
            other => Err(StoreError::Corrupt(format!(
                "unknown delivery state {other:?}"
            ))),
        }
    }
}

/// An event to write with the change it tells of.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `evt_...`: the `webhook-id`, the same on every attempt.
    pub id: String,
    pub payment_id: String,
    pub event_type: &'static str,
    pub created_at: OffsetDateTime,
    /// The webhook body, fixed at the change: `{"type","timestamp","data"}`.
    pub body: String,
}

/// An event in the outbox, with its delivery so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub id: String,
    pub payment_id: String,
    pub event_type: String,
    pub created_at: OffsetDateTime,
    pub body: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_attempt_at: Option<OffsetDateTime>,
    /// `HTTP 503`, `timeout`, `connection refused`...
    pub last_status: Option<String>,
}

/// One delivery attempt and what it leaves the event in.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: OffsetDateTime,
    pub outcome: String,
    pub then: AfterAttempt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    Abandoned,
    Failed,
    RetryAt(OffsetDateTime),
}

/// Which events a list asks for, oldest first.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events after this one (an event id).
    pub after_id: Option<String>,
    pub state: Option<DeliveryState>,
    pub limit: usize,
}

/// What the proxy needs from storage. Calls block: call them from `spawn_blocking`.
pub trait PaymentStore: Send + Sync + 'static {
    /// Stores a new payment with its `payment.created` event and its first check, in one
    /// transaction. An id, invoice or idempotency key seen before is an error.
    fn insert(
        &self,
        payment: &PaymentRecord,
        created: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// A payment by its public id.
    fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError>;
    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError>;
    /// Payments newest first, as the filter says.
    fn list(&self, filter: &ListFilter) -> Result<Vec<PaymentRecord>, StoreError>;
    /// Writes `to` (the payment after a change) if the payment is still in `from`, with the
    /// change's event and the next check, in one transaction: a `kill -9` at any moment loses
    /// neither. `false` when it had moved on meanwhile (nothing written).
    fn transition(
        &self,
        to: &PaymentRecord,
        from: Status,
        event: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// PayDigital was asked and nothing changed: its word, and when to ask next.
    fn checked(
        &self,
        id: &str,
        status_word: Option<&str>,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// Payments whose next check is due, pending ones first.
    fn due_checks(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, StoreError>;
    /// Events due for an attempt: for each payment only its oldest undelivered event, so a
    /// payment's events go out in order.
    fn due_events(&self, now: OffsetDateTime, limit: usize)
        -> Result<Vec<EventRecord>, StoreError>;
    /// Records an attempt and what it leaves the event in.
    fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<(), StoreError>;
    /// Events oldest first, as the filter says.
    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;
    /// Queues an event for delivery again, now (same id). `false`: no such event.
    fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// Fails when the store cannot be read.
    fn health(&self) -> Result<(), StoreError>;
}

/// The unique columns a payment is looked up by.
#[derive(Clone, Copy)]
enum Lookup {
    Id,
    IdempotencyKey,
}

macro_rules! select_columns {
    () => {
        "SELECT id, invoice, status, status_word, amount, unique_code, total_amount, qr_content, \
         payment_url, expires_at, paid_at, created_at, description, customer_name, reference, \
         item, source, metadata, late, idempotency_key, request_fingerprint FROM payments"
    };
}

/// SQLite in WAL mode, one connection behind a mutex (plenty for one shop's payments).
pub struct SqliteStore {
    conn: Mutex<Connection>,
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
];

/// Gives every payment made before ids existed one, from the OS's random source.
fn assign_ids(conn: &Connection) -> Result<(), StoreError> {
    let invoices: Vec<String> = conn
        .prepare("SELECT invoice FROM payments WHERE id IS NULL")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE payments SET id = ?1 WHERE invoice = ?2")?;
    for invoice in invoices {
        update.execute(params![crate::ids::new_payment_id(), invoice])?;
    }
    conn.execute_batch("CREATE UNIQUE INDEX payments_id ON payments(id);")?;
    Ok(())
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

fn to_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn from_unix(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn status_from_db(word: &str) -> Result<Status, StoreError> {
    match word {
        "pending" => Ok(Status::Pending),
        "paid" => Ok(Status::Paid),
        "expired" => Ok(Status::Expired),
        other => Err(StoreError::Corrupt(format!("unknown status {other:?}"))),
    }
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit the store")))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative amount {n}")))
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
            source: Source::from_db(&row.get::<_, String>(16)?)?,
            metadata: metadata_from_db(row.get(17)?)?,
            late: row.get(18)?,
            idempotency_key: row.get(19)?,
            request_fingerprint: row.get(20)?,
        })
    })();
    Ok(record)
}

macro_rules! event_columns {
    () => {
        "SELECT id, payment_id, type, created_at, body, state, attempts, next_attempt_at, \
         last_attempt_at, last_status FROM events"
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
        })
    })();
    Ok(event)
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
    /// Opens (or creates) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open(path)?)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        // WAL lets reads run beside a write; FULL syncs each commit before we answer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
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
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&conn)
    }

    /// `f` in one transaction: all of it is written, or none.
    fn in_transaction<T>(
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
        };
        let mut statement = conn.prepare_cached(sql)?;
        statement.query_row([value], decode).optional()?.transpose()
    }
}

impl PaymentStore for SqliteStore {
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
                    idempotency_key, request_fingerprint, next_check_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20, ?21, ?22)",
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
                    next_check.map(to_ms),
                ],
            )?;
            insert_event(conn, created)
        })
    }

    fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::Id, id))
    }

    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::IdempotencyKey, key))
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
            let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
            let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
                (":reference", &filter.reference),
                (":before", &before),
                (":limit", &limit),
            ];
            let after = filter.created_after.map(to_unix);
            named.push((":after", &after));
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

    fn due_checks(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(concat!(
                select_columns!(),
                " WHERE next_check_at IS NOT NULL AND next_check_at <= ?1
                  ORDER BY status <> 'pending', next_check_at LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = statement.query_map(params![to_ms(now), limit], decode)?;
            collect(rows)
        })
    }

    fn due_events(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(concat!(
                event_columns!(),
                " AS e WHERE state = 'pending' AND next_attempt_at <= ?1
                  AND NOT EXISTS (SELECT 1 FROM events AS earlier
                      WHERE earlier.payment_id = e.payment_id AND earlier.state = 'pending'
                        AND earlier.seq < e.seq)
                  ORDER BY next_attempt_at LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = statement.query_map(params![to_ms(now), limit], decode_event)?;
            collect(rows)
        })
    }

    fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<(), StoreError> {
        let (state, next) = match attempt.then {
            AfterAttempt::Delivered => (DeliveryState::Delivered, None),
            AfterAttempt::Abandoned => (DeliveryState::Abandoned, None),
            AfterAttempt::Failed => (DeliveryState::Failed, None),
            AfterAttempt::RetryAt(at) => (DeliveryState::Pending, Some(to_ms(at))),
        };
        self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO attempts (event_id, at, outcome) VALUES (?1, ?2, ?3)",
                params![event_id, to_ms(attempt.at), attempt.outcome],
            )?;
            conn.execute(
                "UPDATE events SET state = ?2, attempts = attempts + 1,
                    next_attempt_at = COALESCE(?3, next_attempt_at), last_attempt_at = ?4,
                    last_status = ?5
                 WHERE id = ?1",
                params![
                    event_id,
                    state.as_str(),
                    next,
                    to_ms(attempt.at),
                    attempt.outcome
                ],
            )?;
            Ok(())
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
            let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
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

    fn health(&self) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.query_row("SELECT count(*) FROM payments", [], |row| {
                row.get::<_, i64>(0)
            })?;
            Ok(())
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    /// The id `sample(invoice, ..)` gets.
    pub(crate) fn id_of(invoice: &str) -> String {
        format!("pay_{invoice:0>22}")
    }

    pub(crate) fn sample(invoice: &str, key: Option<&str>) -> PaymentRecord {
        PaymentRecord {
            id: id_of(invoice),
            invoice: invoice.into(),
            status: Status::Pending,
            status_word: None,
            amount: 10_000,
            unique_code: 387,
            total_amount: 10_387,
            qr_content: "000201...".into(),
            payment_url: Some("https://example.test/pay".into()),
            expires_at: datetime!(2026-11-24 08:19:05 UTC),
            paid_at: None,
            created_at: datetime!(2026-11-24 08:04:05 UTC),
            description: "Kopi".into(),
            customer_name: "Budi".into(),
            reference: Some("ORDER-1".into()),
            item: None,
            source: Source::Merchant,
            metadata: Metadata::from([("cart".to_owned(), "c_81".to_owned())]),
            late: false,
            idempotency_key: key.map(str::to_owned),
            request_fingerprint: key.map(|_| "{\"amount\":10000}".to_owned()),
        }
    }

    /// An event for `payment` as the service writes one.
    pub(crate) fn event(payment: &PaymentRecord, kind: &'static str, n: u32) -> NewEvent {
        NewEvent {
            id: format!("evt_{}_{n}", payment.invoice),
            payment_id: payment.id.clone(),
            event_type: kind,
            created_at: datetime!(2026-11-24 08:04:05 UTC) + time::Duration::seconds(n.into()),
            body: format!("{{\"type\":\"{kind}\"}}"),
        }
    }

    /// Stores `payment` with its `payment.created` event, checked again at once.
    pub(crate) fn put(store: &dyn PaymentStore, payment: &PaymentRecord) -> Result<(), StoreError> {
        store.insert(
            payment,
            &event(payment, "payment.created", 0),
            Some(payment.created_at),
        )
    }

    #[test]
    fn round_trips_and_changes_apply_only_to_the_state_they_were_decided_on() {
        let store = SqliteStore::in_memory().expect("store");
        let payment = sample("PYG1", Some("key-1"));
        put(&store, &payment).expect("insert");
        assert_eq!(
            store.get(&id_of("PYG1")).expect("get"),
            Some(payment.clone())
        );
        assert_eq!(
            store.find_by_idempotency_key("key-1").expect("find"),
            Some(payment.clone())
        );
        assert_eq!(store.get(&id_of("PYG2")).expect("get"), None);
        assert_eq!(store.get("PYG1").expect("an invoice is not an id"), None);

        let paid_at = datetime!(2026-11-24 08:10:00 UTC);
        let mut paid = payment.clone();
        paid.status = Status::Paid;
        paid.paid_at = Some(paid_at);
        paid.status_word = Some("PAID".into());
        let paid_event = event(&payment, "payment.paid", 1);
        assert!(store
            .transition(&paid, Status::Pending, &paid_event, None)
            .expect("paid"));
        // A second change decided on the old state (a racing reader) writes nothing.
        let mut expired = payment.clone();
        expired.status = Status::Expired;
        let expired_event = event(&payment, "payment.expired", 2);
        assert!(!store
            .transition(&expired, Status::Pending, &expired_event, None)
            .expect("refused"));
        let stored = store.get(&payment.id).expect("get").expect("present");
        assert_eq!(stored, paid);
        let events = store
            .events(&EventFilter {
                limit: 10,
                ..EventFilter::default()
            })
            .expect("events");
        let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(kinds, ["payment.created", "payment.paid"]);
        assert!(store
            .due_checks(OffsetDateTime::now_utc(), 10)
            .expect("due")
            .is_empty());
    }

    #[test]
    fn a_payments_events_go_out_one_at_a_time_in_order() {
        let store = SqliteStore::in_memory().expect("store");
        let (one, two) = (sample("PYG1", None), sample("PYG2", None));
        put(&store, &one).expect("one");
        put(&store, &two).expect("two");
        let mut expired = one.clone();
        expired.status = Status::Expired;
        store
            .transition(
                &expired,
                Status::Pending,
                &event(&one, "payment.expired", 1),
                None,
            )
            .expect("expired");
        let now = OffsetDateTime::now_utc();
        let due = |store: &SqliteStore| -> Vec<String> {
            store
                .due_events(now, 10)
                .expect("due")
                .into_iter()
                .map(|e| e.id)
                .collect()
        };
        // Only each payment's oldest undelivered event.
        assert_eq!(due(&store), ["evt_PYG1_0", "evt_PYG2_0"]);
        let retry = now + time::Duration::minutes(5);
        store
            .record_attempt(
                "evt_PYG1_0",
                &Attempt {
                    at: now,
                    outcome: "HTTP 503".into(),
                    then: AfterAttempt::RetryAt(retry),
                },
            )
            .expect("attempt");
        assert_eq!(
            due(&store),
            ["evt_PYG2_0"],
            "PYG1's next waits for its first"
        );
        store
            .record_attempt(
                "evt_PYG1_0",
                &Attempt {
                    at: now,
                    outcome: "HTTP 200".into(),
                    then: AfterAttempt::Delivered,
                },
            )
            .expect("attempt");
        // Then PYG1's next, by when it is due (its change came a second after PYG2's create).
        assert_eq!(due(&store), ["evt_PYG2_0", "evt_PYG1_1"]);
        let first = store
            .events(&EventFilter {
                limit: 1,
                ..EventFilter::default()
            })
            .expect("events");
        let first = first.first().expect("one");
        assert_eq!((first.state, first.attempts), (DeliveryState::Delivered, 2));
        assert_eq!(first.last_status.as_deref(), Some("HTTP 200"));
        let after = store
            .events(&EventFilter {
                after_id: Some("evt_PYG1_0".into()),
                state: Some(DeliveryState::Pending),
                limit: 10,
            })
            .expect("events");
        assert_eq!(after.len(), 2);
        assert!(store.resend("evt_PYG1_0", now).expect("resend"));
        assert!(!store.resend("evt_nope", now).expect("resend"));
    }

    #[test]
    fn duplicate_id_invoice_or_key_is_refused() {
        let store = SqliteStore::in_memory().expect("store");
        put(&store, &sample("PYG1", Some("k"))).expect("first");
        let mut same_invoice = sample("PYG1", None);
        same_invoice.id = id_of("OTHER");
        assert!(put(&store, &same_invoice).is_err());
        let mut same_key = sample("PYG2", Some("k"));
        same_key.id = id_of("PYG2");
        assert!(put(&store, &same_key).is_err());
        let mut same_id = sample("PYG3", None);
        same_id.id = id_of("PYG1");
        assert!(put(&store, &same_id).is_err());
        // The payment and its event are one write: a refused payment left no event.
        let events = store
            .events(&EventFilter {
                limit: 10,
                ..EventFilter::default()
            })
            .expect("events");
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn lists_newest_first_and_pages_do_not_shift_when_payments_arrive() {
        let store = SqliteStore::in_memory().expect("store");
        for i in 0..5 {
            let mut p = sample(&format!("PYG{i}"), None);
            p.reference = Some(if i % 2 == 0 { "EVEN" } else { "ODD" }.to_owned());
            put(&store, &p).expect("insert");
        }
        let page = |before: Option<String>| {
            store
                .list(&ListFilter {
                    before_id: before,
                    limit: 2,
                    ..ListFilter::default()
                })
                .expect("list")
                .into_iter()
                .map(|p| p.invoice)
                .collect::<Vec<_>>()
        };
        assert_eq!(page(None), ["PYG4", "PYG3"]);
        // A payment arrives between two pages: the next page goes on where the last ended.
        put(&store, &sample("PYG5", None)).expect("insert");
        assert_eq!(page(Some(id_of("PYG3"))), ["PYG2", "PYG1"]);
        assert_eq!(page(Some(id_of("PYG1"))), ["PYG0"]);
        assert!(matches!(
            store.list(&ListFilter {
                before_id: Some(id_of("NOPE")),
                limit: 2,
                ..ListFilter::default()
            }),
            Err(StoreError::UnknownCursor(_))
        ));
        let even = store
            .list(&ListFilter {
                reference: Some("EVEN".into()),
                limit: 10,
                ..ListFilter::default()
            })
            .expect("list");
        assert_eq!(even.len(), 3);
    }

    #[test]
    fn status_filters_see_the_clock_like_the_views() {
        let store = SqliteStore::in_memory().expect("store");
        let now = datetime!(2026-11-24 09:00:00 UTC);
        let mut open = sample("OPEN", None);
        open.expires_at = now + time::Duration::minutes(5);
        let lapsed = sample("LAPSED", None); // expires 08:19, still 'pending' in the store
        let mut paid = sample("PAID", None);
        paid.status = Status::Paid;
        for p in [&open, &lapsed, &paid] {
            put(&store, p).expect("insert");
        }
        let with = |status| {
            store
                .list(&ListFilter {
                    status: Some(status),
                    now: Some(now),
                    limit: 10,
                    ..ListFilter::default()
                })
                .expect("list")
                .into_iter()
                .map(|p| p.invoice)
                .collect::<Vec<_>>()
        };
        assert_eq!(with(Status::Pending), ["OPEN"]);
        assert_eq!(with(Status::Expired), ["LAPSED"]);
        assert_eq!(with(Status::Paid), ["PAID"]);
        let after = store
            .list(&ListFilter {
                created_after: Some(datetime!(2026-11-24 08:04:05 UTC)),
                limit: 10,
                ..ListFilter::default()
            })
            .expect("list");
        assert!(after.is_empty(), "created_after is exclusive");
    }

    #[test]
    fn survives_reopening_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkout.sqlite");
        put(
            &SqliteStore::open(&path).expect("open"),
            &sample("PYG1", None),
        )
        .expect("insert");
        let reopened = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            reopened
                .get(&id_of("PYG1"))
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
