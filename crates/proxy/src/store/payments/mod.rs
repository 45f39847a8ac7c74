//! What the store keeps of payments themselves: a new payment with its first event and check,
//! the reads (by id, idempotency key, receipt token; lists), the changes (a transition with
//! its event, a check's outcome, a review mark), the confirmation worker's claim on due
//! checks, and what the dashboard and `/metrics` add up. [`PaymentRows`] is written once,
//! over the store's executor layer (`store/db/`), as [`StoredPayments`], which both stores
//! hand out; `suite.rs` runs it on both databases. The statements and the one payment row
//! decoder are in `sql.rs`; `migrate --to` reads and writes payments through them too.

mod sql;

pub(crate) use sql::{insert_event, payment_from_row};

use super::db::{Clock, Db, Fixed, Tx};
use super::{pending_first, Backlog, ListFilter, NewEvent, StoreError, StoredPayment};
use crate::domain::days::DayTotal;
use crate::domain::payment::{PaymentRecord, Review};
use paydigital::Status;
use sea_query::OnConflict;
use std::time::Duration;
use time::OffsetDateTime;

/// The store's payments. Async: the services call it directly, no blocking thread between.
#[async_trait::async_trait]
pub trait PaymentRows: Send + Sync + 'static {
    /// Stores a new payment with its `payment.created` event and its first check, in one
    /// transaction, and drops the claim on its idempotency key (and, for a link's payment,
    /// the link reservation taken under that key). An id, invoice, idempotency key or
    /// receipt token seen before is an error, and nothing is written.
    async fn insert(
        &self,
        payment: &PaymentRecord,
        created: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// A payment by its public id.
    async fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError>;
    async fn find_by_idempotency_key(&self, key: &str)
        -> Result<Option<PaymentRecord>, StoreError>;
    /// A payment by its receipt token (`/r/{token}`).
    async fn find_by_receipt_token(&self, token: &str)
        -> Result<Option<PaymentRecord>, StoreError>;
    /// Payments newest first, as the filter says; a `before_id` that is no payment's is
    /// [`StoreError::UnknownCursor`].
    async fn list(&self, filter: &ListFilter) -> Result<Vec<PaymentRecord>, StoreError>;
    /// Writes `to` (the payment after a change) if the payment is still in `from`, with the
    /// change's event and the next check, in one transaction: a `kill -9` at any moment loses
    /// neither. `false` when it had moved on meanwhile (nothing written).
    async fn transition(
        &self,
        to: &PaymentRecord,
        from: Status,
        event: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// PayDigital was asked and nothing changed: its word, and when to ask next.
    async fn checked(
        &self,
        id: &str,
        status_word: Option<&str>,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// Marks a payment for a person to look at (PayDigital said something about it that was
    /// not believed); nothing else about it changes.
    async fn mark_for_review(&self, id: &str, review: Review) -> Result<(), StoreError>;
    /// Claims payments whose next check is due (pending ones first): each is pushed `lease`
    /// into the future, so no other proxy takes it meanwhile; the check's outcome (`checked`,
    /// `transition`) sets the real next one. A proxy killed mid-check leaves it to another
    /// when the lease runs out. PostgreSQL reads its own clock; SQLite, `now`.
    async fn claim_due_checks(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, StoreError>;
    /// What was paid since `since`, summed per day in `zone` (day numbers as
    /// [`crate::domain::days::day_number`] counts them).
    async fn paid_by_day(
        &self,
        since: OffsetDateTime,
        zone: time::UtcOffset,
    ) -> Result<Vec<DayTotal>, StoreError>;
    /// What an operator watches, as of `now`: payments still checked (`next_check_at` set,
    /// not paid), pending or past expiry, and the undelivered events (`/metrics`).
    async fn backlog(&self, now: OffsetDateTime) -> Result<Backlog, StoreError>;
    /// Fails when the store cannot be used, naming why (`/healthz`).
    async fn health(&self) -> Result<(), StoreError>;
}

/// [`PaymentRows`] on either database: each query said once (`sql.rs`).
pub struct StoredPayments {
    db: Db,
    /// Whose clock the claim on due checks reads on PostgreSQL.
    clock: Clock,
}

impl StoredPayments {
    pub(crate) fn new(db: Db) -> StoredPayments {
        StoredPayments {
            db,
            clock: Clock::Database,
        }
    }

    /// Claims read the caller's `now` on PostgreSQL too (tests that play time forward).
    #[cfg(test)]
    pub(crate) fn on_callers_clock(&mut self) {
        self.clock = Clock::Caller;
    }

    /// Every payment with when it is next checked, oldest first: `migrate --to`.
    pub(crate) async fn dump(&self) -> Result<Vec<StoredPayment>, StoreError> {
        let rows = self.db.query(&sql::select_all(self.db.dialect())).await?;
        rows.iter()
            .map(|row| {
                Ok(StoredPayment {
                    record: payment_from_row(row)?,
                    next_check_at: sql::next_check_from_row(row)?,
                })
            })
            .collect()
    }

    /// The payment a statement rendered once (`sql::BY_ID`, ...) finds with `value`.
    async fn one(&self, by: &Fixed, value: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let rows = self.db.query_fixed(by, vec![value.into()]).await?;
        rows.first().map(payment_from_row).transpose()
    }
}

/// `migrate --to`: copies each of `payments` in `tx` unless a payment with its id, invoice,
/// key or token is there already. The number of payments written.
pub(crate) async fn import(tx: &Tx<'_>, payments: &[StoredPayment]) -> Result<u64, StoreError> {
    let mut written: u64 = 0;
    for stored in payments {
        let insert = sql::insert(
            tx.dialect(),
            &stored.record,
            stored.next_check_at,
            Some(OnConflict::new().do_nothing().to_owned()),
        )?;
        written = tx.execute(&insert).await?.saturating_add(written);
    }
    Ok(written)
}

/// [`PaymentRows::insert`]'s work, in `tx`.
async fn insert_in(
    tx: &Tx<'_>,
    p: &PaymentRecord,
    created: &NewEvent,
    next_check: Option<OffsetDateTime>,
) -> Result<(), StoreError> {
    let dialect = tx.dialect();
    tx.execute(&sql::insert(dialect, p, next_check, None)?)
        .await?;
    if let Some(key) = &p.idempotency_key {
        tx.execute(&sql::delete_key_claim(key)).await?;
        // A link payment consumes the reservation its create took (same key).
        if p.payment_link_id.is_some() {
            tx.execute(&sql::delete_reservation(key)).await?;
        }
    }
    tx.execute(&insert_event(dialect, created)?).await?;
    Ok(())
}

#[async_trait::async_trait]
impl PaymentRows for StoredPayments {
    async fn insert(
        &self,
        p: &PaymentRecord,
        created: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin().await?;
        // An error drops `tx`, which rolls back: a refused payment leaves no event.
        insert_in(&tx, p, created, next_check).await?;
        tx.commit().await
    }

    async fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.one(&sql::BY_ID, id).await
    }

    async fn find_by_idempotency_key(
        &self,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        self.one(&sql::BY_KEY, key).await
    }

    async fn find_by_receipt_token(
        &self,
        token: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        self.one(&sql::BY_RECEIPT, token).await
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<PaymentRecord>, StoreError> {
        let dialect = self.db.dialect();
        let before = match &filter.before_id {
            None => None,
            Some(id) => Some(self.db.position_of(sql::PAYMENTS, id).await?),
        };
        let rows = self
            .db
            .query(&sql::select_page(dialect, filter, before))
            .await?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn transition(
        &self,
        to: &PaymentRecord,
        from: Status,
        event: &NewEvent,
        next_check: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let tx = self.db.begin().await?;
        let update = sql::transition(tx.dialect(), to, from, next_check);
        if tx.execute(&update).await? == 0 {
            // Moved on meanwhile: nothing was written (`tx` rolls back as it drops).
            return Ok(false);
        }
        tx.execute(&insert_event(tx.dialect(), event)?).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn checked(
        &self,
        id: &str,
        status_word: Option<&str>,
        next_check: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let update = sql::checked(self.db.dialect(), id, status_word, next_check);
        self.db.execute(&update).await?;
        Ok(())
    }

    async fn mark_for_review(&self, id: &str, review: Review) -> Result<(), StoreError> {
        self.db.execute(&sql::mark_for_review(id, review)).await?;
        Ok(())
    }

    async fn claim_due_checks(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        // One statement, in a transaction as before: IMMEDIATE on SQLite (the file's only
        // writer from its first read), and on PostgreSQL the row locks it takes.
        let tx = self.db.begin().await?;
        let claim = sql::claim_due_checks(tx.dialect(), self.clock, now, lease, limit);
        let claimed = tx
            .query(&claim)
            .await?
            .iter()
            .map(payment_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok(pending_first(claimed))
    }

    async fn paid_by_day(
        &self,
        since: OffsetDateTime,
        zone: time::UtcOffset,
    ) -> Result<Vec<DayTotal>, StoreError> {
        let select = sql::paid_by_day(self.db.dialect(), since, zone.whole_seconds().into());
        let rows = self.db.query(&select).await?;
        rows.iter()
            .map(|row| {
                Ok(DayTotal {
                    day: row.i64("day")?,
                    count: row.u64("count")?,
                    total: row.u64("total")?,
                })
            })
            .collect()
    }

    async fn backlog(&self, now: OffsetDateTime) -> Result<Backlog, StoreError> {
        let payments = self
            .db
            .query(&sql::watched_payments(self.db.dialect(), now))
            .await?;
        let events = self.db.query(&sql::undelivered_events()).await?;
        let (Some(payments), Some(events)) = (payments.first(), events.first()) else {
            return Err(StoreError::Corrupt("an aggregate returned no row".into()));
        };
        Ok(Backlog {
            payments_pending: payments.u64("pending")?,
            payments_expired_watched: payments.u64("expired")?,
            events_pending: events.u64("events")?,
            oldest_pending_event_at: events.opt_time("oldest", super::db::Unit::Millis)?,
        })
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.db.probe().await
    }
}
