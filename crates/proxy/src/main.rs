//! `paydigital-proxy`: serve the checkout, run the sandbox, check a QRIS code.

use clap::{Parser, Subcommand};
use paydigital_proxy::books;
use paydigital_proxy::config::Config;
use paydigital_proxy::sandbox::{Faults, SandboxConfig};
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "paydigital-proxy",
    version,
    about = "Merchant proxy for the PayDigital QRIS checkout"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy (configured by the environment; see README.md).
    Serve {
        /// Use an in-process sandbox PayDigital instead of the real one (no key needed).
        #[arg(long)]
        sandbox: bool,
        /// Where to listen (overrides CHECKOUT_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Run the sandbox PayDigital alone.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Faults to start with, as JSON (see PUT /sandbox/faults).
        #[arg(long)]
        faults: Option<String>,
    },
    /// Check a QRIS payload and print its fields as JSON.
    Qris {
        /// The payload, e.g. 00020101021126...6304ABCD
        payload: String,
    },
    /// The payments in the store, for the books (works while the server runs).
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// The webhook outbox: list events, send one again, make a signing secret.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// Copy a SQLite store (payments, events, delivery state) into PostgreSQL, for running
    /// several proxies. Stop the old proxy first; running it again copies nothing twice.
    Migrate {
        /// The PostgreSQL database: postgres://user:password@host:5432/db
        #[arg(long)]
        to: String,
        /// The SQLite file (default: CHECKOUT_DATABASE, else paydigital-checkout.sqlite).
        #[arg(long)]
        from: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// List events, oldest first, with how their delivery went.
    List {
        /// Only events still waiting for delivery.
        #[arg(long, conflicts_with = "failed")]
        pending: bool,
        /// Only events whose retries ran out.
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Queue an event for delivery now, with the same webhook-id (the running server sends it).
    Resend {
        /// The event id, evt_...
        event_id: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Print a new signing secret for CHECKOUT_WEBHOOK_SECRET.
    NewSecret,
}

/// Which store a command reads (it may run beside the servers: SQLite in WAL mode allows it,
/// PostgreSQL anyway).
#[derive(clap::Args)]
struct StoreArg {
    /// The store: a SQLite file or a postgres:// URL (default: CHECKOUT_DATABASE, else
    /// paydigital-checkout.sqlite).
    #[arg(
        long,
        env = "CHECKOUT_DATABASE",
        default_value = "paydigital-checkout.sqlite",
        hide_env_values = true
    )]
    database: String,
}

/// An open store and the runtime its PostgreSQL queries run on.
struct CliStore {
    store: std::sync::Arc<dyn paydigital_proxy::store::PaymentStore>,
    shown: String,
    _runtime: tokio::runtime::Runtime,
}

impl std::ops::Deref for CliStore {
    type Target = dyn paydigital_proxy::store::PaymentStore;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

fn open_store(database: &str) -> Result<CliStore, String> {
    use paydigital_proxy::store::Database;
    let database = Database::parse(database).map_err(|e| e.to_string())?;
    if let Database::Sqlite(path) = &database {
        if !path.exists() {
            return Err(format!("no payment store at {}", path.display()));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let store = runtime
        .block_on(database.open(2))
        .map_err(|e| format!("cannot read {database}: {e}"))?;
    Ok(CliStore {
        store,
        shown: database.to_string(),
        _runtime: runtime,
    })
}

/// `migrate --to`: the SQLite store into PostgreSQL, skipping what is already there.
fn migrate(to: &str, from: Option<std::path::PathBuf>) -> ExitCode {
    use paydigital_proxy::store::{Database, PgStore, SqliteStore};
    let result = (|| {
        let from = match from {
            Some(path) => path,
            None => match Database::parse(
                &std::env::var("CHECKOUT_DATABASE")
                    .unwrap_or_else(|_| "paydigital-checkout.sqlite".to_owned()),
            )
            .map_err(|e| e.to_string())?
            {
                Database::Sqlite(path) => path,
                Database::Postgres(_) => {
                    return Err(
                        "CHECKOUT_DATABASE names PostgreSQL: name the SQLite file with --from"
                            .to_owned(),
                    )
                }
            },
        };
        let Database::Postgres(url) = Database::parse(to).map_err(|e| e.to_string())? else {
            return Err("--to must be a PostgreSQL URL (postgres://user:password@host/db)".into());
        };
        if !from.exists() {
            return Err(format!("no payment store at {}", from.display()));
        }
        let dump = SqliteStore::open(&from)
            .and_then(|store| store.dump())
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        let imported = runtime
            .block_on(async {
                let store = PgStore::connect(&url, 2).await?;
                store.import(&dump).await
            })
            .map_err(|e| format!("cannot write {url}: {e}"))?;
        Ok(format!(
            "{} -> {url}: {} of {} payments, {} of {} events, {} attempts copied (the rest were there already)",
            from.display(),
            imported.payments,
            dump.payments.len(),
            imported.events,
            dump.events.len(),
            imported.attempts,
        ))
    })();
    match result {
        Ok(line) => {
            say(&line);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn webhooks(command: WebhooksCommand) -> ExitCode {
    use paydigital_proxy::store::{DeliveryState, EventFilter};
    let result = match command {
        WebhooksCommand::NewSecret => Ok(paydigital_proxy::webhooks::new_secret()),
        WebhooksCommand::Resend { event_id, store } => {
            open_store(&store.database).and_then(|store| {
                match store.resend(&event_id, time::OffsetDateTime::now_utc()) {
                    Ok(true) => Ok(format!(
                        "{event_id} queued: the running proxy sends it within a second"
                    )),
                    Ok(false) => Err(format!("no event {event_id}")),
                    Err(e) => Err(e.to_string()),
                }
            })
        }
        WebhooksCommand::List {
            pending,
            failed,
            store,
        } => open_store(&store.database).and_then(|store| {
            let state = match (pending, failed) {
                (true, _) => Some(DeliveryState::Pending),
                (_, true) => Some(DeliveryState::Failed),
                _ => None,
            };
            let zone = zone();
            let mut out = format!(
                "{:<26}  {:<16}  {:<26}  {:<9}  {:>8}  {:<25}  {}\n",
                "EVENT", "TYPE", "PAYMENT", "STATE", "ATTEMPTS", "LAST ATTEMPT", "LAST STATUS"
            );
            let mut after_id = None;
            loop {
                let page = store
                    .events(&EventFilter {
                        after_id,
                        state,
                        limit: 500,
                    })
                    .map_err(|e| e.to_string())?;
                for e in &page {
                    out.push_str(&format!(
                        "{:<26}  {:<16}  {:<26}  {:<9}  {:>8}  {:<25}  {}\n",
                        e.id,
                        e.event_type,
                        e.payment_id,
                        e.state.as_str(),
                        e.attempts,
                        e.last_attempt_at
                            .map(|at| paydigital::wire::rfc3339(at, zone))
                            .unwrap_or_default(),
                        e.last_status.as_deref().unwrap_or("")
                    ));
                }
                if page.len() < 500 {
                    break;
                }
                after_id = page.last().map(|e| e.id.clone());
            }
            Ok(out.trim_end().to_owned())
        }),
    };
    match result {
        Ok(text) => {
            say(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// List payments, newest first.
    List {
        /// Only payments with this status: pending, paid or expired.
        #[arg(long, value_parser = parse_status)]
        status: Option<paydigital::Status>,
        /// Only payments created after this date (2026-11-01, Jakarta time) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: books::Format,
        #[command(flatten)]
        store: StoreArg,
    },
}

fn parse_status(text: &str) -> Result<paydigital::Status, String> {
    paydigital_proxy::merchant_api::parse_status(text)
        .ok_or_else(|| format!("{text:?} is not pending, paid or expired"))
}

/// PayDigital's zone (`PAYDIGITAL_UTC_OFFSET_HOURS`, default Jakarta), for dates and times.
fn zone() -> time::UtcOffset {
    std::env::var("PAYDIGITAL_UTC_OFFSET_HOURS")
        .ok()
        .and_then(|h| h.trim().parse::<i8>().ok())
        .and_then(|h| time::UtcOffset::from_hms(h, 0, 0).ok())
        .unwrap_or(time::macros::offset!(+7))
}

fn payments(command: PaymentsCommand) -> ExitCode {
    let PaymentsCommand::List {
        status,
        since,
        format,
        store,
    } = command;
    let database = store.database;
    let zone = zone();
    let since = match since
        .as_deref()
        .map(|s| (s, paydigital_proxy::merchant_api::parse_time(s, zone)))
    {
        None => None,
        Some((_, Some(at))) => Some(at),
        Some((text, None)) => {
            eprintln!("error: --since {text:?} is not a date (2026-11-01) or an RFC 3339 time");
            return ExitCode::from(2);
        }
    };
    let printed = open_store(&database).and_then(|store| {
        books::rows(&*store, status, since, zone)
            .map_err(|e| format!("cannot read {}: {e}", store.shown))
            .and_then(|rows| books::render(&rows, format))
    });
    match printed {
        Ok(text) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if out.write_all(text.as_bytes()).is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// A line on stdout for whoever started us; a closed pipe is not worth dying for.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

/// SIGTERM or Ctrl-C. The handlers are registered when this is called, not when it is first
/// awaited, so a signal that arrives right after start-up is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Qris { payload } = &cli.command {
        return match paydigital::qris::Qris::parse(payload.trim()) {
            Ok(code) => match serde_json::to_string_pretty(&code) {
                Ok(json) => {
                    say(&json);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            },
            Err(e) => {
                eprintln!("invalid QRIS: {e}");
                ExitCode::from(1)
            }
        };
    }
    let cli = match cli.command {
        Command::Payments { command } => return payments(command),
        Command::Webhooks { command } => return webhooks(command),
        Command::Migrate { to, from } => return migrate(&to, from),
        command => Cli { command },
    };
    init_logging();
    // Store calls run on the blocking pool; a few threads serve SQLite (and a PostgreSQL pool
    // of 10) well, hundreds (tokio's default ceiling) only cost memory under load.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let shutdown = shutdown_signal();
        let started = match cli.command {
            Command::Serve { sandbox, listen } => {
                let mut config = match Config::from_env(sandbox) {
                    Ok(config) => config,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                };
                if let Some(listen) = listen {
                    config.listen = listen;
                }
                let static_dir = config.static_dir.clone();
                let result =
                    paydigital_proxy::start(config, sandbox.then(SandboxConfig::default)).await;
                if let Ok(running) = &result {
                    let url = running.url();
                    tracing::info!(%url, static_dir = %static_dir.display(), sandbox, "listening");
                    say(&format!("PayDigital checkout: {url}/"));
                    if sandbox {
                        say(&format!("Sandbox (pay or expire payments): {url}/sandbox"));
                    }
                }
                result
            }
            Command::Sandbox { listen, faults } => {
                let faults = match faults
                    .as_deref()
                    .map(serde_json::from_str::<Faults>)
                    .transpose()
                {
                    Ok(faults) => faults.unwrap_or_default(),
                    Err(e) => {
                        eprintln!("error: --faults: {e}");
                        return ExitCode::from(2);
                    }
                };
                let result =
                    paydigital_proxy::start_sandbox(listen, SandboxConfig::default(), faults).await;
                if let Ok(running) = &result {
                    say(&format!("Sandbox PayDigital: {}/sandbox", running.url()));
                }
                result
            }
            Command::Qris { .. }
            | Command::Payments { .. }
            | Command::Webhooks { .. }
            | Command::Migrate { .. } => return ExitCode::SUCCESS,
        };
        match started {
            Ok(running) => match running.run_until(shutdown).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}
