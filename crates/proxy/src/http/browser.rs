//! The browser's API (`docs/proxy-api.md`): create a payment for an open amount or a catalog
//! item, read a payment by its public id. Origins are checked, CORS answered, and creates
//! rate-limited per client IP (many shoppers share one carrier NAT: reads are not).

use super::client_ip::{client_ip, limit_key};
use super::error::ApiError;
use super::kit::{created, idempotency_key, json_response, no_store, request_timeout, AppJson};
use crate::config::{AllowedOrigins, Config};
use crate::payments::{Created, Idempotency, KeyScope, Reader};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use paydigital::api::CreatePayment;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

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
            post(create_payment).layer(request_timeout()),
        )
        .route("/api/payments/{id}", get(payment_status))
        .layer(tower::ServiceBuilder::new().layer(no_store()).layer(cors))
}

/// The page's origin is one the merchant allowed: browsers name it, and a page the merchant
/// did not allow gets 403. Requests without `Origin` (curl, the merchant's own server) and
/// same-origin ones pass. An extractor, not a middleware: it reads the headers where they
/// are, with no boxed future or cloned routes per request (this is on every status read).
pub struct AllowedOrigin;

impl FromRequestParts<Arc<AppState>> for AllowedOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<AllowedOrigin, ApiError> {
        if origin_allowed(&state.config.allowed_origins, &parts.headers) {
            Ok(AllowedOrigin)
        } else {
            Err(ApiError::OriginNotAllowed)
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

/// The key this request's client is limited under.
fn client_key(config: &Config, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    limit_key(client_ip(&config.trusted_proxies, peer.ip(), forwarded))
}

async fn create_payment(
    _: AllowedOrigin,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    AppJson(body): AppJson<CreatePayment>,
) -> Result<Response, ApiError> {
    state
        .create_limiter
        .check(client_key(&state.config, &headers, peer))
        .map_err(|wait| ApiError::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        })?;
    let idempotency = idempotency_key(&headers)?
        .map(|key| Idempotency::new(KeyScope::Browser, &key, &body))
        .transpose()?;
    let new = state.config.rules.browser_payment(body)?;
    let payments = &state.payments;
    let Created { record, replayed } = payments.create(new, idempotency).await?;
    Ok(created(
        &record.id,
        payments.views().public(&record, OffsetDateTime::now_utc()),
        replayed,
    ))
}

async fn payment_status(
    _: AllowedOrigin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let payments = &state.payments;
    let record = payments.current(&id, Reader::Browser).await?;
    let view = payments.views().public(&record, OffsetDateTime::now_utc());
    Ok(json_response(StatusCode::OK, &view))
}
