//! How a payment link's page looks: the form (title, amount or an amount field within the
//! link's bounds, Open Graph tags for chat previews, **Bayar**) and the notices that say why
//! not (404, 409, 410, 400).

use super::texts::{bounded, texts, Texts};
use crate::domain::links::{LinkAmount, LinkRefusal, LinkWithTotals};
use crate::http::pages::lang::PageLang;
use crate::http::pages::layout::{page, respond, Frame};
use crate::state::AppState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use paydigital::rupiah;

/// Nothing runs on the page; its one form posts to this origin; nothing may frame it.
pub const LINK_PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How long a customer told "being paid" is asked to wait.
const BUSY_RETRY_SECS: u64 = 30;

/// How the amount reads in a preview and on the page: `Rp 25.000`, or its bounds.
pub fn amount_text(amount: LinkAmount, shop_min: u64, shop_max: u64) -> String {
    match amount {
        LinkAmount::Fixed(price) => rupiah(price),
        open => {
            let (low, high) = open.bounds(shop_min, shop_max);
            format!("{} – {}", rupiah(low), rupiah(high))
        }
    }
}

fn link_here(id: &str) -> String {
    format!("/l/{id}")
}

/// A page that only says something, with a way back where it helps.
pub fn notice(
    lang: PageLang,
    status: StatusCode,
    title: &str,
    message: &str,
    back: Option<&str>,
) -> Response {
    let t = texts(lang);
    let frame = Frame {
        lang,
        title,
        here: back.unwrap_or("/"),
        class: "link",
    };
    let body = html! {
        div.notice {
            h1 { (title) }
            p role="alert" { (message) }
            @if let Some(back) = back { p { a href=(back) { (t.again) } } }
        }
    };
    respond(status, page(&frame, html! {}, body), LINK_PAGE_CSP)
}

fn refusal_message(t: &Texts, refusal: LinkRefusal) -> &'static str {
    match refusal {
        LinkRefusal::SoldOut => t.sold_out,
        LinkRefusal::Inactive => t.inactive,
        LinkRefusal::Expired => t.expired,
        LinkRefusal::Busy => t.busy,
    }
}

/// 410 for a link that takes no more payments; 409 + `Retry-After` while its last place is
/// being paid (the place may free up when an open payment expires).
pub fn refused(lang: PageLang, link: &LinkWithTotals, refusal: LinkRefusal) -> Response {
    let message = refusal_message(texts(lang), refusal);
    let back = link_here(&link.link.id);
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

/// The link's form, with an error above it after a bad press.
pub fn link_form(
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
        form method="post" action=(link_here(&link.id)) {
            input type="hidden" name="token" value=(token);
            @match link.amount {
                LinkAmount::Fixed(_) => { p.amount { (amount) } }
                open => {
                    @let (low, high) = open.bounds(rules.min_amount, rules.max_amount);
                    label for="amount" { (t.amount_label) }
                    input #amount name="amount" type="number" inputmode="numeric" required
                        min=(low) max=(high) step="1" aria-describedby="amount-hint";
                    p.hint #amount-hint { (bounded(t.amount_hint, &rupiah(low), &rupiah(high))) }
                }
            }
            button type="submit" { (t.pay) }
        }
    };
    let here = link_here(&link.id);
    let frame = Frame {
        lang,
        title: &link.title,
        here: &here,
        class: "link",
    };
    page(&frame, head, body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
