//! A payment's QR as an image, `/api/payments/{id}/qr.svg` and `qr.png`, drawn here from the
//! verified payload (PayDigital's own `qr_url` hands the payload to a third party): for the
//! hosted page without JavaScript, a shop's e-mail or a printed bill.

use super::error::ApiError;
use super::kit::usable_from_any_origin;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use qrcode::{EcLevel, QrCode};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/payments/{id}/qr.svg", get(qr_svg))
        .route("/api/payments/{id}/qr.png", get(qr_png))
}

/// The QR of a payment whose payload still verifies (it did when it was stored).
async fn qr_code(state: &AppState, id: &str) -> Result<(QrCode, String), ApiError> {
    let record = state.payments.record(id).await?;
    paydigital::qris::verify_for_total(&record.qr_content, record.total_amount)
        .map_err(|e| ApiError::Internal(format!("{id}: stored code fails verification: {e}")))?;
    let code = QrCode::with_error_correction_level(record.qr_content.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("{id}: cannot encode the QR: {e}")))?;
    Ok((code, record.invoice.clone()))
}

/// A payment's code never changes: cached for a day by anyone, readable from any page.
fn image(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("inline; filename=\"QRIS-{file_name}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    usable_from_any_origin(headers);
    // An SVG opened on its own is a document: it may run nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn qr_svg(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (code, invoice) = qr_code(&state, &id).await?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .build();
    Ok(image(
        "image/svg+xml",
        &format!("{invoice}.svg"),
        svg.into_bytes(),
    ))
}

async fn qr_png(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (code, invoice) = qr_code(&state, &id).await?;
    let png = qr_png_bytes(&code).map_err(|e| ApiError::Internal(format!("{id}: png: {e}")))?;
    Ok(image("image/png", &format!("{invoice}.png"), png))
}

/// Pixels per module, and the quiet zone in modules that scanners need around the code.
const PNG_SCALE: usize = 8;
const QUIET_ZONE: usize = 4;

/// The code as a black-on-white 8-bit grayscale PNG.
pub fn qr_png_bytes(code: &QrCode) -> Result<Vec<u8>, png::EncodingError> {
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET_ZONE) * PNG_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = (
            (i % width + QUIET_ZONE) * PNG_SCALE,
            (i / width + QUIET_ZONE) * PNG_SCALE,
        );
        for row in pixels.chunks_mut(side).skip(y).take(PNG_SCALE) {
            if let Some(run) = row.get_mut(x..x + PNG_SCALE) {
                run.fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side).unwrap_or(u32::MAX);
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(out)
}
