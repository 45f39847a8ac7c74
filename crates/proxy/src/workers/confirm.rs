//! Confirmation without a browser: customers close the tab the moment their banking app says
//! "Berhasil", so the proxy asks PayDigital about every open payment itself. When each payment
//! is next due lives in the store (it survives restarts); the schedule is
//! [`crate::domain::lifecycle::CheckSchedule`]; every check goes through the same per-payment
//! gate as browser reads, and all checks together stay under `CHECKOUT_UPSTREAM_MAX_RPS`.

use super::ClaimedWork;
use crate::domain::payment::PaymentRecord;
use crate::payments::{Payments, ServiceError};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// How often the store is asked for due checks when there were none.
const IDLE: Duration = Duration::from_millis(250);

pub struct Confirm {
    payments: Arc<Payments>,
    /// Checks per second, with no burst above the rate: the cap holds over any one-second
    /// window.
    limiter: DefaultDirectRateLimiter,
    /// A claimed check is this proxy's for this long (`CHECKOUT_CHECK_LEASE_SECS`); one
    /// whose proxy died is taken over after.
    lease: Duration,
}

impl Confirm {
    pub fn new(payments: Arc<Payments>, max_per_second: u32, lease: Duration) -> Confirm {
        let per_second = NonZeroU32::new(max_per_second).unwrap_or(NonZeroU32::MIN);
        Confirm {
            payments,
            limiter: RateLimiter::direct(
                Quota::per_second(per_second).allow_burst(NonZeroU32::MIN),
            ),
            lease,
        }
    }
}

/// The due checks there are now, each done before this returns.
pub async fn check_due_once(confirm: &Confirm) -> usize {
    super::do_due_once(confirm).await
}

impl ClaimedWork for Confirm {
    type Piece = PaymentRecord;
    const WHAT: &'static str = "due checks";
    const IN_FLIGHT: usize = 8;

    async fn claim(&self, limit: usize) -> Result<Vec<PaymentRecord>, ServiceError> {
        self.payments.claim_due_checks(self.lease, limit).await
    }

    async fn ready(&self, record: &PaymentRecord) {
        // A reader asked PayDigital about it moments ago: nothing to learn, no call spent.
        if !self.payments.asked_recently(&record.id) {
            self.limiter.until_ready().await;
        }
    }

    async fn work(&self, record: PaymentRecord) {
        self.payments.check(&record.id).await;
    }

    async fn idle(&self) {
        tokio::time::sleep(IDLE).await;
    }
}
