//! `GET /r/{token}/qr.svg`: the receipt's URL as a QR, for the counter's Paid screen (the
//! customer scans it with their own phone and keeps the receipt). The counter's strict CSP
//! allows images from this origin only, so the code is drawn here rather than in the page.

use super::view::noindex;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use qrcode::{EcLevel, QrCode};
use std::sync::Arc;

pub async fn receipt_qr(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    // Only a real receipt's code: the endpoint draws no QR of whatever it is given.
    let record = state.payments.by_receipt_token(&token).await?;
    // A phone must open it: a path alone opens nothing (as for the posters).
    let url = state
        .payments
        .views()
        .receipt_url(&record.receipt_token)
        .ok_or_else(|| {
            ApiError::Internal(
                "a receipt QR needs CHECKOUT_PUBLIC_URL: the address a phone opens".into(),
            )
        })?;
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("cannot encode the receipt QR: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .build();
    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // An SVG opened on its own is a document: it may run nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    noindex(&mut response);
    Ok(response)
}
