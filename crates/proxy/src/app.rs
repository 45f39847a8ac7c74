//! Every route of the proxy, each front door in its own module: the browser's API, the
//! merchant API, the hosted page and QR images, health.

use crate::error::AppError;
use crate::payments::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// The API routes and pages (the widget's files are served by [`crate::statics`]).
pub fn router(state: Arc<AppState>) -> Router {
    // Each API router adds `no_store` in its own (single) layer call: a `layer` over the
    // merged routers would box every route once more, cloned on every request.
    let api = crate::browser_api::router(state.clone())
        .merge(crate::merchant_api::router(state.clone()))
        .route("/healthz", get(healthz).layer(no_store()));
    api.merge(crate::pages::router()).with_state(state)
}

/// Payments change from one read to the next and carry amounts and codes: no browser, CDN
/// or shop proxy may keep a copy of an API answer.
pub(crate) fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// `value` as a JSON response, written once into a buffer the size of a payment, with room
/// for the headers the layers add: axum's `Json` starts at 128 bytes and an empty header map,
/// and grew both (reallocating) on every status read.
pub(crate) fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut body = Vec::with_capacity(1024);
    if let Err(e) = serde_json::to_writer(&mut body, value) {
        return AppError::Internal(e.to_string()).into_response();
    }
    let mut headers = axum::http::HeaderMap::with_capacity(16);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.blocking(|s| s.health()).await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            let detail = match &e {
                AppError::Internal(detail) => detail.clone(),
                other => other.to_string(),
            };
            tracing::error!(error = %detail, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": { "code": "unavailable", "message": "the payment store is not available" } })),
            )
                .into_response()
        }
    }
}
