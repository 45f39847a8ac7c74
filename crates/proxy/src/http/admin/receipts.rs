//! **Cek bukti bayar** (`/admin/receipts`, cashier and owner): paste a receipt link or its
//! token and learn the payment it belongs to, or that it is not one of this shop's receipts
//! (a link on another host — a fake page — or a token the store does not know, however
//! alike). The answer is read from the store; every check is in the audit log.

use super::render::{self, moment, status_badge, Nav};
use super::session::Staff;
use crate::domain::payment::{status_at, PaymentRecord};
use crate::domain::receipts::{read_pasted, Pasted};
use crate::domain::staff::AuditAction;
use crate::http::pages::lang::PageLang;
use crate::payments::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use paydigital::rupiah;
use serde::Deserialize;
use std::sync::Arc;
use time::OffsetDateTime;

struct Texts {
    intro: &'static str,
    label: &'static str,
    check: &'static str,
    ours: &'static str,
    not_ours: &'static str,
    other_host: &'static str,
    unknown: &'static str,
    malformed: &'static str,
    open_payment: &'static str,
}

const ID: Texts = Texts {
    intro: "Tempel tautan struk (atau tokennya) yang dikirim pembeli. Jawabannya dibaca dari catatan toko.",
    label: "Tautan atau token struk",
    check: "Cek",
    ours: "Struk dari toko ini",
    not_ours: "Bukan struk dari toko ini",
    other_host: "Tautan ini ada di alamat lain:",
    unknown: "Token ini tidak ada di catatan toko.",
    malformed: "Ini bukan tautan struk.",
    open_payment: "Buka pembayaran",
};

const EN: Texts = Texts {
    intro: "Paste the receipt link (or its token) a customer sent. The answer is read from the shop's records.",
    label: "Receipt link or token",
    check: "Check",
    ours: "One of our receipts",
    not_ours: "Not one of our receipts",
    other_host: "This link is on another address:",
    unknown: "The shop's records have no such token.",
    malformed: "This is not a receipt link.",
    open_payment: "Open the payment",
};

fn texts(lang: PageLang) -> &'static Texts {
    match lang {
        PageLang::Id => &ID,
        PageLang::En => &EN,
    }
}

/// Longest paste kept: a receipt URL is well under it; the rest is not looked at.
const MAX_PASTE: usize = 512;

#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    receipt: String,
}

/// What the check found.
enum Answer {
    Ours(Box<PaymentRecord>),
    OtherHost(String),
    Unknown,
    Malformed,
}

/// This shop's host: `CHECKOUT_PUBLIC_URL`'s, else the one the dashboard was opened on.
fn own_host(state: &AppState, headers: &HeaderMap) -> String {
    let configured = state.config.public_url.as_deref().and_then(|url| {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        rest.split('/').next().map(str::to_owned)
    });
    configured
        .or_else(|| {
            let host = headers.get(header::HOST)?.to_str().ok()?;
            Some(host.to_owned())
        })
        .unwrap_or_default()
}

pub async fn page(staff: Staff) -> Response {
    draw(&staff, None, "", None)
}

pub async fn check(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CheckForm>,
) -> Response {
    let pasted: String = form.receipt.chars().take(MAX_PASTE).collect();
    let host = own_host(&state, &headers);
    let answer = match read_pasted(&pasted, &host) {
        Pasted::NotAReceipt => Answer::Malformed,
        Pasted::OtherHost(other) => Answer::OtherHost(other.to_owned()),
        Pasted::Token(token) => match state.payments.by_receipt_token(token).await {
            Ok(record) => Answer::Ours(Box::new(record)),
            Err(ServiceError::NotFound) => Answer::Unknown,
            Err(e) => {
                tracing::error!(error = %e, "cannot check a receipt");
                let t = staff.t();
                return render::message_page(
                    staff.lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    t.unavailable,
                );
            }
        },
    };
    // The subject says what was found, never the pasted text itself (it may be anything).
    let subject = match &answer {
        Answer::Ours(record) => record.id.clone(),
        Answer::OtherHost(other) => format!("not ours: another host ({other})"),
        Answer::Unknown => "not ours: unknown token".to_owned(),
        Answer::Malformed => "not ours: not a receipt".to_owned(),
    };
    if let Err(e) = state
        .staff
        .record(
            &staff.email,
            AuditAction::ReceiptCheck,
            Some(subject),
            staff.ip,
        )
        .await
    {
        tracing::error!(error = %e, "cannot audit a receipt check");
    }
    let zone = state.config.upstream.zone;
    draw(&staff, Some(&answer), &pasted, Some(zone))
}

fn draw(
    staff: &Staff,
    answer: Option<&Answer>,
    pasted: &str,
    zone: Option<time::UtcOffset>,
) -> Response {
    let t = texts(staff.lang);
    let title = staff.t().check_receipt;
    let body = html! {
        h1 { (title) }
        p { (t.intro) }
        form.receipt-check method="post" action="/admin/receipts" {
            label for="receipt" { (t.label) }
            input #receipt name="receipt" type="text" value=(pasted) required
                autocomplete="off" maxlength=(MAX_PASTE) spellcheck="false";
            button type="submit" { (t.check) }
        }
        @if let Some(answer) = answer {
            (answer_markup(staff, t, answer, zone.unwrap_or(time::UtcOffset::UTC)))
        }
    };
    render::page(&staff.viewer(), Nav::Receipts, title, body)
}

fn answer_markup(staff: &Staff, t: &Texts, answer: &Answer, zone: time::UtcOffset) -> Markup {
    let words = staff.t();
    match answer {
        Answer::Ours(p) => {
            let status = status_at(p, OffsetDateTime::now_utc());
            html! {
                section.check-answer.ours role="status" data-answer="ours" {
                    h2 { (t.ours) }
                    dl.facts {
                        dt { (words.status) } dd { (status_badge(words, status)) @if p.late { " (" (words.late) ")" } }
                        dt { (words.total) } dd.big { (rupiah(p.total_amount)) }
                        @if let Some(paid) = p.paid_at { dt { (words.paid_at) } dd { (moment(paid, zone)) } }
                        dt { (words.invoice) } dd { (p.invoice) }
                        @if let Some(reference) = &p.reference { dt { (words.reference) } dd { (reference) } }
                        @if !p.description.is_empty() { dt { (words.description) } dd { (p.description) } }
                    }
                    p { a href={ "/admin/payments/" (p.id) } { (t.open_payment) } }
                }
            }
        }
        not_ours => {
            let why = match not_ours {
                Answer::OtherHost(other) => html! { (t.other_host) " " code { (other) } },
                Answer::Unknown => html! { (t.unknown) },
                _ => html! { (t.malformed) },
            };
            html! {
                section.check-answer.not-ours role="alert" data-answer="not-ours" {
                    h2 { (t.not_ours) }
                    p { (why) }
                }
            }
        }
    }
}
