//! The merchant proxy for the PayDigital checkout widget: it keeps the key, sets prices,
//! talks to PayDigital, keeps every payment (SQLite, or PostgreSQL shared by several proxies)
//! and serves the widget. It also holds a
//! sandbox PayDigital so the demo and the tests need no account and no internet.

pub mod app;
pub mod books;
pub mod browser_api;
pub mod config;
pub mod confirm;
pub mod error;
mod hot;
pub mod ids;
pub mod lifecycle;
pub mod merchant_api;
pub mod pages;
pub mod payments;
pub mod sandbox;
pub mod statics;
pub mod store;
pub mod upstream;
pub mod webhooks;

use axum::http::{header, HeaderValue, Request};
use axum::Router;
use config::Config;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Body limit for every request.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A create or a merchant call may take this long (upstream's timeout plus a retry fits
/// inside). Status reads have no request timer: each of their waits has its own bound
/// (upstream's timeout, the store's connection and statement timeouts), and a timer per
/// read cost the hot path about a sixth of its CPU (BENCHMARKS.md).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The request timeout, for the routes that call PayDigital or wait on a create.
pub(crate) fn request_timeout() -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    )
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the payment store {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: store::StoreError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
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

/// The span a request's log lines are recorded in. Status reads — the hot path, thousands a
/// second, logging nothing of their own but upstream reads, which name their invoice — get
/// none: a span per read cost a fifth of the read's CPU time (BENCHMARKS.md).
fn request_span<B>(req: &Request<B>) -> tracing::Span {
    let path = req.uri().path();
    if req.method() == axum::http::Method::GET && path.starts_with("/api/payments/") {
        return tracing::Span::none();
    }
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", id, method = %req.method(), path)
}

/// Request ids, structured request logs (path only: query strings stay out), security
/// headers, body limit — one stack around the whole router, served as it is.
///
/// Built with `ServiceBuilder` outside the router rather than with `Router::layer`: each
/// `Router::layer` boxes every route once more, and axum clones a route's boxes for every
/// request, so ten layers were ten allocations and clones per status read (BENCHMARKS.md).
fn with_hygiene(
    router: Router,
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
    tower::ServiceBuilder::new()
        // What axum::serve takes: the layers' body types, boxed once.
        .map_response(axum::response::IntoResponse::into_response)
        .layer(SetRequestIdLayer::new(
            x_request_id.clone(),
            Sequential::default(),
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
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

/// A server running in this process (tests, `serve`).
pub struct Running {
    pub addr: SocketAddr,
    pub sandbox: Option<Arc<sandbox::Sandbox>>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    /// The confirmation worker and the webhook deliverer: stopped with the server. What
    /// they had in flight is in the store and resumes at the next start.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish.
    pub async fn stop(self) {
        self.stop_background();
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }

    fn stop_background(&self) {
        for task in &self.background {
            task.abort();
        }
    }

    /// Runs until `signal` (then shuts down gracefully) or until the server fails.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), StartError> {
        tokio::select! {
            result = &mut self.task => return joined(result),
            () = signal => {}
        }
        tracing::info!("shutting down");
        self.stop_background();
        let _ = self.shutdown.send(());
        joined(self.task.await)
    }
}

fn joined(
    result: Result<Result<(), std::io::Error>, tokio::task::JoinError>,
) -> Result<(), StartError> {
    match result {
        Ok(result) => result.map_err(StartError::Serve),
        Err(e) => Err(StartError::Serve(std::io::Error::other(e))),
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}

fn spawn_router(
    listener: TcpListener,
    router: Router,
    sandbox: Option<Arc<sandbox::Sandbox>>,
) -> Result<Running, StartError> {
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let service =
        axum::ServiceExt::<Request<axum::body::Body>>::into_make_service_with_connect_info::<
            SocketAddr,
        >(with_hygiene(router));
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        addr,
        sandbox,
        shutdown,
        task,
        background: Vec::new(),
    })
}

/// Starts the proxy on `config.listen` (port 0 picks one). With `sandbox`, a sandbox
/// PayDigital runs in the same server and the proxy talks to it over HTTP, as to the real one.
pub async fn start(
    mut config: Config,
    sandbox: Option<sandbox::SandboxConfig>,
) -> Result<Running, StartError> {
    let store = config
        .database
        .open_to_serve(config.database_pool)
        .await
        .map_err(|source| StartError::Store {
            path: config.database.to_string(),
            source,
        })?;
    let listener = bind(config.listen).await?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let sandbox = sandbox.map(|sandbox_config| {
        config.upstream.base_url = format!("http://{addr}");
        config.upstream.api_key = config::ApiKey::new(sandbox_config.api_key.clone());
        config.upstream.store_id = sandbox_config.store_id.clone();
        sandbox::Sandbox::new(sandbox_config, sandbox::Faults::default())
    });
    let upstream = upstream::Upstream::new(config.upstream.clone())?;
    let static_dir = config.static_dir.clone();
    let sender = config
        .webhook
        .clone()
        .map(webhooks::Sender::new)
        .transpose()?;
    let state = payments::AppState::new(config, store, upstream);
    let mut router = app::router(state.clone()).merge(statics::router(&static_dir));
    if let Some(sandbox) = &sandbox {
        router = router.merge(sandbox::router(sandbox.clone()));
    }
    let mut running = spawn_router(listener, router, sandbox)?;
    running
        .background
        .push(tokio::spawn(confirm::run(state.clone())));
    if let Some(sender) = sender {
        let wake = state.events_written.clone();
        running.background.push(tokio::spawn(webhooks::deliver(
            state,
            Arc::new(sender),
            wake,
        )));
    }
    Ok(running)
}

/// Starts a sandbox PayDigital alone.
pub async fn start_sandbox(
    listen: SocketAddr,
    config: sandbox::SandboxConfig,
    faults: sandbox::Faults,
) -> Result<Running, StartError> {
    let listener = bind(listen).await?;
    let sandbox = sandbox::Sandbox::new(config, faults);
    spawn_router(listener, sandbox::router(sandbox.clone()), Some(sandbox))
}
