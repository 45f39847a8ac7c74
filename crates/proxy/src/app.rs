//! The merchant API: create a payment, read its status, health.

use crate::config::{AllowedOrigins, Config};
use crate::error::AppError;
use crate::hot::{HotRecords, HOT_CAPACITY};
use crate::store::{PaymentRecord, PaymentStore, StoreError};
use crate::upstream::{Upstream, UpstreamFailure};
use axum::extract::{ConnectInfo, FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use paydigital::api::{CreatePayment, Payment};
use paydigital::wire::rfc3339;
use paydigital::Status;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tower_http::set_header::SetResponseHeaderLayer;

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 128;
/// Longest texts passed upstream, in characters.
const MAX_DESCRIPTION: usize = 255;
const MAX_CUSTOMER_NAME: usize = 100;
const MAX_REFERENCE: usize = 128;

/// JSON in, with the contract's error shape for every rejection (axum's error-handling example).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

/// How many per-key locks may pile up before idle ones are swept.
const SWEEP_ABOVE: usize = 1024;

/// Per-key async locks: one create per idempotency key at a time, one upstream status read
/// per invoice at a time.
struct KeyedLocks<T> {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>,
}

impl<T: Default> KeyedLocks<T> {
    fn new() -> Self {
        KeyedLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<T>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(key.to_owned()).or_default().clone()
    }

    /// Drops idle entries for which `keep` is false, once there are more than
    /// [`SWEEP_ABOVE`]: a long-running proxy must not keep one per invoice it ever read.
    fn sweep(&self, keep: impl Fn(&T) -> bool) {
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
    fn len(&self) -> usize {
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

pub struct AppState {
    config: Config,
    store: Arc<dyn PaymentStore>,
    upstream: Upstream,
    creating: KeyedLocks<()>,
    /// When each invoice was last read upstream. `hot` keeps a copy for the lock-free fast
    /// path, but may drop it when full: this one, behind the lock, is what bounds upstream calls.
    refreshing: KeyedLocks<Option<Instant>>,
    /// What status reads answer from, without a store read each.
    hot: HotRecords,
    create_limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl AppState {
    pub fn new(config: Config, store: Arc<dyn PaymentStore>, upstream: Upstream) -> Arc<AppState> {
        let per_minute = NonZeroU32::new(config.creates_per_minute).unwrap_or(NonZeroU32::MIN);
        Arc::new(AppState {
            create_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            hot: HotRecords::new(HOT_CAPACITY, config.status_refresh),
            config,
            store,
            upstream,
            creating: KeyedLocks::new(),
            refreshing: KeyedLocks::new(),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn PaymentStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// An invoice's latest known record: from memory, else from the store.
    async fn record(&self, invoice: &str) -> Result<Arc<PaymentRecord>, AppError> {
        if let Some(record) = self.hot.get(invoice) {
            return Ok(record);
        }
        let lookup = invoice.to_owned();
        let record = self
            .blocking(move |s| s.get(&lookup))
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(self.hot.offer(record))
    }

    /// The payment as browsers see it at `now`.
    fn view(&self, p: &PaymentRecord, now: OffsetDateTime) -> Payment {
        let zone = self.config.upstream.zone;
        let status = match p.status {
            Status::Paid => Status::Paid,
            Status::Expired => Status::Expired,
            Status::Pending if now >= p.expires_at => Status::Expired,
            Status::Pending => Status::Pending,
        };
        Payment {
            invoice: p.invoice.clone(),
            status,
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
}

/// The API routes, with origin checks and CORS.
pub fn router(state: Arc<AppState>) -> Router {
    // Shared, not cloned: the middleware below runs (and is cloned) for every request.
    let origins = Arc::new(state.config.allowed_origins.clone());
    let cors_origins = origins.clone();
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::predicate(
            move |origin, _| origin.to_str().is_ok_and(|o| cors_origins.allows(o)),
        ))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    Router::new()
        .route("/api/payments", post(create_payment))
        .route("/api/payments/{invoice}", get(payment_status))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let origins = origins.clone();
                async move { check_origin(&origins, req, next).await }
            },
        ))
        .layer(cors)
        .route("/healthz", get(healthz))
        // Payments change from one read to the next and carry amounts and codes: no browser,
        // CDN or shop proxy may keep a copy.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

/// Browsers name their page's origin; a page the merchant did not allow gets 403. Requests
/// without `Origin` (curl, the merchant's own server) pass.
async fn check_origin(origins: &AllowedOrigins, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let allowed = match origin {
        None => true,
        Some(origin) => {
            let same_origin = match (origin.split_once("://"), host) {
                (Some((_, origin_host)), Some(host)) => origin_host.eq_ignore_ascii_case(host),
                _ => false,
            };
            same_origin || origins.allows(origin)
        }
    };
    if allowed {
        next.run(req).await
    } else {
        AppError::OriginNotAllowed.into_response()
    }
}

fn client_ip(config: &Config, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if config.trust_forwarded_for {
        if let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

/// A text field: trimmed, bounded, no control characters.
fn clean_text(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, AppError> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim().to_owned();
    if value.chars().count() > max {
        return Err(AppError::InvalidRequest(format!(
            "{name} is longer than {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::InvalidRequest(format!(
            "{name} contains control characters"
        )));
    }
    Ok(Some(value).filter(|v| !v.is_empty()))
}

/// What a validated create asks for.
struct Order {
    amount: u64,
    item: Option<String>,
    description: String,
    customer_name: String,
    reference: Option<String>,
}

fn validate(config: &Config, body: CreatePayment) -> Result<Order, AppError> {
    let description = clean_text("description", body.description, MAX_DESCRIPTION)?;
    let customer_name = clean_text("customer_name", body.customer_name, MAX_CUSTOMER_NAME)?;
    let reference = clean_text("reference", body.reference, MAX_REFERENCE)?;
    let (amount, item, default_description) = match (&config.catalog, body.amount, body.item) {
        (Some(_), Some(_), _) => {
            return Err(AppError::InvalidRequest(
                "this shop sets its prices: send \"item\", not \"amount\"".into(),
            ))
        }
        (Some(catalog), None, Some(id)) => {
            let item = catalog
                .items
                .get(&id)
                .ok_or(AppError::UnknownItem(id.clone()))?;
            (item.price, Some(id), item.name.clone())
        }
        (None, _, Some(id)) => return Err(AppError::UnknownItem(id)),
        (None, Some(amount), None) => {
            if amount < config.min_amount || amount > config.max_amount {
                return Err(AppError::AmountOutOfRange {
                    min: config.min_amount,
                    max: config.max_amount,
                });
            }
            (amount, None, "Pembayaran".to_owned())
        }
        (_, None, None) => {
            return Err(AppError::InvalidRequest(
                if config.catalog.is_some() {
                    "send \"item\""
                } else {
                    "send \"amount\""
                }
                .into(),
            ))
        }
    };
    Ok(Order {
        amount,
        item,
        description: description.unwrap_or(default_description),
        customer_name: customer_name.unwrap_or_else(|| "Pelanggan".to_owned()),
        reference,
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.len() <= MAX_IDEMPOTENCY_KEY
                && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            AppError::InvalidRequest(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_owned()))
}

fn created(state: &AppState, record: &PaymentRecord, replayed: bool) -> Response {
    let mut response = (
        StatusCode::CREATED,
        Json(state.view(record, OffsetDateTime::now_utc())),
    )
        .into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

async fn create_payment(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    AppJson(body): AppJson<CreatePayment>,
) -> Result<Response, AppError> {
    let ip = client_ip(&state.config, &headers, peer);
    if let Err(not_until) = state.create_limiter.check_key(&ip) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return Err(AppError::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        });
    }
    let key = idempotency_key(&headers)?;
    // Field order is fixed by the struct, so this is a canonical form of the request.
    let fingerprint =
        serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    let order = validate(&state.config, body)?;

    let Some(key) = key else {
        let record = create_upstream(&state, order, None).await?;
        return Ok(created(&state, &record, false));
    };
    // Racing requests with one key queue here; the first creates, the rest find its payment.
    let lock = state.creating.get(&key);
    let result = async {
        let _guard = lock.lock().await;
        let lookup = key.clone();
        if let Some(existing) = state
            .blocking(move |s| s.find_by_idempotency_key(&lookup))
            .await?
        {
            if existing.request_fingerprint.as_deref() != Some(fingerprint.as_str()) {
                return Err(AppError::IdempotencyConflict);
            }
            return Ok(created(&state, &existing, true));
        }
        let record = create_upstream(&state, order, Some((key.clone(), fingerprint))).await?;
        Ok(created(&state, &record, false))
    }
    .await;
    drop(lock);
    state.creating.forget(&key);
    result
}

async fn create_upstream(
    state: &AppState,
    order: Order,
    idempotency: Option<(String, String)>,
) -> Result<PaymentRecord, AppError> {
    let started = Instant::now();
    let reply = state
        .upstream
        .create(order.amount, &order.description, &order.customer_name)
        .await
        .map_err(|failure| match failure {
            UpstreamFailure::Timeout(_) => AppError::UpstreamTimeout,
            other => AppError::Upstream(other.to_string()),
        })?;
    // Never hand out a code we could not vouch for: wrong amount, bad CRC, not QRIS.
    if reply.amount != order.amount || reply.total_amount < reply.amount {
        return Err(AppError::Upstream(format!(
            "invoice {}: asked for {}, got amount {} total {}",
            reply.invoice, order.amount, reply.amount, reply.total_amount
        )));
    }
    if let Err(e) = paydigital::qris::verify_for_total(&reply.qr_content, reply.total_amount) {
        return Err(AppError::Upstream(format!(
            "invoice {}: {e}",
            reply.invoice
        )));
    }
    let (idempotency_key, request_fingerprint) = idempotency.unzip();
    let record = PaymentRecord {
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
        description: order.description,
        customer_name: order.customer_name,
        reference: order.reference,
        item: order.item,
        idempotency_key,
        request_fingerprint,
    };
    let stored = record.clone();
    state.blocking(move |s| s.insert(&stored)).await?;
    state.hot.written(record.clone());
    tracing::info!(
        invoice = %record.invoice,
        total_amount = record.total_amount,
        reference = record.reference.as_deref().unwrap_or(""),
        latency_ms = started.elapsed().as_millis() as u64,
        "payment created"
    );
    Ok(record)
}

async fn payment_status(
    State(state): State<Arc<AppState>>,
    Path(invoice): Path<String>,
) -> Result<Json<Payment>, AppError> {
    if invoice.len() > 64 {
        return Err(AppError::NotFound);
    }
    let record = state.record(&invoice).await?;
    let now = OffsetDateTime::now_utc();
    let worth_asking =
        record.status != Status::Paid && now < record.expires_at + state.config.late_payment_grace;
    // The common case, thousands of times a second: answered from memory, no lock awaited.
    if !worth_asking || state.hot.read_upstream_recently(&invoice) {
        return Ok(Json(state.view(&record, now)));
    }
    refresh(&state, &invoice).await;
    let record = state.record(&invoice).await?;
    if record.status == Status::Paid {
        state.refreshing.forget(&invoice);
    }
    Ok(Json(state.view(&record, OffsetDateTime::now_utc())))
}

/// Reads an invoice upstream unless someone did within `status_refresh`. However many
/// browsers ask at once, they wait on one lock and share one upstream call; when it returns,
/// the store and [`HotRecords`] hold its answer for all of them.
async fn refresh(state: &AppState, invoice: &str) {
    let gate = state.refreshing.get(invoice);
    let mut last_read = gate.lock().await;
    if last_read.is_some_and(|at| at.elapsed() < state.config.status_refresh) {
        return;
    }
    let started = Instant::now();
    match state.upstream.status(invoice).await {
        Ok(reply) if reply.invoice == invoice => {
            let paid_at = match reply.status {
                Status::Paid => Some(reply.paid_at.unwrap_or_else(OffsetDateTime::now_utc)),
                _ => None,
            };
            let (id, word, status) = (invoice.to_owned(), reply.status_word.clone(), reply.status);
            // Written, then read back: the store decides (paid stays paid).
            match state
                .blocking(move |s| {
                    s.record_status(&id, status, &word, paid_at)?;
                    s.get(&id)
                })
                .await
            {
                Ok(stored) => {
                    if let Some(record) = stored {
                        state.hot.written(record);
                    }
                    tracing::info!(
                        invoice,
                        status = status.as_str(),
                        word = %reply.status_word,
                        latency_ms = started.elapsed().as_millis() as u64,
                        "status read"
                    )
                }
                Err(e) => tracing::error!(invoice, error = %e, "could not record status"),
            }
        }
        Ok(reply) => {
            tracing::warn!(invoice, other = %reply.invoice, "upstream answered for another invoice")
        }
        // The last known status stands; the browser asks again.
        Err(failure) => tracing::warn!(invoice, %failure, "status read failed"),
    }
    let now = Instant::now();
    *last_read = Some(now);
    state.hot.mark_read_upstream(invoice, now);
    drop(last_read);
    // Gates whose last read is older than the window carry no information any more.
    let window = state.config.status_refresh;
    state
        .refreshing
        .sweep(|last| last.is_some_and(|at| at.elapsed() < window));
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.blocking(|s| s.health()).await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": { "code": "unavailable", "message": "the payment store is not available" } })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{router, AppState, KeyedLocks, SWEEP_ABOVE};
    use crate::config::Config;
    use crate::store::{PaymentRecord, PaymentStore, SqliteStore, StoreError};
    use crate::upstream::Upstream;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use paydigital::Status;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use time::OffsetDateTime;
    use tower::ServiceExt;

    /// Counts lookups by invoice, to see which reads reach SQLite.
    struct CountingStore {
        inner: SqliteStore,
        gets: AtomicUsize,
    }

    impl PaymentStore for CountingStore {
        fn insert(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
            self.inner.insert(payment)
        }
        fn get(&self, invoice: &str) -> Result<Option<PaymentRecord>, StoreError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.inner.get(invoice)
        }
        fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError> {
            self.inner.find_by_idempotency_key(key)
        }
        fn record_status(
            &self,
            invoice: &str,
            status: Status,
            status_word: &str,
            paid_at: Option<OffsetDateTime>,
        ) -> Result<(), StoreError> {
            self.inner
                .record_status(invoice, status, status_word, paid_at)
        }
        fn health(&self) -> Result<(), StoreError> {
            self.inner.health()
        }
    }

    #[tokio::test]
    async fn polling_a_watched_invoice_reads_the_store_once_per_refresh() {
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
        let store = Arc::new(CountingStore {
            inner: SqliteStore::in_memory().expect("store"),
            gets: AtomicUsize::new(0),
        });
        let mut record = crate::store::tests::sample("PYG-HOT", None);
        record.expires_at = OffsetDateTime::now_utc() + Duration::from_secs(900);
        store.insert(&record).expect("insert");
        let upstream = Upstream::new(config.upstream.clone()).expect("upstream");
        let app = router(AppState::new(config, store.clone(), upstream));
        for _ in 0..20 {
            let request = Request::get("/api/payments/PYG-HOT")
                .body(Body::empty())
                .expect("request");
            let response = app.clone().oneshot(request).await.expect("response");
            assert_eq!(response.status(), StatusCode::OK);
        }
        // One load; every later read, the one after the (failed) upstream call too, from memory.
        assert_eq!(store.gets.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn idle_stale_gates_are_swept_but_held_and_fresh_ones_stay() {
        let gates: KeyedLocks<Option<Instant>> = KeyedLocks::new();
        let stale = Instant::now()
            .checked_sub(Duration::from_secs(60))
            .unwrap_or_else(Instant::now);
        for i in 0..SWEEP_ABOVE + 500 {
            let gate = gates.get(&format!("PYG{i}"));
            *gate.try_lock().expect("free") = Some(stale);
        }
        let held = gates.get("PYG-held");
        let fresh = gates.get("PYG-fresh");
        *fresh.try_lock().expect("free") = Some(Instant::now());
        drop(fresh);
        assert_eq!(gates.len(), SWEEP_ABOVE + 502);
        gates.sweep(|last| last.is_some_and(|at| at.elapsed() < Duration::from_secs(2)));
        assert_eq!(gates.len(), 2, "only the held and the fresh gate are left");
        drop(held);
        // Below the threshold nothing is swept, even when stale.
        gates.sweep(|_| false);
        assert_eq!(gates.len(), 2);
    }
}
