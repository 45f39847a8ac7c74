//! Which language a page speaks, decided once for every page the proxy draws (the hosted
//! payment page, a payment link's page, the API docs, the dashboard and the counter): the
//! language a person chose on any of them (the `pd_lang` cookie, for the whole site), else
//! what their browser asks for (`Accept-Language`), else Indonesian. `GET /lang?to=en&back=…`
//! is the switch every page links to.

use crate::http::kit::cookie;
use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The language switch's cookie (`id`, `en`): a preference, not a secret.
pub const LANG_COOKIE: &str = "pd_lang";

/// A page's language: Indonesian first, English second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLang {
    Id,
    En,
}

impl PageLang {
    /// English when the browser prefers it to Indonesian, Indonesian otherwise.
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
            // Ties go to the first named, as the person ordered them.
            if q > best.1 {
                best = (lang, q);
            }
        }
        best.0
    }

    /// The `lang` attribute's value.
    pub fn code(self) -> &'static str {
        match self {
            PageLang::Id => "id",
            PageLang::En => "en",
        }
    }

    /// The other one: what the switch offers.
    pub fn other(self) -> PageLang {
        match self {
            PageLang::Id => PageLang::En,
            PageLang::En => PageLang::Id,
        }
    }

    /// The switch's label, in the language it switches to.
    pub fn name(self) -> &'static str {
        match self {
            PageLang::Id => "Bahasa Indonesia",
            PageLang::En => "English",
        }
    }
}

/// The one rule: the chosen language, else the browser's, else Indonesian.
pub fn lang_of(headers: &HeaderMap) -> PageLang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => PageLang::En,
        Some("id") => PageLang::Id,
        _ => PageLang::from_accept_language(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    }
}

/// Where the switch sends a person back to: a path on this site, never another host
/// (`//host`, `/\host` and anything not starting with `/` go to the dashboard's start).
pub fn safe_back(back: Option<&str>) -> &str {
    match back {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path
        }
        _ => "/admin/",
    }
}

/// The switch's address on a page at `here`.
pub fn switch_href(current: PageLang, here: &str) -> String {
    let back: String = url_escape(here);
    format!("/lang?to={}&back={back}", current.other().code())
}

/// Percent-escapes what a query value may not hold as it is.
fn url_escape(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct Switch {
    #[serde(default)]
    to: String,
    #[serde(default)]
    back: Option<String>,
}

/// Remembers the language on this device for every page of the site (no session needed) and
/// goes back to the page the switch was on. The cookie once scoped to `/admin` is cleared, so
/// an old choice cannot shadow the new one there.
pub async fn switch_language(Query(switch): Query<Switch>) -> Response {
    let lang = if switch.to == "en" { "en" } else { "id" };
    let mut response = Redirect::to(safe_back(switch.back.as_deref())).into_response();
    let headers = response.headers_mut();
    for cookie in [
        format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000"),
        format!("{LANG_COOKIE}=; Path=/admin; SameSite=Lax; Max-Age=0"),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_chosen_language_beats_the_browsers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("id-ID"));
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; pd_lang=en"));
        assert_eq!(lang_of(&headers), PageLang::En);
        headers.insert(header::COOKIE, HeaderValue::from_static("pd_lang=xx"));
        assert_eq!(lang_of(&headers), PageLang::Id);
    }

    #[test]
    fn the_switch_only_goes_back_to_this_site() {
        assert_eq!(safe_back(Some("/l/abc?x=1")), "/l/abc?x=1");
        for bad in [
            None,
            Some("https://evil.example/"),
            Some("//evil.example/"),
            Some("/\\evil.example/"),
            Some("javascript:alert(1)"),
            Some("/a b"),
        ] {
            assert_eq!(safe_back(bad), "/admin/", "{bad:?}");
        }
        assert_eq!(
            switch_href(PageLang::Id, "/l/abc?x=1&y=2"),
            "/lang?to=en&back=%2Fl%2Fabc%3Fx%3D1%26y%3D2"
        );
    }
}
