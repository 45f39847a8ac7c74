//! The dashboard's own script and styles, built into the binary (no `dist/` needed, nothing
//! from another host). Names carry `?v=` ([`super::render::ASSETS_VERSION`]), so they may be
//! kept an hour.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const SCRIPT: &str = include_str!("assets/admin.js");
const STYLES: &str = include_str!("assets/admin.css");
const COUNTER_SCRIPT: &str = include_str!("assets/counter.js");

pub async fn file(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "admin.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "admin.css" => (STYLES, "text/css; charset=utf-8"),
        "counter.js" => (COUNTER_SCRIPT, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}
