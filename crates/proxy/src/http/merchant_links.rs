//! Payment links in the merchant API (`payment-links.md`): create (with `Idempotency-Key`),
//! list with cursor paging as payments, read, and `PATCH {"active": …}`. Links are never
//! deleted. Behind the merchant key like every merchant route (`merchant.rs` layers these).

use super::error::ApiError;
use super::kit::{
    created, idempotency_key, parse_json, parse_limit, AppQuery, IdempotencyKeyHeader, JsonBody,
};
use crate::domain::ids;
use crate::domain::links::NewLinkRequest;
use crate::domain::views::LinkView;
use crate::payments::{Page, ServiceError};
use crate::state::AppState;
use crate::store::links::LinkFilter;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use paydigital::api::ErrorBody;
use serde::Deserialize;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_link, list_links))
        .routes(routes!(read_link, update_link))
}

/// Create a payment link: a reusable page (`url`) that takes a QRIS payment for one thing.
///
/// The same `Idempotency-Key` with the same body answers the same link
/// (`Idempotent-Replayed: true`).
#[utoipa::path(
    post,
    path = "/api/merchant/payment-links",
    tag = "merchant",
    operation_id = "createPaymentLink",
    security(("merchantKey" = [])),
    params(IdempotencyKeyHeader),
    request_body = NewLinkRequest,
    responses(
        (status = 201, description = "The link (also for a replayed `Idempotency-Key`).", body = LinkView,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this `Idempotency-Key` made the link"))),
        (status = 400, body = ErrorBody, description = "`invalid_request` with `field` (`title`, `amount`, `min_amount`, `max_amount`, `max_payments`, `expires_at`, `success_url`, `metadata`, an unknown field), or both a fixed amount and bounds"),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 409, body = ErrorBody, description = "`idempotency_conflict`: the key was used with another body"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn create_link(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let request: NewLinkRequest = parse_json(&body)?;
    let rules = &state.config.rules;
    let validated = request.clone().validate(
        rules.min_amount,
        rules.max_amount,
        OffsetDateTime::now_utc(),
    )?;
    let payments = &state.payments;
    let (link, replayed) = payments
        .create_link(request, key.as_deref(), validated)
        .await?;
    Ok(created(
        &link.link.id,
        payments.views().link(&link),
        replayed,
    ))
}

/// `GET /api/merchant/payment-links`'s filters: read as text and checked here (a 400 naming
/// the parameter), documented as what they are (a boolean, an integer) for clients, as
/// `merchant::ListQuery`'s.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct LinksQuery {
    /// `true`: only active links; `false`: only deactivated ones; absent: all.
    #[param(value_type = Option<bool>)]
    active: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u8>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// A `next_cursor` from the previous page.
    #[param(pattern = r"^(plink_[A-Za-z0-9_-]{22,64})?$")]
    cursor: Option<String>,
}

/// The payment links, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/merchant/payment-links",
    tag = "merchant",
    operation_id = "listPaymentLinks",
    security(("merchantKey" = [])),
    params(LinksQuery),
    responses(
        (status = 200, description = "A page of links", body = Page<LinkView>),
        (status = 400, body = ErrorBody, description = "`invalid_request` with `field`: `active`, `limit` or `cursor`"),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn list_links(
    State(state): State<Arc<AppState>>,
    AppQuery(query): AppQuery<LinksQuery>,
) -> Result<Json<Page<LinkView>>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let active = match query.active.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::field("active", "active is true or false")),
    };
    let before_id = match query.cursor.filter(|c| !c.is_empty()) {
        Some(cursor) if !ids::looks_like_link_id(&cursor) => {
            return Err(ApiError::field(
                "cursor",
                "cursor is a next_cursor from a list",
            ))
        }
        cursor => cursor,
    };
    let payments = &state.payments;
    let page = payments
        .list_links(LinkFilter {
            active,
            before_id,
            limit,
        })
        .await
        .map_err(|e| match e {
            ServiceError::UnknownCursor(id) => {
                ApiError::field("cursor", format!("no link {id} to continue after"))
            }
            e => ApiError::from(e),
        })?;
    Ok(Json(page.map(|l| payments.views().link(&l))))
}

/// One payment link, with its paid count and total.
#[utoipa::path(
    get,
    path = "/api/merchant/payment-links/{id}",
    tag = "merchant",
    operation_id = "getPaymentLink",
    security(("merchantKey" = [])),
    params(("id" = String, Path, description = "The link's id (`plink_…`)", pattern = r"^plink_[A-Za-z0-9_-]{22,64}$")),
    responses(
        (status = 200, description = "The link", body = LinkView),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 404, body = ErrorBody, description = "`not_found`: no link has this id"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn read_link(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<LinkView>, ApiError> {
    let link = state.payments.link(&id).await?;
    Ok(Json(state.payments.views().link(&link)))
}

/// `PATCH /api/merchant/payment-links/{id}`: only `active` may change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"active": false}))]
#[serde(deny_unknown_fields)]
pub struct LinkUpdate {
    /// `false` deactivates the link (its page answers 410, nothing is created); `true`
    /// activates it again.
    pub active: bool,
}

/// Deactivate (or activate again) a payment link. Links are never deleted: their payments
/// stay linked.
#[utoipa::path(
    patch,
    path = "/api/merchant/payment-links/{id}",
    tag = "merchant",
    operation_id = "updatePaymentLink",
    security(("merchantKey" = [])),
    params(("id" = String, Path, description = "The link's id (`plink_…`)", pattern = r"^plink_[A-Za-z0-9_-]{22,64}$")),
    request_body = LinkUpdate,
    responses(
        (status = 200, description = "The link as it is now", body = LinkView),
        (status = 400, body = ErrorBody, description = "`invalid_request` with `field`: `active` missing or not a boolean, or any other field"),
        (status = 401, body = ErrorBody, description = "`unauthorized`"),
        (status = 403, body = ErrorBody, description = "`origin_not_allowed`"),
        (status = 404, body = ErrorBody, description = "`not_found`: no link has this id"),
        (status = 408, description = "The request took longer than 30 s (no body)"),
        (status = 413, body = ErrorBody, description = "`payload_too_large`"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
async fn update_link(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<LinkView>, ApiError> {
    if !ids::looks_like_link_id(&id) {
        return Err(ApiError::NotFound);
    }
    let update: LinkUpdate = parse_json(&body)?;
    let link = state.payments.set_link_active(&id, update.active).await?;
    Ok(Json(state.payments.views().link(&link)))
}
