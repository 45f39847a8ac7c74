//! The customer's side of a payment link (`payment-links.md`): `GET /l/{id}` is a page with
//! the title, the amount (or an amount field within the link's bounds), Open Graph tags for
//! chat previews and a **Pay** (*Bayar*) form; it writes nothing (chat apps fetch links for
//! their previews). `POST /l/{id}` checks the form's one-time token (`domain/link_tokens.rs`),
//! makes the link's payment once per token and answers 303 to `/pay/{payment id}`. A link
//! that is sold out, deactivated or expired answers 410 and creates nothing; one being paid
//! up to its `max_payments` by others answers 409 with `Retry-After` (the place may free up
//! when an open payment expires: "try again shortly" is true, and 409 says the link's state,
//! not the client's rate, is why — 429 would blame the customer).

use super::browser::client_key;
use super::hosted::PageLang;
use crate::domain::link_tokens::BadToken;
use crate::domain::links::{amount_to_pay, page_refusal, LinkAmount, LinkRefusal, LinkWithTotals};
use crate::domain::new_payment::Invalid;
use crate::payments::links::LinkPayError;
use crate::payments::{Created, ServiceError};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};
use paydigital::rupiah;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/l/{id}", get(link_page).post(pay))
}

/// Nothing runs on the page; its one form posts to this origin; nothing may frame it.
pub const LINK_PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How long a customer told "being paid" is asked to wait.
const BUSY_RETRY_SECS: u64 = 30;

struct Texts {
    pay: &'static str,
    amount_label: &'static str,
    amount_hint: &'static str,
    not_found: &'static str,
    sold_out: &'static str,
    inactive: &'static str,
    expired: &'static str,
    busy: &'static str,
    bad_token: &'static str,
    stale_token: &'static str,
    failed: &'static str,
    again: &'static str,
    qris: &'static str,
}

const ID: Texts = Texts {
    pay: "Bayar",
    amount_label: "Jumlah (Rp)",
    amount_hint: "Dari {min} sampai {max}",
    not_found: "Tautan pembayaran tidak ditemukan.",
    sold_out: "Maaf, sudah habis terjual.",
    inactive: "Tautan pembayaran ini sudah tidak aktif.",
    expired: "Tautan pembayaran ini sudah kedaluwarsa.",
    busy: "Sedang dibayar oleh pembeli lain. Coba lagi sebentar lagi.",
    bad_token: "Formulir ini bukan untuk tautan ini. Buka tautannya lagi.",
    stale_token: "Formulir ini sudah terlalu lama. Buka tautannya lagi.",
    failed: "Pembayaran belum bisa dibuat. Coba lagi.",
    again: "Kembali",
    qris: "Bayar dengan QRIS",
};

const EN: Texts = Texts {
    pay: "Pay",
    amount_label: "Amount (Rp)",
    amount_hint: "From {min} to {max}",
    not_found: "No such payment link.",
    sold_out: "Sorry, this is sold out.",
    inactive: "This payment link is no longer active.",
    expired: "This payment link has expired.",
    busy: "Someone else is paying right now. Please try again shortly.",
    bad_token: "This form is not for this link. Open the link again.",
    stale_token: "This form is too old. Open the link again.",
    failed: "The payment could not be made. Please try again.",
    again: "Back",
    qris: "Pay with QRIS",
};

fn texts(lang: PageLang) -> &'static Texts {
    match lang {
        PageLang::Id => &ID,
        PageLang::En => &EN,
    }
}

fn lang_of(headers: &HeaderMap) -> PageLang {
    PageLang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

const STYLE: &str = "body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f5f7fa;\
color:#1f2933}main{max-width:440px;margin:0 auto;padding:24px 16px}h1{font-size:1.3em;\
margin:0 0 8px}.amount{font-size:1.6em;font-weight:700;margin:8px 0 16px}label{display:block;\
font-weight:600}input{font:inherit;width:100%;box-sizing:border-box;padding:10px;margin:4px 0;\
border:1px solid #52606d;border-radius:6px}.hint{color:#3e4c59;font-size:.9em;margin:0 0 12px}\
button{font:inherit;font-weight:700;width:100%;padding:12px;border:0;border-radius:6px;\
background:#0b5cad;color:#fff;cursor:pointer}.notice{background:#fff;border-radius:8px;\
padding:16px}";

/// How the amount reads in a preview and on the page: `Rp 25.000`, or its bounds.
pub(super) fn amount_text(amount: LinkAmount, shop_min: u64, shop_max: u64) -> String {
    match amount {
        LinkAmount::Fixed(price) => rupiah(price),
        open => {
            let (low, high) = open.bounds(shop_min, shop_max);
            format!("{} – {}", rupiah(low), rupiah(high))
        }
    }
}

fn page(lang: PageLang, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(match lang { PageLang::Id => "id", PageLang::En => "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                // `same-origin`, not `no-referrer`: with no referrer a browser's form post
                // says `Origin: null`, and the Pay press is checked to come from this origin.
                meta name="referrer" content="same-origin";
                title { (title) }
                (head)
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
}

fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LINK_PAGE_CSP),
    );
    // Each view carries its own one-time token: never from a cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// A page that only says something (404, 410, 409, 400), with a way back where it helps.
fn notice(
    lang: PageLang,
    status: StatusCode,
    title: &str,
    message: &str,
    back: Option<&str>,
) -> Response {
    let t = texts(lang);
    respond(
        status,
        page(
            lang,
            title,
            html! {},
            html! {
                div.notice {
                    h1 { (title) }
                    p role="alert" { (message) }
                    @if let Some(back) = back { p { a href=(back) { (t.again) } } }
                }
            },
        ),
    )
}

fn refusal_message(t: &Texts, refusal: LinkRefusal) -> &'static str {
    match refusal {
        LinkRefusal::SoldOut => t.sold_out,
        LinkRefusal::Inactive => t.inactive,
        LinkRefusal::Expired => t.expired,
        LinkRefusal::Busy => t.busy,
    }
}

fn refused(lang: PageLang, link: &LinkWithTotals, refusal: LinkRefusal) -> Response {
    let t = texts(lang);
    let message = refusal_message(t, refusal);
    let back = format!("/l/{}", link.link.id);
    match refusal {
        LinkRefusal::Busy => {
            let mut response = notice(
                lang,
                StatusCode::CONFLICT,
                &link.link.title,
                message,
                Some(back.as_str()),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(BUSY_RETRY_SECS));
            response
        }
        _ => notice(lang, StatusCode::GONE, &link.link.title, message, None),
    }
}

fn failed(lang: PageLang, e: ServiceError) -> Response {
    let t = texts(lang);
    match e {
        ServiceError::NotFound => notice(lang, StatusCode::NOT_FOUND, "404", t.not_found, None),
        e => {
            tracing::warn!(error = %e, "a payment link's press failed");
            let status = super::error::ApiError::from(e).status();
            notice(lang, status, t.pay, t.failed, None)
        }
    }
}

/// The link and its totals, or the page saying why not.
async fn find(state: &AppState, id: &str, lang: PageLang) -> Result<LinkWithTotals, Response> {
    state.payments.link(id).await.map_err(|e| failed(lang, e))
}

async fn link_page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let link = match find(&state, &id, lang).await {
        Ok(link) => link,
        Err(response) => return response,
    };
    let now = OffsetDateTime::now_utc();
    if let Some(refusal) = page_refusal(&link.link, link.paid_count, now) {
        return refused(lang, &link, refusal);
    }
    let secret = match state.payments.form_secret().await {
        Ok(secret) => secret,
        Err(e) => return failed(lang, e),
    };
    let token = secret.issue(&link.link.id, now);
    respond(StatusCode::OK, link_form(&state, &link, lang, &token, None))
}

fn link_form(
    state: &AppState,
    l: &LinkWithTotals,
    lang: PageLang,
    token: &str,
    error: Option<&str>,
) -> Markup {
    let t = texts(lang);
    let rules = &state.config.rules;
    let link = &l.link;
    let amount = amount_text(link.amount, rules.min_amount, rules.max_amount);
    let views = state.payments.views();
    let absolute = views.public_url.is_some();
    let preview = match &link.description {
        Some(description) => format!("{amount} · {description}"),
        None => format!("{amount} · {}", t.qris),
    };
    let head = html! {
        meta property="og:type" content="website";
        meta property="og:title" content=(link.title);
        meta property="og:description" content=(preview);
        meta name="description" content=(preview);
        @if absolute {
            meta property="og:url" content=(views.link_url(&link.id));
            meta property="og:image" content=(views.poster_url(&link.id));
        }
    };
    let body = html! {
        h1 { (link.title) }
        @if let Some(description) = &link.description { p { (description) } }
        @if let Some(error) = error { p role="alert" { (error) } }
        form method="post" action={ "/l/" (link.id) } {
            input type="hidden" name="token" value=(token);
            @match link.amount {
                LinkAmount::Fixed(_) => { p.amount { (amount) } }
                open => {
                    @let (low, high) = open.bounds(rules.min_amount, rules.max_amount);
                    label for="amount" { (t.amount_label) }
                    input #amount name="amount" type="number" inputmode="numeric" required
                        min=(low) max=(high) step="1" aria-describedby="amount-hint";
                    p.hint #amount-hint {
                        (t.amount_hint.replace("{min}", &rupiah(low)).replace("{max}", &rupiah(high)))
                    }
                }
            }
            button type="submit" { (t.pay) }
        }
    };
    page(lang, &link.title, head, body)
}

/// What the form posts.
#[derive(serde::Deserialize)]
struct Press {
    #[serde(default)]
    token: String,
    #[serde(default)]
    amount: Option<String>,
}

/// A typed amount: digits, maybe grouped with dots or spaces as Indonesians write them.
fn typed_amount(text: Option<&str>) -> Result<Option<u64>, Invalid> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let digits: String = text.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::field(
            "amount",
            "amount is a whole number of rupiah",
        ));
    }
    digits
        .parse::<u64>()
        .map(Some)
        .map_err(|_| Invalid::field("amount", "amount is a whole number of rupiah"))
}

/// A form posted from another site is refused: the page is this origin's.
fn from_another_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// 303 to the payment's hosted page.
fn to_hosted_page(payment_id: &str) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/pay/{payment_id}"))],
    )
        .into_response();
    response
        .extensions_mut()
        .insert(super::metrics::PaymentId(payment_id.to_owned()));
    response
}

async fn pay(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let t = texts(lang);
    let link = match find(&state, &id, lang).await {
        Ok(link) => link,
        Err(response) => return response,
    };
    if from_another_site(&headers) {
        return notice(
            lang,
            StatusCode::FORBIDDEN,
            &link.link.title,
            t.bad_token,
            None,
        );
    }
    let back = format!("/l/{}", link.link.id);
    let press: Press = match serde_urlencoded::from_bytes(&body) {
        Ok(press) => press,
        Err(_) => {
            return notice(
                lang,
                StatusCode::BAD_REQUEST,
                &link.link.title,
                t.bad_token,
                Some(back.as_str()),
            )
        }
    };
    let now = OffsetDateTime::now_utc();
    let secret = match state.payments.form_secret().await {
        Ok(secret) => secret,
        Err(e) => return failed(lang, e),
    };
    let nonce = match secret.check(&press.token, &link.link.id, now) {
        Ok(nonce) => nonce,
        Err(bad) => {
            let message = match bad {
                BadToken::Stale => t.stale_token,
                BadToken::Malformed | BadToken::Forged => t.bad_token,
            };
            return notice(
                lang,
                StatusCode::BAD_REQUEST,
                &link.link.title,
                message,
                Some(back.as_str()),
            );
        }
    };
    // The form's own payment first: a reload after paying the last place is not "sold out".
    match state.payments.link_payment_made(&link.link, &nonce).await {
        Ok(Some(Created { record, .. })) => return to_hosted_page(&record.id),
        Ok(None) => {}
        Err(e) => return failed(lang, e),
    }
    if let Some(refusal) = page_refusal(&link.link, link.paid_count, now) {
        return refused(lang, &link, refusal);
    }
    let rules = &state.config.rules;
    let amount = match typed_amount(press.amount.as_deref()).and_then(|typed| {
        amount_to_pay(link.link.amount, typed, rules.min_amount, rules.max_amount)
    }) {
        Ok(amount) => amount,
        Err(invalid) => {
            let message = match invalid {
                Invalid::AmountOutOfRange { min, max } => match lang {
                    PageLang::Id => {
                        format!("Jumlah harus dari {} sampai {}.", rupiah(min), rupiah(max))
                    }
                    PageLang::En => format!(
                        "The amount must be from {} to {}.",
                        rupiah(min),
                        rupiah(max)
                    ),
                },
                _ => match lang {
                    PageLang::Id => "Tulis jumlahnya dalam rupiah, tanpa sen.".to_owned(),
                    PageLang::En => "Type the amount in whole rupiah.".to_owned(),
                },
            };
            let fresh = secret.issue(&link.link.id, now);
            return respond(
                StatusCode::BAD_REQUEST,
                link_form(&state, &link, lang, &fresh, Some(&message)),
            );
        }
    };
    if let Err(wait) = state
        .create_limiter
        .check(client_key(&state.config, &headers, peer))
    {
        let mut response = notice(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &link.link.title,
            t.busy,
            Some(back.as_str()),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().saturating_add(1)),
        );
        return response;
    }
    match state.payments.pay_link(&link.link, amount, &nonce).await {
        Ok(Created { record, .. }) => to_hosted_page(&record.id),
        Err(LinkPayError::Refused(refusal)) => refused(lang, &link, refusal),
        Err(LinkPayError::Service(e)) => failed(lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_amounts_as_people_write_them() {
        assert_eq!(typed_amount(None), Ok(None));
        assert_eq!(typed_amount(Some("  ")), Ok(None));
        assert_eq!(typed_amount(Some("25000")), Ok(Some(25_000)));
        assert_eq!(typed_amount(Some("25.000")), Ok(Some(25_000)));
        assert_eq!(typed_amount(Some("1 000 000")), Ok(Some(1_000_000)));
        for bad in ["-5", "1e4", "25,5", "Rp 5000", "99999999999999999999999"] {
            assert!(typed_amount(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_read_as_rupiah() {
        assert_eq!(
            amount_text(LinkAmount::Fixed(25_000), 1000, 10_000_000),
            "Rp 25.000"
        );
        assert_eq!(
            amount_text(
                LinkAmount::Open {
                    min: Some(5000),
                    max: None
                },
                1000,
                10_000_000
            ),
            "Rp 5.000 – Rp 10.000.000"
        );
    }
}
