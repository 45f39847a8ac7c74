//! Creating a payment at PayDigital and keeping it: never a code we could not vouch for.

use super::error::ServiceError;
use super::idempotency::Idempotency;
use super::Payments;
use crate::domain::lifecycle::EventType;
use crate::domain::new_payment::NewPayment;
use crate::domain::payment::PaymentRecord;
use crate::domain::{clock, ids};
use crate::upstream::UpstreamFailure;
use paydigital::Status;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// PayDigital's codes live minutes; an `expired_at` beyond these bounds is not believed.
const EARLIEST_EXPIRY: Duration = Duration::from_secs(24 * 3600);
const LATEST_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

impl Payments {
    /// Creates the payment upstream, checks what came back, and stores it with its
    /// `payment.created` event and its first check.
    pub(super) async fn create_upstream(
        &self,
        new: NewPayment,
        idempotency: Option<Idempotency>,
    ) -> Result<PaymentRecord, ServiceError> {
        let started = Instant::now();
        let reply = self
            .upstream
            .create(new.amount, &new.description, &new.customer_name)
            .await
            .map_err(|failure| match failure {
                UpstreamFailure::Timeout(_) => ServiceError::UpstreamTimeout,
                UpstreamFailure::OverBudget(wait) => ServiceError::UpstreamBusy(wait),
                UpstreamFailure::StoreUnavailable { reason, detail } => {
                    ServiceError::StoreUnavailable { reason, detail }
                }
                other => ServiceError::Upstream(other.to_string()),
            })?;
        // Never hand out a code we could not vouch for: wrong amount, bad CRC, not QRIS.
        if reply.amount != new.amount || reply.total_amount < reply.amount {
            return Err(ServiceError::Upstream(format!(
                "invoice {}: asked for {}, got amount {} total {}",
                reply.invoice, new.amount, reply.amount, reply.total_amount
            )));
        }
        // An expiry outside any sane window is a broken answer, not a payment to keep.
        let now = OffsetDateTime::now_utc();
        if reply.expired_at < clock::before(now, EARLIEST_EXPIRY)
            || reply.expired_at > clock::after(now, LATEST_EXPIRY)
        {
            return Err(ServiceError::Upstream(format!(
                "invoice {}: expired_at {} is outside a day ago to a week ahead",
                reply.invoice, reply.expired_at
            )));
        }
        if let Err(e) = paydigital::qris::verify_for_total(&reply.qr_content, reply.total_amount) {
            return Err(ServiceError::Upstream(format!(
                "invoice {}: {e}",
                reply.invoice
            )));
        }
        let (idempotency_key, request_fingerprint) =
            idempotency.map(|i| (i.scoped_key, i.fingerprint)).unzip();
        let record = PaymentRecord {
            id: ids::new_payment_id(),
            invoice: reply.invoice,
            status: Status::Pending,
            status_word: None,
            amount: reply.amount,
            unique_code: reply.unique_code,
            total_amount: reply.total_amount,
            qr_content: reply.qr_content,
            payment_url: reply.payment_url,
            expires_at: reply.expired_at,
            paid_at: None,
            created_at: OffsetDateTime::now_utc(),
            description: new.description,
            customer_name: new.customer_name,
            reference: new.reference,
            item: new.item,
            source: new.source,
            metadata: new.metadata,
            late: false,
            idempotency_key,
            request_fingerprint,
            review: None,
            payment_link_id: new.payment_link_id,
            created_by: new.created_by,
            receipt_token: ids::new_receipt_token(),
        };
        let now = record.created_at;
        let created = self.event(EventType::Created, &record, now)?;
        let next_check = self.schedule.next_check(&record, now);
        self.in_store(self.store.payments().insert(&record, &created, next_check))
            .await?;
        self.cache.written_to_store(record.clone());
        self.events_written.notify_one();
        tracing::info!(
            id = %record.id,
            invoice = %record.invoice,
            source = record.source.as_str(),
            total_amount = record.total_amount,
            reference = record.reference.as_deref().unwrap_or(""),
            latency_ms = started.elapsed().as_millis() as u64,
            "payment created"
        );
        Ok(record)
    }
}
