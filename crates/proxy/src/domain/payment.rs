//! A payment as the proxy keeps it, and what its status is at a given moment.

use paydigital::Status;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Who asked for a payment, and so who chose its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The shop's server, with the merchant key: it priced the order.
    Merchant,
    /// A browser, for an open amount: the browser chose it.
    Browser,
    /// A browser, for a catalog item the proxy priced.
    Catalog,
    /// A customer on a payment link's page (`/l/{id}`): the link set the price or bounds.
    Link,
    /// A cashier at the counter (`/admin/counter`) keyed the amount in.
    Counter,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Merchant => "merchant",
            Source::Browser => "browser",
            Source::Catalog => "catalog",
            Source::Link => "link",
            Source::Counter => "counter",
        }
    }

    /// The word [`Source::as_str`] writes.
    pub fn parse(word: &str) -> Option<Source> {
        match word {
            "merchant" => Some(Source::Merchant),
            "browser" => Some(Source::Browser),
            "catalog" => Some(Source::Catalog),
            "link" => Some(Source::Link),
            "counter" => Some(Source::Counter),
            _ => None,
        }
    }
}

/// Why a payment needs a person to look at it. PayDigital said something about it that does
/// not fit what the proxy asked for, so nothing was believed from that answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// A status answer whose `amount` or `total_amount` differ from the payment's.
    AmountMismatch,
    /// A status answer about another invoice than the one asked about.
    InvoiceMismatch,
}

impl Review {
    pub fn as_str(self) -> &'static str {
        match self {
            Review::AmountMismatch => "amount_mismatch",
            Review::InvoiceMismatch => "invoice_mismatch",
        }
    }

    /// The word [`Review::as_str`] writes.
    pub fn parse(word: &str) -> Option<Review> {
        match word {
            "amount_mismatch" => Some(Review::AmountMismatch),
            "invoice_mismatch" => Some(Review::InvoiceMismatch),
            _ => None,
        }
    }
}

/// The merchant's own key/value notes on a payment (`metadata` in the merchant API).
pub type Metadata = BTreeMap<String, String>;

/// A payment this proxy created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The public id (`pay_...`): the only name a payment has in a URL.
    pub id: String,
    /// PayDigital's invoice number: what the proxy asks upstream about.
    pub invoice: String,
    pub status: Status,
    /// The last word upstream used (`unpaid`, `PAID`, ...), for operators.
    pub status_word: Option<String>,
    pub amount: u64,
    pub unique_code: u64,
    pub total_amount: u64,
    pub qr_content: String,
    pub payment_url: Option<String>,
    pub expires_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub description: String,
    pub customer_name: String,
    pub reference: Option<String>,
    pub item: Option<String>,
    pub source: Source,
    pub metadata: Metadata,
    /// Paid after the proxy had recorded it expired.
    pub late: bool,
    /// Scoped by who sent it (`browser:...`, `merchant:...`): a browser cannot claim the
    /// key a shop's server will use.
    pub idempotency_key: Option<String>,
    /// The canonical request the idempotency key was first used with.
    pub request_fingerprint: Option<String>,
    /// Set when an answer from PayDigital about it could not be believed.
    pub review: Option<Review>,
    /// The payment link (`plink_…`) it was made through, for `source: link`.
    pub payment_link_id: Option<String>,
    /// The member of staff (their email) who charged it at the counter, for `source: counter`.
    pub created_by: Option<String>,
    /// The receipt's token (`/r/{token}`): random, not derived from the id, unique.
    pub receipt_token: String,
}

/// A payment's status at `now`: a pending one past its expiry is expired to everyone.
pub fn status_at(p: &PaymentRecord, now: OffsetDateTime) -> Status {
    match p.status {
        Status::Pending if now >= p.expires_at => Status::Expired,
        status => status,
    }
}

/// How finely PayDigital's `paid_at` tells the moment (and the stores keep it): whole seconds.
const PAID_AT_PRECISION: std::time::Duration = std::time::Duration::from_secs(1);

/// The latest moment `p` had surely been paid by, its paid event recorded at `recorded`: the
/// soundbox speaks only what turned paid after announcing was on and its page open, and
/// PayDigital's `paid_at` says when the customer paid even when the proxy learned it minutes
/// later (a late check). That moment has whole seconds, so the end of its second; and never
/// after the proxy recorded it (a `paid_at` ahead of the proxy's clock, or none).
pub fn paid_by(p: &PaymentRecord, recorded: OffsetDateTime) -> OffsetDateTime {
    p.paid_at.map_or(recorded, |at| {
        super::clock::after(at, PAID_AT_PRECISION).min(recorded)
    })
}

/// A status as the merchant API and the command line take it: `pending`, `paid`, `expired`.
pub fn parse_status(text: &str) -> Option<Status> {
    match text.trim() {
        "pending" => Some(Status::Pending),
        "paid" => Some(Status::Paid),
        "expired" => Some(Status::Expired),
        _ => None,
    }
}

/// A moment as list filters take it (`created_after`, `--since`): an RFC 3339 time, a date
/// (`2026-11-01`, midnight in PayDigital's zone) or unix seconds.
pub fn parse_moment(text: &str, zone: time::UtcOffset) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(at);
    }
    if let Ok(date) = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        return Some(date.midnight().assume_offset(zone));
    }
    text.parse::<i64>()
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::sample;
    use time::macros::datetime;

    #[test]
    fn paid_by_is_the_end_of_paydigitals_second_unless_the_proxy_recorded_it_sooner() {
        let mut paid = sample("PYG1", None);
        paid.status = Status::Paid;
        paid.paid_at = Some(datetime!(2026-11-24 08:10:00 UTC));
        // Learned at a late check, minutes after: the customer's moment counts.
        assert_eq!(
            paid_by(&paid, datetime!(2026-11-24 08:14:00.250 UTC)),
            datetime!(2026-11-24 08:10:01 UTC)
        );
        // Recorded within its second (or PayDigital's clock ahead): the proxy's moment.
        assert_eq!(
            paid_by(&paid, datetime!(2026-11-24 08:10:00.400 UTC)),
            datetime!(2026-11-24 08:10:00.400 UTC)
        );
        paid.paid_at = None;
        assert_eq!(
            paid_by(&paid, datetime!(2026-11-24 08:10:00.400 UTC)),
            datetime!(2026-11-24 08:10:00.400 UTC)
        );
    }
}
