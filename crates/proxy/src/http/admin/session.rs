//! Who is asking: the one extractor every admin route takes. [`Staff`] is any signed-in
//! person (a live session from the cookie, checked in the store on every request), [`Owner`]
//! only the owner. Without a session a page is redirected to the login page and a data
//! request gets 401; a cashier asking for an owner's page gets 403.

use super::render;
use super::texts::{texts, Texts};
use crate::domain::staff::{Email, Role, SessionToken};
use crate::http::client_ip::client_ip;
use crate::http::kit::cookie;
pub use crate::http::pages::lang::{lang_of, PageLang};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "pd_session";

/// A signed-in member of staff, and what every page needs about the request.
pub struct Staff {
    pub email: Email,
    pub role: Role,
    pub token: SessionToken,
    pub ip: IpAddr,
    pub lang: PageLang,
}

impl Staff {
    pub fn t(&self) -> &'static Texts {
        texts(self.lang)
    }

    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    /// Who the pages are drawn for.
    pub fn viewer(&self) -> render::Viewer<'_> {
        render::Viewer {
            email: self.email.as_str(),
            role: self.role,
            lang: self.lang,
        }
    }
}

/// The owner: everything a cashier may not do.
pub struct Owner(pub Staff);

/// Why a request was not let in.
pub enum Refused {
    /// No live session: the login page (a page) or 401 (`/admin/live`, a counter sale).
    NotSignedIn { wants_data: bool },
    /// Signed in, but not allowed this.
    Forbidden(PageLang),
    /// The store could not say.
    Unavailable(PageLang),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NotSignedIn { wants_data: true } => (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({ "error": { "code": "unauthorized", "message": "sign in at /admin/login" } })),
            )
                .into_response(),
            Refused::NotSignedIn { wants_data: false } => {
                Redirect::to("/admin/login").into_response()
            }
            Refused::Forbidden(lang) => {
                render::message_page(lang, StatusCode::FORBIDDEN, texts(lang).forbidden)
            }
            Refused::Unavailable(lang) => render::message_page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                texts(lang).unavailable,
            ),
        }
    }
}

/// The client as `security.md` decides it (trusted proxies' `X-Forwarded-For`).
pub fn ip_of(parts: &Parts, state: &AppState) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    client_ip(&state.config.trusted_proxies, peer, forwarded)
}

/// The `Set-Cookie` that starts a session: `HttpOnly`, `SameSite=Strict`, `Path=/admin`,
/// `Secure` when the proxy is served over https. No `Max-Age`: it ends with the browser,
/// and the server ends it after `CHECKOUT_SESSION_IDLE_SECS` unused.
pub fn session_cookie(token: &SessionToken, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/admin{secure}",
        token.expose()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("pd_session=; Path=/admin"))
}

/// The `Set-Cookie` that drops it from the browser (the server has ended it already).
pub fn cleared_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "pd_session=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("pd_session=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0")
    }
}

/// Whether cookies get `Secure`: the proxy's public URL is https.
pub fn secure_cookies(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"))
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Staff, Refused> {
        let lang = lang_of(&parts.headers);
        // What a page's script asks for gets 401 (it sends the person to sign in).
        let path = parts.uri.path();
        let wants_data = path.starts_with("/admin/live") || path == "/admin/counter/sales";
        let Some(token) =
            cookie(&parts.headers, SESSION_COOKIE).and_then(SessionToken::from_cookie)
        else {
            return Err(Refused::NotSignedIn { wants_data });
        };
        let token_text = token.expose().to_owned();
        let session = state.staff.session(token).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read a staff session");
            Refused::Unavailable(lang)
        })?;
        let Some(session) = session else {
            return Err(Refused::NotSignedIn { wants_data });
        };
        Ok(Staff {
            email: session.email,
            role: session.role,
            token: SessionToken::from_cookie(&token_text)
                .ok_or(Refused::NotSignedIn { wants_data })?,
            ip: ip_of(parts, state),
            lang,
        })
    }
}

impl FromRequestParts<Arc<AppState>> for Owner {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Owner, Refused> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.is_owner() {
            Ok(Owner(staff))
        } else {
            Err(Refused::Forbidden(staff.lang))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderMap};

    #[test]
    fn the_session_cookie_is_http_only_strict_and_scoped_to_admin() {
        let token = SessionToken::new();
        let plain = session_cookie(&token, false);
        let plain = plain.to_str().expect("ascii");
        assert!(plain.starts_with(&format!("pd_session={}", token.expose())));
        for part in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
            assert!(plain.contains(part), "{plain}");
        }
        assert!(!plain.contains("Secure"));
        assert!(session_cookie(&token, true)
            .to_str()
            .expect("ascii")
            .ends_with("; Secure"));
    }

    #[test]
    fn cookies_are_found_among_others_and_the_switch_beats_accept_language() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pd_session=abc; pd_lang=en"),
        );
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("id-ID"));
        assert_eq!(cookie(&headers, "pd_session"), Some("abc"));
        assert_eq!(cookie(&headers, "pd"), None);
        assert_eq!(lang_of(&headers), PageLang::En);
        headers.remove(header::COOKIE);
        assert_eq!(lang_of(&headers), PageLang::Id);
    }
}
