//! The merchant API (`docs/merchant-api.md`): the shop's own server creates payments for its
//! orders, reads and lists them, and reads the events its webhooks carried. Server to server
//! only: a bearer key compared in constant time, no CORS, and any request that names an
//! `Origin` (a web page) is refused, so the key never lives in a page.

use super::error::ApiError;
use super::kit::{created, idempotency_key, no_store, parse_limit, request_timeout};
use crate::domain::ids;
use crate::domain::new_payment::MerchantPaymentRequest;
use crate::domain::payment::{parse_moment, parse_status};
use crate::domain::views::MerchantPayment;
use crate::payments::{Created, Idempotency, KeyScope, Page, Reader, ServiceError};
use crate::state::AppState;
use crate::store::{DeliveryState, EventFilter, EventRecord, ListFilter};
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/merchant/payments", post(create).get(list))
        .route("/api/merchant/payments/{id}", get(read))
        .route("/api/merchant/events", get(events))
        .route_layer(
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
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (&state.config.merchant_key, presented) {
        (Some(key), Some(presented)) if key.matches(presented) => Ok(next.run(req).await),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The body as JSON, or a 400 that names the field that is wrong.
fn parse_body(body: &[u8]) -> Result<MerchantPaymentRequest, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::InvalidRequest(format!("the body is not valid JSON: {inner}"));
        }
        // serde_json ends its messages with the position; the field name says more.
        let message = inner.to_string();
        let message = message
            .split_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        // A missing or unknown field is named in the message; the path stops at its object.
        let field = match message.split('`').nth(1) {
            Some(name) if path == "." => name.to_owned(),
            _ => path,
        };
        if field == "amount" {
            return ApiError::field("amount", "amount is required: a whole number of rupiah");
        }
        ApiError::field(&field, format!("{field}: {message}"))
    })
}

async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let request = parse_body(&body)?;
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    reference: Option<String>,
    status: Option<String>,
    created_after: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<MerchantPayment>>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            parse_status(text)
                .ok_or_else(|| ApiError::field("status", "status is pending, paid or expired"))?,
        ),
    };
    let payments = &state.payments;
    let created_after = match query.created_after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(parse_moment(text, payments.views().zone).ok_or_else(|| {
            ApiError::field(
                "created_after",
                "created_after is an RFC 3339 time, a date like 2026-11-01, or unix seconds",
            )
        })?),
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventsQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// An event as the events API shows it: what the webhook carried, and how its delivery went.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    pub payment_id: String,
    pub data: serde_json::Value,
    pub delivery: Delivery,
}

#[derive(Debug, Serialize)]
pub struct Delivery {
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_attempt_at: Option<String>,
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

/// `GET /api/merchant/events?after=&limit=`: every event oldest first, so a shop can catch
/// up on anything its webhook endpoint missed.
async fn events(
    State(state): State<Arc<AppState>>,
    Query(query): Query<EventsQuery>,
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
