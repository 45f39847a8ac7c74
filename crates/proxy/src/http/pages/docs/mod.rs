//! The contract's two doors: `/api/openapi.json` (the document `openapi.rs` generates, for
//! machines) and `/api/docs` (the same document drawn here as one HTML page, for people).
//! The page loads nothing but its stylesheet from this origin: no script, no font, no third
//! party, nothing inline.

use super::assets::Asset;
use crate::domain::new_payment::PaymentRules;
use crate::http::kit::{no_store, usable_from_any_origin};
use crate::http::openapi::document_json_for;
use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

mod render;

/// The page's stylesheet.
pub static DOCS_CSS: Asset = Asset::new("docs.css", include_str!("../assets/docs.css"));

/// Nothing from elsewhere, nothing inline, no frames, no forms.
const DOCS_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The document this proxy's `rules` make, and its page, drawn once here.
pub fn router(rules: &PaymentRules) -> Router<Arc<AppState>> {
    let json: Arc<str> = document_json_for(rules).into();
    let document = serde_json::from_str::<Value>(&json).unwrap_or_default();
    let page: Arc<str> = render::render(&document).into_string().into();
    Router::new()
        .route("/api/openapi.json", get(move || openapi_json(json.clone())))
        .route("/api/docs", get(move || docs_page(page.clone())))
        // Every `/api/` answer is `no-store` (`docs/proxy-api.md`); this one changes with
        // each release.
        .layer(no_store())
}

async fn openapi_json(json: Arc<str>) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json.to_string(),
    )
        .into_response();
    // Any tool on any origin may read the contract.
    usable_from_any_origin(response.headers_mut());
    response
}

async fn docs_page(page: Arc<str>) -> Response {
    let mut response = axum::response::Html(page.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
