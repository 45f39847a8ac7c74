//! `serve` (the proxy, with `--sandbox` an in-process sandbox PayDigital too) and `sandbox`
//! (the sandbox alone): logging, the runtime, the banner tests and people read, signals.

use super::{say, CliError};
use paydigital_proxy::config::{self, Config, LogFormat};
use paydigital_proxy::logs::{Redacting, Redactor};
use paydigital_proxy::upstream::sandbox::{Faults, SandboxConfig};
use paydigital_proxy::{Running, StartError};
use std::future::Future;
use std::net::SocketAddr;

pub fn serve(
    sandbox: bool,
    sandbox_public: bool,
    listen: Option<SocketAddr>,
) -> Result<(), CliError> {
    let mut config = Config::from_env(sandbox)?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    if sandbox && !sandbox_public {
        let key_given = ["PAYDIGITAL_API_KEY", "PAYDIGITAL_API_KEY_FILE"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        config::sandbox_stays_private(config.listen, key_given)?;
    }
    let static_dir = config.static_dir.clone();
    let log_format = config.log_format;
    let instance_id = config.instance_id.clone();
    let redactor = redactor(&config)?;
    run_server(log_format, redactor, async move {
        let running = paydigital_proxy::start(config, sandbox.then(SandboxConfig::default)).await?;
        let url = running.url();
        tracing::info!(%url, static_dir = %static_dir.display(), sandbox, instance_id, "listening");
        say(&format!("PayDigital checkout: {url}/"));
        if sandbox {
            say(&format!("Sandbox (pay or expire payments): {url}/sandbox"));
        }
        if let Some(metrics) = running.metrics_addr {
            tracing::info!(%metrics, "metrics at /metrics");
            say(&format!("Metrics (Prometheus): http://{metrics}/metrics"));
        }
        Ok(running)
    })
}

pub fn sandbox(listen: SocketAddr, faults: Option<&str>) -> Result<(), CliError> {
    let faults = faults
        .map(serde_json::from_str::<Faults>)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--faults: {e}")))?
        .unwrap_or_default();
    let log_format = LogFormat::parse(std::env::var("CHECKOUT_LOG_FORMAT").ok().as_deref())?;
    // The sandbox alone holds nobody's secret: its key is the well-known sandbox one.
    run_server(log_format, Redactor::none(), async move {
        let running =
            paydigital_proxy::start_sandbox(listen, SandboxConfig::default(), faults).await?;
        say(&format!("Sandbox PayDigital: {}/sandbox", running.url()));
        Ok(running)
    })
}

/// The redactor for every secret `config` holds (`paydigital_proxy::logs`).
pub(super) fn redactor(config: &Config) -> Result<Redactor, CliError> {
    Redactor::from_config(config).map_err(|e| CliError::Failed(e.to_string()))
}

/// Starts a server with `start` and runs it until SIGTERM or Ctrl-C.
fn run_server(
    log_format: LogFormat,
    redactor: Redactor,
    start: impl Future<Output = Result<Running, StartError>>,
) -> Result<(), CliError> {
    init_logging(log_format, redactor);
    // Store calls run on the blocking pool; a few threads serve SQLite (and a PostgreSQL pool
    // of 10) well, hundreds (tokio's default ceiling) only cost memory under load.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(async move {
            let shutdown = shutdown_signal();
            start.await?.run_until(shutdown).await
        })
        .map_err(|e| CliError::Failed(e.to_string()))
}

/// Text for people on standard output, as ever; or JSON for a log collector: one object a
/// line on standard error (standard output keeps the banner), with the event's fields at the
/// top level (`timestamp`, `level`, `message`, ...) and the request it happened in under
/// `span` (`id` is the request id, `instance_id` this proxy). No line carries a secret: keys,
/// secrets and cookies are never a field (`config.rs` prints them as `***`), and every line
/// passes `redactor` on its way out, which replaces any secret someone else's text quoted.
fn init_logging(format: LogFormat, redactor: Redactor) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_writer(Redacting::new(redactor, std::io::stdout))
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_target(false)
            .with_writer(Redacting::new(redactor, std::io::stderr))
            .init(),
    }
}

/// SIGTERM or Ctrl-C. The handlers are registered when this is called, not when it is first
/// awaited, so a signal that arrives right after start-up is not lost.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let (term, int) = signals;
            tokio::select! {
                () = wait(term) => {},
                () = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
