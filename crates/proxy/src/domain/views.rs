//! A payment as each reader may see it: a browser (the public view of `docs/proxy-api.md`)
//! or the shop's server (the merchant view of `docs/merchant-api.md`, also every webhook's
//! `data`, and the webhook body itself). Times are written in PayDigital's zone. These are
//! also the OpenAPI document's schemas (`http/openapi.rs`): what is sent is what is documented.

use super::lifecycle::EventType;
use super::links::{LinkAmount, LinkWithTotals};
use super::payment::{status_at, Metadata, PaymentRecord, Review, Source};
use paydigital::api::Payment;
use paydigital::wire::rfc3339;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

/// The merchant's view of a payment: the public view (which says `late` and `livemode` too)
/// and what only the shop's server may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
// A sandbox proxy's answer to the `MerchantPaymentRequest` example.
#[schema(example = json!({
    "id": "pay_wMwxABBNkry-s8Gel7yCIA", "invoice": "PYG20261202125326002", "status": "pending",
    "amount": 125000, "unique_code": 381, "total_amount": 125381,
    "qr_content": "00020101021226710021ID.BIZ.PAYDIGITAL.WWW01189360000000000000010213SANDBOX-STORE0303UMI51440014ID.CO.QRIS.WWW0215ID10260000000010303UMI52045999530336054061253815802ID5912Toko Sandbox6007JAKARTA61051011062240120PYG2026120212532600263047136",
    "payment_url": "http://127.0.0.1:8080/sandbox/pay/PYG20261202125326002",
    "expires_at": "2026-12-02T13:08:26+07:00", "expires_in": 899,
    "server_time": "2026-12-02T12:53:26+07:00", "paid_at": null,
    "reference": "ORDER-1001", "metadata": {"cart": "c_81"}, "description": "Pesanan 1001",
    "customer_name": "Budi", "source": "merchant", "item": null, "late": false,
    "created_at": "2026-12-02T12:53:26+07:00",
    "checkout_url": "https://pay.toko.example/pay/pay_wMwxABBNkry-s8Gel7yCIA",
    "livemode": false, "review": null, "payment_link_id": null,
    "receipt_url": "https://pay.toko.example/r/Qm3v6r1Jf0Zt8uYk2LcH4w"
}))]
pub struct MerchantPayment {
    #[serde(flatten)]
    pub public: Payment,
    /// The shop's order id, as the create named it (not unique).
    #[schema(required = true)]
    pub reference: Option<String>,
    /// The shop's own notes, as the create gave them (`{}` when none).
    #[schema(schema_with = super::new_payment::metadata_schema)]
    pub metadata: Metadata,
    pub description: String,
    pub customer_name: String,
    pub source: Source,
    /// The catalog item's id, for a `catalog` payment.
    #[schema(required = true)]
    pub item: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// The hosted page, `{CHECKOUT_PUBLIC_URL}/pay/{id}`; null when that is not configured.
    #[schema(required = true)]
    pub checkout_url: Option<String>,
    /// Set when PayDigital said something about it that was not believed: look before you
    /// ship (`amount_mismatch`, `invoice_mismatch`).
    #[schema(required = true)]
    pub review: Option<Review>,
    /// The payment link (`plink_…`) it was paid through, for `source: "link"`; else null.
    #[schema(required = true)]
    pub payment_link_id: Option<String>,
    /// The receipt, `{CHECKOUT_PUBLIC_URL}/r/{token}`: a page that says "paid" only while
    /// the shop's records do (`.png`: the same as an image). Its token is random and not the
    /// id, so the link can be shared without the payment's other URLs. Null when
    /// `CHECKOUT_PUBLIC_URL` is not configured.
    #[schema(required = true)]
    pub receipt_url: Option<String>,
}

/// A webhook's body (Standard Webhooks): what changed, when, and the payment as of then.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookBody {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// RFC 3339: when the change happened (each attempt's own time is `webhook-timestamp`).
    pub timestamp: String,
    /// `false` from a sandbox: no money moved.
    pub livemode: bool,
    /// The merchant view of the payment as of the change.
    pub data: MerchantPayment,
}

/// How views are written: the zone of their times, and where the hosted page lives.
#[derive(Debug, Clone)]
pub struct Views {
    pub zone: UtcOffset,
    /// The proxy's public base URL (`https://pay.toko.example`), for `checkout_url`.
    pub public_url: Option<String>,
    /// `false` in the sandbox.
    pub livemode: bool,
}

impl Views {
    /// The public view: what a browser may know of a payment at `now`.
    pub fn public(&self, p: &PaymentRecord, now: OffsetDateTime) -> Payment {
        let zone = self.zone;
        Payment {
            id: p.id.clone(),
            invoice: p.invoice.clone(),
            status: status_at(p, now),
            amount: p.amount,
            unique_code: p.unique_code,
            total_amount: p.total_amount,
            qr_content: p.qr_content.clone(),
            // Only https (or the sandbox on this machine): a `javascript:` URL from a broken or
            // hostile upstream never reaches a shop's page.
            payment_url: p
                .payment_url
                .clone()
                .filter(|url| paydigital::links::is_payment_page_link(url)),
            expires_at: rfc3339(p.expires_at, zone),
            expires_in: u64::try_from((p.expires_at - now).whole_seconds()).unwrap_or(0),
            server_time: rfc3339(now, zone),
            paid_at: p.paid_at.map(|at| rfc3339(at, zone)),
            late: p.late,
            livemode: self.livemode,
            // The merchant's view says it always (its own field); the browser's once paid.
            receipt_url: None,
        }
    }

    /// The payment as the shop's server sees it at `now`.
    pub fn merchant(&self, p: &PaymentRecord, now: OffsetDateTime) -> MerchantPayment {
        MerchantPayment {
            public: self.public(p, now),
            reference: p.reference.clone(),
            metadata: p.metadata.clone(),
            description: p.description.clone(),
            customer_name: p.customer_name.clone(),
            source: p.source,
            item: p.item.clone(),
            created_at: rfc3339(p.created_at, self.zone),
            checkout_url: self.checkout_url(&p.id),
            review: p.review,
            payment_link_id: p.payment_link_id.clone(),
            receipt_url: self.receipt_url(&p.receipt_token),
        }
    }

    /// The payment as a browser sees it at `now`: the receipt once paid.
    pub fn browser(&self, p: &PaymentRecord, now: OffsetDateTime) -> Payment {
        let public = self.public(p, now);
        let receipt_url = (public.status == paydigital::Status::Paid)
            .then(|| self.receipt_link(&p.receipt_token));
        Payment {
            receipt_url,
            ..public
        }
    }

    /// The receipt page, `{CHECKOUT_PUBLIC_URL}/r/{token}`; None when that is not configured.
    pub fn receipt_url(&self, token: &str) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/r/{token}"))
    }

    /// The receipt page as a link from this proxy's own pages: the full URL, or its path
    /// when `CHECKOUT_PUBLIC_URL` is not configured (the page is on the same host).
    pub fn receipt_link(&self, token: &str) -> String {
        format!("{}/r/{token}", self.public_url.as_deref().unwrap_or(""))
    }

    /// Where the customer pays a payment without a page of the shop's: the hosted page.
    pub fn checkout_url(&self, id: &str) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/pay/{id}"))
    }

    /// A payment link's page, `{CHECKOUT_PUBLIC_URL}/l/{id}`, or its path without that.
    pub fn link_url(&self, id: &str) -> String {
        format!("{}/l/{id}", self.public_url.as_deref().unwrap_or(""))
    }

    /// A payment link's printable poster.
    pub fn poster_url(&self, id: &str) -> String {
        format!("{}/poster.png", self.link_url(id))
    }
}

/// A payment link as the merchant API and the dashboard show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "id": "plink_Zt3bq0W6V3bC9kZ1m0c4VQ", "title": "Kopi susu 1 liter", "description": null,
    "amount": 25000, "min_amount": null, "max_amount": null, "max_payments": 50,
    "expires_at": null, "success_url": null, "metadata": {}, "active": true,
    "paid_count": 0, "paid_total": 0, "created_at": "2026-12-02T12:53:26+07:00",
    "url": "https://pay.toko.example/l/plink_Zt3bq0W6V3bC9kZ1m0c4VQ",
    "poster_url": "https://pay.toko.example/l/plink_Zt3bq0W6V3bC9kZ1m0c4VQ/poster.png"
}))]
pub struct LinkView {
    /// `plink_…`.
    pub id: String,
    pub title: String,
    #[schema(required = true)]
    pub description: Option<String>,
    /// The fixed price; null when the customer types the amount.
    #[schema(required = true)]
    pub amount: Option<u64>,
    /// For a typed amount: the lowest (null: the shop's minimum).
    #[schema(required = true)]
    pub min_amount: Option<u64>,
    /// For a typed amount: the highest (null: the shop's maximum).
    #[schema(required = true)]
    pub max_amount: Option<u64>,
    /// How many payments may be paid; null: no limit.
    #[schema(required = true)]
    pub max_payments: Option<u32>,
    /// RFC 3339; null: never.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    #[schema(required = true)]
    pub success_url: Option<String>,
    #[schema(schema_with = super::new_payment::metadata_schema)]
    pub metadata: Metadata,
    /// False once deactivated.
    pub active: bool,
    /// Payments of the link that are paid.
    pub paid_count: u64,
    /// Their `total_amount`s summed (what customers really paid).
    pub paid_total: u64,
    /// RFC 3339.
    pub created_at: String,
    /// The customer's page, `{CHECKOUT_PUBLIC_URL}/l/{id}` (a path when that is unset).
    pub url: String,
    /// The printable poster (PNG; `.svg` too).
    pub poster_url: String,
}

impl Views {
    /// A link as its owner sees it.
    pub fn link(&self, l: &LinkWithTotals) -> LinkView {
        let link = &l.link;
        let (amount, min_amount, max_amount) = match link.amount {
            LinkAmount::Fixed(amount) => (Some(amount), None, None),
            LinkAmount::Open { min, max } => (None, min, max),
        };
        LinkView {
            id: link.id.clone(),
            title: link.title.clone(),
            description: link.description.clone(),
            amount,
            min_amount,
            max_amount,
            max_payments: link.max_payments,
            expires_at: link.expires_at.map(|at| rfc3339(at, self.zone)),
            success_url: link.success_url.clone(),
            metadata: link.metadata.clone(),
            active: link.active,
            paid_count: l.paid_count,
            paid_total: l.paid_total,
            created_at: rfc3339(link.created_at, self.zone),
            url: self.link_url(&link.id),
            poster_url: self.poster_url(&link.id),
        }
    }
}
