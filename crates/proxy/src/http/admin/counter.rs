//! `/admin/counter` (cashier and owner): the till. A keypad, **Charge**, the widget's own
//! pending view of the sale, large; **Paid** full-screen; **New sale**. The page is drawn
//! here and driven by `assets/counter.js`; a sale is made by `POST /admin/counter/sales`
//! (JSON, with the sale's own `Idempotency-Key`, so a double tap or a retry makes one
//! payment). `?sale=pay_…` is the sale in progress: a reload shows it again.
//!
//! The page runs the checkout widget, so its CSP also allows the widget's wasm and the one
//! stylesheet the widget may put in its shadow root (by hash: no other inline style).

use super::assets::COUNTER_JS;
use super::overview::now_ms;
use super::render::{self, Nav};
use super::session::Staff;
use super::texts::{counter_texts, CounterTexts, Texts};
use crate::domain::new_payment::{CounterSaleRequest, DEFAULT_DESCRIPTION};
use crate::domain::payment::{paid_by, status_at, PaymentRecord};
use crate::domain::words::announcement;
use crate::http::error::ApiError;
use crate::http::kit::{created, idempotency_key, parse_json, JsonBody};
use crate::http::pages::widget::WIDGET_STYLE_HASH;
use crate::payments::Created;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use paydigital::{rupiah, Status};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};
use time::OffsetDateTime;

/// The admin CSP, plus what the widget needs: its wasm (`'wasm-unsafe-eval'`, no `eval`),
/// its fallback stylesheet by the hash the build computed (browsers without constructable
/// stylesheets), its saved QR image (`blob:`).
pub static COUNTER_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
         style-src 'self' {WIDGET_STYLE_HASH}; img-src 'self' data: blob:; connect-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
});

#[derive(Deserialize, Default)]
pub struct CounterQuery {
    /// The sale in progress (`pay_…`), as the page put it in its address.
    #[serde(default)]
    sale: Option<String>,
}

/// A sale as the page needs it: to show, to announce, to charge again when it expired.
#[derive(Serialize)]
pub struct Sale {
    payment: String,
    status: &'static str,
    amount: u64,
    total_amount: u64,
    /// The cashier's note, if any (to charge the same again).
    note: Option<String>,
    /// What the soundbox says when it is paid.
    announce: String,
    /// Once paid: unix milliseconds by which it surely was (a resumed sale paid before its
    /// page opened is not announced again: admin.js).
    paid_at: Option<i128>,
    /// Its row in the list under the keypad.
    row: String,
    /// The receipt (`{CHECKOUT_PUBLIC_URL}/r/{token}`), shown as a QR once paid; null when
    /// the proxy has no public address (a phone could not open a path).
    receipt_url: Option<String>,
    /// That QR as an image from this origin (the page's CSP allows no other).
    receipt_qr: String,
}

impl Sale {
    fn of(state: &AppState, t: &Texts, p: &PaymentRecord, now: OffsetDateTime) -> Sale {
        let zone = state.config.upstream.zone;
        Sale {
            payment: p.id.clone(),
            status: status_at(p, now).as_str(),
            amount: p.amount,
            total_amount: p.total_amount,
            note: (p.description != DEFAULT_DESCRIPTION).then(|| p.description.clone()),
            announce: announcement(p.total_amount),
            paid_at: (p.status == Status::Paid).then(|| now_ms(paid_by(p, now))),
            row: render::to_html(render::payment_row(t, p, now, zone)),
            receipt_url: state.payments.views().receipt_url(&p.receipt_token),
            receipt_qr: format!("/r/{}/qr.svg", p.receipt_token),
        }
    }
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<CounterQuery>,
) -> Response {
    let t = staff.t();
    let c = counter_texts(staff.lang);
    let now = OffsetDateTime::now_utc();
    let zone = state.config.upstream.zone;
    let cashier = staff.email.as_str();
    let sale = match query.sale.as_deref() {
        Some(id) => state.payments.counter_sale(cashier, id).await,
        None => Ok(None),
    };
    let sales = state.payments.counter_sales(cashier, now).await;
    let (Ok(sale), Ok(sales)) = (sale, sales) else {
        return render::message_page(staff.lang, StatusCode::SERVICE_UNAVAILABLE, t.unavailable);
    };
    let sale = sale.map(|p| Sale::of(&state, t, &p, now));
    let sale_json = sale.as_ref().and_then(|s| serde_json::to_string(s).ok());
    let rules = &state.config.rules;
    let rows = html! { @for p in &sales { (render::payment_row(t, p, now, zone)) } };
    let body = html! {
        div #counter data-min=(rules.min_amount) data-max=(rules.max_amount)
            data-lang=(t.lang) data-sale=[sale_json.as_deref()] {
            noscript { p.error { (c.no_script) } }
            (keypad(c, rules.min_amount, sale.is_some()))
            (sale_view(c))
            (paid_view(c))
        }
        section #recent aria-labelledby="recent-title" {
            h2 #recent-title { (c.recent_sales) }
            div data-live="counter" data-live-since=(now_ms(now)) {
                (render::payments_table(t, rows, sales.is_empty(), false))
            }
        }
        script src="/checkout/paydigital-checkout.js" defer {}
        script src=(COUNTER_JS.url()) defer {}
    };
    let mut response = render::page(&staff.viewer(), Nav::Counter, t.counter, body);
    if let Ok(csp) = HeaderValue::from_str(&COUNTER_CSP) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

fn keypad(c: &CounterTexts, min: u64, hidden: bool) -> Markup {
    html! {
        section #keypad-view aria-label=(c.keypad) hidden[hidden] {
            form #charge-form {
                p.amount-label #amount-label { (c.amount) }
                output #amount-display aria-labelledby="amount-label" aria-live="polite" { (rupiah(0)) }
                div.keypad role="group" aria-label=(c.keypad) {
                    @for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "000", "0"] {
                        button type="button" data-key=(key) { (key) }
                    }
                    button.delete type="button" data-key="delete" { (c.delete) }
                }
                label for="note" { (c.note) }
                input #note name="note" type="text" maxlength="140" autocomplete="off" aria-describedby="note-hint";
                p.hint #note-hint { (c.note_hint) }
                p.hint #charge-hint { (c.minimum) " " (rupiah(min)) }
                p.error #charge-error role="alert" data-prefix=(c.failed) hidden {}
                button #charge.charge type="submit" disabled data-idle=(c.charge) data-busy=(c.charging) { (c.charge) }
            }
        }
    }
}

fn sale_view(c: &CounterTexts) -> Markup {
    html! {
        section #sale-view hidden {
            div #sale-slot {}
            div #sale-expired.notice hidden {
                p { (c.expired) " " strong #expired-amount {} }
                button #new-code type="button" { (c.new_code) }
            }
            p.error #sale-error role="alert" hidden {}
            button #cancel-sale.secondary type="button" { (c.cancel) }
        }
    }
}

fn paid_view(c: &CounterTexts) -> Markup {
    html! {
        section #paid-view.paid-screen role="status" hidden {
            p.paid-word { (c.paid) }
            p.paid-total #paid-total {}
            // The receipt's QR, for the customer's own phone (counter.js fills it in).
            figure.receipt-qr #receipt-qr hidden {
                img #receipt-qr-image alt=(c.receipt_scan) width="220" height="220";
                figcaption { (c.receipt_scan) br; code #receipt-qr-url {} }
            }
            button #new-sale type="button" { (c.new_sale) }
        }
    }
}

/// `POST /admin/counter/sales`: charges what the cashier keyed in, as them.
pub async fn charge(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?.ok_or_else(|| {
        ApiError::InvalidRequest(
            "Idempotency-Key is required: the counter names each sale with its own key".into(),
        )
    })?;
    let request: CounterSaleRequest = parse_json(&body)?;
    let Created { record, replayed } = state
        .payments
        .charge_at_counter(&state.config.rules, staff.email.as_str(), &key, request)
        .await?;
    let now = OffsetDateTime::now_utc();
    let sale = Sale::of(&state, staff.t(), &record, now);
    Ok(created(&record.id, sale, replayed))
}
