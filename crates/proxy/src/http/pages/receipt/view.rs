//! How the receipt page looks: paid (the shop, **LUNAS**, the amount, what for, the
//! invoice, the paid time, QRIS via PayDigital, the source, who verified it), not paid (that
//! alone), or not found.

use super::texts::{source_word, texts};
use super::Facts;
use crate::http::pages::assets::Asset;
use crate::http::pages::lang::PageLang;
use crate::http::pages::layout::{page, respond, Frame};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

/// The receipt's own stylesheet: its look on screen and in print (58 mm and A6).
pub static RECEIPT_CSS: Asset = Asset::new("receipt.css", include_str!("../assets/receipt.css"));

/// Nothing runs on the page; its images (the PNG link) are from here; nothing may frame it.
pub const RECEIPT_PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the page is, to fill in the frame.
pub enum Shown<'a> {
    Paid(&'a Facts),
    NotPaid,
    NotFound,
}

/// The answer: the page, `no-store` and the CSP (from `respond`), and `X-Robots-Tag` so no
/// search engine keeps a customer's receipt even when the meta tag is not read (the PNG).
pub fn receipt_response(lang: PageLang, here: &str, shown: Shown<'_>) -> Response {
    let t = texts(lang);
    let status = match shown {
        Shown::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let frame = Frame {
        lang,
        title: t.title,
        here,
        class: "receipt",
    };
    let head = html! { link rel="stylesheet" href=(RECEIPT_CSS.url()); };
    let body = match shown {
        Shown::Paid(facts) => paid(lang, here, facts),
        Shown::NotPaid => html! { div.slip { p.state.unpaid role="status" { (t.not_paid) } } },
        Shown::NotFound => html! { div.slip { p role="alert" { (t.not_found) } } },
    };
    let mut response = respond(status, page(&frame, head, body), RECEIPT_PAGE_CSP);
    noindex(&mut response);
    response
}

/// `X-Robots-Tag: noindex`.
pub fn noindex(response: &mut Response) {
    response.headers_mut().insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
}

fn paid(lang: PageLang, here: &str, f: &Facts) -> Markup {
    let t = texts(lang);
    html! {
        div.slip {
            p.shop { (f.shop) }
            p.state.paid role="status" { (t.paid) }
            @if f.late { p.late { (t.late) } }
            p.total { (f.amount) }
            dl {
                dt { (t.what_for) } dd { (f.what_for) }
                @if let Some(reference) = &f.reference { dt { (t.reference) } dd { (reference) } }
                @if let Some(customer) = &f.customer { dt { (t.customer) } dd { (customer) } }
                dt { (t.invoice) } dd { (f.invoice) }
                dt { (t.paid_at) } dd { (f.paid_at) }
                dt { (t.method) } dd { "QRIS via PayDigital" }
                dt { (t.source) } dd { (source_word(t, f.source)) }
            }
            p.verified { (t.verified.replace("{host}", &f.host)) }
            p.actions { a href={ (here) ".png" } download { (t.image) } }
        }
    }
}
