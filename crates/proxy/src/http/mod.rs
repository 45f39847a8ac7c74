//! Every route of the proxy and the layers around them. Each front door has its module:
//! `browser.rs` (the widget's API), `merchant.rs` and `merchant_links.rs` (the shop's
//! server), `qr_images.rs` (a payment's QR as SVG and PNG), `widget_files.rs` (the widget
//! itself and the demo shop), `link_poster.rs` (a payment link's poster), `pages/` (every
//! page drawn for a person on one layer: the hosted payment page, a link's page, the API
//! docs, the language switch, the pages' assets), `admin/` (the shop's people: sign-in,
//! dashboard, counter, live feed), `openapi.rs` (the OpenAPI document generated from the
//! handlers);
//! `kit.rs` is what their handlers share, `error.rs` the one error they answer with, and
//! `client_ip.rs` who the client behind the reverse proxies is; `serve.rs` the connection
//! loop (header timeout, connection cap, graceful shutdown); `metrics.rs` what each request
//! is counted and logged as, and the `/metrics` page.
//! Handlers parse, authorise and answer; what a payment does is the service's
//! (`crate::payments`).

pub mod admin;
pub mod browser;
pub mod client_ip;
pub mod error;
pub mod kit;
pub mod link_poster;
pub mod merchant;
pub mod merchant_links;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod qr_images;
pub mod serve;
pub mod widget_files;

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Body limit for every request.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API routes, the pages, and the widget's files from `static_dir` (and its demo shop,
/// in sandbox).
pub fn router(state: Arc<AppState>, static_dir: &Path) -> Router {
    let storefront = !state.config.livemode;
    // Each API router adds `no_store` in its own (single) layer call: a `layer` over the
    // merged routers would box every route once more, cloned on every request.
    let api = browser::router(state.clone())
        .merge(merchant::router(state.clone()))
        .route("/healthz", get(healthz).layer(kit::no_store()));
    api.merge(pages::docs::router(&state.config.rules))
        .merge(qr_images::router())
        .merge(pages::hosted::router())
        .merge(pages::link::router())
        .merge(pages::receipt::router())
        .merge(link_poster::router())
        .merge(admin::router(state.clone()))
        .route("/lang", get(pages::lang::switch_language))
        .with_state(state)
        .merge(pages::assets::router(&[
            &pages::layout::PAGE_CSS,
            &pages::layout::ICON,
            &pages::receipt::view::RECEIPT_CSS,
            &pages::docs::DOCS_CSS,
            &admin::assets::ADMIN_CSS,
            &admin::assets::ADMIN_JS,
            &admin::assets::COUNTER_JS,
        ]))
        .merge(widget_files::router(static_dir, storefront))
}

/// 200, or 503 naming what is wrong with the store (`store`: a full disk, a held lock, an
/// unreachable server...) for the operator; a load balancer reads only the status.
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.payments.health().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            let (store, message) = match &e {
                crate::payments::ServiceError::StoreUnavailable { reason, .. } => {
                    (reason.as_str(), reason.describe())
                }
                // Answered, but with an error (see the log): not something that passes.
                _ => ("failing", "the payment store is not available"),
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "status": "unavailable",
                    "store": store,
                    "error": { "code": "unavailable", "message": message },
                })),
            )
                .into_response()
        }
    }
}

#[derive(Clone, Default)]
struct Sequential(Arc<AtomicU64>);

impl MakeRequestId for Sequential {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        // A number: `HeaderValue::from(u64)` writes its digits straight into the header,
        // where a formatted string cost a second allocation on every request.
        let id = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Some(RequestId::new(HeaderValue::from(id)))
    }
}

/// A client's own `x-request-id` is kept (a load balancer's id ties its logs to ours) only
/// when it looks like one: up to 64 of `A-Z a-z 0-9 . _ -`. Anything else is replaced, so
/// nobody writes what they like into the logs and answers.
fn drop_unfit_request_id<B>(mut req: Request<B>) -> Request<B> {
    let fit = req.headers().get("x-request-id").is_none_or(|v| {
        let v = v.as_bytes();
        (1..=64).contains(&v.len())
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    if !fit {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// The span a request's log lines are recorded in, naming the request and this proxy
/// (`instance_id`: request ids are counted per process, so a warning from one of several
/// proxies is only placed by both). Status reads — the hot path, thousands a second, logging
/// nothing of their own but upstream reads, which name their invoice — get none: a span per
/// read cost a fifth of the read's CPU time (BENCHMARKS.md).
fn request_span<B>(req: &Request<B>, instance_id: &str) -> tracing::Span {
    let path = req.uri().path();
    if req.method() == axum::http::Method::GET && path.starts_with("/api/payments/") {
        return tracing::Span::none();
    }
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", id, instance_id, method = %req.method(), path)
}

/// Request metrics and access log lines (as `observe` says; see `metrics.rs`), request ids,
/// structured request logs (path only: query strings stay out), security headers, body
/// limit — one stack around the whole router, served as it is.
///
/// Built with `ServiceBuilder` outside the router rather than with `Router::layer`: each
/// `Router::layer` boxes every route once more, and axum clones a route's boxes for every
/// request, so ten layers were ten allocations and clones per status read (BENCHMARKS.md).
pub fn with_hygiene(
    router: Router,
    observe: metrics::Observe,
) -> impl tower::Service<
    Request<axum::body::Body>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    let x_request_id = header::HeaderName::from_static("x-request-id");
    let instance_id = observe.instance_id();
    let make_span = move |req: &Request<axum::body::Body>| request_span(req, &instance_id);
    tower::ServiceBuilder::new()
        // What axum::serve takes: the layers' body types, boxed once.
        // Outermost: it times the whole stack.
        .layer(observe)
        .map_response(axum::response::IntoResponse::into_response)
        .map_request(drop_unfit_request_id::<axum::body::Body>)
        .layer(SetRequestIdLayer::new(
            x_request_id.clone(),
            Sequential::default(),
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(TraceLayer::new_for_http().make_span_with(make_span))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .service(router)
}
