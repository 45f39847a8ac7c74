//! The browser's API (`shared/spec/proxy-api.md`): create a payment for an open amount or
//! a catalog item, read a payment by its public id. Origins are checked, CORS answered, and
//! creates rate-limited per client IP (many shoppers share one carrier NAT: reads are not).

use crate::config::{AllowedOrigins, Config};
use crate::error::AppError;
use crate::payments::{AppState, Created, Idempotency, KeyScope, NewPayment};
use crate::store::{Metadata, Source};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::{Clock, DefaultClock};
use paydigital::api::CreatePayment;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 128;
/// Longest texts passed upstream, in characters.
pub(crate) const MAX_DESCRIPTION: usize = 255;
pub(crate) const MAX_CUSTOMER_NAME: usize = 100;
pub(crate) const MAX_REFERENCE: usize = 128;

/// JSON in, with the contract's error shape for every rejection (axum's error-handling example).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

/// The browser routes, with origin checks and CORS.
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let origins = Arc::new(state.config.allowed_origins.clone());
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::predicate(
            move |origin, _| origin.to_str().is_ok_and(|o| origins.allows(o)),
        ))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    Router::new()
        .route(
            "/api/payments",
            post(create_payment).layer(crate::request_timeout()),
        )
        .route("/api/payments/{id}", get(payment_status))
        .layer(
            tower::ServiceBuilder::new()
                .layer(crate::app::no_store())
                .layer(cors),
        )
}

/// The page's origin is one the merchant allowed: browsers name it, and a page the merchant
/// did not allow gets 403. Requests without `Origin` (curl, the merchant's own server) and
/// same-origin ones pass. An extractor, not a middleware: it reads the headers where they
/// are, with no boxed future or cloned routes per request (this is on every status read).
pub struct AllowedOrigin;

impl FromRequestParts<Arc<AppState>> for AllowedOrigin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<AllowedOrigin, AppError> {
        if origin_allowed(&state.config.allowed_origins, &parts.headers) {
            Ok(AllowedOrigin)
        } else {
            Err(AppError::OriginNotAllowed)
        }
    }
}

fn origin_allowed(origins: &AllowedOrigins, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let same_origin = match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => origin_host.eq_ignore_ascii_case(host),
        _ => false,
    };
    same_origin || origins.allows(origin)
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
pub(crate) fn clean_text(
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, AppError> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim().to_owned();
    if value.chars().count() > max {
        return Err(AppError::field(
            name,
            format!("{name} is longer than {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::field(
            name,
            format!("{name} contains control characters"),
        ));
    }
    Ok(Some(value).filter(|v| !v.is_empty()))
}

fn validate(config: &Config, body: CreatePayment) -> Result<NewPayment, AppError> {
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
    Ok(NewPayment {
        amount,
        source: if item.is_some() {
            Source::Catalog
        } else {
            Source::Browser
        },
        item,
        description: description.unwrap_or(default_description),
        customer_name: customer_name.unwrap_or_else(|| "Pelanggan".to_owned()),
        reference,
        metadata: Metadata::new(),
    })
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
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

/// 201 with the payment; `Idempotent-Replayed: true` when an earlier request made it.
pub(crate) fn created<T: serde::Serialize>(view: T, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

async fn create_payment(
    _: AllowedOrigin,
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
    let idempotency = idempotency_key(&headers)?
        .map(|key| Idempotency::new(KeyScope::Browser, &key, &body))
        .transpose()?;
    let new = validate(&state.config, body)?;
    let Created { record, replayed } = state.create(new, idempotency).await?;
    Ok(created(
        state.public_view(&record, OffsetDateTime::now_utc()),
        replayed,
    ))
}

async fn payment_status(
    _: AllowedOrigin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = state.current(&id).await?;
    let view = state.public_view(&record, OffsetDateTime::now_utc());
    Ok(crate::app::json_response(StatusCode::OK, &view))
}

#[cfg(test)]
mod tests {
    use crate::app::router;
    use crate::config::Config;
    use crate::payments::{AppState, KeyedLocks, SWEEP_ABOVE};
    use crate::store::{
        Attempt, EventFilter, EventRecord, KeyClaim, ListFilter, NewEvent, PaymentRecord,
        PaymentStore, RefreshClaim, SqliteStore, StoreError,
    };
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
        fn insert(
            &self,
            payment: &PaymentRecord,
            created: &NewEvent,
            next_check: Option<OffsetDateTime>,
        ) -> Result<(), StoreError> {
            self.inner.insert(payment, created, next_check)
        }
        fn get(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.inner.get(id)
        }
        fn find_by_idempotency_key(&self, key: &str) -> Result<Option<PaymentRecord>, StoreError> {
            self.inner.find_by_idempotency_key(key)
        }
        fn list(&self, filter: &ListFilter) -> Result<Vec<PaymentRecord>, StoreError> {
            self.inner.list(filter)
        }
        fn transition(
            &self,
            to: &PaymentRecord,
            from: Status,
            event: &NewEvent,
            next_check: Option<OffsetDateTime>,
        ) -> Result<bool, StoreError> {
            self.inner.transition(to, from, event, next_check)
        }
        fn checked(
            &self,
            id: &str,
            status_word: Option<&str>,
            next_check: Option<OffsetDateTime>,
        ) -> Result<(), StoreError> {
            self.inner.checked(id, status_word, next_check)
        }
        fn claim_refresh(
            &self,
            id: &str,
            now: OffsetDateTime,
            window: Duration,
        ) -> Result<RefreshClaim, StoreError> {
            self.inner.claim_refresh(id, now, window)
        }
        fn claim_due_checks(
            &self,
            now: OffsetDateTime,
            lease: Duration,
            limit: usize,
        ) -> Result<Vec<PaymentRecord>, StoreError> {
            self.inner.claim_due_checks(now, lease, limit)
        }
        fn claim_due_events(
            &self,
            now: OffsetDateTime,
            lease: Duration,
            limit: usize,
        ) -> Result<Vec<EventRecord>, StoreError> {
            self.inner.claim_due_events(now, lease, limit)
        }
        fn claim_idempotency_key(
            &self,
            key: &str,
            fingerprint: &str,
            now: OffsetDateTime,
            stale: Duration,
        ) -> Result<KeyClaim, StoreError> {
            self.inner
                .claim_idempotency_key(key, fingerprint, now, stale)
        }
        fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
            self.inner.release_idempotency_key(key)
        }
        fn record_attempt(&self, event_id: &str, attempt: &Attempt) -> Result<(), StoreError> {
            self.inner.record_attempt(event_id, attempt)
        }
        fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
            self.inner.events(filter)
        }
        fn resend(&self, event_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
            self.inner.resend(event_id, now)
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
        let mut record = crate::store::suite::sample("PYG-HOT", None);
        record.expires_at = OffsetDateTime::now_utc() + Duration::from_secs(900);
        crate::store::suite::put(store.as_ref(), &record).expect("insert");
        let upstream = Upstream::new(config.upstream.clone()).expect("upstream");
        let app = router(AppState::new(config, store.clone(), upstream));
        for _ in 0..20 {
            let request = Request::get(format!("/api/payments/{}", record.id))
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
