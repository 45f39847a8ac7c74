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

/// What the proxy needs from storage. Calls block: call them from `spawn_blocking`.
pub trait PaymentStore: Send + Sync + 'static {
    /// Stores a new payment. An id, invoice or idempotency key seen before is an error.
    fn insert(&self, payment: &PaymentRecord) -> Result<(), StoreError>;
    /// A payment by its public id.
    fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError>;
    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError>;
    /// Payments newest first, as the filter says.
    fn list(&self, filter: &ListFilter) -> Result<Vec<PaymentRecord>, StoreError>;
    /// Records what upstream said of a payment. Paid is final: a later word cannot undo it;
    /// paid after a recorded expiry is `late`.
    fn record_status(
        &self,
        id: &str,
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
    fn insert(&self, p: &PaymentRecord) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO payments (id, invoice, status, status_word, amount, unique_code,
                    total_amount, qr_content, payment_url, expires_at, paid_at, created_at,
                    description, customer_name, reference, item, source, metadata, late,
                    idempotency_key, request_fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20, ?21)",
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
                ],
            )?;
            Ok(())
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

    fn record_status(
        &self,
        id: &str,
        status: Status,
        status_word: &str,
        paid_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            // `status <> 'paid'`: paid is final, whatever a later read says. The right-hand
            // sides see the row as it was: paid over a recorded expiry is late.
            conn.execute(
                "UPDATE payments SET status = ?2, status_word = ?3, paid_at = COALESCE(?4, paid_at),
                    late = (?2 = 'paid' AND status = 'expired')
                 WHERE id = ?1 AND status <> 'paid'",
                params![id, status.as_str(), status_word, paid_at.map(to_unix)],
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

    #[test]
    fn round_trips_and_paid_is_final() {
        let store = SqliteStore::in_memory().expect("store");
        let payment = sample("PYG1", Some("key-1"));
        store.insert(&payment).expect("insert");
        assert_eq!(
            store.get(&id_of("PYG1")).expect("get"),
            Some(payment.clone())
        );
        assert_eq!(
            store.find_by_idempotency_key("key-1").expect("find"),
            Some(payment)
        );
        assert_eq!(store.get(&id_of("PYG2")).expect("get"), None);
        assert_eq!(store.get("PYG1").expect("an invoice is not an id"), None);

        let paid_at = datetime!(2026-11-24 08:10:00 UTC);
        let id = id_of("PYG1");
        store
            .record_status(&id, Status::Paid, "PAID", Some(paid_at))
            .expect("paid");
        store
            .record_status(&id, Status::Expired, "expired", None)
            .expect("ignored");
        let stored = store.get(&id).expect("get").expect("present");
        assert_eq!(stored.status, Status::Paid);
        assert_eq!(stored.paid_at, Some(paid_at));
        assert_eq!(stored.status_word.as_deref(), Some("PAID"));
        assert!(!stored.late, "paid while pending is on time");
    }

    #[test]
    fn paid_after_a_recorded_expiry_is_late() {
        let store = SqliteStore::in_memory().expect("store");
        store.insert(&sample("PYG1", None)).expect("insert");
        let id = id_of("PYG1");
        store
            .record_status(&id, Status::Expired, "expired", None)
            .expect("expired");
        store
            .record_status(&id, Status::Paid, "paid", Some(OffsetDateTime::now_utc()))
            .expect("paid");
        let stored = store.get(&id).expect("get").expect("present");
        assert_eq!((stored.status, stored.late), (Status::Paid, true));
    }

    #[test]
    fn duplicate_id_invoice_or_key_is_refused() {
        let store = SqliteStore::in_memory().expect("store");
        store.insert(&sample("PYG1", Some("k"))).expect("first");
        let mut same_invoice = sample("PYG1", None);
        same_invoice.id = id_of("OTHER");
        assert!(store.insert(&same_invoice).is_err());
        let mut same_key = sample("PYG2", Some("k"));
        same_key.id = id_of("PYG2");
        assert!(store.insert(&same_key).is_err());
        let mut same_id = sample("PYG3", None);
        same_id.id = id_of("PYG1");
        assert!(store.insert(&same_id).is_err());
    }

    #[test]
    fn lists_newest_first_and_pages_do_not_shift_when_payments_arrive() {
        let store = SqliteStore::in_memory().expect("store");
        for i in 0..5 {
            let mut p = sample(&format!("PYG{i}"), None);
            p.reference = Some(if i % 2 == 0 { "EVEN" } else { "ODD" }.to_owned());
            store.insert(&p).expect("insert");
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
        store.insert(&sample("PYG5", None)).expect("insert");
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
            store.insert(p).expect("insert");
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
        SqliteStore::open(&path)
            .expect("open")
            .insert(&sample("PYG1", None))
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
