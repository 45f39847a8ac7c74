//! The command line: what `paydigital-proxy` takes (`Cli`), and one module per command with
//! its own output — `serve` (and the sandbox alone), `payments`, `webhooks`, `staff` and
//! `audit`, `migrate`, `backup` and `restore`, `qris`, `openapi`. Each command answers `Ok` or a [`CliError`]; `main` turns that into the exit code.

mod backup;
mod migrate;
mod openapi;
mod payments;
mod qris;
mod serve;
mod staff;
mod webhooks;

use clap::{Parser, Subcommand};
use paydigital_proxy::config::{self, DEFAULT_DATABASE};
use paydigital_proxy::store::{Database, PaymentStore};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "paydigital-proxy",
    version,
    about = "Merchant proxy for the PayDigital QRIS checkout"
)]
pub struct Cli {
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
        /// Run the sandbox even with PAYDIGITAL_API_KEY set or on a non-loopback address
        /// (anyone who reaches it can mark payments paid).
        #[arg(long, requires = "sandbox")]
        sandbox_public: bool,
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
        command: payments::PaymentsCommand,
    },
    /// The webhook outbox: list events, send one again, make a signing secret.
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhooksCommand,
    },
    /// The shop's people: accounts for the dashboard (owner, cashier).
    Staff {
        #[command(subcommand)]
        command: staff::StaffCommand,
    },
    /// The audit log: sign-ins, resends, checks, exports.
    Audit {
        #[command(subcommand)]
        command: staff::AuditCommand,
    },
    /// Write the OpenAPI 3.1 document of the merchant API, the browser API and the webhooks
    /// (what `/api/openapi.json` serves).
    Openapi {
        /// Write it to this file instead of stdout (e.g. docs/openapi.json).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Copy a SQLite store (payments, events, delivery state, staff, audit log) into PostgreSQL, for running
    /// several proxies. Stop the old proxy first; running it again copies nothing twice.
    Migrate {
        /// The PostgreSQL database: postgres://user:password@host:5432/db
        #[arg(long)]
        to: String,
        /// The SQLite file (default: CHECKOUT_DATABASE, else paydigital-checkout.sqlite).
        #[arg(long)]
        from: Option<std::path::PathBuf>,
    },
    /// Write a consistent, checked copy of the SQLite store to FILE (safe while the proxy
    /// serves and writes). On PostgreSQL, says how to use pg_dump.
    Backup {
        /// Where the copy goes (replaced only once the new copy checked out).
        file: std::path::PathBuf,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Put a backup in place of the SQLite store (stop the proxy first); the old store is
    /// kept beside it as <db>.before-restore-<time>.
    Restore {
        /// A file written by `backup` (or a scheduled snapshot).
        file: std::path::PathBuf,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// Why a command failed; the exit code says which kind.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// What was asked cannot be read (exit 2, as clap's own usage errors).
    #[error("{0}")]
    Usage(String),
    /// The command ran and failed (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Failed(_) => ExitCode::from(1),
        }
    }
}

impl From<config::ConfigError> for CliError {
    fn from(e: config::ConfigError) -> Self {
        CliError::Usage(e.to_string())
    }
}

/// Runs the command the line names.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve {
            sandbox,
            sandbox_public,
            listen,
        } => serve::serve(sandbox, sandbox_public, listen),
        Command::Sandbox { listen, faults } => serve::sandbox(listen, faults.as_deref()),
        Command::Qris { payload } => qris::qris(&payload),
        Command::Payments { command } => payments::run(command),
        Command::Webhooks { command } => webhooks::run(command),
        Command::Staff { command } => staff::run(command),
        Command::Audit { command } => staff::audit(command),
        Command::Migrate { to, from } => migrate::migrate(&to, from),
        Command::Backup { file, store } => backup::backup(&file, &store),
        Command::Restore { file, store } => backup::restore(&file, &store),
        Command::Openapi { output } => openapi::openapi(output.as_deref()),
    }
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
        default_value = DEFAULT_DATABASE,
        hide_env_values = true
    )]
    database: String,
}

/// An open store and the runtime its PostgreSQL queries run on.
struct CliStore {
    store: Arc<dyn PaymentStore>,
    shown: String,
    _runtime: tokio::runtime::Runtime,
}

impl std::ops::Deref for CliStore {
    type Target = dyn PaymentStore;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

impl CliStore {
    /// Runs `work` (a service call) on the store's runtime.
    fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self._runtime.block_on(work)
    }
}

impl StoreArg {
    fn open(&self) -> Result<CliStore, CliError> {
        self.open_with(false)
    }

    /// Opens the store, making a new SQLite file if there is none (the first owner is
    /// added before the first `serve`).
    fn open_or_create(&self) -> Result<CliStore, CliError> {
        self.open_with(true)
    }

    fn open_with(&self, create: bool) -> Result<CliStore, CliError> {
        let database = config::parse_database(Some(&self.database))
            .map_err(|e| CliError::Failed(e.to_string()))?;
        if let Database::Sqlite(path) = &database {
            if !create && !path.exists() {
                return Err(CliError::Failed(format!(
                    "no payment store at {}",
                    path.display()
                )));
            }
        }
        let runtime = runtime(1)?;
        let store = runtime
            .block_on(database.open(2))
            .map_err(|e| CliError::Failed(format!("cannot read {database}: {e}")))?;
        Ok(CliStore {
            store,
            shown: database.to_string(),
            _runtime: runtime,
        })
    }
}

/// A Tokio runtime with `workers` threads.
fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the runtime: {e}")))
}

/// PayDigital's zone, as `serve` reads it, for the dates and times a command prints or takes.
fn zone() -> Result<time::UtcOffset, CliError> {
    Ok(config::parse_zone(
        std::env::var("PAYDIGITAL_UTC_OFFSET_HOURS").ok().as_deref(),
    )?)
}

/// Text on stdout for whoever started us; a closed pipe is not worth dying for.
fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}
