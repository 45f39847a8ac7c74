//! The payment service every front door shares (browser API, merchant API, hosted page):
//! create a payment upstream and keep it, read it by id, refresh it from PayDigital through
//! one gate per payment, and show it as a browser or the merchant may see it.

use crate::config::Config;
use crate::error::AppError;
use crate::hot::{HotRecords, HOT_CAPACITY};
use crate::lifecycle::{self, CheckSchedule, EventType};
use crate::store::{
    KeyClaim, ListFilter, Metadata, NewEvent, PaymentRecord, PaymentStore, RefreshClaim, Source,
    StoreError,
};
use crate::upstream::{Upstream, UpstreamFailure};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use paydigital::api::Payment;
use paydigital::wire::rfc3339;
use paydigital::Status;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// A key claim this old was left by a proxy that died mid-create: another may take it. Longer
/// than any create can take (the request timeout).
const KEY_CLAIM_STALE: std::time::Duration = std::time::Duration::from_secs(60);
/// How long a request waits for another proxy's create with the same key before answering
/// `idempotency_in_progress` (inside the request timeout).
const KEY_CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(20);
/// How often the store is asked meanwhile.
const KEY_CLAIM_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// How many per-key locks may pile up before idle ones are swept.
pub(crate) const SWEEP_ABOVE: usize = 1024;

/// Per-key async locks: one create per idempotency key at a time, one upstream status read
/// per payment at a time.
pub(crate) struct KeyedLocks<T> {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>,
}

impl<T: Default> KeyedLocks<T> {
    pub(crate) fn new() -> Self {
        KeyedLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<T>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(key.to_owned()).or_default().clone()
    }

    /// Drops idle entries for which `keep` is false, once there are more than
    /// [`SWEEP_ABOVE`]: a long-running proxy must not keep one per payment it ever read.
    pub(crate) fn sweep(&self, keep: impl Fn(&T) -> bool) {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() <= SWEEP_ABOVE {
            return;
        }
        // Held or awaited (more than the map's own reference), or busy: kept.
        locks.retain(|_, lock| {
            Arc::strong_count(lock) > 1 || lock.try_lock().map_or(true, |value| keep(&value))
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn forget(&self, key: &str) {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Kept while anyone else still holds or waits for it.
        if locks
            .get(key)
            .is_some_and(|lock| Arc::strong_count(lock) <= 1)
        {
            locks.remove(key);
        }
    }
}

/// A create, validated by the front door it came through.
pub struct NewPayment {
    pub amount: u64,
    pub item: Option<String>,
    pub source: Source,
    pub description: String,
    pub customer_name: String,
    pub reference: Option<String>,
    pub metadata: Metadata,
}

/// Who sent an `Idempotency-Key`: browsers and the shop's server have separate key spaces,
/// so a page cannot claim (or read back) a key the shop's server will use.
#[derive(Debug, Clone, Copy)]
pub enum KeyScope {
    Browser,
    Merchant,
}

/// An `Idempotency-Key` with what it was sent with.
pub struct Idempotency {
    scoped_key: String,
    /// The canonical request: the same key with another request is a conflict.
    fingerprint: String,
}

impl Idempotency {
    /// `key` as sent by `scope`, with the request it came with. Request types serialize their
    /// fields in a fixed order (maps sorted), so the JSON is a canonical form of the request.
    pub fn new(
        scope: KeyScope,
        key: &str,
        request: &impl Serialize,
    ) -> Result<Idempotency, AppError> {
        let scope = match scope {
            KeyScope::Browser => "browser",
            KeyScope::Merchant => "merchant",
        };
        let fingerprint =
            serde_json::to_string(request).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Idempotency {
            scoped_key: format!("{scope}:{key}"),
            fingerprint,
        })
    }
}

/// A payment a create answers with; `replayed` when an earlier request with the same
/// idempotency key made it.
pub struct Created {
    pub record: PaymentRecord,
    pub replayed: bool,
}

/// The merchant's view of a payment (`shared/spec/merchant-api.md`): the public view and
/// what only the shop's server may see.
#[derive(Debug, Serialize)]
pub struct MerchantPayment {
    #[serde(flatten)]
    pub public: Payment,
    pub reference: Option<String>,
    pub metadata: Metadata,
    pub description: String,
    pub customer_name: String,
    pub source: Source,
    pub item: Option<String>,
    pub late: bool,
    pub created_at: String,
    pub checkout_url: Option<String>,
}

pub struct AppState {
    pub(crate) config: Config,
    store: Arc<dyn PaymentStore>,
    upstream: Upstream,
    creating: KeyedLocks<()>,
    /// When each payment was last read upstream. `hot` keeps a copy for the lock-free fast
    /// path, but may drop it when full: this one, behind the lock, is what bounds upstream calls.
    refreshing: KeyedLocks<Option<Instant>>,
    /// What status reads answer from, without a store read each.
    hot: HotRecords,
    pub(crate) create_limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// When the confirmation worker asks PayDigital about each payment.
    schedule: CheckSchedule,
    /// Wakes the webhook deliverer when an event is written.
    pub(crate) events_written: Arc<Notify>,
}

impl AppState {
    pub fn new(config: Config, store: Arc<dyn PaymentStore>, upstream: Upstream) -> Arc<AppState> {
        let per_minute = NonZeroU32::new(config.creates_per_minute).unwrap_or(NonZeroU32::MIN);
        Arc::new(AppState {
            create_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            hot: HotRecords::new(HOT_CAPACITY, config.status_refresh),
            schedule: CheckSchedule::with_grace(config.late_payment_grace),
            events_written: Arc::new(Notify::new()),
            config,
            store,
            upstream,
            creating: KeyedLocks::new(),
            refreshing: KeyedLocks::new(),
        })
    }

    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn PaymentStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| match e {
                StoreError::UnknownCursor(id) => AppError::InvalidField {
                    field: "cursor".into(),
                    message: format!("no payment {id} to continue after"),
                },
                StoreError::Unavailable(detail) => AppError::StoreUnavailable(detail),
                // The connection broke under the query (a database restart, a network cut).
                StoreError::Postgres(e) if e.as_db_error().is_none() => {
                    AppError::StoreUnavailable(e.to_string())
                }
                e => AppError::Internal(e.to_string()),
            })
    }

    /// Due work claimed in the store for this proxy (other proxies skip it meanwhile), no
    /// more than `slots` has free so that each piece starts at once, well inside its lease.
    /// Nothing when every slot is busy or the store cannot be read (logged as `what`).
    pub(crate) async fn claim_for_free_slots<T: Send + 'static>(
        &self,
        slots: &tokio::sync::Semaphore,
        what: &'static str,
        claim: impl FnOnce(&dyn PaymentStore, usize) -> Result<Vec<T>, StoreError> + Send + 'static,
    ) -> Vec<T> {
        let free = slots.available_permits();
        if free == 0 {
            return Vec::new();
        }
        self.blocking(move |s| claim(s, free))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read {what}");
                Vec::new()
            })
    }

    /// A payment's latest known record: from memory, else from the store. Anything that is
    /// not a payment id (an invoice number, say) is not found, without a store read.
    pub async fn record(&self, id: &str) -> Result<Arc<PaymentRecord>, AppError> {
        if !crate::ids::looks_like_payment_id(id) {
            return Err(AppError::NotFound);
        }
        if let Some(record) = self.hot.get(id) {
            return Ok(record);
        }
        let lookup = id.to_owned();
        let record = self
            .blocking(move |s| s.get(&lookup))
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(self.hot.offer(record))
    }

    /// A payment as fresh as the refresh window allows: PayDigital is asked (once for all
    /// concurrent readers) when nobody asked within the window and the answer could change.
    pub async fn current(&self, id: &str) -> Result<Arc<PaymentRecord>, AppError> {
        let worth_asking = |record: &PaymentRecord| {
            record.status != Status::Paid
                && OffsetDateTime::now_utc() < record.expires_at + self.config.late_payment_grace
        };
        // The common case, thousands of times a second: answered from memory with one look
        // under a read lock, nothing awaited.
        let (record, recent) = match self.hot.fresh(id) {
            Some(seen) => seen,
            None => (self.record(id).await?, false),
        };
        if recent || !worth_asking(&record) {
            return Ok(record);
        }
        self.refresh(&record).await;
        let record = self.record(id).await?;
        if record.status == Status::Paid {
            self.refreshing.forget(id);
        }
        Ok(record)
    }

    /// Reads a payment upstream unless someone did within `status_refresh`. However many
    /// readers (browsers, the shop's server, the confirmation worker) ask at once, they wait
    /// on one lock and share one upstream call; when it returns, the store and
    /// [`HotRecords`] hold its answer for all of them. Across proxies the store's refresh
    /// claim is the gate: a proxy that finds the read claimed by another takes that proxy's
    /// answer from the store instead. `false`: this proxy did not ask.
    async fn refresh(&self, record: &PaymentRecord) -> bool {
        let id = record.id.as_str();
        let window = self.config.status_refresh;
        let gate = self.refreshing.get(id);
        let mut last_read = gate.lock().await;
        if last_read.is_some_and(|at| at.elapsed() < window) {
            return false;
        }
        let now = OffsetDateTime::now_utc();
        let key = id.to_owned();
        let claim = self
            .blocking(move |s| s.claim_refresh(&key, now, window))
            .await;
        // When the group's last read was made: ours now, or the other proxy's claim.
        let (asked, read_at) = match claim {
            Ok(RefreshClaim::Mine) => {
                self.ask_upstream(record).await;
                (true, Instant::now())
            }
            Ok(RefreshClaim::Taken { at }) => {
                // Another proxy asked at `at`: its answer is what the store holds now (or
                // within its upstream call). Ask again only when its window is over.
                let key = id.to_owned();
                match self.blocking(move |s| s.get(&key)).await {
                    Ok(Some(fresh)) => self.hot.seen(fresh),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(id, error = %e, "cannot read another proxy's answer"),
                }
                let age = u64::try_from((now - at).whole_milliseconds()).unwrap_or(0);
                let claimed = Instant::now()
                    .checked_sub(std::time::Duration::from_millis(age))
                    .unwrap_or_else(Instant::now);
                (false, claimed)
            }
            Ok(RefreshClaim::NoSuchPayment) => return false,
            // The database is away: answer from memory, and try again next window.
            Err(e) => {
                tracing::warn!(id, error = %e, "cannot claim a status read");
                (false, Instant::now())
            }
        };
        *last_read = Some(read_at);
        self.hot.mark_read_upstream(id, read_at);
        drop(last_read);
        // Gates whose last read is older than the window carry no information any more.
        self.refreshing
            .sweep(|last| last.is_some_and(|at| at.elapsed() < window));
        asked
    }

    /// Asks PayDigital about `record` and records the answer (or, with none, the next check).
    async fn ask_upstream(&self, record: &PaymentRecord) {
        let (id, invoice) = (record.id.as_str(), record.invoice.as_str());
        let started = Instant::now();
        let answer = match self.upstream.status(invoice).await {
            Ok(reply) if reply.invoice == invoice => Some(reply),
            Ok(reply) => {
                tracing::warn!(invoice, other = %reply.invoice, "upstream answered for another invoice");
                None
            }
            // The last known status stands; the next reader or check asks again.
            Err(failure) => {
                tracing::warn!(invoice, %failure, "status read failed");
                None
            }
        };
        let result = match answer {
            Some(reply) => {
                let word = reply.status_word.clone();
                let applied = self
                    .apply_upstream(id, reply.status, &word, reply.paid_at)
                    .await;
                if applied.is_ok() {
                    tracing::info!(
                        invoice,
                        status = reply.status.as_str(),
                        word = %word,
                        latency_ms = started.elapsed().as_millis() as u64,
                        "status read"
                    );
                }
                applied
            }
            None => self.schedule_next(record).await,
        };
        if let Err(e) = result {
            tracing::error!(invoice, error = %e, "could not record status");
        }
    }

    /// What PayDigital said, applied through the payment's state machine: a change is written
    /// with its event in one transaction (and wakes the webhook deliverer); either way the
    /// next check is scheduled.
    async fn apply_upstream(
        &self,
        id: &str,
        upstream: Status,
        word: &str,
        paid_at: Option<OffsetDateTime>,
    ) -> Result<(), AppError> {
        // A change is written only onto the state it was decided on; if another reader
        // changed the payment meanwhile, decide again on what is there now.
        for _ in 0..3 {
            let lookup = id.to_owned();
            let current = self
                .blocking(move |s| s.get(&lookup))
                .await?
                .ok_or(AppError::NotFound)?;
            let now = OffsetDateTime::now_utc();
            let Some(change) = lifecycle::on_upstream(&current, upstream, paid_at, now) else {
                let next = self.schedule.next_check(&current, now);
                let (key, word_owned) = (id.to_owned(), word.to_owned());
                self.blocking(move |s| s.checked(&key, Some(&word_owned), next))
                    .await?;
                let mut seen = current;
                seen.status_word = Some(word.to_owned());
                self.hot.written(seen);
                return Ok(());
            };
            let mut after = current.clone();
            after.status = change.status();
            after.status_word = Some(word.to_owned());
            if let lifecycle::Change::Paid { at, late } = change {
                after.paid_at = Some(at);
                after.late = late;
            }
            let event = self.event(change.event_type(), &after, now)?;
            let next = self.schedule.next_check(&after, now);
            let (to, from) = (after.clone(), current.status);
            if self
                .blocking(move |s| s.transition(&to, from, &event, next))
                .await?
            {
                tracing::info!(
                    id,
                    invoice = %after.invoice,
                    from = from.as_str(),
                    to = after.status.as_str(),
                    late = after.late,
                    "payment changed"
                );
                self.hot.written(after);
                self.events_written.notify_one();
                return Ok(());
            }
        }
        Err(AppError::Internal(format!(
            "{id}: changed under us three times in a row"
        )))
    }

    /// Nothing learnt (PayDigital did not answer sensibly): ask again on schedule.
    async fn schedule_next(&self, record: &PaymentRecord) -> Result<(), AppError> {
        let next = self.schedule.next_check(record, OffsetDateTime::now_utc());
        let id = record.id.clone();
        self.blocking(move |s| s.checked(&id, None, next)).await
    }

    /// Whether PayDigital was asked about payment `id` within the refresh window.
    pub fn asked_recently(&self, id: &str) -> bool {
        self.hot.read_upstream_recently(id)
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
        if !self.refresh(&record).await {
            if let Err(e) = self.schedule_next(&record).await {
                tracing::error!(id, error = %e, "cannot schedule a check");
            }
        }
    }

    /// The event telling of `record`'s change: the webhook body, fixed now.
    fn event(
        &self,
        kind: EventType,
        record: &PaymentRecord,
        now: OffsetDateTime,
    ) -> Result<NewEvent, AppError> {
        let zone = self.config.upstream.zone;
        let body = serde_json::to_string(&serde_json::json!({
            "type": kind.as_str(),
            "timestamp": rfc3339(now, zone),
            "data": self.merchant_view(record, now),
        }))
        .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(NewEvent {
            id: crate::webhooks::new_event_id(),
            payment_id: record.id.clone(),
            event_type: kind.as_str(),
            created_at: now,
            body,
        })
    }

    /// Creates a payment, or finds the one an earlier request with the same idempotency key
    /// made. Racing requests with one key queue on its lock in this proxy; across proxies the
    /// store's key claim decides who creates upstream, and the others wait for its payment.
    pub async fn create(
        &self,
        new: NewPayment,
        idempotency: Option<Idempotency>,
    ) -> Result<Created, AppError> {
        let Some(idempotency) = idempotency else {
            let record = self.create_upstream(new, None).await?;
            return Ok(Created {
                record,
                replayed: false,
            });
        };
        let key = idempotency.scoped_key.clone();
        let lock = self.creating.get(&key);
        let result = async {
            let _guard = lock.lock().await;
            self.create_once(new, idempotency).await
        }
        .await;
        drop(lock);
        self.creating.forget(&key);
        result
    }

    /// The payment made with `idempotency`'s key, found or created here once the key is
    /// claimed; waits (polling the store) while another proxy holds the claim.
    async fn create_once(
        &self,
        new: NewPayment,
        idempotency: Idempotency,
    ) -> Result<Created, AppError> {
        let waiting_since = Instant::now();
        loop {
            if let Some(existing) = self.made_with(&idempotency).await? {
                return Ok(existing);
            }
            let (key, fingerprint) = (
                idempotency.scoped_key.clone(),
                idempotency.fingerprint.clone(),
            );
            let now = OffsetDateTime::now_utc();
            let claim = self
                .blocking(move |s| {
                    s.claim_idempotency_key(&key, &fingerprint, now, KEY_CLAIM_STALE)
                })
                .await?;
            match claim {
                KeyClaim::Mine => {
                    // The holder before us may have stored its payment between our look and
                    // our claim.
                    if let Some(existing) = self.made_with(&idempotency).await? {
                        self.release_key(&idempotency.scoped_key).await;
                        return Ok(existing);
                    }
                    let key = idempotency.scoped_key.clone();
                    return match self.create_upstream(new, Some(idempotency)).await {
                        Ok(record) => Ok(Created {
                            record,
                            replayed: false,
                        }),
                        Err(e) => {
                            self.release_key(&key).await;
                            Err(e)
                        }
                    };
                }
                KeyClaim::Held { fingerprint } if fingerprint != idempotency.fingerprint => {
                    return Err(AppError::IdempotencyConflict);
                }
                KeyClaim::Held { .. } => {
                    if waiting_since.elapsed() > KEY_CLAIM_WAIT {
                        return Err(AppError::IdempotencyInProgress);
                    }
                    tokio::time::sleep(KEY_CLAIM_POLL).await;
                }
            }
        }
    }

    /// The payment an earlier request with this key made: a replay, or a conflict if that
    /// request was another.
    async fn made_with(&self, idempotency: &Idempotency) -> Result<Option<Created>, AppError> {
        let lookup = idempotency.scoped_key.clone();
        let Some(existing) = self
            .blocking(move |s| s.find_by_idempotency_key(&lookup))
            .await?
        else {
            return Ok(None);
        };
        if existing.request_fingerprint.as_deref() != Some(idempotency.fingerprint.as_str()) {
            return Err(AppError::IdempotencyConflict);
        }
        Ok(Some(Created {
            record: existing,
            replayed: true,
        }))
    }

    /// Gives a key claim back, so that a retry may create; if this fails, the claim lapses
    /// after [`KEY_CLAIM_STALE`].
    async fn release_key(&self, key: &str) {
        let key = key.to_owned();
        if let Err(e) = self
            .blocking(move |s| s.release_idempotency_key(&key))
            .await
        {
            tracing::warn!(error = %e, "cannot release an idempotency key claim");
        }
    }

    async fn create_upstream(
        &self,
        new: NewPayment,
        idempotency: Option<Idempotency>,
    ) -> Result<PaymentRecord, AppError> {
        let started = Instant::now();
        let reply = self
            .upstream
            .create(new.amount, &new.description, &new.customer_name)
            .await
            .map_err(|failure| match failure {
                UpstreamFailure::Timeout(_) => AppError::UpstreamTimeout,
                other => AppError::Upstream(other.to_string()),
            })?;
        // Never hand out a code we could not vouch for: wrong amount, bad CRC, not QRIS.
        if reply.amount != new.amount || reply.total_amount < reply.amount {
            return Err(AppError::Upstream(format!(
                "invoice {}: asked for {}, got amount {} total {}",
                reply.invoice, new.amount, reply.amount, reply.total_amount
            )));
        }
        if let Err(e) = paydigital::qris::verify_for_total(&reply.qr_content, reply.total_amount) {
            return Err(AppError::Upstream(format!(
                "invoice {}: {e}",
                reply.invoice
            )));
        }
        let (idempotency_key, request_fingerprint) =
            idempotency.map(|i| (i.scoped_key, i.fingerprint)).unzip();
        let record = PaymentRecord {
            id: crate::ids::new_payment_id(),
            invoice: reply.invoice,
            status: Status::Pending,
            status_word: None,
            amount: reply.amount,
            unique_code: reply.unique_code,
            total_amount: reply.total_amount,
            qr_content: reply.qr_content,
            payment_url: reply.payment_url,
            expires_at: reply.expired_at,
            paid_at: None,
            created_at: OffsetDateTime::now_utc(),
            description: new.description,
            customer_name: new.customer_name,
            reference: new.reference,
            item: new.item,
            source: new.source,
            metadata: new.metadata,
            late: false,
            idempotency_key,
            request_fingerprint,
        };
        let now = record.created_at;
        let created = self.event(EventType::Created, &record, now)?;
        let next_check = self.schedule.next_check(&record, now);
        let stored = record.clone();
        self.blocking(move |s| s.insert(&stored, &created, next_check))
            .await?;
        self.hot.written(record.clone());
        self.events_written.notify_one();
        tracing::info!(
            id = %record.id,
            invoice = %record.invoice,
            source = record.source.as_str(),
            total_amount = record.total_amount,
            reference = record.reference.as_deref().unwrap_or(""),
            latency_ms = started.elapsed().as_millis() as u64,
            "payment created"
        );
        Ok(record)
    }

    /// Payments newest first, for the merchant.
    pub async fn list(&self, filter: ListFilter) -> Result<Vec<PaymentRecord>, AppError> {
        self.blocking(move |s| s.list(&filter)).await
    }

    /// The payment as browsers see it at `now`.
    pub fn public_view(&self, p: &PaymentRecord, now: OffsetDateTime) -> Payment {
        public_view(p, now, self.config.upstream.zone)
    }

    /// The payment as the shop's server sees it at `now`.
    pub fn merchant_view(&self, p: &PaymentRecord, now: OffsetDateTime) -> MerchantPayment {
        let zone = self.config.upstream.zone;
        MerchantPayment {
            public: public_view(p, now, zone),
            reference: p.reference.clone(),
            metadata: p.metadata.clone(),
            description: p.description.clone(),
            customer_name: p.customer_name.clone(),
            source: p.source,
            item: p.item.clone(),
            late: p.late,
            created_at: rfc3339(p.created_at, zone),
            checkout_url: self.checkout_url(&p.id),
        }
    }

    /// Where the customer pays a payment without a page of the shop's: the hosted page.
    pub fn checkout_url(&self, id: &str) -> Option<String> {
        self.config
            .public_url
            .as_ref()
            .map(|base| format!("{base}/pay/{id}"))
    }
}

/// A payment's status at `now`: a pending one past its expiry is expired to everyone.
pub fn status_at(p: &PaymentRecord, now: OffsetDateTime) -> Status {
    match p.status {
        Status::Pending if now >= p.expires_at => Status::Expired,
        status => status,
    }
}

/// The public view: what a browser may know of a payment.
pub fn public_view(p: &PaymentRecord, now: OffsetDateTime, zone: time::UtcOffset) -> Payment {
    Payment {
        id: p.id.clone(),
        invoice: p.invoice.clone(),
        status: status_at(p, now),
        amount: p.amount,
        unique_code: p.unique_code,
        total_amount: p.total_amount,
        qr_content: p.qr_content.clone(),
        payment_url: p.payment_url.clone(),
        expires_at: rfc3339(p.expires_at, zone),
        expires_in: u64::try_from((p.expires_at - now).whole_seconds()).unwrap_or(0),
        server_time: rfc3339(now, zone),
        paid_at: p.paid_at.map(|at| rfc3339(at, zone)),
    }
}
