//! The merchant API (`docs/merchant-api.md`): the shop's own server creates payments for its
//! orders, reads and lists them, and reads the events its webhooks carried. Server to server
//! only: a bearer key compared in constant time, no CORS, and any request that names an
//! `Origin` (a web page) is refused, so the key never lives in a page.

use super::error::ApiError;
use super::kit::{
    created, idempotency_key, no_store, parse_json, parse_limit, request_timeout, AppQuery,
    IdempotencyKeyHeader, JsonBody,
};
use crate::domain::ids;
use crate::domain::lifecycle::EventType;
use crate::domain::new_payment::MerchantPaymentRequest;
use crate::domain::payment::{parse_moment, parse_status};
use crate::domain::views::MerchantPayment;
use crate::payments::{Created, Idempotency, KeyScope, Page, Reader, ServiceError};
use crate::state::AppState;
use crate::store::{DeliveryState, EventFilter, EventRecord, ListFilter};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use axum::{Json, Router};
use paydigital::api::ErrorBody;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The merchant routes with their part of the OpenAPI document: each route is registered
/// from its handler's `#[utoipa::path]`, so the document names exactly what is served.
pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(read))
        .routes(routes!(events))
        .merge(super::merchant_links::routes())
}

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let (router, _) = routes().split_for_parts();
    router.route_layer(
        tower::ServiceBuilder::new()
            .layer(no_store())
            .layer(request_timeout())
            .layer(axum::middleware::from_fn_with_state(state, authorize)),
    )
}

/// Refuses pages (any `Origin`), then anyone without the key. No key configured: nobody has it.
async fn authorize(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if req.headers().contains_key(header::ORIGIN) {
        return Err(ApiError::OriginNotAllowed);
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    match (&state.config.merchant_key, presented) {
        (Some(key), Some(presented)) if key.matches(presented) => Ok(next.run(req).await),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Create a payment for an order: the shop's server decides the amount.
///
/// The same `Idempotency-Key` with the same body answers the same payment (201,
/// `Idempotent-Replayed: true`) and calls PayDigital once.
#[utoipa::path(
    post,
    path = "/api/merchant/payments",
    tag = "merchant",
    operation_id = "createMerchantPayment",
    security(("merchantKey" = [])),
    params(IdempotencyKeyHeader),
    request_body = MerchantPaymentRequest,
    responses(
        (status = 201, description = "The payment, merchant view (also for a replayed `Idempotency-Key`).",
            body = MerchantPayment,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this `Idempotency-Key` made the payment"))),
        (status = 400, body = ErrorBody, description = "`invalid_request` (with `field`: the body is not JSON, an unknown field, a wrong type, a text too long, metadata out of bounds, a bad `Idempotency-Key`), `amount_out_of_range` (`field`: `amount`)"),
        (status = 401, body = ErrorBody, description = "`unauthorized`: no merchant key, or the wrong one (with `WWW-Authenticate: Bearer`)"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`: the request names an `Origin` (a web page)"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 409, body = ErrorBody, description = "`idempotency_conflict`: the key was used with another body; `idempotency_in_progress`: another request with the key is still creating (`Retry-After: 1`)"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`: the body is over 64 KiB"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 502, body = ErrorBody, description = "`upstream_error`: PayDigital refused the payment or answered nonsense"),
        (status = 503, body = ErrorBody, description = "`upstream_busy`: the budget of creates at PayDigital is spent (`Retry-After`); `store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
        (status = 504, body = ErrorBody, description = "`upstream_timeout`: PayDigital did not answer in time"),
    )
)]
async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let request: MerchantPaymentRequest = parse_json(&body)?;
    let idempotency = key
        .map(|key| Idempotency::new(KeyScope::Merchant, &key, &request))
        .transpose()?;
    let new = state.config.rules.merchant_payment(request)?;
    let payments = &state.payments;
    let Created { record, replayed } = payments.create(new, idempotency).await?;
    Ok(created(
        &record.id,
        payments
            .views()
            .merchant(&record, OffsetDateTime::now_utc()),
        replayed,
    ))
}

/// One payment, merchant view.
#[utoipa::path(
    get,
    path = "/api/merchant/payments/{id}",
    tag = "merchant",
    operation_id = "getMerchantPayment",
    security(("merchantKey" = [])),
    params(("id" = String, Path, description = "The payment's id (`pay_…`)", pattern = r"^pay_[A-Za-z0-9_-]{22,64}$")),
    responses(
        (status = 200, description = "The payment, merchant view", body = MerchantPayment),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 404, body = ErrorBody, description = "`not_found`: no payment has this id"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn read(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<MerchantPayment>, ApiError> {
    let payments = &state.payments;
    let record = payments.current(&id, Reader::Merchant).await?;
    Ok(Json(
        payments
            .views()
            .merchant(&record, OffsetDateTime::now_utc()),
    ))
}

/// `GET /api/merchant/payments`'s filters. Each is read as text and checked here, so a
/// wrong one is a 400 naming it (a typed field would be axum's rejection, naming nothing).
/// The document types each as what it is (`value_type`, `schema_with`): an integer, an enum,
/// a moment, so a generated client sends `limit: 10`, not `"10"`. An empty value is the same
/// as absent, as it always was; the document leaves that out (clients send numbers).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ListQuery {
    /// Only payments with this `reference`.
    reference: Option<String>,
    /// Only payments with this status (`expired` includes pending ones whose time is up).
    #[param(value_type = Option<paydigital::Status>)]
    status: Option<String>,
    /// Only payments created after this moment (exclusive): an RFC 3339 time, a date
    /// (`2026-11-01`, midnight in PayDigital's zone) or unix seconds (an integer).
    #[param(example = "2026-11-01", schema_with = created_after_schema)]
    created_after: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u8>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// A `next_cursor` from the previous page (one the store knows: another id is a 400).
    #[param(pattern = r"^(pay_[A-Za-z0-9_-]{22,64})?$")]
    cursor: Option<String>,
}

/// Unix seconds `created_after` takes: `OffsetDateTime::from_unix_timestamp`'s range
/// without `time`'s `large-dates` feature (the years -9999 to 9999, what `parse_moment`
/// accepts). Outside it is a 400, as a moment that cannot be is.
const UNIX_SECONDS_MIN: i64 = -377_705_116_800;
const UNIX_SECONDS_MAX: i64 = 253_402_300_799;

/// `created_after`'s three forms: an RFC 3339 time, a date, or unix seconds as an integer
/// (`anyOf`, not `oneOf`: a validator that does not check formats sees the two strings alike).
fn created_after_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let format = |f| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(f)))
    };
    AnyOfBuilder::new()
        .item(format(KnownFormat::DateTime))
        .item(format(KnownFormat::Date))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(UNIX_SECONDS_MIN))
                .maximum(Some(UNIX_SECONDS_MAX))
                .description(Some("Unix seconds")),
        )
        .build()
        .into()
}

/// The payments, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/merchant/payments",
    tag = "merchant",
    operation_id = "listMerchantPayments",
    security(("merchantKey" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of payments, merchant view", body = Page<MerchantPayment>),
        (status = 400, body = ErrorBody, description = "`invalid_request` with `field`: `status`, `created_after`, `limit` or `cursor` (not a next_cursor, or one the store does not know)"),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<Page<MerchantPayment>>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        // Exactly the word (the document's pattern): `parse_status` also trims, for the CLI.
        Some(text) => Some(
            Some(text)
                .filter(|t| *t == t.trim())
                .and_then(parse_status)
                .ok_or_else(|| ApiError::field("status", "status is pending, paid or expired"))?,
        ),
    };
    let payments = &state.payments;
    let created_after = match query.created_after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        // Exactly as written (the document's forms): `parse_moment` also trims, for the CLI.
        Some(text) => Some(
            Some(text)
                .filter(|t| *t == t.trim())
                .and_then(|t| parse_moment(t, payments.views().zone))
                .ok_or_else(|| {
                    ApiError::field(
                "created_after",
                "created_after is an RFC 3339 time, a date like 2026-11-01, or unix seconds",
            )
                })?,
        ),
    };
    let before_id = match query.cursor.filter(|c| !c.is_empty()) {
        Some(cursor) if !ids::looks_like_payment_id(&cursor) => {
            return Err(ApiError::field(
                "cursor",
                "cursor is a next_cursor from a list",
            ))
        }
        cursor => cursor,
    };
    let now = OffsetDateTime::now_utc();
    let page = payments
        .list(ListFilter {
            reference: query.reference.filter(|r| !r.is_empty()),
            status,
            created_after,
            before_id,
            limit,
            now: Some(now),
            ..ListFilter::default()
        })
        .await?;
    Ok(Json(page.map(|p| payments.views().merchant(&p, now))))
}

/// `GET /api/merchant/events`'s parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct EventsQuery {
    /// A `next_cursor` from the previous page (an event id the store knows).
    #[param(pattern = r"^(evt_[A-Za-z0-9_-]{22,64})?$")]
    after: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u8>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
}

/// An event as the events API shows it: what the webhook carried, and how its delivery went.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// `evt_…`: the webhook's `webhook-id`.
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// RFC 3339.
    pub created_at: String,
    pub payment_id: String,
    /// The webhook body's `data`: the merchant view of the payment as of the change.
    #[schema(value_type = Option<MerchantPayment>, required = true)]
    pub data: serde_json::Value,
    pub delivery: Delivery,
}

/// How an event's delivery to `CHECKOUT_WEBHOOK_URL` went.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub state: DeliveryState,
    pub attempts: u32,
    /// RFC 3339.
    #[schema(required = true)]
    pub last_attempt_at: Option<String>,
    /// The last attempt's outcome: `HTTP 503`, `timeout`, a connection error.
    #[schema(required = true)]
    pub last_status: Option<String>,
}

impl EventView {
    pub fn new(event: &EventRecord, zone: time::UtcOffset) -> EventView {
        // The body was written by us; a body that does not parse shows as null data.
        let data = serde_json::from_str::<serde_json::Value>(&event.body)
            .ok()
            .and_then(|mut body| body.get_mut("data").map(serde_json::Value::take))
            .unwrap_or(serde_json::Value::Null);
        EventView {
            id: event.id.clone(),
            event_type: event.event_type.clone(),
            created_at: paydigital::wire::rfc3339(event.created_at, zone),
            payment_id: event.payment_id.clone(),
            data,
            delivery: Delivery {
                state: event.state,
                attempts: event.attempts,
                last_attempt_at: event
                    .last_attempt_at
                    .map(|at| paydigital::wire::rfc3339(at, zone)),
                last_status: event.last_status.clone(),
            },
        }
    }
}

/// Every webhook event, oldest first, so a shop can catch up on anything its webhook
/// endpoint missed.
#[utoipa::path(
    get,
    path = "/api/merchant/events",
    tag = "merchant",
    operation_id = "listEvents",
    security(("merchantKey" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "A page of events", body = Page<EventView>),
        (status = 400, body = ErrorBody, description = "`invalid_request` with `field`: `after` (not an event id, or one the store does not know) or `limit`"),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn events(
    State(state): State<Arc<AppState>>,
    AppQuery(query): AppQuery<EventsQuery>,
) -> Result<Json<Page<EventView>>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let after_id = match query.after.filter(|a| !a.is_empty()) {
        Some(after) if !ids::looks_like_event_id(&after) => {
            return Err(ApiError::field(
                "after",
                "after is a next_cursor or an event id",
            ))
        }
        after => after,
    };
    let payments = &state.payments;
    let page = payments
        .events(EventFilter {
            after_id,
            state: None,
            limit,
        })
        .await
        .map_err(|e| match e {
            ServiceError::UnknownCursor(id) => {
                ApiError::field("after", format!("no event {id} to continue after"))
            }
            e => ApiError::from(e),
        })?;
    let zone = payments.views().zone;
    Ok(Json(page.map(|e| EventView::new(&e, zone))))
}
