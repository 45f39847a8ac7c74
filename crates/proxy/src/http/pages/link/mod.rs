//! The customer's side of a payment link (`payment-links.md`): `GET /l/{id}` is a page with
//! the title, the amount (or an amount field within the link's bounds), Open Graph tags for
//! chat previews and a **Pay** (*Bayar*) form; it writes nothing (chat apps fetch links for
//! their previews). `POST /l/{id}` checks the form's one-time token (`domain/link_tokens.rs`),
//! makes the link's payment once per token and answers 303 to `/pay/{payment id}`. A link
//! that is sold out, deactivated or expired answers 410 and creates nothing; one being paid
//! up to its `max_payments` by others answers 409 with `Retry-After` (the place may free up
//! when an open payment expires: "try again shortly" is true, and 409 says the link's state,
//! not the client's rate, is why — 429 would blame the customer).

use self::press::{from_another_site, typed_amount, Press};
use self::texts::{bounded, texts};
use self::view::{link_form, notice, refused, LINK_PAGE_CSP};
use crate::domain::link_tokens::BadToken;
use crate::domain::links::{amount_to_pay, page_refusal, LinkWithTotals};
use crate::domain::new_payment::Invalid;
use crate::http::browser::client_key;
use crate::http::error::ApiError;
use crate::http::pages::lang::{lang_of, PageLang};
use crate::http::pages::layout::respond;
use crate::payments::links::LinkPayError;
use crate::payments::{Created, ServiceError};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use paydigital::rupiah;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;

pub mod press;
pub mod texts;
pub mod view;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/l/{id}", get(link_page).post(pay))
}

fn failed(lang: PageLang, e: ServiceError) -> Response {
    let t = texts(lang);
    match e {
        ServiceError::NotFound => notice(lang, StatusCode::NOT_FOUND, "404", t.not_found, None),
        e => {
            tracing::warn!(error = %e, "a payment link's press failed");
            let status = ApiError::from(e).status();
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
    respond(
        StatusCode::OK,
        link_form(&state, &link, lang, &token, None),
        LINK_PAGE_CSP,
    )
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
        .insert(crate::http::metrics::PaymentId(payment_id.to_owned()));
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
                Invalid::AmountOutOfRange { min, max } => {
                    bounded(t.amount_range, &rupiah(min), &rupiah(max))
                }
                _ => t.amount_whole.to_owned(),
            };
            let fresh = secret.issue(&link.link.id, now);
            return respond(
                StatusCode::BAD_REQUEST,
                link_form(&state, &link, lang, &fresh, Some(&message)),
                LINK_PAGE_CSP,
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
