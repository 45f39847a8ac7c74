//! What every front door's handlers share: JSON in and out, `no-store`, the request timer,
//! `Idempotency-Key`, page sizes, and the headers that let any page use a response.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// A create or a merchant call may take this long (upstream's timeout plus a retry fits
/// inside). Status reads have no request timer: each of their waits has its own bound
/// (upstream's timeout, the store's connection and statement timeouts), and a timer per
/// read cost the hot path about a sixth of its CPU (BENCHMARKS.md).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 128;
/// Page sizes for lists.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// The request timeout, for the routes that call PayDigital or wait on a create.
pub fn request_timeout() -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT)
}

/// Payments change from one read to the next and carry amounts and codes: no browser, CDN
/// or shop proxy may keep a copy of an API answer.
pub fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// JSON in, from a browser: `Content-Type: application/json` required (so a page's create
/// always needs a CORS preflight), then read as [`parse_json`] reads it.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        if !json {
            return Err(ApiError::InvalidRequest(
                "Content-Type must be application/json".into(),
            ));
        }
        let JsonBody(body) = JsonBody::from_request(req, state).await?;
        Ok(AppJson(parse_json(&body)?))
    }
}

/// A query string read into `T`, with the contract's error shape when it cannot be (a
/// parameter given twice): axum's own rejection is plain text.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// The request's body, with the contract's `payload_too_large` past [`super::MAX_BODY_BYTES`]
/// (axum's own rejection is plain text).
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(JsonBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::InvalidRequest(rejection.body_text())
                }
            })
    }
}

/// The body as JSON, or a 400 that names the field that is wrong (`"field": "amount"`).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
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
            let message = if message.starts_with("missing field") {
                "amount is required: a whole number of rupiah"
            } else {
                "amount must be a whole number of rupiah (125000 or 125000.0; not 1000.5, -5 or \"125000\")"
            };
            return ApiError::field("amount", message);
        }
        if field == "." {
            return ApiError::InvalidRequest(format!("the body must be a JSON object: {message}"));
        }
        ApiError::field(&field, format!("{field}: {message}"))
    })?;
    // Anything after the value (`{...} {...}`) is not one request.
    deserializer
        .end()
        .map_err(|e| ApiError::InvalidRequest(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// `value` as a JSON response, written once into a buffer the size of a payment, with room
/// for the headers the layers add: axum's `Json` starts at 128 bytes and an empty header map,
/// and grew both (reallocating) on every status read.
pub fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut body = Vec::with_capacity(1024);
    if let Err(e) = serde_json::to_writer(&mut body, value) {
        return ApiError::Internal(e.to_string()).into_response();
    }
    let mut headers = HeaderMap::with_capacity(16);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// 201 with the payment; `Idempotent-Replayed: true` when an earlier request made it.
pub fn created<T: serde::Serialize>(id: &str, view: T, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    // For the request's log line (a create's path names no payment).
    response
        .extensions_mut()
        .insert(super::metrics::PaymentId(id.to_owned()));
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The `Idempotency-Key` header both creates take.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only its parameter description is used: `idempotency_key` reads it.
pub struct IdempotencyKeyHeader {
    /// 1 to 128 visible ASCII characters. The same key with the same body answers the same
    /// payment (one upstream call, even racing); with another body, 409.
    #[param(
        rename = "Idempotency-Key",
        required = false,
        min_length = 1,
        max_length = 128,
        pattern = r"^[!-~]{1,128}$"
    )]
    idempotency_key: String,
}

/// The `Idempotency-Key` header, if sent: 1 to 128 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
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
            ApiError::InvalidRequest(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_owned()))
}

/// A list's `limit`: [`DEFAULT_LIMIT`] when absent or empty, else 1 to [`MAX_LIMIT`] written
/// in plain digits (no sign, space or leading zero: what the OpenAPI document's pattern says).
pub fn parse_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    match limit {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(text) => Some(text)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0'))
            .and_then(|t| t.parse::<usize>().ok())
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::field("limit", format!("limit is 1 to {MAX_LIMIT}"))),
    }
}

/// Lets any page use a response: CORS for scripts that fetch it, and CORP so that shops whose
/// pages are cross-origin isolated (COEP: require-corp) can load it too.
pub fn usable_from_any_origin(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}
