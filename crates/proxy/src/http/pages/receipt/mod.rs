//! Receipts (`receipts.md`): `GET /r/{token}` is the receipt page and `GET /r/{token}.png`
//! the same receipt as an image for a chat. Both are read from the store when opened, so a
//! receipt says **LUNAS / PAID** only while the shop's records do: a screenshot can be
//! faked, this address cannot. Not paid (pending, expired) answers 200 with only "Belum
//! dibayar" (a forwarded link explains itself); an unknown token is a 404. Never the
//! customer's name unless `CHECKOUT_RECEIPT_SHOWS_CUSTOMER=on`, never metadata or other ids.

use self::view::{noindex, receipt_response, Shown};
use crate::domain::payment::{status_at, PaymentRecord, Source};
use crate::http::error::ApiError;
use crate::http::pages::lang::lang_of;
use crate::payments::ServiceError;
use crate::posters::receipt::{self as drawing, Receipt};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use paydigital::Status;
use std::sync::Arc;
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::Semaphore;

pub mod qr;
pub mod texts;
pub mod view;

pub fn router() -> Router<Arc<AppState>> {
    // axum cannot match `{token}.png` in one segment: the handler splits the suffix.
    Router::new()
        .route("/r/{file}", get(receipt))
        .route("/r/{token}/qr.svg", get(qr::receipt_qr))
}

/// A paid receipt's facts, written as the customer reads them (both the page and the PNG).
pub struct Facts {
    pub shop: String,
    pub late: bool,
    pub amount: String,
    pub what_for: String,
    pub reference: Option<String>,
    pub invoice: String,
    pub paid_at: String,
    pub source: Source,
    pub customer: Option<String>,
    pub host: String,
}

impl Facts {
    /// `None` unless the payment is paid at `now`.
    fn of(state: &AppState, p: &PaymentRecord, host: &str, now: OffsetDateTime) -> Option<Facts> {
        if status_at(p, now) != Status::Paid {
            return None;
        }
        let zone = state.payments.views().zone;
        // The name the customer's banking app showed when they paid (the QRIS's own field).
        let shop = paydigital::qris::Qris::parse(&p.qr_content)
            .map(|q| q.merchant_name)
            .ok()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| host.to_owned());
        Some(Facts {
            shop,
            late: p.late,
            amount: paydigital::rupiah(p.total_amount),
            what_for: p.description.clone(),
            reference: p.reference.clone(),
            invoice: p.invoice.clone(),
            // A paid record has its time; a missing one (never written so) reads as a dash.
            paid_at: p
                .paid_at
                .map_or_else(|| "—".to_owned(), |at| local_time(at, zone)),
            source: p.source,
            customer: state
                .config
                .receipt_shows_customer
                .then(|| p.customer_name.clone()),
            host: host.to_owned(),
        })
    }
}

/// `07-12-2026 21:53:50 WIB`: the shop's zone, named as Indonesians name theirs.
pub fn local_time(at: OffsetDateTime, zone: UtcOffset) -> String {
    let local = at.to_offset(zone);
    let name = match zone.whole_hours() {
        7 => "WIB".to_owned(),
        8 => "WITA".to_owned(),
        9 => "WIT".to_owned(),
        hours => format!("UTC{hours:+}"),
    };
    format!(
        "{:02}-{:02}-{} {:02}:{:02}:{:02} {name}",
        local.day(),
        u8::from(local.month()),
        local.year(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// The shop's host, for "Diverifikasi oleh …": from `CHECKOUT_PUBLIC_URL`, else the host the
/// request came to (this proxy, either way).
fn shop_host(state: &AppState, headers: &HeaderMap) -> String {
    let from_config = state.config.public_url.as_deref().and_then(|url| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_owned())
    });
    from_config
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Drawing a PNG takes a core for a moment: two at once, the rest wait.
static DRAWING: Semaphore = Semaphore::const_new(2);

async fn receipt(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (token, png) = match file.strip_suffix(".png") {
        Some(token) => (token, true),
        None => (file.as_str(), false),
    };
    let lang = lang_of(&headers);
    let here = format!("/r/{token}");
    let record = match state.payments.by_receipt_token(token).await {
        Ok(record) => record,
        Err(ServiceError::NotFound) if png => return ApiError::NotFound.into_response(),
        Err(ServiceError::NotFound) => return receipt_response(lang, &here, Shown::NotFound),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let host = shop_host(&state, &headers);
    let facts = Facts::of(&state, &record, &host, OffsetDateTime::now_utc());
    if !png {
        let shown = facts.as_ref().map_or(Shown::NotPaid, Shown::Paid);
        return receipt_response(lang, &here, shown);
    }
    let url = state.payments.views().receipt_url(&record.receipt_token);
    match draw(facts, url).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            // Read when opened, like the page: a receipt can be shown only while paid.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'"),
            );
            noindex(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The source on the image, in both languages.
fn image_source(source: Source) -> &'static str {
    match source {
        Source::Merchant | Source::Browser | Source::Catalog => "Online",
        Source::Counter => "Kasir · Counter",
        Source::Link => "Tautan · Link",
    }
}

async fn draw(facts: Option<Facts>, url: Option<String>) -> Result<Vec<u8>, ApiError> {
    let _turn = DRAWING
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("receipt queue closed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let receipt = facts.as_ref().map(|f| Receipt {
            shop: &f.shop,
            late: f.late,
            amount: &f.amount,
            what_for: &f.what_for,
            reference: f.reference.as_deref(),
            invoice: &f.invoice,
            paid_at: &f.paid_at,
            source: image_source(f.source),
            customer: f.customer.as_deref(),
            host: &f.host,
            url: url.as_deref(),
        });
        drawing::png(receipt.as_ref())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("drawing a receipt: {e}")))?
    .map_err(|e| ApiError::Internal(format!("receipt: {e}")))
}
