//! Confirmation without a browser: customers close the tab the moment their banking app says
//! "Berhasil", so the proxy asks PayDigital about every open payment itself. When each payment
//! is next due lives in the store (it survives restarts); the schedule is
//! [`crate::lifecycle::CheckSchedule`]; every check goes through the same per-payment gate as
//! browser reads, and all checks together stay under `CHECKOUT_UPSTREAM_MAX_RPS`.

use crate::payments::AppState;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// Checks waiting for PayDigital at once (a slow upstream must not stall the others).
const IN_FLIGHT: usize = 8;
/// A claimed check is this proxy's for this long; one whose proxy died is taken over after.
/// Longer than a check can take (the upstream timeout, the rate limiter's queue).
const LEASE: Duration = Duration::from_secs(60);
/// How often the store is asked for due checks when there were none.
const IDLE: Duration = Duration::from_millis(250);

/// Checks due payments until the task is stopped.
pub async fn run(state: Arc<AppState>) {
    let per_second = NonZeroU32::new(state.config.upstream_max_rps).unwrap_or(NonZeroU32::MIN);
    // No burst above the rate: the cap holds over any one-second window.
    let limiter = RateLimiter::direct(Quota::per_second(per_second).allow_burst(NonZeroU32::MIN));
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let now = OffsetDateTime::now_utc();
        let due = state
            .claim_for_free_slots(&slots, "due checks", move |s, free| {
                s.claim_due_checks(now, LEASE, free)
            })
            .await;
        let mut started = 0;
        for record in due {
            // A reader asked PayDigital about it moments ago: nothing to learn, no call spent.
            if !state.asked_recently(&record.id) {
                limiter.until_ready().await;
            }
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            started += 1;
            let state = state.clone();
            tokio::spawn(async move {
                state.check(&record.id).await;
                drop(slot);
            });
        }
        if started == 0 {
            tokio::time::sleep(IDLE).await;
        }
    }
}
