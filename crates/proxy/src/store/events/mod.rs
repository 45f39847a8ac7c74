//! What the store keeps of webhook events and their deliveries: the outbox (each payment's
//! events, written in the same transaction as the change they tell of by the payments'
//! `insert`/`transition`, not here), the leases that make one proxy deliver each event at a
//! time, every attempt, and the reads of the merchant API, the CLI and the dashboard.
//! [`EventStore`] is written once, over the store's executor layer (`store/db/`), as
//! [`Events`], which both stores hand out; `suite.rs` runs it on both databases.

mod sql;

use super::db::dialect::Clock;
use super::db::Db;
use super::{oldest_due_first, Attempt, EventFilter, EventRecord, StoreError, StoredAttempt};
use std::time::Duration;
use time::OffsetDateTime;

/// The store's webhook outbox. Async: the services call it directly, no blocking thread
/// between.
#[async_trait::async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Claims events due for an attempt, for `lease`: for each payment only its oldest
    /// undelivered event, so a payment's events go out in order, and none that another proxy
    /// holds a live lease on, so an event is never sent twice at once. The longest-waiting
    /// first. PostgreSQL reads its own clock; SQLite, `now`.
    async fn claim_due_events(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError>;
    /// Records an attempt and what it leaves the event in, and ends its lease — if the
    /// attempt's lease is still the event's. `false`: another proxy holds it now; nothing
    /// was recorded.
    async fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<bool, StoreError>;
    /// Events oldest first, as the filter says (the merchant API's and the CLI's list).
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;
    /// Queues an event for delivery again, now (same id). `false`: no such event.
    async fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// A payment's events, oldest first.
    async fn payment_events(&self, payment_id: &str) -> Result<Vec<EventRecord>, StoreError>;
    /// Every delivery attempt of a payment's events, oldest first.
    async fn payment_attempts(&self, payment_id: &str) -> Result<Vec<StoredAttempt>, StoreError>;
    /// Events written at or after `since`, oldest first (the dashboard's live feed: by time,
    /// not by sequence, since on PostgreSQL a later sequence number may commit first), after
    /// the event `after` of that order if given.
    async fn events_since(
        &self,
        since: OffsetDateTime,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError>;
}

/// [`EventStore`] on either database: each statement said once (`sql.rs`).
pub struct Events {
    db: Db,
    /// Whose clock claims and leases read.
    clock: Clock,
}

impl Events {
    pub(crate) fn new(db: Db) -> Events {
        Events {
            db,
            clock: Clock::Database,
        }
    }

    /// Claims and leases read the caller's `now` instead of PostgreSQL's clock (tests that
    /// play time forward).
    #[cfg(test)]
    pub(crate) fn on_callers_clock(self) -> Events {
        Events {
            clock: Clock::Caller,
            ..self
        }
    }
}

#[async_trait::async_trait]
impl EventStore for Events {
    async fn claim_due_events(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let claim = sql::claim_due(self.db.dialect(), self.clock, now, lease, limit);
        // One transaction: IMMEDIATE on SQLite, so the claim is the file's only writer from
        // its first read (as it always was); on PostgreSQL its row locks.
        let tx = self.db.begin().await?;
        let claimed = tx
            .query(&claim)
            .await?
            .iter()
            .map(sql::decode_event)
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok(oldest_due_first(claimed))
    }

    async fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<bool, StoreError> {
        let dialect = self.db.dialect();
        let record = sql::record(dialect, event_id, attempt);
        let insert = sql::insert_attempt(dialect, event_id, attempt)?;
        let tx = self.db.begin().await?;
        if tx.execute(&record).await? == 0 {
            // Dropped: nothing was written.
            return Ok(false);
        }
        tx.execute(&insert).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let after = match &filter.after_id {
            None => None,
            Some(id) => Some(
                self.db
                    .query(&sql::select_seq_of(id))
                    .await?
                    .first()
                    .ok_or_else(|| StoreError::UnknownCursor(id.clone()))?
                    .i64("seq")?,
            ),
        };
        self.db
            .query(&sql::select_page(filter, after))
            .await?
            .iter()
            .map(sql::decode_event)
            .collect()
    }

    async fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let resend = sql::resend(self.db.dialect(), event_id, now);
        Ok(self.db.execute(&resend).await? > 0)
    }

    async fn payment_events(&self, payment_id: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.db
            .query(&sql::select_of_payment(payment_id))
            .await?
            .iter()
            .map(sql::decode_event)
            .collect()
    }

    async fn payment_attempts(&self, payment_id: &str) -> Result<Vec<StoredAttempt>, StoreError> {
        let select = sql::select_attempts_of_payment(self.db.dialect(), payment_id);
        self.db
            .query(&select)
            .await?
            .iter()
            .map(sql::decode_attempt)
            .collect()
    }

    async fn events_since(
        &self,
        since: OffsetDateTime,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let select = sql::select_since(self.db.dialect(), since, after, limit);
        self.db
            .query(&select)
            .await?
            .iter()
            .map(sql::decode_event)
            .collect()
    }
}
