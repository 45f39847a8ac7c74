//! One state machine for a payment's life, on the server: what an answer from PayDigital (or
//! the clock) changes, which event that writes, and when the proxy should ask again.
//!
//! ```text
//!   pending ──paid──▶ paid (final)
//!      │
//!      └─expired (PayDigital says so, or the clock passed expires_at while it still says
//!        pending)──▶ expired ──paid──▶ paid, late
//! ```
//! Nothing ever goes back: paid is final, expired can only become paid.

use super::payment::PaymentRecord;
use paydigital::Status;
use std::time::Duration;
use time::OffsetDateTime;

/// A change of state, and the webhook event it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `payment.paid`; `late` when the proxy had already recorded it expired.
    Paid { at: OffsetDateTime, late: bool },
    /// `payment.expired`.
    Expired,
}

impl Change {
    pub fn status(self) -> Status {
        match self {
            Change::Paid { .. } => Status::Paid,
            Change::Expired => Status::Expired,
        }
    }

    pub fn event_type(self) -> EventType {
        match self {
            Change::Paid { .. } => EventType::Paid,
            Change::Expired => EventType::Expired,
        }
    }
}

/// The webhook events (`docs/merchant-api.md`, "Webhooks"). Serialized as
/// [`EventType::as_str`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub enum EventType {
    /// A payment was made (its code is ready to show).
    #[serde(rename = "payment.created")]
    Created,
    /// The money arrived (`data.late` is true when it came after `payment.expired`).
    #[serde(rename = "payment.paid")]
    Paid,
    /// The code's time is up and PayDigital had not been paid (it may still turn paid).
    #[serde(rename = "payment.expired")]
    Expired,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "payment.created",
            EventType::Paid => "payment.paid",
            EventType::Expired => "payment.expired",
        }
    }
}

/// What PayDigital's answer `upstream` (with its `paid_at`) means for `record` at `now`.
pub fn on_upstream(
    record: &PaymentRecord,
    upstream: Status,
    paid_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<Change> {
    match (record.status, upstream) {
        (Status::Paid, _) => None,
        (current, Status::Paid) => Some(Change::Paid {
            at: paid_at.unwrap_or(now),
            late: current == Status::Expired,
        }),
        (Status::Pending, Status::Expired) => Some(Change::Expired),
        // Still pending upstream, but its time is up: a QRIS code stays payable, so it is
        // still checked (and may turn paid, late), but the shop hears it expired.
        (Status::Pending, Status::Pending) if now >= record.expires_at => Some(Change::Expired),
        _ => None,
    }
}

/// How often the confirmation worker asks PayDigital about a payment. A customer pays within
/// minutes of seeing the code, or late from a saved image: young payments often, old rarely.
#[derive(Debug, Clone)]
pub struct CheckSchedule {
    /// Until the code expires.
    pub while_open: Duration,
    /// The first 15 minutes after expiry (a payment made at the last second).
    pub just_expired: Duration,
    /// Up to an hour after expiry.
    pub recently_expired: Duration,
    /// Then, until the grace ends.
    pub late: Duration,
    /// After this long past expiry nobody asks any more.
    pub grace: Duration,
}

impl CheckSchedule {
    pub fn with_grace(grace: Duration) -> CheckSchedule {
        CheckSchedule {
            while_open: Duration::from_secs(5),
            just_expired: Duration::from_secs(30),
            recently_expired: Duration::from_secs(120),
            late: Duration::from_secs(600),
            grace,
        }
    }

    /// When to ask next about `record`, checked at `now`; `None`: never again.
    pub fn next_check(
        &self,
        record: &PaymentRecord,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        if record.status == Status::Paid {
            return None;
        }
        let since_expiry = now - record.expires_at;
        let every = if since_expiry.is_negative() {
            self.while_open
        } else if since_expiry > self.grace {
            return None;
        } else if since_expiry < time::Duration::minutes(15) {
            self.just_expired
        } else if since_expiry < time::Duration::hours(1) {
            self.recently_expired
        } else {
            self.late
        };
        let next = super::clock::after(now, every);
        // The moment of expiry itself is worth a look: the shop hears `payment.expired` then.
        Some(
            if record.status == Status::Pending && now < record.expires_at {
                next.min(record.expires_at)
            } else {
                next
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::sample;
    use time::macros::datetime;

    const BEFORE: OffsetDateTime = datetime!(2026-11-24 08:10:00 UTC); // sample expires 08:19:05
    const AFTER: OffsetDateTime = datetime!(2026-11-24 08:30:00 UTC);

    fn with(status: Status) -> PaymentRecord {
        let mut record = sample("PYG1", None);
        record.status = status;
        record
    }

    #[test]
    fn paid_is_final_and_expired_can_only_become_paid() {
        for upstream in [Status::Pending, Status::Paid, Status::Expired] {
            assert_eq!(
                on_upstream(&with(Status::Paid), upstream, None, AFTER),
                None
            );
        }
        assert_eq!(
            on_upstream(&with(Status::Expired), Status::Pending, None, AFTER),
            None
        );
        assert_eq!(
            on_upstream(&with(Status::Expired), Status::Expired, None, AFTER),
            None
        );
        assert_eq!(
            on_upstream(&with(Status::Expired), Status::Paid, Some(BEFORE), AFTER),
            Some(Change::Paid {
                at: BEFORE,
                late: true
            })
        );
    }

    #[test]
    fn pending_turns_paid_or_expired_by_upstream_or_by_the_clock() {
        let pending = with(Status::Pending);
        assert_eq!(
            on_upstream(&pending, Status::Paid, None, BEFORE),
            Some(Change::Paid {
                at: BEFORE,
                late: false
            })
        );
        assert_eq!(on_upstream(&pending, Status::Pending, None, BEFORE), None);
        assert_eq!(
            on_upstream(&pending, Status::Expired, None, BEFORE),
            Some(Change::Expired)
        );
        assert_eq!(
            on_upstream(&pending, Status::Pending, None, AFTER),
            Some(Change::Expired)
        );
    }

    #[test]
    fn young_payments_are_checked_often_old_ones_rarely_and_then_never() {
        let schedule = CheckSchedule::with_grace(Duration::from_secs(86_400));
        let pending = with(Status::Pending);
        let at = |now| schedule.next_check(&pending, now).map(|t| t - now);
        assert_eq!(at(BEFORE), Some(time::Duration::seconds(5)));
        // Close to expiry: at expiry itself.
        let near = datetime!(2026-11-24 08:19:03 UTC);
        assert_eq!(at(near), Some(time::Duration::seconds(2)));
        let expired = with(Status::Expired);
        let after = |minutes: i64| {
            let now = pending.expires_at + time::Duration::minutes(minutes);
            schedule.next_check(&expired, now).map(|t| t - now)
        };
        assert_eq!(after(1), Some(time::Duration::seconds(30)));
        assert_eq!(after(30), Some(time::Duration::seconds(120)));
        assert_eq!(after(600), Some(time::Duration::seconds(600)));
        assert_eq!(after(24 * 60 + 1), None, "past the grace");
        assert_eq!(schedule.next_check(&with(Status::Paid), BEFORE), None);
    }
}
