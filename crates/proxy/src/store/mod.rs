//! Where payments are kept: one interface, two databases. SQLite ([`SqliteStore`]) is the
//! embedded default for one proxy; PostgreSQL ([`PgStore`]) lets several proxies share one
//! database (`docs/scale-out.md`). Every state change is written (and synced) before it
//! is answered, so a `kill -9` loses nothing.
//!
//! Work several proxies could do twice is claimed in the store, never in one process's memory:
//! an upstream status read (the refresh claim), a due confirmation check and a webhook delivery
//! (leases that lapse when their holder dies), a create with an `Idempotency-Key` (a key claim).

pub mod backup;
pub mod claims;
pub(crate) mod db;
mod errors;
pub mod events;
pub mod links;
pub(crate) mod migrations;
pub mod payments;
mod postgres;
mod postgres_tls;
pub mod restore;
mod sqlite;
mod sqlite_faults;
pub mod staff;
#[cfg(test)]
pub(crate) mod suite;
#[cfg(test)]
pub(crate) mod testing;
mod types;

pub use postgres::{PgStore, PostgresUrl, SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION};
pub use sqlite::{SqliteStore, SCHEMA_VERSION as SQLITE_SCHEMA_VERSION};
pub use types::{
    AfterAttempt, Attempt, Backlog, DeliveryState, Dump, EventFilter, EventRecord, Imported,
    KeyClaim, ListFilter, NewEvent, RefreshClaim, StoreError, StoredAttempt, StoredPayment,
    Unavailability,
};

use crate::domain::payment::{PaymentRecord, Review, Source};
use paydigital::Status;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the proxy needs from storage, one part per aggregate, each an async trait written
/// once over both databases (`store/db/`): a service asks only the part it keeps.
pub trait PaymentStore: Send + Sync + 'static {
    /// The store's payments: their rows, changes, checks and what the dashboard sums.
    fn payments(&self) -> &dyn payments::PaymentRows;
    /// The store's webhook outbox: events, their leases and delivery attempts.
    fn events(&self) -> &dyn events::EventStore;
    /// The store's claims: status reads, idempotency keys, the upstream budget.
    fn claims(&self) -> &dyn claims::ClaimStore;
    /// The store's staff accounts, sessions, sign-in throttle and audit log.
    fn staff(&self) -> &dyn staff::StaffStore;
    /// The store's payment links.
    fn links(&self) -> &dyn links::LinkStore;
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

/// One GCRA step (times in ms): `Ok(next tat)` when a call may be made now, else
/// `Err(wait)`.
pub(crate) fn budget_step(tat: i64, now: i64, interval: i64, slack: i64) -> Result<i64, Duration> {
    let allowed_until = now.saturating_add(slack);
    if tat <= allowed_until {
        Ok(tat.max(now).saturating_add(interval))
    } else {
        let wait = u64::try_from(tat.saturating_sub(allowed_until)).unwrap_or(0);
        Err(Duration::from_millis(wait))
    }
}

pub(crate) fn review_from_db(word: Option<String>) -> Result<Option<Review>, StoreError> {
    word.map(|word| {
        Review::parse(&word).ok_or_else(|| StoreError::Corrupt(format!("unknown review {word:?}")))
    })
    .transpose()
}

pub(crate) fn source_from_db(word: &str) -> Result<Source, StoreError> {
    Source::parse(word).ok_or_else(|| StoreError::Corrupt(format!("unknown source {word:?}")))
}

pub(crate) fn status_from_db(word: &str) -> Result<Status, StoreError> {
    match word {
        "pending" => Ok(Status::Pending),
        "paid" => Ok(Status::Paid),
        "expired" => Ok(Status::Expired),
        other => Err(StoreError::Corrupt(format!("unknown status {other:?}"))),
    }
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
