//! A payment link's printable poster (`payment-links.md`): `GET /l/{id}/poster.svg` and
//! `/l/{id}/poster.png`, drawn by `crate::posters` from the link's title, its price and its
//! public URL. A poster of a deactivated or sold-out link is still served: the owner may
//! want the file, and the page it opens says why nothing can be paid.

use super::error::ApiError;
use super::pages::link::view::amount_text;
use crate::posters::{self, Poster};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/l/{id}/poster.svg", get(poster_svg))
        .route("/l/{id}/poster.png", get(poster_png))
}

/// Rasterising a 300 dpi page takes a core for a moment: chat previews fetch the PNG (it is
/// the link page's `og:image`), so at most two are drawn at once and the rest wait.
static DRAWING: Semaphore = Semaphore::const_new(2);

enum Format {
    Svg,
    Png,
}

async fn poster_svg(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    poster(&state, &id, Format::Svg).await.into_response()
}

async fn poster_png(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    poster(&state, &id, Format::Png).await.into_response()
}

async fn poster(state: &AppState, id: &str, format: Format) -> Result<Response, ApiError> {
    let link = state.payments.link(id).await?.link;
    // The QR must open the link on a customer's phone: a path alone opens nothing. A proxy
    // without its public address is misconfigured (the log says so), not asked wrongly.
    let public_url = state.config.public_url.as_deref().ok_or_else(|| {
        ApiError::Internal(
            "a poster needs CHECKOUT_PUBLIC_URL: the address a phone opens from its QR".into(),
        )
    })?;
    let url = format!("{public_url}/l/{}", link.id);
    let rules = &state.config.rules;
    let price = amount_text(link.amount, rules.min_amount, rules.max_amount);
    let title = link.title.clone();
    let _turn = DRAWING
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(format!("poster queue closed: {e}")))?;
    let (content_type, body) = tokio::task::spawn_blocking(move || {
        let poster = Poster {
            title: &title,
            price: &price,
            url: &url,
        };
        match format {
            Format::Svg => posters::svg(&poster).map(|svg| ("image/svg+xml", svg.into_bytes())),
            Format::Png => posters::png(&poster).map(|png| ("image/png", png)),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("drawing a poster: {e}")))?
    .map_err(|e| ApiError::Internal(format!("{id}: poster: {e}")))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // What a poster shows never changes (a link's title, amount and address are fixed).
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    // An SVG opened on its own is a document: it may run nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(response)
}
