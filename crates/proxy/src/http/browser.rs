//! The browser's API (`docs/proxy-api.md`): create a payment for an open amount or a catalog
//! item, read a payment by its public id. Origins are checked, CORS answered, and creates
//! rate-limited per client IP (many shoppers share one carrier NAT: reads are not).

use super::client_ip::{client_ip, limit_key};
use super::error::ApiError;
use super::kit::{
    created, idempotency_key, json_response, no_store, request_timeout, AppJson,
    IdempotencyKeyHeader,
};
use crate::config::{AllowedOrigins, Config};
use crate::payments::{Created, Idempotency, KeyScope, Reader};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use paydigital::api::{CreatePayment, ErrorBody, Payment};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The browser routes with their part of the OpenAPI document (each registered from its
/// handler's `#[utoipa::path]`). The create alone has a request timer.
pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    let (schemas, paths, create) = routes!(create_payment);
    OpenApiRouter::new()
        .routes((schemas, paths, create.layer(request_timeout())))
        .routes(routes!(payment_status))
}

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
    let (router, _) = routes().split_for_parts();
    router.layer(tower::ServiceBuilder::new().layer(no_store()).layer(cors))
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
pub(crate) fn client_key(config: &Config, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    limit_key(client_ip(&config.trusted_proxies, peer.ip(), forwarded))
}

/// Create a payment from a shop's page: an open amount, or a catalog item the proxy prices.
///
/// Limited per client IP (`CHECKOUT_CREATES_PER_MINUTE`). The same `Idempotency-Key` with the
/// same body answers the same payment (201, `Idempotent-Replayed: true`).
#[utoipa::path(
    post,
    path = "/api/payments",
    tag = "browser",
    operation_id = "createPayment",
    params(IdempotencyKeyHeader),
    request_body = CreatePayment,
    responses(
        (status = 201, description = "The payment, public view (also for a replayed `Idempotency-Key`)",
            body = Payment,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this `Idempotency-Key` made the payment"))),
        (status = 400, body = ErrorBody, description = "`invalid_request` (not JSON, not `application/json`, an unknown field, a wrong type, a text too long — with `field` where one field is wrong — or `amount` where the shop has a catalog), `amount_out_of_range` (`field`: `amount`), `unknown_item`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`: a page whose origin is not in `CHECKOUT_ALLOWED_ORIGINS`"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 409, body = ErrorBody, description = "`idempotency_conflict`, `idempotency_in_progress` (`Retry-After: 1`)"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`: the body is over 64 KiB"),
        (status = 429, body = ErrorBody, description = "`rate_limited`: too many creates from this address (`Retry-After`)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 502, body = ErrorBody, description = "`upstream_error`: PayDigital refused the payment, or gave a code that is not valid QRIS"),
        (status = 503, body = ErrorBody, description = "`upstream_busy` (`Retry-After`), `store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
        (status = 504, body = ErrorBody, description = "`upstream_timeout`"),
    )
)]
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
    let Created { record, replayed } = payments.create_to_the_end(new, idempotency).await?;
    Ok(created(
        &record.id,
        payments.views().browser(&record, OffsetDateTime::now_utc()),
        replayed,
    ))
}

/// A payment's status, by its public id: refreshed from PayDigital at most once per 2 s per
/// payment, however many pages ask. Not rate-limited.
#[utoipa::path(
    get,
    path = "/api/payments/{id}",
    tag = "browser",
    operation_id = "getPayment",
    params(("id" = String, Path, description = "The payment's id (`pay_…`)", pattern = r"^pay_[A-Za-z0-9_-]{22,64}$")),
    responses(
        (status = 200, description = "The payment, public view (with `receipt_url` once paid)", body = Payment),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 404, body = ErrorBody, description = "`not_found`: no payment has this id (an upstream invoice number is never one)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn payment_status(
    _: AllowedOrigin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let payments = &state.payments;
    let record = payments.current(&id, Reader::Browser).await?;
    let view = payments.views().browser(&record, OffsetDateTime::now_utc());
    Ok(json_response(StatusCode::OK, &view))
}
