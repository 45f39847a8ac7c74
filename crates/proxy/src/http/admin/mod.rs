//! The shop's people's room (`../shared/spec/dashboard.md`): sign in and out (`login.rs`),
//! the overview (`overview.rs`), payments with their detail, actions and export
//! (`payments.rs`), payment links (`links.rs`), the counter (`counter.rs`), **Cek bukti bayar** (`receipts.rs`), the audit log (`audit.rs`), the live feed the open pages poll
//! (`live.rs`) and the pages' own script and styles (`assets.rs`, served by `http/pages/assets.rs`). Pages are drawn on the
//! server (`render.rs`, words in `texts.rs`); who may see what is one extractor
//! (`session.rs`). Every state-changing request must come from the proxy's own origin
//! ([`same_origin_only`]), and no page may be framed or load anything from elsewhere.

pub mod assets;
mod audit;
mod counter;
mod links;
mod live;
mod login;
mod overview;
mod payments;
mod receipts;
pub mod render;
pub mod session;
pub mod texts;

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// Scripts and styles from this origin only, no inline script, nothing framing the page,
/// forms posting only here.
pub const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(overview::page))
        .route("/admin/login", get(login::form).post(login::submit))
        .route("/admin/logout", post(login::sign_out))
        .route("/admin/payments", get(payments::list))
        .route(
            "/admin/payments.csv",
            get(payments::export_asked).post(payments::export),
        )
        .route("/admin/payments/{id}", get(payments::detail))
        .route("/admin/payments/{id}/check", post(payments::check_now))
        .route(
            "/admin/payments/{id}/events/{event}/resend",
            post(payments::resend),
        )
        .route("/admin/audit", get(audit::page))
        .route("/admin/links", get(links::page).post(links::create))
        .route("/admin/links/{id}/active", post(links::set_active))
        .route("/admin/counter", get(counter::page))
        .route("/admin/counter/sales", post(counter::charge))
        .route("/admin/receipts", get(receipts::page).post(receipts::check))
        .route("/admin/live", get(live::changes))
        .layer(axum::middleware::from_fn_with_state(
            state,
            same_origin_only,
        ))
        .layer(
            tower::ServiceBuilder::new()
                // A page that needs more (the counter runs the widget) sets its own.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(ADMIN_CSP),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        )
}

/// Refuses (403, nothing done) a request that could change something unless it comes from
/// a page of this proxy: its `Origin`, or without one its `Referer`, must be the proxy's
/// origin. A request naming neither is refused too (every browser sends `Origin` on a POST).
async fn same_origin_only(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || from_own_origin(state.config.public_url.as_deref(), request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(
        path = request.uri().path(),
        "cross-origin admin request refused"
    );
    let lang = session::lang_of(request.headers());
    render::message_page(lang, StatusCode::FORBIDDEN, texts::texts(lang).cross_origin)
        .into_response()
}

/// Whether the request's `Origin` (else `Referer`) is the proxy's own: `CHECKOUT_PUBLIC_URL`'s
/// origin when set, else this request's `Host` (over either scheme).
pub fn from_own_origin(public_url: Option<&str>, headers: &HeaderMap) -> bool {
    let named = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(named) = named.and_then(origin_of) else {
        return false;
    };
    match public_url.and_then(origin_of) {
        Some(own) => named.eq_ignore_ascii_case(&own),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            host.is_some_and(|host| {
                named.eq_ignore_ascii_case(&format!("http://{host}"))
                    || named.eq_ignore_ascii_case(&format!("https://{host}"))
            })
        }
    }
}

/// `scheme://host[:port]` of a URL; `None` for `null` or anything that is not one.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty() && !authority.contains('@')).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_the_proxys_own_origin_may_change_anything() {
        let own = Some("https://pay.toko.id");
        assert!(from_own_origin(
            own,
            &headers(&[("origin", "https://pay.toko.id")])
        ));
        assert!(from_own_origin(
            own,
            &headers(&[("referer", "https://pay.toko.id/admin/payments?q=1")])
        ));
        for bad in [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "http://pay.toko.id")]),
            headers(&[("origin", "https://pay.toko.id.evil.example")]),
            headers(&[("origin", "null")]),
            // Origin wins over a Referer that looks right.
            headers(&[
                ("origin", "https://evil.example"),
                ("referer", "https://pay.toko.id/admin/"),
            ]),
            headers(&[("referer", "https://evil.example/https://pay.toko.id")]),
            headers(&[]),
        ] {
            assert!(!from_own_origin(own, &bad), "{bad:?}");
        }
        // Without a public URL, the Host the browser asked.
        let local = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(from_own_origin(None, &local));
        let other = headers(&[
            ("origin", "http://127.0.0.1:9999"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(!from_own_origin(None, &other));
    }
}
