//! Where payments are kept. Every state change is written (and fsynced) before it is
//! answered, so a `kill -9` loses nothing. The trait is small so that a Postgres store can
//! follow when a merchant outgrows one machine.

use paydigital::Status;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;
use time::OffsetDateTime;

/// A payment this proxy created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
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
}

/// What the proxy needs from storage. Calls block: call them from `spawn_blocking`.
pub trait PaymentStore: Send + Sync + 'static {
    /// Stores a new payment. An invoice or idempotency key seen before is an error.
    fn insert(&self, payment: &PaymentRecord) -> Result<(), StoreError>;
    fn get(&self, invoice: &str) -> Result<Option<PaymentRecord>, StoreError>;
    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError>;
    /// Records what upstream said of a payment. Paid is final: a later word cannot undo it.
    fn record_status(
        &self,
        invoice: &str,
        status: Status,
        status_word: &str,
        paid_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// Fails when the store cannot be read.
    fn health(&self) -> Result<(), StoreError>;
}

/// The unique columns a payment is looked up by.
#[derive(Clone, Copy)]
enum Lookup {
    Invoice,
    IdempotencyKey,
}

macro_rules! select_columns {
    () => {
        "SELECT invoice, status, status_word, amount, unique_code, total_amount, qr_content, \
         payment_url, expires_at, paid_at, created_at, description, customer_name, reference, \
         item, idempotency_key, request_fingerprint FROM payments"
    };
}

/// SQLite in WAL mode, one connection behind a mutex (plenty for one shop's payments).
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

/// Schema versions, applied in order; `PRAGMA user_version` says how many have run.
const MIGRATIONS: &[&str] = &[r#"
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
"#];

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

impl SqliteStore {
    /// Opens (or creates) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open(path)?)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        // WAL lets reads run beside a write; FULL syncs each commit before we answer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let applied: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            conn.execute_batch(&format!(
                "BEGIN; {migration}; PRAGMA user_version = {}; COMMIT;",
                index + 1
            ))?;
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

    /// Reads one payment by a unique column. The statements are prepared once per
    /// connection and cached: this is on every status read's path.
    fn select(
        conn: &Connection,
        by: Lookup,
        value: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let sql = match by {
            Lookup::Invoice => concat!(select_columns!(), " WHERE invoice = ?1"),
            Lookup::IdempotencyKey => concat!(select_columns!(), " WHERE idempotency_key = ?1"),
        };
        let mut statement = conn.prepare_cached(sql)?;
        let record = statement
            .query_row([value], |row| {
                // Columns as selected above; conversions that can fail on corrupt data give
                // a StoreError, kept apart from SQLite's own errors.
                let record = (|| {
                    Ok(PaymentRecord {
                        invoice: row.get(0)?,
                        status: status_from_db(&row.get::<_, String>(1)?)?,
                        status_word: row.get(2)?,
                        amount: to_u64(row.get(3)?)?,
                        unique_code: to_u64(row.get(4)?)?,
                        total_amount: to_u64(row.get(5)?)?,
                        qr_content: row.get(6)?,
                        payment_url: row.get(7)?,
                        expires_at: from_unix(row.get(8)?)?,
                        paid_at: row.get::<_, Option<i64>>(9)?.map(from_unix).transpose()?,
                        created_at: from_unix(row.get(10)?)?,
                        description: row.get(11)?,
                        customer_name: row.get(12)?,
                        reference: row.get(13)?,
                        item: row.get(14)?,
                        idempotency_key: row.get(15)?,
                        request_fingerprint: row.get(16)?,
                    })
                })();
                Ok(record)
            })
            .optional()?;
        record.transpose()
    }
}

impl PaymentStore for SqliteStore {
    fn insert(&self, p: &PaymentRecord) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO payments (invoice, status, status_word, amount, unique_code,
                    total_amount, qr_content, payment_url, expires_at, paid_at, created_at,
                    description, customer_name, reference, item, idempotency_key,
                    request_fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
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
                    p.idempotency_key,
                    p.request_fingerprint,
                ],
            )?;
            Ok(())
        })
    }

    fn get(&self, invoice: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::Invoice, invoice))
    }

    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.with(|conn| SqliteStore::select(conn, Lookup::IdempotencyKey, key))
    }

    fn record_status(
        &self,
        invoice: &str,
        status: Status,
        status_word: &str,
        paid_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            // `status <> 'paid'`: paid is final, whatever a later read says.
            conn.execute(
                "UPDATE payments SET status = ?2, status_word = ?3, paid_at = COALESCE(?4, paid_at)
                 WHERE invoice = ?1 AND status <> 'paid'",
                params![invoice, status.as_str(), status_word, paid_at.map(to_unix)],
            )?;
            Ok(())
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

    pub(crate) fn sample(invoice: &str, key: Option<&str>) -> PaymentRecord {
        PaymentRecord {
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
            idempotency_key: key.map(str::to_owned),
            request_fingerprint: key.map(|_| "{\"amount\":10000}".to_owned()),
        }
    }

    #[test]
    fn round_trips_and_paid_is_final() {
        let store = SqliteStore::in_memory().expect("store");
        let payment = sample("PYG1", Some("key-1"));
        store.insert(&payment).expect("insert");
        assert_eq!(store.get("PYG1").expect("get"), Some(payment.clone()));
        assert_eq!(
            store.find_by_idempotency_key("key-1").expect("find"),
            Some(payment)
        );
        assert_eq!(store.get("PYG2").expect("get"), None);

        let paid_at = datetime!(2026-11-24 08:10:00 UTC);
        store
            .record_status("PYG1", Status::Paid, "PAID", Some(paid_at))
            .expect("paid");
        store
            .record_status("PYG1", Status::Expired, "expired", None)
            .expect("ignored");
        let stored = store.get("PYG1").expect("get").expect("present");
        assert_eq!(stored.status, Status::Paid);
        assert_eq!(stored.paid_at, Some(paid_at));
        assert_eq!(stored.status_word.as_deref(), Some("PAID"));
    }

    #[test]
    fn duplicate_invoice_or_key_is_refused() {
        let store = SqliteStore::in_memory().expect("store");
        store.insert(&sample("PYG1", Some("k"))).expect("first");
        assert!(store.insert(&sample("PYG1", None)).is_err());
        assert!(store.insert(&sample("PYG2", Some("k"))).is_err());
    }

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkout.sqlite");
        SqliteStore::open(&path)
            .expect("open")
            .insert(&sample("PYG1", None))
            .expect("insert");
        let reopened = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            reopened.get("PYG1").expect("get").map(|p| p.total_amount),
            Some(10_387)
        );
    }
}
