//! The payment service every front door (browser API, merchant API, hosted page) and every
//! worker shares: create a payment upstream and keep it (`create.rs`, with
//! `idempotency.rs`; a counter sale is `counter.rs`), read it by id, refresh it from PayDigital through one gate per payment
//! (`refresh.rs`), list payments and events. It answers in [`ServiceError`], never in HTTP.
//!
//! Every store call goes through [`Payments::in_store`] (its failures counted, in the
//! service's words); the latest record of watched payments is kept in memory (`cache.rs`)
//! after the store, never before.

mod cache;
mod counter;
mod create;
mod error;
pub mod export;
mod idempotency;
pub mod links;
mod locks;
mod refresh;

pub use counter::{in_counter_list, is_counter_sale_of, ChargeError, RECENT_SALES};
pub use error::ServiceError;
pub use idempotency::{Idempotency, KeyScope};

use crate::config::Config;
use crate::domain::days::DayTotal;
use crate::domain::ids;
use crate::domain::lifecycle::{CheckSchedule, EventType};
use crate::domain::payment::PaymentRecord;
use crate::domain::views::{Views, WebhookBody};
use crate::metrics::Metrics;
use crate::store::{
    Attempt, Backlog, EventFilter, EventRecord, ListFilter, NewEvent, PaymentStore, StoreError,
    StoredAttempt,
};
use crate::upstream::{Call, Upstream};
use cache::{PaymentCache, CACHE_CAPACITY};
use locks::KeyedLocks;
use paydigital::wire::rfc3339;
use paydigital::Status;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Notify;

/// Who reads a payment, which decides whether the read may ask PayDigital.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Browser,
    Merchant,
}

/// A payment a create answers with; `replayed` when an earlier request with the same
/// idempotency key made it.
pub struct Created {
    pub record: PaymentRecord,
    pub replayed: bool,
}

/// One page of a list, and the cursor to the next (`null` at the end).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass it back (`cursor`, `after`) for the next page; null on the last one.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were read with one more than `limit`: whether there is a next page, without a
    /// second query. The cursor is the last row shown.
    pub(crate) fn of(mut rows: Vec<T>, limit: usize, id: impl Fn(&T) -> &str) -> Page<T> {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = more
            .then(|| rows.last().map(|row| id(row).to_owned()))
            .flatten();
        Page {
            data: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// The customer name PayDigital is given for a link's payment (the page asks for none).
const DEFAULT_LINK_CUSTOMER: &str = "Pelanggan";

pub struct Payments {
    store: Arc<dyn PaymentStore>,
    upstream: Upstream,
    views: Views,
    /// At most one upstream status read per payment per this long.
    status_refresh: Duration,
    /// When the confirmation worker asks PayDigital about each payment.
    schedule: CheckSchedule,
    creating: KeyedLocks<()>,
    /// When each payment was last read upstream. The cache keeps a copy for the lock-free
    /// fast path, but may drop it when full: this one, behind the lock, bounds upstream calls.
    refreshing: KeyedLocks<Option<Instant>>,
    /// What status reads answer from, without a store read each.
    cache: PaymentCache,
    /// Wakes the webhook deliverer when an event is written.
    events_written: Arc<Notify>,
    /// Store errors are counted here; the workers count their work.
    metrics: Arc<Metrics>,
    /// Payment link forms' token secret, once read from the store.
    form_secret: std::sync::OnceLock<crate::domain::link_tokens::FormSecret>,
}

impl Payments {
    pub fn new(
        config: &Config,
        store: Arc<dyn PaymentStore>,
        upstream: Upstream,
        metrics: Arc<Metrics>,
    ) -> Payments {
        Payments {
            views: Views {
                zone: config.upstream.zone,
                public_url: config.public_url.clone(),
                livemode: config.livemode,
            },
            status_refresh: config.status_refresh,
            schedule: CheckSchedule::with_grace(config.late_payment_grace),
            cache: PaymentCache::new(CACHE_CAPACITY, config.status_refresh),
            events_written: Arc::new(Notify::new()),
            store,
            upstream,
            creating: KeyedLocks::new(),
            refreshing: KeyedLocks::new(),
            metrics,
            form_secret: std::sync::OnceLock::new(),
        }
    }

    /// What `/metrics` shows.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// How payments are shown (zone, hosted page URL).
    pub fn views(&self) -> &Views {
        &self.views
    }

    /// Notified whenever an event is written: the webhook deliverer waits on it.
    pub fn events_written(&self) -> Arc<Notify> {
        self.events_written.clone()
    }

    /// A call to the store (async, each aggregate written once over both databases): counted
    /// in the metrics when it fails, and answered in the service's words.
    pub(crate) async fn in_store<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ServiceError> {
        call.await
            .inspect_err(|e| self.metrics.store_error(e))
            .map_err(ServiceError::from)
    }

    /// A payment's latest known record: from memory, else from the store. Anything that is
    /// not a payment id (an invoice number, say) is not found, without a store read.
    pub async fn record(&self, id: &str) -> Result<Arc<PaymentRecord>, ServiceError> {
        if !ids::looks_like_payment_id(id) {
            return Err(ServiceError::NotFound);
        }
        if let Some(record) = self.cache.get(id) {
            return Ok(record);
        }
        let record = self
            .in_store(self.store.payments().get(id))
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(self.cache.read_from_store(record))
    }

    /// The payment a receipt token belongs to, read from the store now (a receipt says
    /// "paid" only while the shop's records do; no cache). Anything not shaped like a token
    /// is not found without a store read.
    pub async fn by_receipt_token(&self, token: &str) -> Result<PaymentRecord, ServiceError> {
        if !ids::looks_like_receipt_token(token) {
            return Err(ServiceError::NotFound);
        }
        self.in_store(self.store.payments().find_by_receipt_token(token))
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// A payment as fresh as the refresh window allows: PayDigital is asked (once for all
    /// concurrent readers, within the budget) when nobody asked within the window and the
    /// answer could change — for a browser, only while the code is payable; the shop's server
    /// may ask about any payment not yet paid.
    pub async fn current(
        &self,
        id: &str,
        reader: Reader,
    ) -> Result<Arc<PaymentRecord>, ServiceError> {
        let worth_asking = |record: &PaymentRecord| match reader {
            // After expiry the worker's schedule checks it through the grace: thousands of
            // browsers polling old payments must not each drive a call.
            Reader::Browser => {
                record.status == Status::Pending && OffsetDateTime::now_utc() < record.expires_at
            }
            // Any payment not yet paid (paid ones were answered above).
            Reader::Merchant => true,
        };
        // The common case, thousands of times a second: answered from memory with one look
        // under a read lock, nothing awaited.
        let (record, recent) = match self.cache.lookup(id) {
            Some(seen) => seen,
            None => (self.record(id).await?, false),
        };
        if recent || record.status == Status::Paid {
            return Ok(record);
        }
        if !worth_asking(&record) {
            // Not worth a call, but it may still turn paid late: what the worker (of this
            // proxy or another) or `payments check` learnt is in the store. Read it there,
            // once per refresh window.
            return Ok(self.reread_from_store(&record).await);
        }
        self.refresh(&record, Call::WatchedStatus).await;
        let record = self.record(id).await?;
        if record.status == Status::Paid {
            self.refreshing.forget(id);
        }
        Ok(record)
    }

    /// `record` as the store has it now, remembered as fresh for a refresh window; what was
    /// known when the store cannot be read.
    async fn reread_from_store(&self, record: &Arc<PaymentRecord>) -> Arc<PaymentRecord> {
        self.adopt_stored(&record.id).await;
        self.cache.mark_read_upstream(&record.id, Instant::now());
        self.cache.get(&record.id).unwrap_or_else(|| record.clone())
    }

    /// What the store holds for `id` now (another proxy's answer, a command's), into memory
    /// unless it would move the payment back; logged and left when the store cannot answer.
    async fn adopt_stored(&self, id: &str) {
        match self.in_store(self.store.payments().get(id)).await {
            Ok(Some(stored)) => self.cache.written_by_another_proxy(stored),
            Ok(None) => {}
            Err(e) => tracing::warn!(id, error = %e, "cannot re-read a payment"),
        }
    }

    /// A payment as the store holds it now (another proxy may have changed it), kept in
    /// memory unless that would move it back.
    pub async fn stored(&self, id: &str) -> Result<Arc<PaymentRecord>, ServiceError> {
        if !ids::looks_like_payment_id(id) {
            return Err(ServiceError::NotFound);
        }
        self.adopt_stored(id).await;
        self.record(id).await
    }

    /// Asks PayDigital about payment `id` now, whatever its age (`payments check`), through
    /// the gate and the budget, and answers what the store then holds.
    pub async fn check_now(&self, id: &str) -> Result<Arc<PaymentRecord>, ServiceError> {
        let record = self.record(id).await?;
        if record.status != Status::Paid {
            self.refresh(&record, Call::WatchedStatus).await;
        }
        self.in_store(self.store.payments().get(id))
            .await?
            .map(Arc::new)
            .ok_or(ServiceError::NotFound)
    }

    /// Whether PayDigital was asked about payment `id` within the refresh window.
    pub fn asked_recently(&self, id: &str) -> bool {
        self.cache.read_upstream_recently(id)
    }

    /// The confirmation worker's check of one payment: asks PayDigital through the same gate
    /// as browser reads, or, if a reader just did, only schedules the next check.
    pub async fn check(&self, id: &str) {
        let record = match self.record(id).await {
            Ok(record) => record,
            Err(e) => {
                tracing::error!(id, error = %e, "cannot check a payment");
                return;
            }
        };
        if !self.refresh(&record, Call::BackgroundStatus).await {
            if let Err(e) = self.schedule_next(&record).await {
                tracing::error!(id, error = %e, "cannot schedule a check");
            }
        }
    }

    /// Payments newest first, one page of `filter.limit`.
    pub async fn list(&self, filter: ListFilter) -> Result<Page<PaymentRecord>, ServiceError> {
        let limit = filter.limit;
        let filter = ListFilter {
            limit: limit.saturating_add(1),
            ..filter
        };
        let rows = self.in_store(self.store.payments().list(&filter)).await?;
        Ok(Page::of(rows, limit, |p| &p.id))
    }

    /// Events oldest first, one page of `filter.limit`.
    pub async fn events(&self, filter: EventFilter) -> Result<Page<EventRecord>, ServiceError> {
        let limit = filter.limit;
        let filter = EventFilter {
            limit: limit.saturating_add(1),
            ..filter
        };
        let rows = self
            .in_store(self.store.events().list_events(&filter))
            .await?;
        Ok(Page::of(rows, limit, |e| &e.id))
    }

    /// Payments whose confirmation check is due, claimed for `lease` (pending ones first).
    pub async fn claim_due_checks(
        &self,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<PaymentRecord>, ServiceError> {
        let now = OffsetDateTime::now_utc();
        self.in_store(self.store.payments().claim_due_checks(now, lease, limit))
            .await
    }

    /// Events due for a delivery attempt, claimed for `lease`.
    pub async fn claim_due_events(
        &self,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        let now = OffsetDateTime::now_utc();
        self.in_store(self.store.events().claim_due_events(now, lease, limit))
            .await
    }

    /// What a delivery attempt came to; `false` when the lease it was made under was lost.
    pub async fn record_attempt(
        &self,
        event_id: &str,
        attempt: Attempt,
    ) -> Result<bool, ServiceError> {
        self.in_store(self.store.events().record_attempt(event_id, &attempt))
            .await
    }

    /// What was paid since `since`, per day in the shop's zone (the dashboard's week).
    pub async fn paid_by_day(&self, since: OffsetDateTime) -> Result<Vec<DayTotal>, ServiceError> {
        let zone = self.views.zone;
        self.in_store(self.store.payments().paid_by_day(since, zone))
            .await
    }

    /// A payment's events and every delivery attempt of them, oldest first.
    pub async fn timeline(
        &self,
        id: &str,
    ) -> Result<(Vec<EventRecord>, Vec<StoredAttempt>), ServiceError> {
        let events = self
            .in_store(self.store.events().payment_events(id))
            .await?;
        let attempts = self
            .in_store(self.store.events().payment_attempts(id))
            .await?;
        Ok((events, attempts))
    }

    /// Events written since `since`, oldest first (the dashboard's live feed).
    pub async fn events_since(
        &self,
        since: OffsetDateTime,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        self.in_store(
            self.store
                .events()
                .events_since(since, after.as_deref(), limit),
        )
        .await
    }

    /// Queues an event to be delivered again, now, with the same `webhook-id`; the
    /// deliverer is woken. `NotFound`: no such event.
    pub async fn resend(&self, event_id: &str) -> Result<(), ServiceError> {
        let now = OffsetDateTime::now_utc();
        if !self
            .in_store(self.store.events().resend(event_id, now))
            .await?
        {
            return Err(ServiceError::NotFound);
        }
        self.events_written.notify_one();
        Ok(())
    }

    /// Every payment `filter` matches, as rows for the books (`export.rs`).
    pub async fn book_rows(
        &self,
        filter: ListFilter,
    ) -> Result<Vec<export::BookRow>, ServiceError> {
        let zone = self.views.zone;
        self.in_store(export::rows(self.store.as_ref(), &filter, zone))
            .await
    }

    /// What the store holds that an operator watches (open payments, the webhook queue).
    pub async fn backlog(&self, now: OffsetDateTime) -> Result<Backlog, ServiceError> {
        self.in_store(self.store.payments().backlog(now)).await
    }

    /// Fails when the store cannot be read.
    pub async fn health(&self) -> Result<(), ServiceError> {
        self.in_store(self.store.payments().health()).await
    }

    /// The event telling of `record`'s change: the webhook body, fixed now.
    fn event(
        &self,
        kind: EventType,
        record: &PaymentRecord,
        now: OffsetDateTime,
    ) -> Result<NewEvent, ServiceError> {
        let body = serde_json::to_string(&WebhookBody {
            event_type: kind,
            timestamp: rfc3339(now, self.views.zone),
            livemode: self.views.livemode,
            data: self.views.merchant(record, now),
        })
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(NewEvent {
            id: ids::new_event_id(),
            payment_id: record.id.clone(),
            event_type: kind.as_str(),
            created_at: now,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Page, Payments, Reader};
    use crate::config::Config;
    use crate::store::suite::sample;
    use crate::store::PaymentStore;
    use crate::store::SqliteStore;
    use crate::upstream::Upstream;
    use std::sync::Arc;
    use std::time::Duration;
    use time::OffsetDateTime;

    #[tokio::test]
    async fn polling_a_watched_payment_reads_the_store_once_per_refresh() {
        // Upstream is a closed port: every refresh fails and the stored status stands.
        let config = Config::from_vars(
            |name| match name {
                "PAYDIGITAL_BASE_URL" => Some("http://127.0.0.1:9".into()),
                "PAYDIGITAL_TIMEOUT_SECS" => Some("1".into()),
                "CHECKOUT_STATUS_REFRESH_MS" => Some("60000".into()),
                _ => None,
            },
            true,
        )
        .expect("config");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkout.sqlite");
        let store = Arc::new(SqliteStore::open(&path).expect("store"));
        let mut record = sample("PYG-HOT", None);
        record.expires_at = OffsetDateTime::now_utc() + Duration::from_secs(900);
        store
            .payments()
            .insert(
                &record,
                &crate::store::suite::event(&record, "payment.created", 0),
                Some(record.created_at),
            )
            .await
            .expect("insert");
        let metrics = Arc::new(crate::metrics::Metrics::new("test"));
        let upstream =
            Upstream::for_group(&config, store.clone(), metrics.clone()).expect("upstream");
        let payments = Payments::new(&config, store, upstream, metrics);
        // The first read loads it, asks upstream (in vain) and schedules the next check.
        let first = payments
            .current(&record.id, Reader::Browser)
            .await
            .expect("first read");
        assert_eq!(first.invoice, "PYG-HOT");
        // From now on the store cannot answer a read of any payment.
        crate::store::testing::run_sql(&path, "ALTER TABLE payments RENAME TO payments_gone");
        for _ in 0..19 {
            let read = payments
                .current(&record.id, Reader::Browser)
                .await
                .expect("answered from memory");
            assert_eq!(*read, *first);
        }
        // Not vacuous: a payment the cache does not hold is a store read, and that fails now.
        assert!(payments
            .current(&crate::store::suite::id_of("PYG-COLD"), Reader::Browser)
            .await
            .is_err());
    }

    #[test]
    fn a_page_read_with_one_more_row_knows_whether_another_follows() {
        let rows = vec!["a", "b", "c"];
        let page = Page::of(rows.clone(), 2, |r| r);
        assert_eq!(
            (page.data, page.next_cursor),
            (vec!["a", "b"], Some("b".into()))
        );
        let last = Page::of(rows, 3, |r| r);
        assert_eq!((last.data.len(), last.next_cursor), (3, None));
    }
}
