//! A list of payments for the books: one row per payment as a spreadsheet or accounting
//! software wants it, read from the store page by page, and the CSV of those rows with every
//! text a customer or PayDigital wrote made inert. `payments list` and the dashboard's
//! Export CSV both write it.

use crate::domain::payment::{status_at, PaymentRecord};
use crate::store::{ListFilter, PaymentStore, StoreError};
use paydigital::wire::rfc3339;
use paydigital::Status;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

/// One payment, as the books see it.
#[derive(Debug, Clone, Serialize)]
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
    /// `amount_mismatch`, `invoice_mismatch`: look before you ship; empty otherwise.
    pub review: &'static str,
    /// The payment link (`plink_…`) it was made through; empty otherwise.
    pub payment_link_id: String,
    /// Who charged it at the counter (their email); empty otherwise.
    pub created_by: String,
}

impl BookRow {
    pub fn new(p: &PaymentRecord, now: OffsetDateTime, zone: UtcOffset) -> BookRow {
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
            payment_link_id: p.payment_link_id.clone().unwrap_or_default(),
            created_by: p.created_by.clone().unwrap_or_default(),
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
            created_by: inert(&self.created_by),
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

/// Every payment `filter` matches (its limit and cursor aside), newest first: read page by
/// page, so a large store is fine.
pub async fn rows(
    store: &dyn PaymentStore,
    filter: &ListFilter,
    zone: UtcOffset,
) -> Result<Vec<BookRow>, StoreError> {
    const PAGE: usize = 500;
    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    let mut before_id = None;
    loop {
        let page = store
            .payments()
            .list(&ListFilter {
                before_id,
                limit: PAGE,
                now: Some(now),
                ..filter.clone()
            })
            .await?;
        rows.extend(page.iter().map(|p| BookRow::new(p, now, zone)));
        if page.len() < PAGE {
            return Ok(rows);
        }
        before_id = page.last().map(|p| p.id.clone());
    }
}

/// The rows as CSV, with a header line; no cell is a formula.
pub fn csv(rows: &[BookRow]) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row.for_spreadsheet())
            .map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
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
            payment_link_id: "plink_AAAAAAAAAAAAAAAAAAAAAA".into(),
            created_by: "-kasir@toko.id".into(),
        };
        let csv = csv(std::slice::from_ref(&row)).expect("csv");
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
        assert!(record.iter().any(|c| c == "'-kasir@toko.id"));
    }
}
