//! Where payments are kept: one interface, two databases. SQLite ([`SqliteStore`]) is the
//! embedded default for one proxy; PostgreSQL ([`PgStore`]) lets several proxies share one
//! database (`shared/spec/scale-out.md`). Every state change is written (and synced) before it
//! is answered, so a `kill -9` loses nothing.
//!
//! Work several proxies could do twice is claimed in the store, never in one process's memory:
//! an upstream status read (the refresh claim), a due confirmation check and a webhook delivery
//! (leases that lapse when their holder dies), a create with an `Idempotency-Key` (a key claim).

mod postgres;
mod sqlite;
#[cfg(test)]
pub(crate) mod suite;

pub use postgres::{PgStore, PostgresUrl};
pub use sqlite::{SqliteStore, SCHEMA_VERSION};

use paydigital::Status;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
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

    pub(crate) fn from_db(word: &str) -> Result<Source, StoreError> {
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

/// What can go wrong in a store. No variant carries a connection string: a database
/// password never reaches an error message or a log line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection could be had in time: the database is down or unreachable.
    #[error("PostgreSQL is unreachable: {0}")]
    Unavailable(String),
    /// `CHECKOUT_DATABASE` looks like PostgreSQL but is not a connection string.
    #[error("CHECKOUT_DATABASE is not a PostgreSQL connection string: {0}")]
    InvalidUrl(String),
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

    pub(crate) fn from_db(word: &str) -> Result<DeliveryState, StoreError> {
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

impl AfterAttempt {
    /// The event's delivery state after the attempt, and its next attempt if any.
    pub(crate) fn leaves(self) -> (DeliveryState, Option<OffsetDateTime>) {
        match self {
            AfterAttempt::Delivered => (DeliveryState::Delivered, None),
            AfterAttempt::Abandoned => (DeliveryState::Abandoned, None),
            AfterAttempt::Failed => (DeliveryState::Failed, None),
            AfterAttempt::RetryAt(at) => (DeliveryState::Pending, Some(at)),
        }
    }
}

/// Which events a list asks for, oldest first.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events after this one (an event id).
    pub after_id: Option<String>,
    pub state: Option<DeliveryState>,
    pub limit: usize,
}

/// Whether this proxy may ask PayDigital about a payment now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshClaim {
    /// Nobody in the group asked within the window: this proxy asks, now.
    Mine,
    /// A proxy (maybe this one) claimed the read at `at`, within the window: its answer is
    /// in the store, or will be shortly.
    Taken {
        at: OffsetDateTime,
    },
    NoSuchPayment,
}

/// Whether this proxy may create the payment for an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// This proxy creates it; release the claim if the create fails.
    Mine,
    /// Another request (maybe on another proxy) is creating it, for this request fingerprint.
    Held { fingerprint: String },
}

/// What the proxy needs from storage. Calls block: call them from `spawn_blocking`.
pub trait PaymentStore: Send + Sync + 'static {
    /// Stores a new payment with its `payment.created` event and its first check, in one
    /// transaction, and drops the claim on its idempotency key. An id, invoice or idempotency
    /// key seen before is an error.
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
    /// Claims the upstream status read of payment `id` for the whole group, unless one was
    /// claimed within `window` before `now`.
    fn claim_refresh(
        &self,
        id: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<RefreshClaim, StoreError>;
    /// Claims payments whose next check is due (pending ones first): each is pushed `lease`
    /// into the future, so no other proxy takes it meanwhile; the check's outcome (`checked`,
    /// `transition`) sets the real next one. A proxy killed mid-check leaves it to another
    /// when the lease runs out.
    fn claim_due_checks(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, StoreError>;
    /// Claims events due for an attempt, for `lease`: for each payment only its oldest
    /// undelivered event, so a payment's events go out in order, and none that another proxy
    /// holds a live lease on, so an event is never sent twice at once.
    fn claim_due_events(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError>;
    /// Records an attempt and what it leaves the event in; ends its lease.
    fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<(), StoreError>;
    /// Events oldest first, as the filter says.
    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;
    /// Queues an event for delivery again, now (same id). `false`: no such event.
    fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// Claims the right to create the payment for `key`, unless another request holds a
    /// claim younger than `stale` (older ones were left by a proxy that died mid-create).
    fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale: Duration,
    ) -> Result<KeyClaim, StoreError>;
    /// Gives a key claim back after a failed create, so that a retry may create.
    fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError>;
    /// Fails when the store cannot be read.
    fn health(&self) -> Result<(), StoreError>;
}

/// A payment as stored, with when it is next checked (`migrate --to` copies both).
#[derive(Debug, Clone)]
pub struct StoredPayment {
    pub record: PaymentRecord,
    pub next_check_at: Option<OffsetDateTime>,
}

/// One delivery attempt as the store keeps it.
#[derive(Debug, Clone)]
pub struct StoredAttempt {
    pub event_id: String,
    pub at: OffsetDateTime,
    pub outcome: String,
}

/// Everything a store holds, oldest first (what `migrate --to` copies).
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub payments: Vec<StoredPayment>,
    pub events: Vec<EventRecord>,
    pub attempts: Vec<StoredAttempt>,
}

/// What an import added (rows already there are left as they are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub payments: u64,
    pub events: u64,
    pub attempts: u64,
}

/// Which database `CHECKOUT_DATABASE` names.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

impl Database {
    /// `postgres://`, `postgresql://` or a `host=... dbname=...` string is PostgreSQL;
    /// anything else is a SQLite path.
    pub fn parse(text: &str) -> Result<Database, StoreError> {
        let trimmed = text.trim();
        let is_postgres = trimmed.starts_with("postgres://")
            || trimmed.starts_with("postgresql://")
            || (trimmed.contains('=')
                && trimmed
                    .split_whitespace()
                    .any(|pair| pair.starts_with("host=") || pair.starts_with("dbname=")));
        if is_postgres {
            PostgresUrl::parse(trimmed).map(Database::Postgres)
        } else {
            Ok(Database::Sqlite(PathBuf::from(text)))
        }
    }

    /// Opens the store (migrating its schema); `pool` bounds PostgreSQL connections. A
    /// PostgreSQL store runs its queries on the current Tokio runtime.
    pub async fn open(&self, pool: usize) -> Result<Arc<dyn PaymentStore>, StoreError> {
        Ok(match self {
            Database::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
            Database::Postgres(url) => Arc::new(PgStore::connect(url, pool).await?),
        })
    }

    /// Opens the store for a proxy about to serve. A SQLite file is that proxy's alone: what
    /// its previous run left leased is delivered at once. Shared PostgreSQL leases lapse on
    /// their own (another proxy may be delivering).
    pub async fn open_to_serve(&self, pool: usize) -> Result<Arc<dyn PaymentStore>, StoreError> {
        let Database::Sqlite(path) = self else {
            return self.open(pool).await;
        };
        let store = SqliteStore::open(path)?;
        store.end_leases_of_a_previous_run()?;
        Ok(Arc::new(store))
    }
}

/// For logs and errors: a path, or a PostgreSQL URL without its password.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => write!(f, "{url}"),
        }
    }
}

pub(crate) fn status_from_db(word: &str) -> Result<Status, StoreError> {
    match word {
        "pending" => Ok(Status::Pending),
        "paid" => Ok(Status::Paid),
        "expired" => Ok(Status::Expired),
        other => Err(StoreError::Corrupt(format!("unknown status {other:?}"))),
    }
}

/// `at - d`, for the window and lease arithmetic both stores share.
pub(crate) fn minus(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    at.checked_sub(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `at + d`.
pub(crate) fn plus(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    at.checked_add(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
        .unwrap_or(at)
}

/// The unique columns a payment is looked up by.
#[derive(Clone, Copy)]
pub(crate) enum Lookup {
    Id,
    IdempotencyKey,
}

pub(crate) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit the store")))
}

pub(crate) fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative amount {n}")))
}

/// A row limit as SQL takes it.
pub(crate) fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Claimed events as the deliverer wants them: the longest-waiting first.
pub(crate) fn oldest_due_first(mut due: Vec<EventRecord>) -> Vec<EventRecord> {
    due.sort_by_key(|e| (e.next_attempt_at, e.created_at));
    due
}

/// Claimed checks as the worker wants them: pending payments first, then by due time.
pub(crate) fn pending_first(mut due: Vec<PaymentRecord>) -> Vec<PaymentRecord> {
    due.sort_by_key(|p| (p.status != Status::Pending, p.created_at));
    due
}
