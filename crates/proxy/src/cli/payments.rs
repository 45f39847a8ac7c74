//! `payments list`: the store read directly, for the shop's books, as a table, CSV or JSON.
//! SQLite in WAL mode lets it read while the server runs.

use super::{CliError, StoreArg};
use paydigital::wire::rfc3339;
use paydigital::Status;
use paydigital_proxy::domain::payment::{parse_moment, parse_status, status_at, PaymentRecord};
use paydigital_proxy::store::{ListFilter, PaymentStore, StoreError};
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

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
}

fn status_arg(text: &str) -> Result<Status, String> {
    parse_status(text).ok_or_else(|| format!("{text:?} is not pending, paid or expired"))
}

pub fn run(command: PaymentsCommand) -> Result<(), CliError> {
    let (status, since, format, store) = match command {
        PaymentsCommand::Check { id } => return check(&id),
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
    let rows = rows(&*store, status, since, zone)
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
    use paydigital_proxy::payments::Payments;
    use paydigital_proxy::upstream::Upstream;
    let config = paydigital_proxy::config::Config::from_env(false)?;
    // What went wrong upstream is logged, to stderr: stdout is the payment.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
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
        let upstream = Upstream::for_group(&config, store.clone()).map_err(|e| failed(&e))?;
        let payments = Payments::new(&config, store, upstream);
        let record = payments.check_now(id).await.map_err(|e| failed(&e))?;
        let view = payments
            .views()
            .merchant(&record, time::OffsetDateTime::now_utc());
        serde_json::to_string_pretty(&view).map_err(|e| failed(&e))
    })?;
    super::say(&shown);
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

/// One payment, as the books see it.
#[derive(Debug, Clone, Serialize)]
struct BookRow {
    pub created_at: String,
    pub id: String,
    pub invoice: String,
    pub status: Status,
    pub source: &'static str,
    pub amount: u64,
    pub unique_code: u64,
    pub total_amount: u64,
    pub reference: String,
    pub description: String,
    pub customer_name: String,
    pub paid_at: String,
    pub late: bool,
    /// `amount_mismatch`, `invoice_mismatch`: look before you ship; empty otherwise.
    pub review: &'static str,
}

impl BookRow {
    fn new(p: &PaymentRecord, now: OffsetDateTime, zone: UtcOffset) -> BookRow {
        BookRow {
            created_at: rfc3339(p.created_at, zone),
            id: p.id.clone(),
            invoice: p.invoice.clone(),
            status: status_at(p, now),
            source: p.source.as_str(),
            amount: p.amount,
            unique_code: p.unique_code,
            total_amount: p.total_amount,
            reference: p.reference.clone().unwrap_or_default(),
            description: p.description.clone(),
            customer_name: p.customer_name.clone(),
            paid_at: p.paid_at.map(|at| rfc3339(at, zone)).unwrap_or_default(),
            late: p.late,
            review: p.review.map_or("", |r| r.as_str()),
        }
    }
}

impl BookRow {
    /// The row with every text a customer or PayDigital wrote made inert for a spreadsheet:
    /// a cell that starts with `=`, `+`, `-`, `@`, a tab or a return is a formula to Excel
    /// and LibreOffice (`=HYPERLINK(...)` in a customer name), so it gets a leading `'`.
    fn for_spreadsheet(&self) -> BookRow {
        BookRow {
            invoice: inert(&self.invoice),
            reference: inert(&self.reference),
            description: inert(&self.description),
            customer_name: inert(&self.customer_name),
            ..self.clone()
        }
    }
}

fn inert(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// Every payment that matches, newest first (read page by page, so a large store is fine).
fn rows(
    store: &dyn PaymentStore,
    status: Option<Status>,
    since: Option<OffsetDateTime>,
    zone: UtcOffset,
) -> Result<Vec<BookRow>, StoreError> {
    const PAGE: usize = 500;
    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    let mut before_id = None;
    loop {
        let page = store.list(&ListFilter {
            status,
            created_after: since,
            before_id,
            limit: PAGE,
            now: Some(now),
            ..ListFilter::default()
        })?;
        rows.extend(page.iter().map(|p| BookRow::new(p, now, zone)));
        if page.len() < PAGE {
            return Ok(rows);
        }
        before_id = page.last().map(|p| p.id.clone());
    }
}

/// The rows in `format`, ready to print.
fn render(rows: &[BookRow], format: Format) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(rows).map_err(|e| e.to_string()),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for row in rows {
                writer
                    .serialize(row.for_spreadsheet())
                    .map_err(|e| e.to_string())?;
            }
            let bytes = writer.into_inner().map_err(|e| e.to_string())?;
            String::from_utf8(bytes).map_err(|e| e.to_string())
        }
        Format::Table => {
            let mut out = format!(
                "{:<25}  {:<26}  {:<22}  {:<7}  {:>12}  {:<20}  {:<25}  {}\n",
                "CREATED", "ID", "INVOICE", "STATUS", "TOTAL", "REFERENCE", "PAID AT", "REVIEW"
            );
            for r in rows {
                let status = if r.late { "paid*" } else { r.status.as_str() };
                out.push_str(&format!(
                    "{:<25}  {:<26}  {:<22}  {:<7}  {:>12}  {:<20}  {:<25}  {}\n",
                    r.created_at,
                    r.id,
                    r.invoice,
                    status,
                    paydigital::rupiah(r.total_amount),
                    r.reference,
                    r.paid_at,
                    r.review
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cell_of_the_csv_is_a_formula() {
        let row = BookRow {
            created_at: "2026-11-24T15:04:05+07:00".into(),
            id: "pay_AAAAAAAAAAAAAAAAAAAAAA".into(),
            invoice: "PYG1".into(),
            status: Status::Paid,
            source: "browser",
            amount: 10_000,
            unique_code: 387,
            total_amount: 10_387,
            reference: "=HYPERLINK(\"https://evil.example\",\"Klik\")".into(),
            description: "+1+cmd|' /C calc'!A0".into(),
            customer_name: "@SUM(A1:A9)".into(),
            paid_at: String::new(),
            late: false,
            review: "",
        };
        let csv = render(std::slice::from_ref(&row), Format::Csv).expect("csv");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let record = reader.records().next().expect("a row").expect("parses");
        for cell in record.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} is a formula"
            );
        }
        assert!(record
            .iter()
            .any(|c| c == "'=HYPERLINK(\"https://evil.example\",\"Klik\")"));
        // The other formats show what was written.
        assert!(render(&[row], Format::Json)
            .expect("json")
            .contains("\"@SUM(A1:A9)\""));
    }
}
