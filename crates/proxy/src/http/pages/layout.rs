//! The frame around every customer page (the hosted payment page, a payment link's page):
//! the document head, the one stylesheet, the language switch, and the answer's headers —
//! the page's CSP, `no-store`, and `Vary` on what chose its language.

use super::assets::Asset;
use super::lang::{switch_href, PageLang};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// The pages' icon (a browser asks for `/favicon.ico` when a page names none: a 404 each time).
pub static ICON: Asset = Asset::new("icon.svg", include_str!("assets/icon.svg"));

/// The customer pages' stylesheet.
pub static PAGE_CSS: Asset = Asset::new("page.css", include_str!("assets/page.css"));

/// What a customer page says about itself.
pub struct Frame<'a> {
    pub lang: PageLang,
    pub title: &'a str,
    /// The page's own path (and query), where the language switch comes back to.
    pub here: &'a str,
    /// `class` of `<body>`, for a page's own look.
    pub class: &'a str,
}

/// A whole page: `head` adds to the document's head (meta tags, scripts from this origin).
pub fn page(frame: &Frame<'_>, head: Markup, body: Markup) -> Markup {
    let other = frame.lang.other();
    html! {
        (DOCTYPE)
        html lang=(frame.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                // `same-origin`, not `no-referrer`: with no referrer a browser's form post
                // says `Origin: null`, and a link's Pay press is checked to come from here.
                meta name="referrer" content="same-origin";
                title { (frame.title) }
                link rel="icon" type="image/svg+xml" href=(ICON.url());
                link rel="stylesheet" href=(PAGE_CSS.url());
                (head)
            }
            body class=(frame.class) {
                main {
                    p.lang { a href=(switch_href(frame.lang, frame.here)) lang=(other.code()) { (other.name()) } }
                    (body)
                }
            }
        }
    }
}

/// The answer: the page with its policy; never from a cache (each view may carry a one-time
/// token or a live status), and it differs by language.
pub fn respond(status: StatusCode, markup: Markup, csp: &str) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}
