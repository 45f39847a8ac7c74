//! The values a store takes and gives: filters, events and their delivery, claims, dumps,
//! and the one error type.

use crate::domain::payment::PaymentRecord;
use paydigital::Status;
use time::OffsetDateTime;

/// What can go wrong in a store, in the store's words: callers decide on these and never
/// on a driver's type (the driver's errors are classified once, in `store/errors.rs`). No
/// variant carries a connection string: a database password never reaches an error message
/// or a log line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the call needed is not there.
    #[error("not found: {0}")]
    NotFound(String),
    /// A write clashed with what is stored (a unique key, a foreign key, a check).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store cannot do it now but may shortly: retry later. `detail` is the database's
    /// own words, for the log.
    #[error("{}: {detail}", reason.describe())]
    Unavailable {
        reason: Unavailability,
        detail: String,
    },
    /// The database refused a query for a reason of its own (a bug, a schema out of step):
    /// retrying does not help. Its words, for the log.
    #[error("the database refused: {0}")]
    Query(String),
    /// `CHECKOUT_DATABASE` looks like PostgreSQL but is not a connection string.
    #[error("CHECKOUT_DATABASE is not a PostgreSQL connection string: {0}")]
    InvalidUrl(String),
    /// What is stored cannot be read as it was written: a damaged file, a value no version
    /// of this program writes.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The SQLite file is another program's database: it is left as it is.
    #[error("{0}")]
    Foreign(String),
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

impl StoreError {
    pub(crate) fn unavailable(reason: Unavailability, detail: impl Into<String>) -> StoreError {
        StoreError::Unavailable {
            reason,
            detail: detail.into(),
        }
    }

    /// Why the store cannot answer now, when that is what went wrong.
    pub fn unavailability(&self) -> Option<Unavailability> {
        match self {
            StoreError::Unavailable { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

/// Why a store cannot answer now: each passes (space freed, a lock released, the server
/// back) without a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unavailability {
    /// The disk holding the database is full: nothing can be written.
    DiskFull,
    /// Another connection holds the database locked (SQLite) or the server is too loaded
    /// to take the work (PostgreSQL: serialization failures, lock timeouts, no free
    /// connection slot).
    Busy,
    /// The database server does not answer, or is shutting down or starting up.
    Unreachable,
    /// The database, or the disk holding it, is read-only.
    ReadOnly,
    /// The disk reported an input/output error.
    #[serde(rename = "io_error")]
    Io,
    /// The database file cannot be opened (its folder is gone, its permissions changed).
    CannotOpen,
}

impl Unavailability {
    /// Every reason (for the test that keeps [`Unavailability::as_str`] and serde together).
    pub const ALL: [Unavailability; 6] = [
        Unavailability::DiskFull,
        Unavailability::Busy,
        Unavailability::Unreachable,
        Unavailability::ReadOnly,
        Unavailability::Io,
        Unavailability::CannotOpen,
    ];

    /// The word `/healthz` and the metrics name it with.
    pub fn as_str(self) -> &'static str {
        match self {
            Unavailability::DiskFull => "disk_full",
            Unavailability::Busy => "busy",
            Unavailability::Unreachable => "unreachable",
            Unavailability::ReadOnly => "read_only",
            Unavailability::Io => "io_error",
            Unavailability::CannotOpen => "cannot_open",
        }
    }

    /// What is wrong, in the shop's words (after "the payment store").
    pub fn describe(self) -> &'static str {
        match self {
            Unavailability::DiskFull => "the payment store cannot write: its disk is full",
            Unavailability::Busy => {
                "the payment store is busy: its database is locked by another connection"
            }
            Unavailability::Unreachable => {
                "the payment store is unreachable: its database server does not answer"
            }
            Unavailability::ReadOnly => {
                "the payment store cannot write: its database or disk is read-only"
            }
            Unavailability::Io => "the payment store cannot use its disk: an input/output error",
            Unavailability::CannotOpen => "the payment store cannot open its database file",
        }
    }

    /// How long a client should wait before it retries: a lock passes in moments, a server
    /// restarts in seconds, a full disk waits for a person.
    pub fn retry_after_secs(self) -> u64 {
        match self {
            Unavailability::Busy => 1,
            Unavailability::Unreachable => 5,
            Unavailability::DiskFull
            | Unavailability::ReadOnly
            | Unavailability::Io
            | Unavailability::CannotOpen => 30,
        }
    }
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
