//! Starting the proxy (zero2prod's `startup.rs`): open the store, bind, build the service
//! and its state, serve, and spawn the background workers; [`Running`] stops them together.

use crate::config::{self, Config, LogFormat};
use crate::http::metrics::Observe;
use crate::metrics::Metrics;
use crate::payments::Payments;
use crate::staff::Staff;
use crate::state::AppState;
use crate::store;
use crate::upstream::sandbox::{self, Faults, Sandbox, SandboxConfig};
use crate::upstream::Upstream;
use crate::webhooks::Sender;
use crate::workers::{self, backup::Snapshots, confirm::Confirm, deliver::Deliver};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the payment store: {0}")]
    Locked(#[from] store::backup::BackupError),
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
    #[error(transparent)]
    Upstream(#[from] crate::upstream::ClientError),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

/// A server running in this process (tests, `serve`).
pub struct Running {
    pub addr: SocketAddr,
    /// Where `GET /metrics` answers (`CHECKOUT_METRICS_LISTEN`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    pub sandbox: Option<Arc<Sandbox>>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    /// The confirmation worker, the webhook deliverer and the metrics listener: stopped with
    /// the server. What the workers had in flight is in the store and resumes at the next
    /// start.
    background: Vec<tokio::task::JoinHandle<()>>,
    /// A SQLite store's `<db>.lock`, held while this proxy runs: `restore` refuses meanwhile.
    _store_lock: Option<store::backup::StoreLock>,
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

/// The sandbox alone has no configuration: it takes the contract's connection cap.
const SANDBOX_MAX_CONNECTIONS: usize = 10_000;

fn spawn_router(
    listener: TcpListener,
    router: Router,
    sandbox: Option<Arc<Sandbox>>,
    max_connections: usize,
    observe: Observe,
) -> Result<Running, StartError> {
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = crate::http::with_hygiene(router, observe);
    let task = tokio::spawn(crate::http::serve::serve(
        listener,
        service,
        max_connections,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(Running {
        addr,
        metrics_addr: None,
        sandbox,
        shutdown,
        task,
        background: Vec::new(),
        _store_lock: None,
    })
}

/// Starts the proxy on `config.listen` (port 0 picks one). With `sandbox`, a sandbox
/// PayDigital runs in the same server and the proxy talks to it over HTTP, as to the real one.
pub async fn start(
    mut config: Config,
    sandbox: Option<SandboxConfig>,
) -> Result<Running, StartError> {
    // Taken before the store is opened: a restore under way is not raced.
    let store_lock = match &config.database {
        store::Database::Sqlite(path) => Some(store::backup::StoreLock::serving(path)?),
        store::Database::Postgres(_) => None,
    };
    let store = config
        .database
        .open_to_serve(config.database_pool)
        .await
        .map_err(|source| StartError::Store {
            path: config.database.to_string(),
            source,
        })?;
    let listener = bind(config.listen).await?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let sandbox = sandbox.map(|sandbox_config| {
        config.upstream.base_url = format!("http://{addr}");
        config.upstream.api_key = config::ApiKey::new(sandbox_config.api_key.clone());
        config.upstream.store_id = sandbox_config.store_id.clone();
        Sandbox::new(sandbox_config, Faults::default())
    });
    let metrics = Arc::new(Metrics::new(&config.instance_id));
    let snapshots = match (&config.backup, &config.database) {
        (Some(backup), store::Database::Sqlite(path)) => Some(Snapshots::new(
            path.clone(),
            backup.clone(),
            metrics.clone(),
        )),
        _ => None,
    };
    let upstream = Upstream::for_group(&config, store.clone(), metrics.clone())?;
    let sender = config.webhook.clone().map(Sender::new).transpose()?;
    let staff = Arc::new(Staff::new(
        store.clone(),
        config.session_idle,
        metrics.clone(),
    ));
    let payments = Arc::new(Payments::new(&config, store, upstream, metrics.clone()));
    let confirm = Confirm::new(
        payments.clone(),
        config.upstream_max_rps,
        config.check_lease,
    );
    let static_dir = config.static_dir.clone();
    let max_connections = config.max_connections;
    // Requests are counted only when someone can read the count, and logged one line each
    // only in JSON: the text format stays as it was.
    let observe = Observe::new(
        metrics_listener.as_ref().map(|_| metrics),
        config.log_format == LogFormat::Json,
        &config.instance_id,
    );
    let state = AppState::new(config, payments.clone(), staff);
    let mut router = crate::http::router(state, &static_dir);
    if let Some(sandbox) = &sandbox {
        router = router.merge(sandbox::router(sandbox.clone()));
    }
    if observe.is_on() {
        router = crate::http::metrics::tag_routes(router);
    }
    let mut running = spawn_router(listener, router, sandbox, max_connections, observe)?;
    running._store_lock = store_lock;
    if let Some(snapshots) = snapshots {
        running
            .background
            .push(tokio::spawn(workers::backup::run(Arc::new(snapshots))));
    }
    if let Some(listener) = metrics_listener {
        running.metrics_addr = Some(listener.local_addr().map_err(StartError::Serve)?);
        let page = crate::http::metrics::router(payments.clone());
        running.background.push(tokio::spawn(async move {
            // A few scrapers, not the public: a handful of connections is plenty.
            let serving = crate::http::serve::serve(listener, page, 64, std::future::pending());
            if let Err(e) = serving.await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        }));
    }
    running
        .background
        .push(tokio::spawn(workers::run(Arc::new(confirm))));
    if let Some(sender) = sender {
        let deliver = Deliver::new(payments, sender);
        running
            .background
            .push(tokio::spawn(workers::run(Arc::new(deliver))));
    }
    Ok(running)
}

/// Starts a sandbox PayDigital alone.
pub async fn start_sandbox(
    listen: SocketAddr,
    config: SandboxConfig,
    faults: Faults,
) -> Result<Running, StartError> {
    let listener = bind(listen).await?;
    let sandbox = Sandbox::new(config, faults);
    spawn_router(
        listener,
        sandbox::router(sandbox.clone()),
        Some(sandbox),
        SANDBOX_MAX_CONNECTIONS,
        Observe::default(),
    )
}
