//! For the customer, without a page of the shop's: the hosted checkout page `/pay/{id}`, the
//! widget showing that payment; once paid, the widget sends the customer to the link's
//! `success_url` if it was a payment link's payment.

use super::lang::{lang_of, PageLang};
use super::layout::{page, respond, Frame};
use super::widget::WIDGET_STYLE_HASH;
use crate::http::error::ApiError;
use crate::payments::ServiceError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use paydigital::api::Payment;
use std::sync::{Arc, LazyLock};
use time::OffsetDateTime;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/pay/{id}", get(hosted_page))
}

/// Scripts from this origin only (the loader and the widget's wasm); styles from this origin
/// (the widget adopts constructed stylesheets, which no policy governs) plus, by its hash,
/// the one stylesheet the widget falls back to in browsers without them. No inline style or
/// script. Nothing may frame the page.
pub static HOSTED_PAGE_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
         style-src 'self' {WIDGET_STYLE_HASH}; img-src 'self' data: blob:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
});

struct Texts {
    title: &'static str,
    noscript: &'static str,
    not_found: &'static str,
    test_mode: &'static str,
}

const ID: Texts = Texts {
    title: "Pembayaran",
    noscript: "Aktifkan JavaScript untuk menampilkan kode QR pembayaran.",
    not_found: "Pembayaran tidak ditemukan.",
    test_mode: "MODE UJI — tidak ada uang sungguhan",
};

const EN: Texts = Texts {
    title: "Payment",
    noscript: "Turn on JavaScript to see the payment QR code.",
    not_found: "No such payment.",
    test_mode: "TEST MODE — no real money",
};

fn texts(lang: PageLang) -> &'static Texts {
    match lang {
        PageLang::Id => &ID,
        PageLang::En => &EN,
    }
}

/// The hosted page: the payment's description, and the widget showing it.
fn hosted_page_markup(
    payment: &Payment,
    description: &str,
    lang: PageLang,
    success_url: Option<&str>,
) -> Markup {
    let t = texts(lang);
    let title = format!("{} {}", t.title, paydigital::rupiah(payment.total_amount));
    let here = format!("/pay/{}", payment.id);
    let frame = Frame {
        lang,
        title: &title,
        here: &here,
        class: "hosted",
    };
    let head = html! {
        script src="/checkout/paydigital-checkout.js" defer {}
    };
    let body = html! {
        // A sandbox's payment says so on the page too, not only inside the widget.
        @if !payment.livemode { p.test-mode role="note" { (t.test_mode) } }
        h1 { (description) }
        paydigital-checkout payment=(payment.id) lang=(lang.code()) success-url=[success_url] {}
        noscript {
            p { (t.noscript) }
            p { img src={ "/api/payments/" (payment.id) "/qr.svg" } alt="QRIS" width="256" height="256"; }
        }
    };
    page(&frame, head, body)
}

async fn hosted_page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let record = match state.payments.record(&id).await {
        Ok(record) => record,
        Err(ServiceError::NotFound) => {
            let t = texts(lang);
            let frame = Frame {
                lang,
                title: "404",
                here: "/",
                class: "hosted",
            };
            let body = html! { div.notice { p role="alert" { (t.not_found) } } };
            return respond(
                StatusCode::NOT_FOUND,
                page(&frame, html! {}, body),
                &HOSTED_PAGE_CSP,
            );
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
    let markup = hosted_page_markup(&view, &record.description, lang, success_url.as_deref());
    respond(StatusCode::OK, markup, &HOSTED_PAGE_CSP)
}
