//! The merchant proxy's JSON, as browsers see it (`docs/proxy-api.md`). The widget
//! deserializes these; the proxy serializes them: one definition keeps them in step. With the
//! `openapi` feature (the proxy's, never the widget's) they are also the schemas of the
//! proxy's OpenAPI document, so the document cannot say other than what is sent.

use crate::Status;
use serde::{Deserialize, Serialize};

/// `POST /api/payments`: one of `amount` (open-amount mode) or `item` (catalog mode).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"amount": 25000, "description": "Kopi susu", "reference": "ORDER-1001"})))]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    /// Rupiah, a whole number (`25000`, or `25000.0`), from `CHECKOUT_MIN_AMOUNT` to
    /// `CHECKOUT_MAX_AMOUNT`. Open-amount mode only: a shop with a catalog refuses it.
    #[serde(
        default,
        deserialize_with = "whole_number::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1000, maximum = 10_000_000))]
    pub amount: Option<u64>,
    /// A catalog item's id (catalog mode: the proxy prices it). Without a catalog, any
    /// item is `unknown_item`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Shown by PayDigital; default `Pembayaran` (or the item's name). No control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 255, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")
    )]
    pub description: Option<String>,
    /// Default `Pelanggan`. No control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")
    )]
    pub customer_name: Option<String>,
    /// The merchant's own order id (refused when `CHECKOUT_BROWSER_REFERENCE` is off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 128, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")
    )]
    pub reference: Option<String>,
}

/// Amounts as JSON Schema counts numbers: `125000` and `125000.0` are the integer 125000;
/// `1000.5`, `-5` and `"125000"` are refused. serde's own `u64` refuses `125000.0`, which
/// JSON Schema (and so every generated client) calls an integer.
pub mod whole_number {
    use serde::de::{Deserializer, Error, Unexpected, Visitor};

    /// The largest float every integer below which is exact: above it `1e16` and
    /// `1e16 + 1` are the same float, so "whole" means nothing any more.
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

    struct WholeNumber;

    impl Visitor<'_> for WholeNumber {
        type Value = u64;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number of rupiah")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<u64, E> {
            if v.is_finite() && v.fract() == 0.0 && (0.0..=MAX_EXACT).contains(&v) {
                // Checked just above: whole, not negative and exact, so the cast is too.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(v as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }

    /// A whole number, as [`whole_number`](self) reads it.
    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(WholeNumber)
    }

    /// An optional whole number (`null` is absent).
    pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
        struct Optional;
        impl<'de> Visitor<'de> for Optional {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number of rupiah")
            }
            fn visit_none<E: Error>(self) -> Result<Option<u64>, E> {
                Ok(None)
            }
            fn visit_unit<E: Error>(self) -> Result<Option<u64>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
                required(d).map(Some)
            }
        }
        deserializer.deserialize_option(Optional)
    }
}

/// A payment as the proxy knows it: the body of a create (201) and of a status read (200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// A sandbox proxy's answer to `{"amount": 25000, "description": "Kopi susu"}`.
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "pay_v8LePiaRhgYdL-haNHYxXQ", "invoice": "PYG20261202125326001", "status": "pending",
    "amount": 25000, "unique_code": 35, "total_amount": 25035,
    "qr_content": "00020101021226710021ID.BIZ.PAYDIGITAL.WWW01189360000000000000010213SANDBOX-STORE0303UMI51440014ID.CO.QRIS.WWW0215ID10260000000010303UMI5204599953033605405250355802ID5912Toko Sandbox6007JAKARTA61051011062240120PYG2026120212532600163047898",
    "payment_url": "http://127.0.0.1:8080/sandbox/pay/PYG20261202125326001",
    "expires_at": "2026-12-02T13:08:26+07:00", "expires_in": 899,
    "server_time": "2026-12-02T12:53:26+07:00", "paid_at": null, "late": false,
    "livemode": false
})))]
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
    /// PayDigital's hosted payment page, when it gave one (only ever `https://`, or the
    /// sandbox on this machine).
    #[cfg_attr(feature = "openapi", schema(required = true))]
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
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub paid_at: Option<String>,
    /// Paid after the proxy had recorded it expired (a saved code paid late): the money
    /// arrived, and the page may say it came late.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub late: bool,
    /// `false` from a sandbox proxy: no money moves (the widget says "test mode"). Read as
    /// `true` from a proxy too old to say, so nothing real is ever called a test.
    #[serde(default = "live")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub livemode: bool,
    /// The receipt page (`{CHECKOUT_PUBLIC_URL}/r/{token}`), in the browser's view only and
    /// only once paid (until then it would only say "not paid"): the widget's paid view links
    /// it. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_url: Option<String>,
}

fn live() -> bool {
    true
}

/// Every error response: `{"error":{"code":"snake_case","message":"..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// What went wrong, for programs (the proxy's document lists every code).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The request field that was wrong, where one was (`amount`, `metadata.cart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
