//! What a new payment may be: the amount range, the shop's catalog, the texts passed to
//! PayDigital and the merchant's metadata, checked the same way whichever front door the
//! request came through. The defaults (`Pembayaran`, `Pelanggan`) are written here once.

use super::payment::{Metadata, Source};
use paydigital::api::CreatePayment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest texts passed upstream, in characters.
pub const MAX_DESCRIPTION: usize = 255;
pub const MAX_CUSTOMER_NAME: usize = 100;
pub const MAX_REFERENCE: usize = 128;
/// Bounds on `metadata` (as Stripe's): enough for a cart id and a customer id.
pub const MAX_METADATA_PAIRS: usize = 20;
pub const MAX_METADATA_KEY: usize = 40;
pub const MAX_METADATA_VALUE: usize = 500;

/// Longest note a cashier may add to a sale, in characters (PayDigital shows it as the
/// description, and the counter lists it).
pub const MAX_COUNTER_NOTE: usize = 140;

/// What PayDigital shows when the request named no description, and no customer.
pub const DEFAULT_DESCRIPTION: &str = "Pembayaran";
const DEFAULT_CUSTOMER_NAME: &str = "Pelanggan";

/// A create, validated: what the payment service sends upstream and keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub amount: u64,
    pub item: Option<String>,
    pub source: Source,
    pub description: String,
    pub customer_name: String,
    pub reference: Option<String>,
    pub metadata: Metadata,
    /// The payment link it is made through (`source: link`).
    pub payment_link_id: Option<String>,
    /// Who charged it at the counter (`source: counter`).
    pub created_by: Option<String>,
}

/// Why a create was refused. Each names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// The request as a whole does not fit this shop (an amount where prices are set).
    #[error("{0}")]
    Request(String),
    /// One field is wrong.
    #[error("{message}")]
    Field { field: String, message: String },
    #[error("amount must be a whole number of rupiah from {min} to {max}")]
    AmountOutOfRange { min: u64, max: u64 },
    #[error("unknown item {0:?}")]
    UnknownItem(String),
}

impl Invalid {
    /// `field` is wrong, as `message` says.
    pub fn field(field: &str, message: impl Into<String>) -> Invalid {
        Invalid::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// One thing a shop sells, priced by the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    pub name: String,
    /// Rupiah.
    pub price: u64,
}

/// `CHECKOUT_CATALOG`: `[items.kopi-susu]` tables with `name` and `price`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub items: BTreeMap<String, CatalogItem>,
}

/// `POST /api/merchant/payments`. Unknown fields are refused (a misspelt `refrence` would
/// otherwise vanish from the shop's books without a word). Fields serialize in a fixed
/// order, so its JSON is a canonical form of the request (the idempotency fingerprint).
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"amount": 125000, "reference": "ORDER-1001",
    "description": "Pesanan 1001", "customer_name": "Budi", "metadata": {"cart": "c_81"}}))]
#[serde(deny_unknown_fields)]
pub struct MerchantPaymentRequest {
    /// Rupiah, a whole number (`125000`, or `125000.0`), from `CHECKOUT_MIN_AMOUNT` (1000)
    /// to `CHECKOUT_MAX_AMOUNT`; the catalog does not apply.
    #[serde(deserialize_with = "paydigital::api::whole_number::required")]
    #[schema(minimum = 1000, maximum = 10_000_000)]
    pub amount: u64,
    /// The shop's order id; not unique (an order may need a second code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub reference: Option<String>,
    /// Shown by PayDigital; default `Pembayaran`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub description: Option<String>,
    /// Default `Pelanggan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub customer_name: Option<String>,
    /// Up to 20 pairs; keys 1 to 40 characters, values up to 500.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    #[schema(schema_with = metadata_schema)]
    pub metadata: Metadata,
}

/// `POST /admin/counter/sales`: what a cashier keyed in. Fields serialize in a fixed order:
/// the JSON is the idempotency fingerprint of the sale.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CounterSaleRequest {
    /// Rupiah, a whole number, within the shop's range (the catalog does not apply: the
    /// cashier is the shop).
    #[serde(deserialize_with = "paydigital::api::whole_number::required")]
    pub amount: u64,
    /// What it was for (`2 kopi susu`); PayDigital shows it. Default `Pembayaran`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `metadata`'s bounds as JSON Schema says them (utoipa's attributes have no `maxProperties`).
pub fn metadata_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let text = |max: usize| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(max))
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "Up to {MAX_METADATA_PAIRS} pairs; keys 1 to {MAX_METADATA_KEY} characters, values \
             up to {MAX_METADATA_VALUE}."
        )))
        .max_properties(Some(MAX_METADATA_PAIRS))
        .property_names(Some(text(MAX_METADATA_KEY).min_length(Some(1))))
        .additional_properties(Some(text(MAX_METADATA_VALUE)))
        .build()
}

/// What a new payment may be: who decides prices and within what range, and what a
/// browser may say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRules {
    pub min_amount: u64,
    pub max_amount: u64,
    /// With a catalog, browsers name items and the proxy prices them.
    pub catalog: Option<Catalog>,
    /// `CHECKOUT_BROWSER_REFERENCE` (on by default): whether a browser may name the
    /// `reference` (an order id) of the payment it creates. Off, only the shop's server
    /// does, so a shopper cannot make a payment look like someone else's order.
    pub browser_reference: bool,
}

impl PaymentRules {
    fn amount_in_range(&self, amount: u64) -> Result<u64, Invalid> {
        if amount < self.min_amount || amount > self.max_amount {
            return Err(Invalid::AmountOutOfRange {
                min: self.min_amount,
                max: self.max_amount,
            });
        }
        Ok(amount)
    }

    /// A browser's create: an open amount, or an item of the catalog.
    pub fn browser_payment(&self, body: CreatePayment) -> Result<NewPayment, Invalid> {
        let description = clean_text("description", body.description, MAX_DESCRIPTION)?;
        let customer_name = clean_text("customer_name", body.customer_name, MAX_CUSTOMER_NAME)?;
        let reference = clean_text("reference", body.reference, MAX_REFERENCE)?;
        if reference.is_some() && !self.browser_reference {
            return Err(Invalid::field(
                "reference",
                "this shop takes no reference from browsers: its server creates payments for orders",
            ));
        }
        let (amount, item, description) = match (&self.catalog, body.amount, body.item) {
            (Some(_), Some(_), _) => {
                return Err(Invalid::Request(
                    "this shop sets its prices: send \"item\", not \"amount\"".into(),
                ))
            }
            (Some(catalog), None, Some(id)) => {
                let item = catalog
                    .items
                    .get(&id)
                    .ok_or(Invalid::UnknownItem(id.clone()))?;
                let description = description.unwrap_or_else(|| item.name.clone());
                (item.price, Some(id), description)
            }
            (None, _, Some(id)) => return Err(Invalid::UnknownItem(id)),
            (None, Some(amount), None) => (
                self.amount_in_range(amount)?,
                None,
                description.unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned()),
            ),
            (_, None, None) => {
                return Err(Invalid::Request(
                    if self.catalog.is_some() {
                        "send \"item\""
                    } else {
                        "send \"amount\""
                    }
                    .into(),
                ))
            }
        };
        Ok(NewPayment {
            amount,
            source: if item.is_some() {
                Source::Catalog
            } else {
                Source::Browser
            },
            item,
            description,
            customer_name: customer_name.unwrap_or_else(|| DEFAULT_CUSTOMER_NAME.to_owned()),
            reference,
            metadata: Metadata::new(),
            payment_link_id: None,
            created_by: None,
        })
    }

    /// The shop's server's create: it priced the order itself.
    pub fn merchant_payment(&self, body: MerchantPaymentRequest) -> Result<NewPayment, Invalid> {
        let amount = self.amount_in_range(body.amount)?;
        check_metadata(&body.metadata)?;
        Ok(NewPayment {
            amount,
            item: None,
            source: Source::Merchant,
            description: clean_text("description", body.description, MAX_DESCRIPTION)?
                .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned()),
            customer_name: clean_text("customer_name", body.customer_name, MAX_CUSTOMER_NAME)?
                .unwrap_or_else(|| DEFAULT_CUSTOMER_NAME.to_owned()),
            reference: clean_text("reference", body.reference, MAX_REFERENCE)?,
            metadata: body.metadata,
            payment_link_id: None,
            created_by: None,
        })
    }
}

impl PaymentRules {
    /// A cashier's sale at the counter, `cashier` recorded as who charged it.
    pub fn counter_payment(
        &self,
        body: CounterSaleRequest,
        cashier: &str,
    ) -> Result<NewPayment, Invalid> {
        let amount = self.amount_in_range(body.amount)?;
        let note = clean_text("note", body.note, MAX_COUNTER_NOTE)?;
        Ok(NewPayment {
            amount,
            item: None,
            source: Source::Counter,
            description: note.unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned()),
            customer_name: DEFAULT_CUSTOMER_NAME.to_owned(),
            reference: None,
            metadata: Metadata::new(),
            payment_link_id: None,
            created_by: Some(cashier.to_owned()),
        })
    }
}

pub fn check_metadata(metadata: &Metadata) -> Result<(), Invalid> {
    if metadata.len() > MAX_METADATA_PAIRS {
        return Err(Invalid::field(
            "metadata",
            format!("metadata has more than {MAX_METADATA_PAIRS} keys"),
        ));
    }
    for (key, value) in metadata {
        let field = format!("metadata.{key}");
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY {
            return Err(Invalid::field(
                &field,
                format!("metadata keys are 1 to {MAX_METADATA_KEY} characters"),
            ));
        }
        if value.chars().count() > MAX_METADATA_VALUE {
            return Err(Invalid::field(
                &field,
                format!("{field} is longer than {MAX_METADATA_VALUE} characters"),
            ));
        }
    }
    Ok(())
}

/// A text field: trimmed, bounded, no control characters; empty is absent.
pub fn clean_text(
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, Invalid> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim().to_owned();
    if value.chars().count() > max {
        return Err(Invalid::field(
            name,
            format!("{name} is longer than {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::field(
            name,
            format!("{name} contains control characters"),
        ));
    }
    Ok(Some(value).filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_amounts() -> PaymentRules {
        PaymentRules {
            min_amount: 1000,
            max_amount: 10_000_000,
            catalog: None,
            browser_reference: true,
        }
    }

    fn merchant(amount: u64) -> MerchantPaymentRequest {
        MerchantPaymentRequest {
            amount,
            reference: None,
            description: None,
            customer_name: None,
            metadata: Metadata::new(),
        }
    }

    #[test]
    fn both_doors_share_the_range_and_the_defaults() {
        let rules = open_amounts();
        let browser = rules
            .browser_payment(CreatePayment {
                amount: Some(5000),
                ..CreatePayment::default()
            })
            .expect("valid");
        let shop = rules.merchant_payment(merchant(5000)).expect("valid");
        for new in [&browser, &shop] {
            assert_eq!(new.amount, 5000);
            assert_eq!(new.description, "Pembayaran");
            assert_eq!(new.customer_name, "Pelanggan");
        }
        assert_eq!(
            (browser.source, shop.source),
            (Source::Browser, Source::Merchant)
        );
        let range = Invalid::AmountOutOfRange {
            min: 1000,
            max: 10_000_000,
        };
        assert_eq!(rules.merchant_payment(merchant(999)), Err(range.clone()));
        assert_eq!(
            rules.browser_payment(CreatePayment {
                amount: Some(10_000_001),
                ..CreatePayment::default()
            }),
            Err(range)
        );
    }

    #[test]
    fn a_counter_sale_is_in_range_noted_and_names_its_cashier() {
        let mut rules = open_amounts();
        rules.catalog = Some(Catalog {
            items: BTreeMap::new(),
        });
        let sale = |amount: u64, note: Option<&str>| {
            rules.counter_payment(
                CounterSaleRequest {
                    amount,
                    note: note.map(str::to_owned),
                },
                "kasir@toko.id",
            )
        };
        let new = sale(25_000, Some(" 2 kopi susu ")).expect("valid with a catalog too");
        assert_eq!(new.source, Source::Counter);
        assert_eq!(new.created_by.as_deref(), Some("kasir@toko.id"));
        assert_eq!(new.description, "2 kopi susu");
        assert_eq!(new.customer_name, "Pelanggan");
        assert_eq!(
            sale(1000, None).map(|n| n.description),
            Ok("Pembayaran".into())
        );
        assert_eq!(
            sale(999, None),
            Err(Invalid::AmountOutOfRange {
                min: 1000,
                max: 10_000_000
            })
        );
        assert!(matches!(
            sale(5000, Some(&"x".repeat(141))),
            Err(Invalid::Field { field, .. }) if field == "note"
        ));
        assert!(matches!(
            sale(5000, Some("a\u{0}b")),
            Err(Invalid::Field { field, .. }) if field == "note"
        ));
    }

    #[test]
    fn a_browser_names_no_reference_when_the_shop_says_so() {
        let with = |reference: Option<&str>, rules: &PaymentRules| {
            rules.browser_payment(CreatePayment {
                amount: Some(5000),
                reference: reference.map(str::to_owned),
                ..CreatePayment::default()
            })
        };
        let mut rules = open_amounts();
        assert_eq!(
            with(Some("ORDER-9"), &rules).map(|n| n.reference),
            Ok(Some("ORDER-9".into()))
        );
        rules.browser_reference = false;
        assert!(matches!(
            with(Some("ORDER-9"), &rules),
            Err(Invalid::Field { field, .. }) if field == "reference"
        ));
        assert!(with(None, &rules).is_ok(), "without a reference it is fine");
        let mut shop = merchant(5000);
        shop.reference = Some("ORDER-9".into());
        assert_eq!(
            rules.merchant_payment(shop).map(|n| n.reference),
            Ok(Some("ORDER-9".into())),
            "the shop's server still names its orders"
        );
    }

    #[test]
    fn texts_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            clean_text("reference", Some("  A-1 ".into()), 10),
            Ok(Some("A-1".into()))
        );
        assert_eq!(clean_text("reference", Some("   ".into()), 10), Ok(None));
        assert_eq!(
            clean_text("reference", Some("x".repeat(11)), 10),
            Err(Invalid::field(
                "reference",
                "reference is longer than 10 characters"
            ))
        );
        assert_eq!(
            clean_text("description", Some("a\u{7}b".into()), 10),
            Err(Invalid::field(
                "description",
                "description contains control characters"
            ))
        );
    }
}
