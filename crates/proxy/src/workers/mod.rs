//! The proxy's work in the background, started with the server and stopped with it:
//! confirming payments nobody is watching (`confirm.rs`) and delivering webhooks
//! (`deliver.rs`). Both are one loop ([`run`]): claim due work in the store — so that
//! several proxies never do a piece twice — for the free slots only, start each piece in a
//! task of its own, and wait when nothing was due. What was in flight when the server
//! stopped is still due in the store and resumes at the next start. Besides them, with
//! `CHECKOUT_BACKUP_DIR`, scheduled snapshots of a SQLite store (`backup.rs`).

pub mod backup;
pub mod confirm;
pub mod deliver;

use crate::payments::ServiceError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The first wait after a pass whose claim failed (the store is away: a full disk, a held
/// lock, PostgreSQL down); it doubles with each failure in a row, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// A store away for hours is asked again (and the failure logged) this often, not several
/// times a second; its work is done at most this long after it is back.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One kind of work that is claimed in the store and done piece by piece.
pub trait ClaimedWork: Send + Sync + 'static {
    type Piece: Send + 'static;
    /// What is claimed, for log lines.
    const WHAT: &'static str;
    /// Pieces in flight at once (a slow one must not stall the others).
    const IN_FLIGHT: usize;

    /// Claims at most `limit` due pieces for this proxy: other proxies skip them meanwhile.
    fn claim(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Self::Piece>, ServiceError>> + Send;
    /// Waits until `piece` may start (a rate limit), before it takes a slot.
    fn ready(&self, piece: &Self::Piece) -> impl Future<Output = ()> + Send;
    /// Does one piece; its outcome is recorded in the store.
    fn work(&self, piece: Self::Piece) -> impl Future<Output = ()> + Send;
    /// Waits after a pass that found nothing to start.
    fn idle(&self) -> impl Future<Output = ()> + Send;
}

/// Does `work` until the task is stopped. A store error never ends it: what could not be
/// claimed is still due in the store, and is claimed when the store answers again.
pub async fn run<W: ClaimedWork>(work: Arc<W>) {
    let slots = Arc::new(Semaphore::new(W::IN_FLIGHT));
    let mut failures = 0u32;
    loop {
        match start_due(&work, &slots).await {
            Some(0) => {
                failures = 0;
                work.idle().await;
            }
            Some(_) => failures = 0,
            None => {
                failures = failures.saturating_add(1);
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    }
}

/// How long to wait after `failures` claims in a row failed.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(8);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// One pass: claims no more than the free slots, so that each piece starts at once (well
/// inside its lease), and starts each in its own task. How many it started; `None` when the
/// store could not be asked.
async fn start_due<W: ClaimedWork>(work: &Arc<W>, slots: &Arc<Semaphore>) -> Option<usize> {
    let free = slots.available_permits();
    if free == 0 {
        return Some(0);
    }
    let mut started = 0;
    for piece in claim(work.as_ref(), free).await? {
        work.ready(&piece).await;
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let work = work.clone();
        tokio::spawn(async move {
            work.work(piece).await;
            drop(slot);
        });
        started += 1;
    }
    Some(started)
}

/// What is due now, done to the end here (no tasks): one pass for a test or a command to
/// drive, where [`run`] would leave it to the background. How many pieces it did.
pub async fn do_due_once<W: ClaimedWork>(work: &W) -> usize {
    let due = claim(work, W::IN_FLIGHT).await.unwrap_or_default();
    let count = due.len();
    let mut pieces = Vec::with_capacity(count);
    for piece in due {
        work.ready(&piece).await;
        pieces.push(work.work(piece));
    }
    futures_util::future::join_all(pieces).await;
    count
}

/// `None` when the store cannot be asked (logged): a later pass tries again.
async fn claim<W: ClaimedWork>(work: &W, limit: usize) -> Option<Vec<W::Piece>> {
    work.claim(limit)
        .await
        .map_err(|e| tracing::error!(error = %e, "cannot read {}", W::WHAT))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use tokio::sync::Notify;

    /// Pieces are numbers; each one waits for `release` before it is done.
    #[derive(Default)]
    struct Counted {
        due: Mutex<Vec<u32>>,
        claims: Mutex<Vec<usize>>,
        done: AtomicUsize,
        release: Notify,
    }

    impl ClaimedWork for Counted {
        type Piece = u32;
        const WHAT: &'static str = "numbers";
        const IN_FLIGHT: usize = 2;

        async fn claim(&self, limit: usize) -> Result<Vec<u32>, ServiceError> {
            self.claims.lock().expect("claims").push(limit);
            let mut due = self.due.lock().expect("due");
            let n = limit.min(due.len());
            Ok(due.drain(..n).collect())
        }
        async fn ready(&self, _: &u32) {}
        async fn work(&self, _: u32) {
            self.release.notified().await;
            self.done.fetch_add(1, Ordering::SeqCst);
        }
        async fn idle(&self) {}
    }

    #[tokio::test]
    async fn a_pass_claims_only_for_free_slots_and_none_while_all_are_busy() {
        let work = Arc::new(Counted::default());
        work.due.lock().expect("due").extend([1, 2, 3]);
        let slots = Arc::new(Semaphore::new(Counted::IN_FLIGHT));
        assert_eq!(start_due(&work, &slots).await, Some(2));
        // Both slots busy: no claim at all, so nothing is leased that could not start.
        assert_eq!(start_due(&work, &slots).await, Some(0));
        assert_eq!(*work.claims.lock().expect("claims"), [2]);
        assert_eq!(work.due.lock().expect("due").as_slice(), [3]);
        while slots.available_permits() < Counted::IN_FLIGHT {
            work.release.notify_waiters();
            tokio::task::yield_now().await;
        }
        assert_eq!(work.done.load(Ordering::SeqCst), 2);
        assert_eq!(start_due(&work, &slots).await, Some(1));
    }

    #[test]
    fn a_store_away_is_asked_less_and_less_often_down_to_every_few_seconds() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[tokio::test]
    async fn once_does_what_is_due_to_the_end() {
        let work = Arc::new(Counted::default());
        work.due.lock().expect("due").extend([1, 2, 3]);
        let releaser = {
            let work = work.clone();
            tokio::spawn(async move {
                while work.done.load(Ordering::SeqCst) < 2 {
                    work.release.notify_waiters();
                    tokio::task::yield_now().await;
                }
            })
        };
        assert_eq!(
            do_due_once(work.as_ref()).await,
            2,
            "at most IN_FLIGHT a pass"
        );
        assert_eq!(
            work.done.load(Ordering::SeqCst),
            2,
            "both were done before it returned"
        );
        releaser.await.expect("releaser");
        assert_eq!(work.due.lock().expect("due").as_slice(), [3]);
    }
}
