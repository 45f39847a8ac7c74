//! Asking PayDigital about a payment: at most once per refresh window for the whole group,
//! however many readers (browsers, the shop's server, the confirmation worker) ask at once,
//! and its answer applied through the payment's one state machine (`domain::lifecycle`).

use super::error::ServiceError;
use super::Payments;
use crate::domain::lifecycle::{self, Change};
use crate::domain::payment::{PaymentRecord, Review};
use crate::store::RefreshClaim;
use crate::upstream::{Call, UpstreamFailure};
use paydigital::wire::StatusReply;
use paydigital::Status;
use std::time::Instant;
use time::OffsetDateTime;

impl Payments {
    /// Reads a payment upstream unless someone did within the refresh window. Concurrent
    /// readers wait on one lock and share one upstream call; when it returns, the store and
    /// the cache hold its answer for all of them. Across proxies the store's refresh claim is
    /// the gate: a proxy that finds the read claimed by another takes that proxy's answer
    /// from the store instead. `false`: this proxy did not ask.
    pub(super) async fn refresh(&self, record: &PaymentRecord, call: Call) -> bool {
        let id = record.id.as_str();
        let window = self.status_refresh;
        let gate = self.refreshing.get(id);
        let mut last_read = gate.lock().await;
        if last_read.is_some_and(|at| at.elapsed() < window) {
            return false;
        }
        // Known to be over budget: no claim, no store write, until it has room.
        if let Some(wait) = self.upstream.over_budget(call) {
            self.left_to_budget(record, call, wait).await;
            return true;
        }
        let now = OffsetDateTime::now_utc();
        let claim = self
            .in_store(self.store.claims().claim_refresh(id, now, window))
            .await;
        // When the group's last read was made: ours now, or the other proxy's claim.
        let (asked, read_at) = match claim {
            Ok(RefreshClaim::Mine) => {
                if !self.ask_upstream(record, call).await {
                    // Not asked after all (the budget): nobody should wait for our answer.
                    if let Err(e) = self.in_store(self.store.claims().release_refresh(id)).await {
                        tracing::warn!(id, error = %e, "cannot release a status read claim");
                    }
                    return true;
                }
                (true, Instant::now())
            }
            Ok(RefreshClaim::Taken { at }) => {
                // Another proxy asked at `at`: its answer is what the store holds now (or
                // within its upstream call). Ask again only when its window is over.
                self.adopt_stored(id).await;
                let age = u64::try_from((now - at).whole_milliseconds()).unwrap_or(0);
                let claimed = Instant::now()
                    .checked_sub(std::time::Duration::from_millis(age))
                    .unwrap_or_else(Instant::now);
                (false, claimed)
            }
            Ok(RefreshClaim::NoSuchPayment) => return false,
            // The database is away: answer from memory, and try again next window.
            Err(e) => {
                tracing::warn!(id, error = %e, "cannot claim a status read");
                (false, Instant::now())
            }
        };
        *last_read = Some(read_at);
        self.cache.mark_read_upstream(id, read_at);
        drop(last_read);
        // Gates whose last read is older than the window carry no information any more.
        self.refreshing
            .sweep(|last| last.is_some_and(|at| at.elapsed() < window));
        asked
    }

    /// Asks PayDigital about `record` and records the answer (or, with none, the next check).
    /// `false`: not asked, for want of budget.
    async fn ask_upstream(&self, record: &PaymentRecord, call: Call) -> bool {
        let (id, invoice) = (record.id.as_str(), record.invoice.as_str());
        let started = Instant::now();
        let answer = match self.upstream.status(invoice, call).await {
            Ok(reply) => match unbelievable(record, &reply) {
                None => Some(reply),
                Some(review) => {
                    // Nothing in it is believed, "paid" least of all: the payment keeps its
                    // state, and a person is asked to look.
                    tracing::error!(
                        id,
                        invoice,
                        answered_for = %reply.invoice,
                        amount = ?reply.amount,
                        total_amount = ?reply.total_amount,
                        expected_total = record.total_amount,
                        status = reply.status.as_str(),
                        review = review.as_str(),
                        "PayDigital's answer does not fit the payment: marked for review"
                    );
                    self.mark_for_review(record, review).await;
                    None
                }
            },
            // Over budget: the last known status stands, and that is no failure. The check
            // is due again when the budget has room, not a whole schedule step later (checks
            // falling due together would otherwise starve each other).
            Err(UpstreamFailure::OverBudget(wait)) => {
                self.left_to_budget(record, call, wait).await;
                return false;
            }
            // The last known status stands; the next reader or check asks again.
            Err(failure) => {
                tracing::warn!(invoice, %failure, "status read failed");
                None
            }
        };
        let result = match answer {
            Some(reply) => {
                let word = reply.status_word.clone();
                let applied = self
                    .apply_upstream(id, reply.status, &word, reply.paid_at)
                    .await;
                if applied.is_ok() {
                    tracing::info!(
                        invoice,
                        status = reply.status.as_str(),
                        word = %word,
                        latency_ms = started.elapsed().as_millis() as u64,
                        "status read"
                    );
                }
                applied
            }
            None => self.schedule_next(record).await,
        };
        if let Err(e) = result {
            tracing::error!(invoice, error = %e, "could not record status");
        }
        true
    }

    /// Not asked for want of budget: a reader answers what is known; a check is due again
    /// when the budget has room.
    async fn left_to_budget(&self, record: &PaymentRecord, call: Call, wait: std::time::Duration) {
        tracing::debug!(invoice = %record.invoice, ?wait, "status read left to the budget");
        if call == Call::BackgroundStatus {
            if let Err(e) = self.retry_when_budget_allows(record, wait).await {
                tracing::error!(invoice = %record.invoice, error = %e, "could not schedule a check");
            }
        }
    }

    /// Records `review` on the payment, in the store and then in memory.
    async fn mark_for_review(&self, record: &PaymentRecord, review: Review) {
        match self
            .in_store(self.store.payments().mark_for_review(&record.id, review))
            .await
        {
            Ok(()) => {
                let mut marked = record.clone();
                marked.review = Some(review);
                self.cache.written_to_store(marked);
            }
            Err(e) => {
                tracing::error!(id = %record.id, error = %e, "cannot mark a payment for review")
            }
        }
    }

    /// What PayDigital said, applied through the payment's state machine: a change is written
    /// with its event in one transaction (and wakes the webhook deliverer); either way the
    /// next check is scheduled.
    async fn apply_upstream(
        &self,
        id: &str,
        upstream: Status,
        word: &str,
        paid_at: Option<OffsetDateTime>,
    ) -> Result<(), ServiceError> {
        // A change is written only onto the state it was decided on; if another reader
        // changed the payment meanwhile, decide again on what is there now.
        for _ in 0..3 {
            let current = self
                .in_store(self.store.payments().get(id))
                .await?
                .ok_or(ServiceError::NotFound)?;
            let now = OffsetDateTime::now_utc();
            let Some(change) = lifecycle::on_upstream(&current, upstream, paid_at, now) else {
                let next = self.schedule.next_check(&current, now);
                self.in_store(self.store.payments().checked(id, Some(word), next))
                    .await?;
                let mut seen = current;
                seen.status_word = Some(word.to_owned());
                self.cache.written_to_store(seen);
                return Ok(());
            };
            let mut after = current.clone();
            after.status = change.status();
            after.status_word = Some(word.to_owned());
            if let Change::Paid { at, late } = change {
                after.paid_at = Some(at);
                after.late = late;
            }
            let event = self.event(change.event_type(), &after, now)?;
            let next = self.schedule.next_check(&after, now);
            let from = current.status;
            if self
                .in_store(self.store.payments().transition(&after, from, &event, next))
                .await?
            {
                tracing::info!(
                    id,
                    invoice = %after.invoice,
                    from = from.as_str(),
                    to = after.status.as_str(),
                    late = after.late,
                    "payment changed"
                );
                self.cache.written_to_store(after);
                self.events_written.notify_one();
                return Ok(());
            }
        }
        Err(ServiceError::Internal(format!(
            "{id}: changed under us three times in a row"
        )))
    }

    /// Not asked for want of budget: due again after `wait` (with a little jitter, so that
    /// the group's workers do not all come back at once), or on schedule if that is sooner.
    async fn retry_when_budget_allows(
        &self,
        record: &PaymentRecord,
        wait: std::time::Duration,
    ) -> Result<(), ServiceError> {
        use rand::Rng;
        let now = OffsetDateTime::now_utc();
        let jitter = std::time::Duration::from_millis(rand::thread_rng().gen_range(0..=250));
        let soon = crate::domain::clock::after(now, wait + jitter);
        let next = self
            .schedule
            .next_check(record, now)
            .map(|scheduled| scheduled.min(soon));
        self.in_store(self.store.payments().checked(&record.id, None, next))
            .await
    }

    /// Nothing learnt (PayDigital did not answer sensibly): ask again on schedule.
    pub(super) async fn schedule_next(&self, record: &PaymentRecord) -> Result<(), ServiceError> {
        let next = self.schedule.next_check(record, OffsetDateTime::now_utc());
        self.in_store(self.store.payments().checked(&record.id, None, next))
            .await
    }
}

/// Why `reply` cannot be an answer about `record`: another invoice, or other amounts (a
/// missing amount is not a different one: PayDigital does not always send them).
fn unbelievable(record: &PaymentRecord, reply: &StatusReply) -> Option<Review> {
    if reply.invoice != record.invoice {
        return Some(Review::InvoiceMismatch);
    }
    let differs = |said: Option<u64>, known: u64| said.is_some_and(|said| said != known);
    (differs(reply.amount, record.amount) || differs(reply.total_amount, record.total_amount))
        .then_some(Review::AmountMismatch)
}
