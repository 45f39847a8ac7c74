//! Per-key async locks: one create per idempotency key at a time, one upstream status read
//! per payment at a time, within this proxy (across proxies the store's claims decide).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How many per-key locks may pile up before idle ones are swept.
pub(crate) const SWEEP_ABOVE: usize = 1024;

pub(crate) struct KeyedLocks<T> {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>,
}

impl<T: Default> KeyedLocks<T> {
    pub(crate) fn new() -> Self {
        KeyedLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }

    // Nothing here can be left half-updated by a panic: a poisoned map is still valid.
    fn locks(&self) -> MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<T>>>> {
        self.locks.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<T>> {
        self.locks().entry(key.to_owned()).or_default().clone()
    }

    /// Drops idle entries for which `keep` is false, once there are more than
    /// [`SWEEP_ABOVE`]: a long-running proxy must not keep one per payment it ever read.
    pub(crate) fn sweep(&self, keep: impl Fn(&T) -> bool) {
        let mut locks = self.locks();
        if locks.len() <= SWEEP_ABOVE {
            return;
        }
        // Held or awaited (more than the map's own reference), or busy: kept.
        locks.retain(|_, lock| {
            Arc::strong_count(lock) > 1 || lock.try_lock().map_or(true, |value| keep(&value))
        });
    }

    /// Drops `key`'s lock unless someone else still holds or waits for it.
    pub(crate) fn forget(&self, key: &str) {
        let mut locks = self.locks();
        if locks
            .get(key)
            .is_some_and(|lock| Arc::strong_count(lock) <= 1)
        {
            locks.remove(key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.locks().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn idle_stale_gates_are_swept_but_held_and_fresh_ones_stay() {
        let gates: KeyedLocks<Option<Instant>> = KeyedLocks::new();
        let stale = Instant::now()
            .checked_sub(Duration::from_secs(60))
            .unwrap_or_else(Instant::now);
        for i in 0..SWEEP_ABOVE + 500 {
            let gate = gates.get(&format!("PYG{i}"));
            *gate.try_lock().expect("free") = Some(stale);
        }
        let held = gates.get("PYG-held");
        let fresh = gates.get("PYG-fresh");
        *fresh.try_lock().expect("free") = Some(Instant::now());
        drop(fresh);
        assert_eq!(gates.len(), SWEEP_ABOVE + 502);
        gates.sweep(|last| last.is_some_and(|at| at.elapsed() < Duration::from_secs(2)));
        assert_eq!(gates.len(), 2, "only the held and the fresh gate are left");
        drop(held);
        // Below the threshold nothing is swept, even when stale.
        gates.sweep(|_| false);
        assert_eq!(gates.len(), 2);
    }

    #[test]
    fn a_forgotten_lock_stays_while_someone_holds_it() {
        let locks: KeyedLocks<()> = KeyedLocks::new();
        let held = locks.get("merchant:k1");
        locks.get("merchant:k2");
        locks.forget("merchant:k1");
        locks.forget("merchant:k2");
        assert_eq!(locks.len(), 1, "k1 is held, k2 was idle");
        drop(held);
        locks.forget("merchant:k1");
        assert_eq!(locks.len(), 0);
    }
}
