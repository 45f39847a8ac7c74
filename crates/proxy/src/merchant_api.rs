//! The merchant API (`shared/spec/merchant-api.md`): the shop's own server creates payments
//! for its orders, reads and lists them. Server to server only: a bearer key compared in
//! constant time, no CORS, and any request that names an `Origin` (a web page) is refused,
//! so the key never lives in a page.

use crate::browser_api::{
    clean_text, created, idempotency_key, MAX_CUSTOMER_NAME, MAX_DESCRIPTION, MAX_REFERENCE,
};
use crate::error::AppError;
use crate::payments::{AppState, Created, Idempotency, KeyScope, MerchantPayment, NewPayment};
use crate::store::{EventFilter, EventRecord, ListFilter, Metadata, Source};
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use paydigital::Status;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

/// Bounds on `metadata` (as Stripe's): enough for a cart id and a customer id.
pub const MAX_METADATA_PAIRS: usize = 20;
pub const MAX_METADATA_KEY: usize = 40;
pub const MAX_METADATA_VALUE: usize = 500;
/// Page sizes for lists.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/merchant/payments", post(create).get(list))
        .route("/api/merchant/payments/{id}", get(read))
        .route("/api/merchant/events", get(events))
        .route_layer(
            tower::ServiceBuilder::new()
                .layer(crate::app::no_store())
                .layer(crate::request_timeout())
                .layer(axum::middleware::from_fn_with_state(state, authorize)),
        )
}

/// Refuses pages (any `Origin`), then anyone without the key. No key configured: nobody has it.
async fn authorize(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if req.headers().contains_key(header::ORIGIN) {
        return Err(AppError::OriginNotAllowed);
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (&state.config.merchant_key, presented) {
        (Some(key), Some(presented)) if key.matches(presented) => Ok(next.run(req).await),
        _ => Err(AppError::Unauthorized),
    }
}

/// `POST /api/merchant/payments`. Unknown fields are refused (a misspelt `refrence` would
/// otherwise vanish from the shop's books without a word).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// The body as JSON, or a 400 that names the field that is wrong.
fn parse_body(body: &[u8]) -> Result<CreateRequest, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return AppError::InvalidRequest(format!("the body is not valid JSON: {inner}"));
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
            return AppError::field("amount", "amount is required: a whole number of rupiah");
        }
        AppError::field(&field, format!("{field}: {message}"))
    })
}

fn validate(state: &AppState, body: CreateRequest) -> Result<NewPayment, AppError> {
    let config = &state.config;
    if body.amount < config.min_amount || body.amount > config.max_amount {
        return Err(AppError::AmountOutOfRange {
            min: config.min_amount,
            max: config.max_amount,
        });
    }
    if body.metadata.len() > MAX_METADATA_PAIRS {
        return Err(AppError::field(
            "metadata",
            format!("metadata has more than {MAX_METADATA_PAIRS} keys"),
        ));
    }
    for (key, value) in &body.metadata {
        let field = format!("metadata.{key}");
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY {
            return Err(AppError::field(
                &field,
                format!("metadata keys are 1 to {MAX_METADATA_KEY} characters"),
            ));
        }
        if value.chars().count() > MAX_METADATA_VALUE {
            return Err(AppError::field(
                &field,
                format!("{field} is longer than {MAX_METADATA_VALUE} characters"),
            ));
        }
    }
    Ok(NewPayment {
        amount: body.amount,
        item: None,
        source: Source::Merchant,
        description: clean_text("description", body.description, MAX_DESCRIPTION)?
            .unwrap_or_else(|| "Pembayaran".to_owned()),
        customer_name: clean_text("customer_name", body.customer_name, MAX_CUSTOMER_NAME)?
            .unwrap_or_else(|| "Pelanggan".to_owned()),
        reference: clean_text("reference", body.reference, MAX_REFERENCE)?,
        metadata: body.metadata,
    })
}

async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let key = idempotency_key(&headers)?;
    let request = parse_body(&body)?;
    let idempotency = key
        .map(|key| Idempotency::new(KeyScope::Merchant, &key, &request))
        .transpose()?;
    let new = validate(&state, request)?;
    let Created { record, replayed } = state.create(new, idempotency).await?;
    Ok(created(
        state.merchant_view(&record, OffsetDateTime::now_utc()),
        replayed,
    ))
}

async fn read(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<MerchantPayment>, AppError> {
    let record = state.current(&id).await?;
    Ok(Json(
        state.merchant_view(&record, OffsetDateTime::now_utc()),
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

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// The id to continue after; `null` at the end.
    pub next_cursor: Option<String>,
}

/// `created_after`: an RFC 3339 time, a date (`2026-11-01`, midnight in PayDigital's zone)
/// or unix seconds.
pub fn parse_time(text: &str, zone: time::UtcOffset) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(at);
    }
    if let Ok(date) = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        return Some(date.midnight().assume_offset(zone));
    }
    text.parse::<i64>()
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
}

pub fn parse_status(text: &str) -> Option<Status> {
    match text.trim() {
        "pending" => Some(Status::Pending),
        "paid" => Some(Status::Paid),
        "expired" => Some(Status::Expired),
        _ => None,
    }
}

async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<MerchantPayment>>, AppError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            parse_status(text)
                .ok_or_else(|| AppError::field("status", "status is pending, paid or expired"))?,
        ),
    };
    let zone = state.config.upstream.zone;
    let created_after = match query.created_after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(parse_time(text, zone).ok_or_else(|| {
            AppError::field(
                "created_after",
                "created_after is an RFC 3339 time, a date like 2026-11-01, or unix seconds",
            )
        })?),
    };
    let before_id = match query.cursor.filter(|c| !c.is_empty()) {
        Some(cursor) if !crate::ids::looks_like_payment_id(&cursor) => {
            return Err(AppError::field(
                "cursor",
                "cursor is a next_cursor from a list",
            ))
        }
        cursor => cursor,
    };
    let now = OffsetDateTime::now_utc();
    // One more than asked: whether there is a next page, without a second query.
    let mut records = state
        .list(ListFilter {
            reference: query.reference.filter(|r| !r.is_empty()),
            status,
            created_after,
            before_id,
            limit: limit + 1,
            now: Some(now),
        })
        .await?;
    let more = records.len() > limit;
    records.truncate(limit);
    let next_cursor = more.then(|| records.last().map(|r| r.id.clone())).flatten();
    Ok(Json(Page {
        data: records
            .iter()
            .map(|r| state.merchant_view(r, now))
            .collect(),
        next_cursor,
    }))
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
    pub state: crate::store::DeliveryState,
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

fn parse_limit(limit: Option<&str>) -> Result<usize, AppError> {
    match limit.map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| AppError::field("limit", format!("limit is 1 to {MAX_LIMIT}"))),
    }
}

/// `GET /api/merchant/events?after=&limit=`: every event oldest first, so a shop can catch
/// up on anything its webhook endpoint missed.
async fn events(
    State(state): State<Arc<AppState>>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Page<EventView>>, AppError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let after_id = match query.after.filter(|a| !a.is_empty()) {
        Some(after) if !after.starts_with("evt_") => {
            return Err(AppError::field(
                "after",
                "after is a next_cursor or an event id",
            ))
        }
        after => after,
    };
    let mut events = state
        .blocking(move |s| {
            s.events(&EventFilter {
                after_id,
                state: None,
                limit: limit + 1,
            })
        })
        .await
        .map_err(|e| match e {
            AppError::InvalidField { message, .. } => AppError::field("after", message),
            e => e,
        })?;
    let more = events.len() > limit;
    events.truncate(limit);
    let zone = state.config.upstream.zone;
    Ok(Json(Page {
        next_cursor: more.then(|| events.last().map(|e| e.id.clone())).flatten(),
        data: events.iter().map(|e| EventView::new(e, zone)).collect(),
    }))
}
