//! What every request handler shares: the configuration, the payment service, and the
//! per-client create limit. Handles only; the logic lives where each is defined.

use crate::config::Config;
use crate::payments::Payments;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

pub struct AppState {
    pub config: Config,
    pub payments: Arc<Payments>,
    pub create_limiter: CreateLimiter,
}

impl AppState {
    pub fn new(config: Config, payments: Arc<Payments>) -> Arc<AppState> {
        Arc::new(AppState {
            create_limiter: CreateLimiter::per_minute(config.creates_per_minute),
            config,
            payments,
        })
    }
}

/// Creates allowed per client IP per minute (`CHECKOUT_CREATES_PER_MINUTE`): each create
/// spends the merchant's PayDigital key. Reads are not limited: many shoppers share one
/// carrier NAT.
pub struct CreateLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl CreateLimiter {
    pub fn per_minute(creates: u32) -> CreateLimiter {
        let per_minute = NonZeroU32::new(creates).unwrap_or(NonZeroU32::MIN);
        CreateLimiter(RateLimiter::keyed(Quota::per_minute(per_minute)))
    }

    /// Counts one create from `ip`; `Err(wait)` when it is over its limit for `wait`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.0
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
