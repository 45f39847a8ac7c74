//! `paydigital-proxy payments list`: the store read directly, for the shop's books. SQLite in
//! WAL mode lets it read while the server runs.

use crate::payments::status_at;
use crate::store::{ListFilter, PaymentRecord, PaymentStore, StoreError};
use paydigital::wire::rfc3339;
use paydigital::Status;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

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
#[derive(Debug, Serialize)]
pub struct BookRow {
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
        }
    }
}

/// Every payment that matches, newest first (read page by page, so a large store is fine).
pub fn rows(
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
pub fn render(rows: &[BookRow], format: Format) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(rows).map_err(|e| e.to_string()),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for row in rows {
                writer.serialize(row).map_err(|e| e.to_string())?;
            }
            let bytes = writer.into_inner().map_err(|e| e.to_string())?;
            String::from_utf8(bytes).map_err(|e| e.to_string())
        }
        Format::Table => {
            let mut out = format!(
                "{:<25}  {:<26}  {:<22}  {:<7}  {:>12}  {:<20}  {}\n",
                "CREATED", "ID", "INVOICE", "STATUS", "TOTAL", "REFERENCE", "PAID AT"
            );
            for r in rows {
                let status = if r.late { "paid*" } else { r.status.as_str() };
                out.push_str(&format!(
                    "{:<25}  {:<26}  {:<22}  {:<7}  {:>12}  {:<20}  {}\n",
                    r.created_at,
                    r.id,
                    r.invoice,
                    status,
                    paydigital::rupiah(r.total_amount),
                    r.reference,
                    r.paid_at
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
