//! The merchant proxy's JSON, as browsers see it (`docs/proxy-api.md`). The widget
//! deserializes these; the proxy serializes them: one definition keeps them in step.

use crate::Status;
use serde::{Deserialize, Serialize};

/// `POST /api/payments`: one of `amount` (open-amount mode) or `item` (catalog mode).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// The merchant's own order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A payment as the proxy knows it: the body of a create (201) and of a status read (200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The public id (`pay_...`): how the payment is named in every URL.
    pub id: String,
    /// PayDigital's invoice number, for the customer and the shop's support.
    pub invoice: String,
    pub status: Status,
    /// What the merchant asked for, in rupiah.
    pub amount: u64,
    /// What PayDigital added so that it can tell payments apart.
    pub unique_code: u64,
    /// What the customer pays: `amount + unique_code`.
    pub total_amount: u64,
    /// The QRIS payload to draw.
    pub qr_content: String,
    /// PayDigital's hosted payment page, when it gave one.
    pub payment_url: Option<String>,
    /// RFC 3339 with offset.
    pub expires_at: String,
    /// Seconds from `server_time` to `expires_at` (0 once past): the widget counts down from
    /// this rather than from the phone's clock, which may be wrong.
    pub expires_in: u64,
    /// RFC 3339.
    pub server_time: String,
    /// RFC 3339, once paid.
    #[serde(default)]
    pub paid_at: Option<String>,
}

/// Every error response: `{"error":{"code":"snake_case","message":"..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// The request field that was wrong, where one was (`amount`, `metadata.cart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
