//! The latest known record of the payments browsers are watching, in memory, by id.
//!
//! Every browser that shows a QR code asks for its payment every few seconds: a shop with a
//! thousand checkouts open must not pay a store read and a hop to the blocking pool for each
//! ask. The store stays the source of truth — every write goes there first and only then
//! here — and a payment missing here is read from it. Proxies sharing one database see each
//! other's updates through the store's refresh claim (`refresh.rs`), late by at most the
//! status refresh window.

use crate::domain::payment::PaymentRecord;
use paydigital::Status;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// How many invoices are kept before idle ones are dropped.
pub const CACHE_CAPACITY: usize = 4096;

struct Entry {
    record: Arc<PaymentRecord>,
    /// When PayDigital was last asked about this invoice.
    read_upstream_at: Option<Instant>,
}

pub struct PaymentCache {
    /// Read-mostly: every status read takes the read lock once; only writes (an upstream
    /// answer, a new payment) take the write lock. A `Mutex` here made the runtime's worker
    /// threads queue on each other (futex waits) under load.
    entries: RwLock<HashMap<String, Entry>>,
    capacity: usize,
    /// Entries read upstream within this window are the ones kept when the map is full.
    window: Duration,
}

impl PaymentCache {
    pub fn new(capacity: usize, window: Duration) -> PaymentCache {
        PaymentCache {
            entries: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
            window,
        }
    }

    // Nothing here can be left half-updated by a panic: a poisoned map is still valid.
    fn entries(&self) -> RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    fn reading(&self) -> RwLockReadGuard<'_, HashMap<String, Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, id: &str) -> Option<Arc<PaymentRecord>> {
        self.reading().get(id).map(|e| e.record.clone())
    }

    /// A status read's one look: the record, and whether PayDigital was asked about it
    /// within the window.
    pub fn lookup(&self, id: &str) -> Option<(Arc<PaymentRecord>, bool)> {
        self.reading().get(id).map(|e| {
            let recent = e
                .read_upstream_at
                .is_some_and(|at| at.elapsed() < self.window);
            (e.record.clone(), recent)
        })
    }

    /// Whether PayDigital was asked about payment `id` within the window.
    pub fn read_upstream_recently(&self, id: &str) -> bool {
        self.lookup(id).is_some_and(|(_, recent)| recent)
    }

    /// A record just read from the store. Kept only if none is here: a newer one written
    /// meanwhile (by a status refresh) must not be replaced by this older read.
    pub fn read_from_store(&self, record: PaymentRecord) -> Arc<PaymentRecord> {
        let mut entries = self.entries();
        match entries.get(&record.id) {
            Some(entry) => entry.record.clone(),
            None => self.insert_new(&mut entries, record),
        }
    }

    /// A record just written to the store: replaces what is here (keeping when PayDigital
    /// was last asked) unless it would move the payment back.
    pub fn written_to_store(&self, record: PaymentRecord) {
        self.replace_unless_older(record);
    }

    fn insert_new(
        &self,
        entries: &mut HashMap<String, Entry>,
        record: PaymentRecord,
    ) -> Arc<PaymentRecord> {
        self.make_room(entries);
        let record = Arc::new(record);
        entries.insert(
            record.id.clone(),
            Entry {
                record: record.clone(),
                read_upstream_at: None,
            },
        );
        record
    }

    /// A record read from the store after another proxy asked PayDigital: replaces what is
    /// here, unless it would move the payment back, should this proxy have written a newer
    /// state meanwhile.
    pub fn written_by_another_proxy(&self, record: PaymentRecord) {
        self.replace_unless_older(record);
    }

    /// Every write goes through here: paid is final and an expired payment can only become
    /// paid, so a record of an earlier state (a read that began before a change and ends
    /// after it) never replaces a later one.
    fn replace_unless_older(&self, record: PaymentRecord) {
        let rank = |status: Status| match status {
            Status::Pending => 0,
            Status::Expired => 1,
            Status::Paid => 2,
        };
        let mut entries = self.entries();
        match entries.get_mut(&record.id) {
            Some(entry) if rank(record.status) >= rank(entry.record.status) => {
                entry.record = Arc::new(record);
            }
            Some(_) => {}
            None => {
                self.insert_new(&mut entries, record);
            }
        }
    }

    /// PayDigital was asked (whatever it answered): the next asks within the window are
    /// answered from here.
    pub fn mark_read_upstream(&self, id: &str, at: Instant) {
        if let Some(entry) = self.entries().get_mut(id) {
            entry.read_upstream_at = Some(at);
        }
    }

    /// Makes room for one more: first drops the invoices nobody polled lately (paid,
    /// expired, abandoned), then, if all are busy, everything (it is only a cache).
    fn make_room(&self, entries: &mut HashMap<String, Entry>) {
        if entries.len() < self.capacity {
            return;
        }
        let window = self.window;
        entries.retain(|_, e| e.read_upstream_at.is_some_and(|at| at.elapsed() < window));
        if entries.len() >= self.capacity {
            entries.clear();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{id_of, sample};

    #[test]
    fn a_store_read_never_replaces_a_newer_write() {
        let cache = PaymentCache::new(8, Duration::from_secs(2));
        let mut paid = sample("INV-1", None);
        paid.status = Status::Paid;
        cache.written_to_store(paid);
        cache.mark_read_upstream(&id_of("INV-1"), Instant::now());
        // A reader that missed the cache before the write comes back with the old record.
        let stale = sample("INV-1", None);
        assert_eq!(cache.read_from_store(stale).status, Status::Paid);
        assert_eq!(
            cache.get(&id_of("INV-1")).map(|r| r.status),
            Some(Status::Paid)
        );
        assert!(cache.read_upstream_recently(&id_of("INV-1")));
    }

    #[test]
    fn another_proxys_answer_replaces_ours_but_never_moves_a_payment_back() {
        let cache = PaymentCache::new(8, Duration::from_secs(2));
        cache.read_from_store(sample("INV-1", None));
        let mut paid = sample("INV-1", None);
        paid.status = Status::Paid;
        cache.written_by_another_proxy(paid);
        assert_eq!(
            cache.get(&id_of("INV-1")).map(|r| r.status),
            Some(Status::Paid)
        );
        // A store read that began before the payment was paid comes back late.
        cache.written_by_another_proxy(sample("INV-1", None));
        assert_eq!(
            cache.get(&id_of("INV-1")).map(|r| r.status),
            Some(Status::Paid)
        );
        let mut expired = sample("INV-2", None);
        cache.read_from_store(expired.clone());
        expired.status = Status::Expired;
        cache.written_by_another_proxy(expired);
        assert_eq!(
            cache.get(&id_of("INV-2")).map(|r| r.status),
            Some(Status::Expired)
        );
    }

    #[test]
    fn a_write_of_an_earlier_state_never_replaces_a_later_one() {
        let cache = PaymentCache::new(8, Duration::from_secs(2));
        let mut paid = sample("INV-1", None);
        paid.status = Status::Paid;
        cache.written_to_store(paid);
        // A check that read the store before the payment was paid records "still pending".
        let mut checked = sample("INV-1", None);
        checked.status_word = Some("pending".into());
        cache.written_to_store(checked);
        assert_eq!(
            cache.get(&id_of("INV-1")).map(|r| r.status),
            Some(Status::Paid)
        );
    }

    #[test]
    fn a_write_keeps_the_last_upstream_read_time() {
        let cache = PaymentCache::new(8, Duration::from_secs(2));
        cache.read_from_store(sample("INV-1", None));
        assert!(!cache.read_upstream_recently(&id_of("INV-1")));
        cache.mark_read_upstream(&id_of("INV-1"), Instant::now());
        cache.written_to_store(sample("INV-1", None));
        assert!(cache.read_upstream_recently(&id_of("INV-1")));
    }

    #[test]
    fn reads_older_than_the_window_are_not_recent() {
        let cache = PaymentCache::new(8, Duration::from_millis(1));
        cache.written_to_store(sample("INV-1", None));
        cache.mark_read_upstream(&id_of("INV-1"), Instant::now());
        std::thread::sleep(Duration::from_millis(5));
        assert!(!cache.read_upstream_recently(&id_of("INV-1")));
    }

    #[test]
    fn when_full_the_invoices_being_polled_stay() {
        let cache = PaymentCache::new(3, Duration::from_secs(60));
        cache.written_to_store(sample("POLLED", None));
        cache.mark_read_upstream(&id_of("POLLED"), Instant::now());
        cache.read_from_store(sample("IDLE-1", None));
        cache.read_from_store(sample("IDLE-2", None));
        cache.read_from_store(sample("NEW", None));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&id_of("POLLED")).is_some());
        assert!(cache.get(&id_of("NEW")).is_some());
        assert!(cache.get(&id_of("IDLE-1")).is_none());
    }

    #[test]
    fn when_full_of_busy_invoices_it_starts_over_and_stays_bounded() {
        let cache = PaymentCache::new(2, Duration::from_secs(60));
        for i in 0..10 {
            let invoice = format!("INV-{i}");
            cache.written_to_store(sample(&invoice, None));
            cache.mark_read_upstream(&id_of(&invoice), Instant::now());
            assert!(cache.len() <= 2);
        }
        assert!(cache.get(&id_of("INV-9")).is_some());
    }
}
