//! Payment links (`plink_…`): a reusable page that takes a QRIS payment for one thing, for
//! sellers who sell in a chat or from a poster. What a link is, what a new one may be, what
//! amount a customer may type on an open one, and whether a new payment may be made for it
//! now. No I/O: the store counts, this decides.

use super::new_payment::{check_metadata, clean_text, Invalid, MAX_DESCRIPTION};
use super::payment::Metadata;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest title, in characters (shown in a chat preview and on the poster).
pub const MAX_TITLE: usize = 120;
/// Longest `success_url`.
pub const MAX_SUCCESS_URL: usize = 2000;

/// What the customer pays: a price the seller set, or what the customer types (within
/// optional bounds, and always within the shop's range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAmount {
    Fixed(u64),
    Open { min: Option<u64>, max: Option<u64> },
}

impl LinkAmount {
    /// The lowest and highest amount a customer may pay, within the shop's `[min, max]`.
    pub fn bounds(self, shop_min: u64, shop_max: u64) -> (u64, u64) {
        match self {
            LinkAmount::Fixed(amount) => (amount, amount),
            LinkAmount::Open { min, max } => (min.unwrap_or(shop_min), max.unwrap_or(shop_max)),
        }
    }
}

/// A payment link as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    /// `plink_…`: its only name in a URL.
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub amount: LinkAmount,
    /// How many payments of it may be **paid**; none: no limit.
    pub max_payments: Option<u32>,
    pub expires_at: Option<OffsetDateTime>,
    /// Where the hosted page sends the customer once paid.
    pub success_url: Option<String>,
    pub metadata: Metadata,
    /// False only once deactivated (links are never deleted).
    pub active: bool,
    pub created_at: OffsetDateTime,
    /// Scoped (`merchant:…`) as payments' keys are.
    pub idempotency_key: Option<String>,
    /// The canonical create request the key was first used with.
    pub request_fingerprint: Option<String>,
}

/// A link with what its payments add up to (read together, in one query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWithTotals {
    pub link: PaymentLink,
    /// Payments of the link that are paid.
    pub paid_count: u64,
    /// Their `total_amount`s summed: what customers really paid.
    pub paid_total: u64,
}

/// `POST /api/merchant/payment-links` (and the dashboard's form). Unknown fields are
/// refused; fields serialize in a fixed order (the idempotency fingerprint).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"title": "Kopi susu 1 liter", "amount": 25000, "max_payments": 50}))]
#[serde(deny_unknown_fields)]
pub struct NewLinkRequest {
    /// Required, up to 120 characters, not only spaces.
    // The pattern is what `clean_text` takes: no control character, and something left
    // after `str::trim` (Unicode White_Space, spelled out: ECMA's `\s` also has U+FEFF).
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub description: Option<String>,
    /// A fixed price in rupiah; leave it out (and optionally give `min_amount` and
    /// `max_amount`) for an amount the customer types.
    #[serde(
        default,
        deserialize_with = "paydigital::api::whole_number::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1000, maximum = 10_000_000)]
    pub amount: Option<u64>,
    #[serde(
        default,
        deserialize_with = "paydigital::api::whole_number::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1000, maximum = 10_000_000)]
    pub min_amount: Option<u64>,
    #[serde(
        default,
        deserialize_with = "paydigital::api::whole_number::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1000, maximum = 10_000_000)]
    pub max_amount: Option<u64>,
    /// How many payments may be paid; none: no limit.
    #[serde(
        default,
        deserialize_with = "optional_count",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_payments: Option<u32>,
    /// RFC 3339, in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = expires_at_schema)]
    pub expires_at: Option<String>,
    /// An `http(s)://` URL or a path on this site (`/thanks`).
    // The pattern is a part of what `is_success_url` takes (a host of letters, digits, dots
    // and dashes; no spaces or control characters), so every URL it allows is one the server
    // takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 2000,
        pattern = r"^(/([^/\\\u0000-\u0020\u007f][^\u0000-\u0020\u007f]*)?|[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\u0000-\u0020\u007f]*)?)$"
    )]
    pub success_url: Option<String>,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    #[schema(schema_with = super::new_payment::metadata_schema)]
    pub metadata: Metadata,
}

/// `max_payments` as a whole number: `50.0` is the integer 50 to JSON Schema (and so to a
/// generated client), which serde's `u32` refuses. Above `u32::MAX` it is out of range, as
/// `validate` says of anything above [`MAX_MAX_PAYMENTS`].
fn optional_count<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    use serde::de::Error;
    paydigital::api::whole_number::optional(deserializer)?
        .map(|count| {
            u32::try_from(count).map_err(|_| {
                D::Error::custom(format!("max_payments must be from 1 to {MAX_MAX_PAYMENTS}"))
            })
        })
        .transpose()
}

/// `expires_at` as `validate` reads it: an RFC 3339 time, or blank (what `str::trim` takes
/// away: Unicode White_Space, spelled out) or null for none.
fn expires_at_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
            r"^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
        )))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("RFC 3339, in the future; blank or null: no end."))
        .build()
        .into()
}

/// Most payments a link may be limited to (a limit, not a counter to overflow).
pub const MAX_MAX_PAYMENTS: u32 = 1_000_000;

/// A new link, validated: everything but its id, time and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub title: String,
    pub description: Option<String>,
    pub amount: LinkAmount,
    pub max_payments: Option<u32>,
    pub expires_at: Option<OffsetDateTime>,
    pub success_url: Option<String>,
    pub metadata: Metadata,
}

impl NewLinkRequest {
    /// Checks the request against the shop's amount range `[shop_min, shop_max]` at `now`.
    pub fn validate(
        self,
        shop_min: u64,
        shop_max: u64,
        now: OffsetDateTime,
    ) -> Result<NewLink, Invalid> {
        let title = clean_text("title", Some(self.title), MAX_TITLE)?
            .ok_or_else(|| Invalid::field("title", "title is required"))?;
        let description = clean_text("description", self.description, MAX_DESCRIPTION)?;
        let in_range = |field: &str, amount: u64| {
            if amount < shop_min || amount > shop_max {
                Err(Invalid::field(
                    field,
                    format!(
                        "{field} must be a whole number of rupiah from {shop_min} to {shop_max}"
                    ),
                ))
            } else {
                Ok(amount)
            }
        };
        let amount = match (self.amount, self.min_amount, self.max_amount) {
            (Some(amount), None, None) => LinkAmount::Fixed(in_range("amount", amount)?),
            (Some(_), _, _) => {
                return Err(Invalid::Request(
                    "give either \"amount\" (a fixed price) or \"min_amount\"/\"max_amount\" (an amount the customer types), not both".into(),
                ))
            }
            (None, min, max) => {
                let min = min.map(|m| in_range("min_amount", m)).transpose()?;
                let max = max.map(|m| in_range("max_amount", m)).transpose()?;
                if let (Some(low), Some(high)) = (min, max) {
                    if low > high {
                        return Err(Invalid::field(
                            "min_amount",
                            "min_amount is more than max_amount",
                        ));
                    }
                }
                LinkAmount::Open { min, max }
            }
        };
        if let Some(max) = self.max_payments {
            if max == 0 || max > MAX_MAX_PAYMENTS {
                return Err(Invalid::field(
                    "max_payments",
                    format!("max_payments must be from 1 to {MAX_MAX_PAYMENTS}"),
                ));
            }
        }
        let expires_at = match self.expires_at.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let at =
                    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| {
                            Invalid::field("expires_at", "expires_at must be an RFC 3339 time")
                        })?;
                if at <= now {
                    return Err(Invalid::field("expires_at", "expires_at is in the past"));
                }
                Some(at)
            }
        };
        let success_url = match self.success_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => {
                if url.chars().count() > MAX_SUCCESS_URL || !is_success_url(url) {
                    return Err(Invalid::field(
                        "success_url",
                        "success_url must be an http(s):// URL or a path on this site (/thanks)",
                    ));
                }
                Some(url.to_owned())
            }
        };
        check_metadata(&self.metadata)?;
        Ok(NewLink {
            title,
            description,
            amount,
            max_payments: self.max_payments,
            expires_at,
            success_url,
            metadata: self.metadata,
        })
    }
}

/// Where a customer may be sent once paid: the widget's own rule for `success-url`
/// (`security.md`: `http(s)` or a same-origin path, never `//host` or `/\host`).
pub fn is_success_url(url: &str) -> bool {
    paydigital::links::is_return_url(url)
}

/// The amount a customer typed on an open link, or the link's price: within its bounds.
pub fn amount_to_pay(
    amount: LinkAmount,
    typed: Option<u64>,
    shop_min: u64,
    shop_max: u64,
) -> Result<u64, Invalid> {
    match (amount, typed) {
        (LinkAmount::Fixed(price), _) => Ok(price),
        (LinkAmount::Open { .. }, None) => Err(Invalid::field("amount", "type the amount to pay")),
        (open, Some(typed)) => {
            let (low, high) = open.bounds(shop_min, shop_max);
            if typed < low || typed > high {
                return Err(Invalid::AmountOutOfRange {
                    min: low,
                    max: high,
                });
            }
            Ok(typed)
        }
    }
}

/// Why a link takes no new payment now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    /// Its paid payments reached `max_payments`: 410.
    #[error("this link is sold out")]
    SoldOut,
    /// Deactivated by the seller: 410.
    #[error("this link was deactivated")]
    Inactive,
    /// Past its `expires_at`: 410.
    #[error("this link has expired")]
    Expired,
    /// Open payments (or payments being made) fill the rest of `max_payments`: one may
    /// still expire unpaid, so try again shortly.
    #[error("this link is being paid by someone else; try again shortly")]
    Busy,
}

/// How many payments of a link count against its limit, as the store counted them in the
/// same transaction that would reserve the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkUse {
    pub paid: u64,
    /// Pending and not yet expired.
    pub open: u64,
    /// Creates under way (reserved before PayDigital was asked; not yet stored).
    pub reserved: u64,
}

/// Whether the page may show a Pay button: active, not expired, not sold out (open payments
/// do not close the page: they may expire unpaid).
pub fn page_refusal(link: &PaymentLink, paid: u64, now: OffsetDateTime) -> Option<LinkRefusal> {
    if !link.active {
        return Some(LinkRefusal::Inactive);
    }
    if link.expires_at.is_some_and(|at| now >= at) {
        return Some(LinkRefusal::Expired);
    }
    match link.max_payments {
        Some(max) if paid >= u64::from(max) => Some(LinkRefusal::SoldOut),
        _ => None,
    }
}

/// Whether one more payment may be made for `link` now: active, not expired, and paid +
/// open + reserved below `max_payments`.
pub fn may_create(
    link: &PaymentLink,
    used: LinkUse,
    now: OffsetDateTime,
) -> Result<(), LinkRefusal> {
    if let Some(refusal) = page_refusal(link, used.paid, now) {
        return Err(refusal);
    }
    match link.max_payments {
        Some(max) => {
            let taken = used
                .paid
                .saturating_add(used.open)
                .saturating_add(used.reserved);
            if taken >= u64::from(max) {
                Err(LinkRefusal::Busy)
            } else {
                Ok(())
            }
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 10:00:00 UTC);

    fn request(title: &str) -> NewLinkRequest {
        NewLinkRequest {
            title: title.into(),
            ..NewLinkRequest::default()
        }
    }

    fn validate(r: NewLinkRequest) -> Result<NewLink, Invalid> {
        r.validate(1000, 10_000_000, NOW)
    }

    /// JSON Schema's integer `50.0` is 50 (Schemathesis sent it); a fraction, a negative or a
    /// count past `u32` is refused while reading, naming the field.
    #[test]
    fn max_payments_reads_whole_numbers_as_json_schema_counts_them() {
        let read = |json: &str| serde_json::from_str::<NewLinkRequest>(json);
        let count = |json: &str| read(json).map(|r| r.max_payments).ok();
        assert_eq!(
            count(r#"{"title":"K","max_payments":50.0}"#),
            Some(Some(50))
        );
        assert_eq!(count(r#"{"title":"K","max_payments":50}"#), Some(Some(50)));
        assert_eq!(count(r#"{"title":"K","max_payments":null}"#), Some(None));
        assert_eq!(count(r#"{"title":"K"}"#), Some(None));
        for wrong in ["50.5", "-1", "4294967296", "\"50\""] {
            let json = format!(r#"{{"title":"K","max_payments":{wrong}}}"#);
            assert!(read(&json).is_err(), "{wrong}");
        }
    }

    fn link(max_payments: Option<u32>) -> PaymentLink {
        PaymentLink {
            id: "plink_x".into(),
            title: "Kopi".into(),
            description: None,
            amount: LinkAmount::Fixed(25_000),
            max_payments,
            expires_at: Some(datetime!(2026-12-03 00:00:00 UTC)),
            success_url: None,
            metadata: Metadata::new(),
            active: true,
            created_at: NOW,
            idempotency_key: None,
            request_fingerprint: None,
        }
    }

    fn field_of(e: Invalid) -> String {
        match e {
            Invalid::Field { field, .. } => field,
            other => format!("not a field: {other}"),
        }
    }

    #[test]
    fn a_title_is_required_and_bounded() {
        assert_eq!(field_of(validate(request("  ")).unwrap_err()), "title");
        assert_eq!(
            field_of(validate(request(&"x".repeat(121))).unwrap_err()),
            "title"
        );
        let ok = validate(request(&"é".repeat(120))).expect("120 characters are fine");
        assert_eq!(
            ok.amount,
            LinkAmount::Open {
                min: None,
                max: None
            }
        );
    }

    #[test]
    fn a_fixed_amount_or_bounds_within_the_shop_range() {
        let fixed = validate(NewLinkRequest {
            amount: Some(25_000),
            ..request("Kopi")
        })
        .expect("valid");
        assert_eq!(fixed.amount, LinkAmount::Fixed(25_000));
        let both = validate(NewLinkRequest {
            amount: Some(25_000),
            min_amount: Some(1000),
            ..request("Kopi")
        });
        assert!(matches!(both, Err(Invalid::Request(_))), "{both:?}");
        for (amount, min, max, field) in [
            (Some(999), None, None, "amount"),
            (Some(10_000_001), None, None, "amount"),
            (None, Some(999), None, "min_amount"),
            (None, None, Some(10_000_001), "max_amount"),
            (None, Some(5000), Some(4000), "min_amount"),
        ] {
            let r = NewLinkRequest {
                amount,
                min_amount: min,
                max_amount: max,
                ..request("Kopi")
            };
            assert_eq!(field_of(validate(r).unwrap_err()), field);
        }
        let open = validate(NewLinkRequest {
            min_amount: Some(5000),
            max_amount: Some(5000),
            ..request("Donasi")
        })
        .expect("min = max is fine");
        assert_eq!(
            open.amount,
            LinkAmount::Open {
                min: Some(5000),
                max: Some(5000)
            }
        );
    }

    #[test]
    fn limits_expiry_urls_and_metadata_are_checked() {
        let with = |f: fn(&mut NewLinkRequest)| {
            let mut r = request("Kopi");
            f(&mut r);
            validate(r)
        };
        assert_eq!(
            field_of(with(|r| r.max_payments = Some(0)).unwrap_err()),
            "max_payments"
        );
        assert_eq!(
            with(|r| r.max_payments = Some(1)).map(|l| l.max_payments),
            Ok(Some(1))
        );
        assert_eq!(
            field_of(with(|r| r.expires_at = Some("tomorrow".into())).unwrap_err()),
            "expires_at"
        );
        assert_eq!(
            field_of(with(|r| r.expires_at = Some("2026-12-02T09:59:59Z".into())).unwrap_err()),
            "expires_at"
        );
        assert_eq!(
            with(|r| r.expires_at = Some("2026-12-02T17:00:01+07:00".into())).map(|l| l.expires_at),
            Ok(Some(datetime!(2026-12-02 10:00:01 UTC)))
        );
        for bad in [
            "javascript:alert(1)",
            "//evil.example",
            "/\\evil.example",
            "ftp://x",
        ] {
            assert_eq!(field_of(with_url(bad).unwrap_err()), "success_url", "{bad}");
        }
        for good in ["https://toko.example/terima-kasih", "/thanks"] {
            assert_eq!(
                with_url(good).map(|l| l.success_url),
                Ok(Some(good.to_owned()))
            );
        }
        let many: Metadata = (0..21).map(|i| (format!("k{i}"), "v".into())).collect();
        let mut r = request("Kopi");
        r.metadata = many;
        assert_eq!(field_of(validate(r).unwrap_err()), "metadata");
    }

    fn with_url(url: &str) -> Result<NewLink, Invalid> {
        validate(NewLinkRequest {
            success_url: Some(url.into()),
            ..request("Kopi")
        })
    }

    #[test]
    fn an_open_amount_is_held_to_the_link_bounds() {
        let open = LinkAmount::Open {
            min: Some(5000),
            max: Some(50_000),
        };
        assert_eq!(amount_to_pay(open, Some(5000), 1000, 10_000_000), Ok(5000));
        assert_eq!(
            amount_to_pay(open, Some(50_000), 1000, 10_000_000),
            Ok(50_000)
        );
        let range = Err(Invalid::AmountOutOfRange {
            min: 5000,
            max: 50_000,
        });
        assert_eq!(amount_to_pay(open, Some(4999), 1000, 10_000_000), range);
        assert_eq!(amount_to_pay(open, Some(50_001), 1000, 10_000_000), range);
        assert_eq!(
            field_of(amount_to_pay(open, None, 1000, 10_000_000).unwrap_err()),
            "amount"
        );
        let unbounded = LinkAmount::Open {
            min: None,
            max: None,
        };
        assert_eq!(
            amount_to_pay(unbounded, Some(999), 1000, 10_000_000),
            Err(Invalid::AmountOutOfRange {
                min: 1000,
                max: 10_000_000
            })
        );
        assert_eq!(
            amount_to_pay(LinkAmount::Fixed(25_000), Some(1), 1000, 10_000_000),
            Ok(25_000),
            "a fixed link ignores what was typed"
        );
    }

    #[test]
    fn a_new_payment_needs_room_under_max_payments() {
        let one = link(Some(1));
        assert_eq!(may_create(&one, LinkUse::default(), NOW), Ok(()));
        for busy in [
            LinkUse {
                open: 1,
                ..LinkUse::default()
            },
            LinkUse {
                reserved: 1,
                ..LinkUse::default()
            },
        ] {
            assert_eq!(may_create(&one, busy, NOW), Err(LinkRefusal::Busy));
        }
        let sold = LinkUse {
            paid: 1,
            ..LinkUse::default()
        };
        assert_eq!(may_create(&one, sold, NOW), Err(LinkRefusal::SoldOut));
        assert_eq!(page_refusal(&one, 1, NOW), Some(LinkRefusal::SoldOut));
        assert_eq!(
            page_refusal(&one, 0, NOW),
            None,
            "an open payment may expire unpaid"
        );
        let three = link(Some(3));
        let used = LinkUse {
            paid: 1,
            open: 1,
            reserved: 0,
        };
        assert_eq!(may_create(&three, used, NOW), Ok(()));
        let unlimited = link(None);
        let lots = LinkUse {
            paid: 1000,
            open: 1000,
            reserved: 1000,
        };
        assert_eq!(may_create(&unlimited, lots, NOW), Ok(()));
    }

    #[test]
    fn inactive_and_expired_links_take_nothing() {
        let mut off = link(None);
        off.active = false;
        assert_eq!(
            may_create(&off, LinkUse::default(), NOW),
            Err(LinkRefusal::Inactive)
        );
        let late = link(None);
        let at_expiry = datetime!(2026-12-03 00:00:00 UTC);
        assert_eq!(
            may_create(&late, LinkUse::default(), at_expiry),
            Err(LinkRefusal::Expired)
        );
    }
}
