//! Watching requests: every request's route template, status and time go to the metrics
//! (`crate::metrics`) and, with `CHECKOUT_LOG_FORMAT=json`, to a log line of its own; and the
//! `/metrics` page, served on `CHECKOUT_METRICS_LISTEN` only.
//!
//! Two small layers, both off unless metrics or JSON logs are on: [`tag_routes`] inside the
//! router (the one place that knows which template matched) puts the template on the
//! response, and [`Observe`], outside it with the hygiene layers, times the request and
//! records it. Neither boxes a future: each wraps the inner one in a pinned struct.

use crate::metrics::{method_label, Route};
use crate::payments::Payments;
use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderValue, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use time::OffsetDateTime;

/// The payment a response is about, for its log line: a create's new payment (the path
/// cannot name it). Responses whose route has an `{id}` need none.
#[derive(Clone, Debug)]
pub struct PaymentId(pub String);

/// The routes of `router`, each telling [`Observe`] its template.
pub fn tag_routes(router: Router) -> Router {
    router.route_layer(TagRouteLayer)
}

#[derive(Clone, Copy)]
struct TagRouteLayer;

impl<S> tower::Layer<S> for TagRouteLayer {
    type Service = TagRoute<S>;

    fn layer(&self, inner: S) -> TagRoute<S> {
        TagRoute(inner)
    }
}

#[derive(Clone)]
struct TagRoute<S>(S);

impl<S> tower::Service<Request<Body>> for TagRoute<S>
where
    S: tower::Service<Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Tagged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        Tagged {
            inner: self.0.call(request),
            route,
        }
    }
}

pin_project_lite::pin_project! {
    struct Tagged<F> {
        #[pin]
        inner: F,
        route: Option<MatchedPath>,
    }
}

impl<F, E> Future for Tagged<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(route) = this.route.take() {
            response.extensions_mut().insert(Route::matched(route));
        }
        Poll::Ready(Ok(response))
    }
}

/// What is done with each request: counted in `metrics`, logged (`access_log`), or neither.
#[derive(Clone, Default)]
pub struct Observe {
    metrics: Option<Arc<crate::metrics::Metrics>>,
    access_log: bool,
    /// On each access line: request ids are counted per process, so two proxies' lines are
    /// told apart by this.
    instance_id: Arc<str>,
}

impl Observe {
    pub fn new(
        metrics: Option<Arc<crate::metrics::Metrics>>,
        access_log: bool,
        instance_id: &str,
    ) -> Observe {
        Observe {
            metrics,
            access_log,
            instance_id: instance_id.into(),
        }
    }

    /// This proxy's `CHECKOUT_INSTANCE_ID`, for the request span as well (`super::with_hygiene`).
    pub(crate) fn instance_id(&self) -> Arc<str> {
        self.instance_id.clone()
    }

    /// Whether anything is done: when not, the routes need no tags.
    pub fn is_on(&self) -> bool {
        self.metrics.is_some() || self.access_log
    }
}

impl<S> tower::Layer<S> for Observe {
    type Service = Observed<S>;

    fn layer(&self, inner: S) -> Observed<S> {
        Observed {
            inner,
            observe: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    observe: Observe,
}

/// What the request was, kept for its answer.
struct Asked {
    started: Instant,
    method: Method,
    /// For the log line only (a payment id in the path).
    uri: Option<Uri>,
}

impl<S> tower::Service<Request<Body>> for Observed<S>
where
    S: tower::Service<Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let asked = self.observe.is_on().then(|| Asked {
            started: Instant::now(),
            method: request.method().clone(),
            uri: self.observe.access_log.then(|| request.uri().clone()),
        });
        ObservedFuture {
            inner: self.inner.call(request),
            asked,
            observe: self.observe.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObservedFuture<F> {
        #[pin]
        inner: F,
        asked: Option<Asked>,
        observe: Observe,
    }
}

impl<F, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(asked) = this.asked.take() {
            observed(this.observe, &asked, &response);
        }
        Poll::Ready(Ok(response))
    }
}

fn observed(observe: &Observe, asked: &Asked, response: &Response) {
    let took = asked.started.elapsed();
    let unmatched = Route::UNMATCHED;
    let route = response.extensions().get::<Route>().unwrap_or(&unmatched);
    let method = method_label(&asked.method);
    let status = response.status().as_u16();
    if let Some(metrics) = &observe.metrics {
        metrics.http_request(method, route, status, took);
    }
    if !observe.access_log {
        return;
    }
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok());
    let payment_id = response
        .extensions()
        .get::<PaymentId>()
        .map(|p| p.0.as_str())
        .or_else(|| {
            asked
                .uri
                .as_ref()
                .and_then(|uri| id_in_path(route.as_str(), uri.path()))
        });
    let duration_ms = took.as_secs_f64() * 1000.0;
    let route = route.as_str();
    let instance_id = &*observe.instance_id;
    // Status reads come thousands a second: their lines are for debugging only.
    if asked.method == Method::GET && route == "/api/payments/{id}" {
        tracing::debug!(
            instance_id,
            request_id,
            method,
            route,
            status,
            duration_ms,
            payment_id,
            "request"
        );
    } else {
        tracing::info!(
            instance_id,
            request_id,
            method,
            route,
            status,
            duration_ms,
            payment_id,
            "request"
        );
    }
}

/// The path's segment where the route template has `{id}`.
fn id_in_path<'p>(template: &str, path: &'p str) -> Option<&'p str> {
    let at = template.split('/').position(|segment| segment == "{id}")?;
    path.split('/').nth(at).filter(|id| !id.is_empty())
}

/// The metrics listener's one page: `GET /metrics`.
pub fn router(payments: Arc<Payments>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_page))
        .with_state(payments)
}

/// Everything counted, and what the store holds now (a store that cannot be read shows as
/// `checkout_store_up 0`: the page itself still answers).
async fn metrics_page(State(payments): State<Arc<Payments>>) -> Response {
    let now = OffsetDateTime::now_utc();
    let backlog = match payments.backlog(now).await {
        Ok(backlog) => Some(backlog),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the store");
            None
        }
    };
    let text = payments.metrics().encode(backlog.as_ref(), now);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::id_in_path;

    #[test]
    fn the_id_is_where_the_template_has_it() {
        assert_eq!(
            id_in_path("/api/payments/{id}/qr.png", "/api/payments/pay_1/qr.png"),
            Some("pay_1")
        );
        assert_eq!(id_in_path("/pay/{id}", "/pay/pay_2"), Some("pay_2"));
        assert_eq!(
            id_in_path("/api/merchant/events", "/api/merchant/events"),
            None
        );
        assert_eq!(id_in_path("unmatched", "/nowhere"), None);
    }
}
