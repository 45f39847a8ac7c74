//! What every request handler shares: the configuration, the payment service, the staff
//! service, and the per-client create limit. Handles only; the logic lives where each is defined.

use crate::config::Config;
use crate::payments::Payments;
use crate::staff::Staff;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct AppState {
    pub config: Config,
    pub payments: Arc<Payments>,
    /// The shop's people: sign-in, sessions, the audit log (`/admin`).
    pub staff: Arc<Staff>,
    pub create_limiter: CreateLimiter,
}

impl AppState {
    pub fn new(config: Config, payments: Arc<Payments>, staff: Arc<Staff>) -> Arc<AppState> {
        Arc::new(AppState {
            create_limiter: CreateLimiter::per_minute(config.creates_per_minute),
            config,
            payments,
            staff,
        })
    }
}

/// Creates allowed per client per minute (`CHECKOUT_CREATES_PER_MINUTE`): each create
/// spends the merchant's PayDigital key. Reads are not limited: many shoppers share one
/// carrier NAT. Clients are keyed as the front door says (IPv6 per /64, `http/client_ip.rs`),
/// and keys whose limit has fully replenished are dropped now and then, so a flood of
/// addresses cannot grow the map without bound.
pub struct CreateLimiter<C: Clock = DefaultClock> {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    checks: AtomicU64,
}

/// Every this many checks, replenished keys are dropped.
const PRUNE_EVERY: u64 = 4096;

impl CreateLimiter {
    pub fn per_minute(creates: u32) -> CreateLimiter {
        CreateLimiter::with_clock(creates, DefaultClock::default())
    }
}

impl<C: Clock + Clone> CreateLimiter<C> {
    pub fn with_clock(creates: u32, clock: C) -> CreateLimiter<C> {
        let per_minute = NonZeroU32::new(creates).unwrap_or(NonZeroU32::MIN);
        CreateLimiter {
            limiter: RateLimiter::new(
                Quota::per_minute(per_minute),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one create from `client`; `Err(wait)` when it is over its limit for `wait`.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops the clients whose limit has fully replenished (they start fresh anyway).
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients remembered now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn clients_are_limited_apart_and_forgotten_once_replenished() {
        let clock = FakeRelativeClock::default();
        let limiter = CreateLimiter::with_clock(2, clock.clone());
        let one: IpAddr = "203.0.113.7".parse().expect("ip");
        assert!(limiter.check(one).is_ok() && limiter.check(one).is_ok());
        let wait = limiter.check(one).expect_err("third in a minute");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        for i in 0..5000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(limiter.check(ip).is_ok());
        }
        assert_eq!(limiter.len(), 5001);
        // Half a minute on, the full ones are still remembered.
        clock.advance(Duration::from_secs(30));
        limiter.prune();
        assert_eq!(limiter.len(), 5001);
        // A minute on, those that made one create are forgotten; the one that used its limit
        // up is not fresh yet (governor keeps a key one emission interval past its last use).
        clock.advance(Duration::from_secs(31));
        limiter.prune();
        assert_eq!(limiter.len(), 1);
        clock.advance(Duration::from_secs(30));
        limiter.prune();
        assert!(limiter.is_empty(), "{} left", limiter.len());
        assert!(limiter.check(one).is_ok(), "replenished");
    }
}
