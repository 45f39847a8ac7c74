//! For the customer, without a page of the shop's: the hosted checkout page `/pay/{id}`
//! (the widget showing that payment) and the QR as an image, `qr.svg` / `qr.png`, drawn here
//! from the verified payload (PayDigital's own `qr_url` hands the payload to a third party).

use super::error::ApiError;
use super::kit::usable_from_any_origin;
use crate::payments::ServiceError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use paydigital::api::Payment;
use qrcode::{EcLevel, QrCode};
use std::sync::Arc;
use time::OffsetDateTime;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/pay/{id}", get(hosted_page))
        .route("/api/payments/{id}/qr.svg", get(qr_svg))
        .route("/api/payments/{id}/qr.png", get(qr_png))
}

/// Scripts from this origin only (the loader and the widget's wasm); the widget's styles
/// live in its shadow root as a `<style>` element. Nothing may frame the page.
pub const HOSTED_PAGE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's language, from `Accept-Language`: English when the customer prefers it to
/// Indonesian, Indonesian otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLang {
    Id,
    En,
}

impl PageLang {
    pub fn from_accept_language(header: Option<&str>) -> PageLang {
        let mut best = (PageLang::Id, 0.0_f32);
        for part in header.unwrap_or("").split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("id") | Some("in") => PageLang::Id,
                Some("en") => PageLang::En,
                _ => continue,
            };
            // Ties go to the first named, as the customer ordered them.
            if q > best.1 {
                best = (lang, q);
            }
        }
        best.0
    }

    fn code(self) -> &'static str {
        match self {
            PageLang::Id => "id",
            PageLang::En => "en",
        }
    }
}

fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// The hosted page: the payment's description, and the widget showing it; once paid, the
/// widget sends the customer to `success_url` (a payment link's) if there is one.
pub fn hosted_page_html(
    payment: &Payment,
    description: &str,
    lang: PageLang,
    success_url: Option<&str>,
) -> String {
    let (title, noscript) = match lang {
        PageLang::Id => (
            "Pembayaran",
            "Aktifkan JavaScript untuk menampilkan kode QR pembayaran.",
        ),
        PageLang::En => ("Payment", "Turn on JavaScript to see the payment QR code."),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<title>{title} {amount}</title>
<style>
  body {{ margin: 0; font: 16px/1.5 system-ui, sans-serif; background: #f5f7fa; color: #1f2933; }}
  main {{ max-width: 440px; margin: 0 auto; padding: 24px 12px; }}
  h1 {{ font-size: 1.15em; margin: 0 0 12px; text-align: center; }}
</style>
<script src="/checkout/paydigital-checkout.js" defer></script>
</head>
<body>
<main>
<h1>{description}</h1>
<paydigital-checkout payment="{id}" lang="{lang}"{success}></paydigital-checkout>
<noscript><p>{noscript}</p><p><img src="/api/payments/{id}/qr.svg" alt="QRIS" width="256" height="256"></p></noscript>
</main>
</body>
</html>
"#,
        lang = lang.code(),
        amount = paydigital::rupiah(payment.total_amount),
        description = escape(description),
        id = escape(&payment.id),
        success = success_url
            .map(|url| format!(r#" success-url="{}""#, escape(url)))
            .unwrap_or_default(),
    )
}

async fn hosted_page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = PageLang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let record = match state.payments.record(&id).await {
        Ok(record) => record,
        Err(ServiceError::NotFound) => {
            let text = match lang {
                PageLang::Id => "Pembayaran tidak ditemukan.",
                PageLang::En => "No such payment.",
            };
            return (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_SECURITY_POLICY, HOSTED_PAGE_CSP)],
                Html(format!("<!DOCTYPE html><title>404</title><p>{text}</p>")),
            )
                .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let view = state
        .payments
        .views()
        .public(&record, OffsetDateTime::now_utc());
    // A link's payment goes where the link says once paid (checked when the link was made).
    let success_url = match &record.payment_link_id {
        Some(link_id) => match state.payments.link(link_id).await {
            Ok(link) => link.link.success_url,
            Err(e) => {
                tracing::warn!(link_id, error = %e, "cannot read the payment's link");
                None
            }
        },
        None => None,
    };
    let mut response = Html(hosted_page_html(
        &view,
        &record.description,
        lang,
        success_url.as_deref(),
    ))
    .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(HOSTED_PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
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
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
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

#[cfg(test)]
mod tests {
    use super::PageLang;

    #[test]
    fn indonesian_unless_english_is_preferred() {
        for (header, lang) in [
            (None, PageLang::Id),
            (Some(""), PageLang::Id),
            (Some("en-US,en;q=0.9"), PageLang::En),
            (Some("id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"), PageLang::Id),
            (Some("en;q=0.5,id;q=0.8"), PageLang::Id),
            (Some("fr-FR,en;q=0.3"), PageLang::En),
            (Some("fr-FR,de"), PageLang::Id),
            (Some("en-GB;q=oops"), PageLang::En),
        ] {
            assert_eq!(PageLang::from_accept_language(header), lang, "{header:?}");
        }
    }
}
