//! Webhook delivery: the outbox's due events (for each payment only its oldest undelivered
//! one, so a payment's events arrive in order), each attempt in its own task so that one slow
//! receiver never holds back another payment's events. Signing and what follows an attempt
//! are [`crate::webhooks`]'.

use super::ClaimedWork;
use crate::payments::{Payments, ServiceError};
use crate::store::{AfterAttempt, Attempt, EventRecord};
use crate::webhooks::{after_attempt, Sender};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// How often the outbox is looked at when nothing woke the deliverer.
const POLL: Duration = Duration::from_millis(500);

pub struct Deliver {
    payments: Arc<Payments>,
    sender: Sender,
    /// Notified when an event is written: it goes out at once, not at the next poll.
    wake: Arc<Notify>,
}

impl Deliver {
    pub fn new(payments: Arc<Payments>, sender: Sender) -> Deliver {
        Deliver {
            wake: payments.events_written(),
            payments,
            sender,
        }
    }
}

/// The deliveries due now, each attempted before this returns.
pub async fn deliver_due_once(deliver: &Deliver) -> usize {
    super::do_due_once(deliver).await
}

impl ClaimedWork for Deliver {
    type Piece = EventRecord;
    const WHAT: &'static str = "the webhook outbox";
    /// Deliveries in flight at once (to distinct payments).
    const IN_FLIGHT: usize = 16;

    async fn claim(&self, limit: usize) -> Result<Vec<EventRecord>, ServiceError> {
        let lease = self.sender.config().lease;
        self.payments.claim_due_events(lease, limit).await
    }

    async fn ready(&self, _: &EventRecord) {}

    async fn work(&self, event: EventRecord) {
        let at = OffsetDateTime::now_utc();
        let started = std::time::Instant::now();
        let outcome = self.sender.attempt(&event, at).await;
        let duration = started.elapsed();
        let jitter = rand::thread_rng().gen_range(-0.1..=0.1);
        let then = after_attempt(
            &outcome,
            event.attempts + 1,
            &self.sender.config().retry_schedule,
            OffsetDateTime::now_utc(),
            jitter,
        );
        let counted = match then {
            AfterAttempt::Delivered => "delivered",
            AfterAttempt::RetryAt(_) => "retry",
            AfterAttempt::Failed => "failed",
            AfterAttempt::Abandoned => "abandoned",
        };
        self.payments.metrics().webhook_attempt(counted, duration);
        let attempt = Attempt {
            at,
            outcome: outcome.describe(),
            then,
            lease: event.leased_until,
            duration: Some(duration),
        };
        tracing::info!(
            event = %event.id,
            payment = %event.payment_id,
            kind = %event.event_type,
            outcome = %attempt.outcome,
            attempt = event.attempts + 1,
            "webhook attempt"
        );
        match self.payments.record_attempt(&event.id, attempt).await {
            Ok(true) => {}
            // This attempt outlived its lease and another proxy took the delivery over:
            // what it records is the truth, not ours.
            Ok(false) => tracing::warn!(event = %event.id, "delivery lease lost: not recorded"),
            // It stays pending: sent again later (receivers dedupe on webhook-id).
            Err(e) => {
                tracing::error!(event = %event.id, error = %e, "cannot record a webhook attempt")
            }
        }
    }

    async fn idle(&self) {
        let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
    }
}
