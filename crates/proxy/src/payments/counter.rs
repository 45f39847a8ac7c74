//! The counter's sales (`dashboard.md`, "The counter"): a member of staff charges what they
//! keyed in — one payment per sale however often Charge is pressed or the request retried,
//! because the page names each sale with its own key — and sees their own recent sales.

use super::{Created, Idempotency, KeyScope, Payments, ServiceError};
use crate::domain::clock;
use crate::domain::new_payment::{CounterSaleRequest, Invalid, PaymentRules};
use crate::domain::payment::{PaymentRecord, Source};
use crate::store::ListFilter;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How far back the counter lists its sales: a shift, and the evening before.
pub const RECENT_SALES: Duration = Duration::from_secs(12 * 3600);
/// At most this many are listed (a busy stall's day).
pub const RECENT_SALES_LIMIT: usize = 200;

/// Why a sale was not charged.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Payments {
    /// Charges `request` as `cashier`'s sale `sale_key`: the payment an earlier press of
    /// that sale made, or a new one (`source: counter`, the cashier recorded).
    pub async fn charge_at_counter(
        &self,
        rules: &PaymentRules,
        cashier: &str,
        sale_key: &str,
        request: CounterSaleRequest,
    ) -> Result<Created, ChargeError> {
        // The key is the cashier's own: another's sale key finds nothing of theirs.
        let idempotency = Idempotency::new(
            KeyScope::Counter,
            &format!("{cashier}:{sale_key}"),
            &request,
        )?;
        let new = rules.counter_payment(request, cashier)?;
        Ok(self.create(new, Some(idempotency)).await?)
    }

    /// `cashier`'s counter sales of the last [`RECENT_SALES`] before `now`, newest first.
    pub async fn counter_sales(
        &self,
        cashier: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<PaymentRecord>, ServiceError> {
        let page = self
            .list(ListFilter {
                created_by: Some(cashier.to_owned()),
                created_after: Some(clock::before(now, RECENT_SALES)),
                limit: RECENT_SALES_LIMIT,
                now: Some(now),
                ..ListFilter::default()
            })
            .await?;
        Ok(page.data)
    }

    /// Sale `id` if it is one `cashier` charged at the counter (a reload resumes it); any
    /// other payment is none of the counter's business.
    pub async fn counter_sale(
        &self,
        cashier: &str,
        id: &str,
    ) -> Result<Option<Arc<PaymentRecord>>, ServiceError> {
        match self.record(id).await {
            Ok(record) => Ok(is_counter_sale_of(&record, cashier).then_some(record)),
            Err(ServiceError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether `record` is a sale `cashier` charged at the counter.
pub fn is_counter_sale_of(record: &PaymentRecord, cashier: &str) -> bool {
    record.source == Source::Counter && record.created_by.as_deref() == Some(cashier)
}

/// Whether `record` is in `cashier`'s counter list at `now` (theirs, and of the last
/// [`RECENT_SALES`]): a cashier may open it, even when it was made before today.
pub fn in_counter_list(record: &PaymentRecord, cashier: &str, now: OffsetDateTime) -> bool {
    is_counter_sale_of(record, cashier) && record.created_at >= clock::before(now, RECENT_SALES)
}
