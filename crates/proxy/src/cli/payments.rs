//! `payments list` (and `payments receipt`): the store read directly, for the shop's books, as a table, CSV or JSON
//! (the rows and the CSV are `payments::export`'s, as the dashboard's export).
//! SQLite in WAL mode lets it read while the server runs.

use super::{CliError, StoreArg};
use paydigital::Status;
use paydigital_proxy::domain::payment::{parse_moment, parse_status};
use paydigital_proxy::payments::export::{self, BookRow};
use paydigital_proxy::store::ListFilter;

#[derive(clap::Subcommand)]
pub enum PaymentsCommand {
    /// List payments, newest first.
    List {
        /// Only payments with this status: pending, paid or expired.
        #[arg(long, value_parser = status_arg)]
        status: Option<Status>,
        /// Only payments created after this date (2026-11-01, Jakarta time) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Ask PayDigital about one payment now, even after the late-payment grace (configured by
    /// the environment, as `serve`), and print it as the merchant API shows it.
    Check {
        /// The payment's id, pay_...
        id: String,
    },
    /// Print a payment's receipt URL (`{CHECKOUT_PUBLIC_URL}/r/{token}`), to send to a
    /// customer who asks for their *struk*.
    Receipt {
        /// The payment's id, pay_...
        id: String,
        /// The proxy's public address (default: CHECKOUT_PUBLIC_URL).
        #[arg(long, env = "CHECKOUT_PUBLIC_URL")]
        public_url: String,
        #[command(flatten)]
        store: StoreArg,
    },
}

fn status_arg(text: &str) -> Result<Status, String> {
    parse_status(text).ok_or_else(|| format!("{text:?} is not pending, paid or expired"))
}

pub fn run(command: PaymentsCommand) -> Result<(), CliError> {
    let (status, since, format, store) = match command {
        PaymentsCommand::Check { id } => return check(&id),
        PaymentsCommand::Receipt {
            id,
            public_url,
            store,
        } => return receipt(&id, &public_url, store),
        PaymentsCommand::List {
            status,
            since,
            format,
            store,
        } => (status, since, format, store),
    };
    let zone = super::zone()?;
    let since = match since.as_deref() {
        None => None,
        Some(text) => Some(parse_moment(text, zone).ok_or_else(|| {
            CliError::Usage(format!(
                "--since {text:?} is not a date (2026-11-01) or an RFC 3339 time"
            ))
        })?),
    };
    let store = store.open()?;
    let filter = ListFilter {
        status,
        created_after: since,
        ..ListFilter::default()
    };
    let rows = store
        .block_on(export::rows(&*store, &filter, zone))
        .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", store.shown)))?;
    let text = render(&rows, format).map_err(CliError::Failed)?;
    use std::io::Write;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Failed(format!("cannot write the list: {e}")))
}

/// `payments check ID`: one upstream call through the same service, gate and budget as the
/// server's.
fn check(id: &str) -> Result<(), CliError> {
    use paydigital_proxy::metrics::Metrics;
    use paydigital_proxy::payments::Payments;
    use paydigital_proxy::upstream::Upstream;
    let config = paydigital_proxy::config::Config::from_env(false)?;
    // What went wrong upstream is logged, to stderr: stdout is the payment. PayDigital's
    // words may quote the key: the same redactor as the server's.
    let redactor = super::serve::redactor(&config)?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(paydigital_proxy::logs::Redacting::new(
            redactor,
            std::io::stderr,
        ))
        .with_target(false)
        .try_init();
    let failed = |e: &dyn std::fmt::Display| CliError::Failed(e.to_string());
    let runtime = super::runtime(1)?;
    let shown = runtime.block_on(async {
        let store = config
            .database
            .open(2)
            .await
            .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", config.database)))?;
        // Counted for nobody: a command serves no /metrics.
        let metrics = std::sync::Arc::new(Metrics::new(&config.instance_id));
        let upstream =
            Upstream::for_group(&config, store.clone(), metrics.clone()).map_err(|e| failed(&e))?;
        let payments = Payments::new(&config, store, upstream, metrics);
        let record = payments.check_now(id).await.map_err(|e| failed(&e))?;
        let view = payments
            .views()
            .merchant(&record, time::OffsetDateTime::now_utc());
        serde_json::to_string_pretty(&view).map_err(|e| failed(&e))
    })?;
    super::say(&shown);
    Ok(())
}

/// `payments receipt ID`: the receipt URL, read from the store (no upstream call).
fn receipt(id: &str, public_url: &str, store: StoreArg) -> Result<(), CliError> {
    let base = public_url.trim().trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(CliError::Usage(format!(
            "--public-url {public_url:?} is not an http(s) address"
        )));
    }
    if !paydigital_proxy::domain::ids::looks_like_payment_id(id) {
        return Err(CliError::Usage(format!(
            "{id:?} is not a payment id (pay_…)"
        )));
    }
    let store = store.open()?;
    let record = store
        .block_on(store.payments().get(id))
        .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", store.shown)))?
        .ok_or_else(|| CliError::Failed(format!("no payment {id} in {}", store.shown)))?;
    let views = paydigital_proxy::domain::views::Views {
        zone: super::zone()?,
        public_url: Some(base.to_owned()),
        livemode: true,
    };
    let url = views
        .receipt_url(&record.receipt_token)
        .ok_or_else(|| CliError::Failed("no public address".into()))?;
    super::say(&url);
    Ok(())
}

/// How the list is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// For a spreadsheet or the accounting software.
    Csv,
    /// One JSON array, for scripts.
    Json,
}

/// The rows in `format`, ready to print.
fn render(rows: &[BookRow], format: Format) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(rows).map_err(|e| e.to_string()),
        Format::Csv => export::csv(rows),
        Format::Table => {
            let mut out = format!(
                "{:<25}  {:<26}  {:<22}  {:<7}  {:>12}  {:<20}  {:<25}  {:<16}  {:<8}  {}\n",
                "CREATED",
                "ID",
                "INVOICE",
                "STATUS",
                "TOTAL",
                "REFERENCE",
                "PAID AT",
                "REVIEW",
                "SOURCE",
                "LINK"
            );
            for r in rows {
                let status = if r.late { "paid*" } else { r.status.as_str() };
                out.push_str(&format!(
                    "{:<25}  {:<26}  {:<22}  {:<7}  {:>12}  {:<20}  {:<25}  {:<16}  {:<8}  {}\n",
                    r.created_at,
                    r.id,
                    r.invoice,
                    status,
                    paydigital::rupiah(r.total_amount),
                    r.reference,
                    r.paid_at,
                    r.review,
                    r.source,
                    r.payment_link_id
                ));
            }
            let paid: u64 = rows
                .iter()
                .filter(|r| r.status == Status::Paid)
                .map(|r| r.total_amount)
                .sum();
            out.push_str(&format!(
                "{} payments; received {} (* paid after expiry)\n",
                rows.len(),
                paydigital::rupiah(paid)
            ));
            Ok(out)
        }
    }
}
