//! The values a store takes and gives: filters, events and their delivery, claims, dumps,
//! and the one error type.

use crate::domain::payment::PaymentRecord;
use paydigital::Status;
use time::OffsetDateTime;

/// The server's own words for an error it reported (its message and SQLSTATE; never the
/// `DETAIL`, which can quote stored values), else the client's.
fn postgres_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// What can go wrong in a store. No variant carries a connection string: a database
/// password never reaches an error message or a log line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// tokio-postgres says only "db error" for what the server refused: the server's message
    /// (which constraint, which column) is what an operator needs in the log.
    #[error("PostgreSQL: {}", postgres_detail(.0))]
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
    /// A store task ended without answering (it panicked, or the runtime is stopping).
    #[error("the store's worker stopped: {0}")]
    Stopped(String),
    /// A statement could not be built (a bug: a column list and its values disagree).
    #[error("a statement could not be built: {0}")]
    Build(String),
    #[error("no payment {0} to continue the list after")]
    UnknownCursor(String),
}

/// Which payments a list asks for, newest first.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub reference: Option<String>,
    pub status: Option<Status>,
    pub created_after: Option<OffsetDateTime>,
    /// Only payments created before this moment (the dashboard's date range).
    pub created_before: Option<OffsetDateTime>,
    /// A payment whose id, invoice or reference is this, or whose customer name contains it
    /// (any case).
    pub search: Option<String>,
    /// Only payments this member of staff charged at the counter (their email).
    pub created_by: Option<String>,
    /// Only payments created before this one (the previous page's last id).
    pub before_id: Option<String>,
    pub limit: usize,
    /// The clock deciding whether a pending payment is past its expiry.
    pub now: Option<OffsetDateTime>,
}

/// Where a webhook event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
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
    /// Until when the delivery is its claimer's alone; `None` when nobody holds it. A claim
    /// returns the value it set: the holder's token when it records the attempt.
    pub leased_until: Option<OffsetDateTime>,
}

/// One delivery attempt and what it leaves the event in.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: OffsetDateTime,
    pub outcome: String,
    pub then: AfterAttempt,
    /// The lease the attempt was made under (the claimed event's `leased_until`): recorded
    /// only if it is still the event's, so a proxy whose lease lapsed and was taken over
    /// records nothing over its successor's delivery.
    pub lease: Option<OffsetDateTime>,
    /// How long the receiver took to answer (or to fail).
    pub duration: Option<std::time::Duration>,
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
    /// Attempts recorded before v6 of the schema have none.
    pub duration_ms: Option<u64>,
}

/// Everything a store holds, oldest first (what `migrate --to` copies).
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub payments: Vec<StoredPayment>,
    pub events: Vec<EventRecord>,
    pub attempts: Vec<StoredAttempt>,
    /// The shop's people and what they did (sessions are not copied: staff sign in again).
    pub staff: Vec<super::staff::StaffMember>,
    pub audit: Vec<super::staff::AuditEntry>,
    /// Payment links, oldest first, and the secret their pages' forms are signed with (link
    /// reservations are not copied: they lapse in minutes).
    pub links: Vec<crate::domain::links::PaymentLink>,
    pub link_form_secret: Option<String>,
}

/// What the store holds that an operator watches (read once per metrics scrape, by
/// indexed queries only: payments still checked and undelivered events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Pending payments whose code is still payable.
    pub payments_pending: u64,
    /// Payments past their expiry that are still checked for a late payment (the grace).
    pub payments_expired_watched: u64,
    /// Webhook events waiting for an attempt.
    pub events_pending: u64,
    /// When the oldest of those was written.
    pub oldest_pending_event_at: Option<OffsetDateTime>,
}

/// What an import added (rows already there are left as they are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub payments: u64,
    pub links: u64,
    pub events: u64,
    pub attempts: u64,
    pub staff: u64,
    pub audit: u64,
}
