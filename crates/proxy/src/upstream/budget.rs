//! One budget for every call to PayDigital, shared by the group: `CHECKOUT_UPSTREAM_MAX_RPS`
//! status calls a second and `CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN` creates a minute, kept
//! in the store (`ClaimStore::take_upstream_call`) so that proxies on one PostgreSQL share
//! it. A status call for a payment someone is watching comes first: the confirmation
//! worker's background checks take a call only while a quarter interval is left over.
//!
//! A refusal is remembered here until the budget has room again, so a storm of readers
//! costs the store one question per interval, not one per read.

use crate::metrics::Metrics;
use crate::store::{PaymentStore, StoreError, Unavailability};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// What a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Create,
    /// A status read a browser or the shop's server is waiting for.
    WatchedStatus,
    /// A status read of the confirmation worker's: it can wait.
    BackgroundStatus,
}

impl Call {
    const ALL: [Call; 3] = [Call::Create, Call::WatchedStatus, Call::BackgroundStatus];

    fn kind(self) -> &'static str {
        match self {
            Call::Create => "create",
            Call::WatchedStatus | Call::BackgroundStatus => "status",
        }
    }

    /// Who asked, for `checkout_upstream_budget_refusals_total`.
    fn label(self) -> &'static str {
        match self {
            Call::Create => "create",
            Call::WatchedStatus => "watched_status",
            Call::BackgroundStatus => "background_status",
        }
    }

    fn index(self) -> usize {
        Call::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// Why a call may not be made now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The group is over budget for this long.
    Over(Duration),
    /// The budget is kept in the store, and the store cannot answer: a create learns it here,
    /// before PayDigital is asked for a payment that could not be kept.
    Store {
        reason: Unavailability,
        detail: String,
    },
}

/// The group's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub status_per_second: u32,
    pub creates_per_minute: u32,
}

pub struct Budget {
    store: Arc<dyn PaymentStore>,
    limits: Limits,
    /// Per [`Call`]: refused until then, without asking the store again.
    refused_until: Mutex<[Option<Instant>; 3]>,
    /// Counts refusals and store errors.
    metrics: Arc<Metrics>,
}

impl Budget {
    pub fn new(store: Arc<dyn PaymentStore>, limits: Limits, metrics: Arc<Metrics>) -> Budget {
        Budget {
            store,
            limits,
            refused_until: Mutex::new([None; 3]),
            metrics,
        }
    }

    /// The time between two calls of this kind, and how far ahead of now (negative: behind)
    /// the budget's clock may be for this call to go.
    fn shape(&self, call: Call) -> (Duration, i64) {
        let per = |n: u32, period: Duration| period / n.max(1);
        match call {
            // A minute's creates may come at once (a shop's rush), no more.
            Call::Create => {
                let interval = per(self.limits.creates_per_minute, Duration::from_secs(60));
                let burst = self.limits.creates_per_minute.max(1) - 1;
                // The burst from the interval before it is rounded to whole ms: above 60 000 a
                // minute the interval is under 1 ms, and `millis(interval) * burst` was no burst
                // at all (creates at once refused as `upstream_busy`).
                (interval, millis(interval.saturating_mul(burst)))
            }
            Call::WatchedStatus => (
                per(self.limits.status_per_second, Duration::from_secs(1)),
                0,
            ),
            Call::BackgroundStatus => {
                let interval = per(self.limits.status_per_second, Duration::from_secs(1));
                (interval, -(millis(interval) / 4))
            }
        }
    }

    /// `Some(wait)` when a refusal of this call is still fresh here: a caller can skip the
    /// work that would lead to the call (no store asked). Each `Some` is a refusal counted.
    pub fn refused(&self, call: Call) -> Option<Duration> {
        let wait = self.lock()[call.index()]
            .and_then(|until| until.checked_duration_since(Instant::now()));
        if wait.is_some() {
            self.metrics.budget_refused(call.label());
        }
        wait
    }

    /// Takes one call; `Err(Over(wait))` when the group is over budget for that long. A
    /// store that cannot be asked refuses: no budget, no call (a create is told why).
    pub async fn take(&self, call: Call) -> Result<(), Refused> {
        let slot = call.index();
        if let Some(left) = self.refused(call) {
            return Err(Refused::Over(left));
        }
        let (interval, slack) = self.shape(call);
        let now = OffsetDateTime::now_utc();
        let answer = self
            .store
            .claims()
            .take_upstream_call(call.kind(), now, interval, slack)
            .await;
        let wait = match answer {
            Ok(None) => return Ok(()),
            Ok(Some(wait)) => wait,
            Err(e) => {
                self.metrics.store_error(&e);
                tracing::warn!(error = %e, "cannot read the upstream budget");
                // A create answers at once that the store is away (the shop's client retries
                // later), not that the shop is busy; creates are too few to need the
                // remembered refusal that spares the store a storm of status reads.
                if let (Call::Create, StoreError::Unavailable { reason, detail }) = (call, e) {
                    return Err(Refused::Store { reason, detail });
                }
                Duration::from_secs(1)
            }
        };
        self.lock()[slot] = Instant::now().checked_add(wait);
        self.metrics.budget_refused(call.label());
        Err(Refused::Over(wait))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [Option<Instant>; 3]> {
        self.refused_until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    fn budget(status_per_second: u32, creates_per_minute: u32) -> Budget {
        let store = Arc::new(SqliteStore::in_memory().expect("store"));
        Budget::new(
            store,
            Limits {
                status_per_second,
                creates_per_minute,
            },
            Arc::new(Metrics::new("test")),
        )
    }

    #[tokio::test]
    async fn status_calls_are_spaced_and_the_worker_yields_to_watchers() {
        let budget = budget(4, 120);
        assert_eq!(budget.take(Call::WatchedStatus).await, Ok(()));
        // The next is a quarter second away, for everyone.
        let Err(Refused::Over(wait)) = budget.take(Call::WatchedStatus).await else {
            panic!("too soon")
        };
        assert!(wait <= Duration::from_millis(250), "{wait:?}");
        let Err(Refused::Over(wait)) = budget.take(Call::BackgroundStatus).await else {
            panic!("too soon")
        };
        assert!(wait <= Duration::from_millis(250 + 63), "{wait:?}");
        tokio::time::sleep(Duration::from_millis(260)).await;
        // Just free again: a watcher may go, the worker must leave it room.
        assert_eq!(budget.take(Call::WatchedStatus).await, Ok(()));
        let mut background = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1100) {
            if budget.take(Call::BackgroundStatus).await.is_ok() {
                background += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            (2..=4).contains(&background),
            "{background} background calls in 1.1 s at 4/s"
        );
    }

    #[tokio::test]
    async fn a_minutes_creates_may_come_at_once_then_no_more() {
        let budget = budget(5, 10);
        for n in 0..10 {
            assert_eq!(budget.take(Call::Create).await, Ok(()), "create {n}");
        }
        let Err(Refused::Over(wait)) = budget.take(Call::Create).await else {
            panic!("the eleventh")
        };
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        // Status calls are another budget.
        assert_eq!(budget.take(Call::WatchedStatus).await, Ok(()));
    }

    #[tokio::test]
    async fn a_minute_of_creates_under_a_millisecond_apart_still_comes_at_once() {
        // 100 000 a minute: 0.6 ms apart, a whole millisecond rounded away.
        let budget = budget(5, 100_000);
        let (_, slack) = budget.shape(Call::Create);
        assert!((59_990..=60_000).contains(&slack), "burst of {slack} ms");
        for n in 0..500 {
            assert_eq!(budget.take(Call::Create).await, Ok(()), "create {n}");
        }
    }

    #[tokio::test]
    async fn a_create_is_told_when_the_store_cannot_keep_the_budget() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkout.sqlite");
        let store = Arc::new(SqliteStore::open(&path).expect("store"));
        let budget = Budget::new(
            store,
            Limits {
                status_per_second: 5,
                creates_per_minute: 10,
            },
            Arc::new(Metrics::new("test")),
        );
        // Another process holds the file's write lock past the store's busy timeout.
        let other = crate::store::testing::ExclusiveLock::take(&path);
        match budget.take(Call::Create).await {
            Err(Refused::Store { reason, .. }) => assert_eq!(reason, Unavailability::Busy),
            other => panic!("a create must learn the store is away: {other:?}"),
        }
        // A status read is only told to wait: nobody is answered a store fault for it.
        assert!(matches!(
            budget.take(Call::WatchedStatus).await,
            Err(Refused::Over(_))
        ));
        other.release();
        assert_eq!(budget.take(Call::Create).await, Ok(()));
    }
}
