//! The contract machines read: the OpenAPI 3.1 document of the merchant API, the browser
//! API and the webhooks, served at `/api/openapi.json` and drawn for people at `/api/docs`
//! (`api_docs.rs`). Nothing in it is written by hand twice: paths, parameters and answers come
//! from each handler's `#[utoipa::path]` (the same annotation registers the route, through
//! utoipa-axum; the QR images and `/healthz`, served by plain routers, are annotated here and
//! checked against real answers by the tests), schemas from the types the handlers serialize
//! (`utoipa::ToSchema`), error codes from [`ErrorCode`]. `paydigital-proxy openapi` writes
//! it; `docs/openapi.json` is that output, and a test fails when the two differ
//! (`docs/openapi.md`).

use super::error::ErrorCode;
use super::{browser, merchant};
use crate::domain::new_payment::PaymentRules;
use crate::domain::views::WebhookBody;
use crate::state::AppState;
use paydigital::api::ErrorBody;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr, Schema};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// The document's frame: what it is about, its tags, the merchant key and the schemas no
/// path names (the webhooks' and the error codes').
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PayDigital Checkout proxy",
        description = "The merchant proxy of the PayDigital QRIS checkout: the shop's server \
            creates and reads payments (merchant API, `Authorization: Bearer` with \
            `CHECKOUT_MERCHANT_KEY`), shops' pages create and watch them (browser API), and \
            the proxy tells the shop's server of every change by a signed webhook (Standard \
            Webhooks). Every error is `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
            Generated from the proxy's code; see docs/merchant-api.md and docs/proxy-api.md \
            for what the contract promises in words."
    ),
    modifiers(&MerchantKey),
    components(schemas(ErrorCode, WebhookBody, ErrorBody)),
    tags(
        (name = "merchant", description = "The shop's own server: a bearer key, no CORS, \
            and any request naming an `Origin` (a web page) is refused."),
        (name = "browser", description = "Shops' pages (the widget): origins checked against \
            `CHECKOUT_ALLOWED_ORIGINS`, CORS answered, creates limited per client IP."),
        (name = "health", description = "For a load balancer: `/healthz`, no key, never \
            cached."),
        (name = "webhooks", description = "What the proxy POSTs to `CHECKOUT_WEBHOOK_URL`: \
            Standard Webhooks, signed with `CHECKOUT_WEBHOOK_SECRET`; retried until a 2xx \
            (5 s, 5 min, 30 min, 2 h, … 24 h), one payment's events in order.")
    )
)]
struct Frame;

/// `merchantKey`: `Authorization: Bearer <CHECKOUT_MERCHANT_KEY>`.
struct MerchantKey;

impl Modify for MerchantKey {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "merchantKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "CHECKOUT_MERCHANT_KEY (at least 32 characters). Without one configured \
                         every merchant call is 401.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The headers every webhook request carries.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Documents what `webhooks::Sender` sends.
struct WebhookHeaders {
    /// The event's id (`evt_…`): the same on every retry, dedupe on it.
    #[param(rename = "webhook-id", pattern = r"^evt_[A-Za-z0-9_-]{22,64}$")]
    webhook_id: String,
    /// This attempt's time, unix seconds.
    #[param(rename = "webhook-timestamp", example = "1764000000")]
    webhook_timestamp: String,
    /// `v1,<base64 HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")>`, one per secret,
    /// separated by spaces.
    #[param(rename = "webhook-signature")]
    webhook_signature: String,
}

macro_rules! webhook {
    ($name:ident, $event:literal, $operation:literal, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            post,
            path = $event,
            tag = "webhooks",
            operation_id = $operation,
            params(WebhookHeaders),
            request_body(content = WebhookBody, content_type = "application/json"),
            responses(
                (status = "2XX", description = "Delivered: any 2xx within 15 s"),
                (status = 410, description = "Gone: this event is abandoned (no more retries)"),
                (status = "default", description = "Anything else (a redirect, a timeout, another status) is retried, not sooner than a `Retry-After` (seconds or an HTTP date, at most 24 h)"),
            )
        )]
        #[allow(dead_code)] // Only its annotation is read: the proxy sends webhooks, it serves none.
        fn $name() {}
    };
}

webhook!(
    payment_created,
    "payment.created",
    "paymentCreated",
    "A payment was created (by the shop's server or a page)."
);
webhook!(
    payment_paid,
    "payment.paid",
    "paymentPaid",
    "A payment was paid (`data.late` when after its `payment.expired`)."
);
webhook!(
    payment_expired,
    "payment.expired",
    "paymentExpired",
    "A payment's time is up unpaid (it may still turn paid, late)."
);

/// The webhooks, as paths (OpenAPI 3.1 keeps them in `webhooks`, by name).
#[derive(OpenApi)]
#[openapi(paths(payment_created, payment_paid, payment_expired))]
struct Webhooks;

/// The QR images and `/healthz`: served by routers that are not utoipa's (`hosted.rs`,
/// `http::healthz`), so their paths are written here, as the webhooks are, and
/// `tests/api/openapi.rs` checks them against real answers (status, content type, body).
#[derive(OpenApi)]
#[openapi(
    paths(qr_svg, qr_png, healthz),
    components(schemas(Health, HealthDown))
)]
struct Unrouted;

/// A payment's QRIS code as an SVG image, drawn by the proxy from its verified `qr_content`.
///
/// Readable from any page (`Access-Control-Allow-Origin: *`), cached for a day (a payment's
/// code never changes).
#[utoipa::path(
    get,
    path = "/api/payments/{id}/qr.svg",
    tag = "browser",
    operation_id = "getPaymentQrSvg",
    params(("id" = String, Path, description = "The payment's id (`pay_…`)", pattern = r"^pay_[A-Za-z0-9_-]{22,64}$")),
    responses(
        (status = 200, description = "The QR, at least 256×256", content_type = "image/svg+xml", body = String),
        (status = 404, body = ErrorBody, description = "`not_found`: no payment has this id"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
#[allow(dead_code)] // Only its annotation is read: `hosted.rs` serves the route.
fn qr_svg() {}

/// A payment's QRIS code as a PNG: black on white, 8 pixels a module, a 4-module quiet zone.
#[utoipa::path(
    get,
    path = "/api/payments/{id}/qr.png",
    tag = "browser",
    operation_id = "getPaymentQrPng",
    params(("id" = String, Path, description = "The payment's id (`pay_…`)", pattern = r"^pay_[A-Za-z0-9_-]{22,64}$")),
    responses(
        (status = 200, description = "The QR as a grayscale PNG", content_type = "image/png", body = String),
        (status = 404, body = ErrorBody, description = "`not_found`: no payment has this id"),
        (status = 500, body = ErrorBody, description = "`internal_error`"),
        (status = 503, body = ErrorBody, description = "`store_unavailable` (`Retry-After`: 1 s busy, 5 s unreachable, 30 s a full disk or another fault)"),
    )
)]
#[allow(dead_code)] // Only its annotation is read: `hosted.rs` serves the route.
fn qr_png() {}

/// `/healthz`'s answer while the instance and its store are up.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "ok"}))]
#[allow(dead_code)] // Only its schema is read: `http::healthz` writes this JSON.
struct Health {
    status: HealthStatus,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum HealthStatus {
    Ok,
}

/// `/healthz`'s answer while the store does not answer: not an API error (`unavailable` is
/// no `ErrorCode`), a load balancer reads only the status; `store` tells the operator why.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "unavailable", "store": "disk_full", "error": {"code": "unavailable", "message": "the payment store cannot write: its disk is full"}}))]
#[allow(dead_code)] // Only its schema is read: `http::healthz` writes this JSON.
struct HealthDown {
    status: HealthDownStatus,
    store: HealthStore,
    error: HealthDownDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum HealthDownStatus {
    Unavailable,
}

/// What is wrong with the store: one of the reasons it cannot answer now, or `failing` (it
/// answered with an error: the log says which).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum HealthStore {
    Unavailable(crate::store::Unavailability),
    Failing(HealthFailing),
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum HealthFailing {
    Failing,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct HealthDownDetail {
    code: HealthDownCode,
    message: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum HealthDownCode {
    Unavailable,
}

/// Whether this instance can serve: for a load balancer (no key, never cached).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "health",
    responses(
        (status = 200, description = "The instance and its store answer", body = Health),
        (status = 503, description = "The store does not answer", body = HealthDown),
    )
)]
#[allow(dead_code)] // Only its annotation is read: `http::healthz` serves the route.
fn healthz() {}

/// The document, from the code.
pub fn document() -> Document {
    let mut document = OpenApiRouter::<Arc<AppState>>::with_openapi(Frame::openapi())
        .merge(merchant::routes())
        .merge(browser::routes())
        .into_openapi();
    document.merge(Unrouted::openapi());
    // utoipa 5 has no `webhooks` member: it goes in beside `paths` as the extension map
    // (flattened into the document's top level), written from utoipa's own path items.
    let webhooks = Webhooks::openapi().paths.paths;
    let webhooks = serde_json::to_value(webhooks).unwrap_or_default();
    document
        .extensions
        .get_or_insert_with(Default::default)
        .insert("webhooks".to_owned(), webhooks);
    // `ErrorDetail.code` is a String in the wire crate (the widget reads any code); here it is
    // the enum of the codes this proxy answers with.
    if let Some(components) = document.components.as_mut() {
        if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail") {
            detail
                .properties
                .insert("code".to_owned(), Ref::from_schema_name("ErrorCode").into());
        }
    }
    document
}

/// The document for a proxy with the default configuration (what `paydigital-proxy
/// openapi` writes and `docs/openapi.json` holds): pretty JSON with a final newline.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document_json_for(&PaymentRules::defaults()))
}

/// The document as a proxy with `rules` serves it: what a create's body may be depends on
/// them (its amount range; `amount` without a catalog, `item` — one of the catalog's — with
/// one; `reference` only when `CHECKOUT_BROWSER_REFERENCE` is on), and a document that
/// allowed more would promise answers the proxy refuses.
pub fn document_json_for(rules: &PaymentRules) -> String {
    let mut document = serde_json::to_value(document()).unwrap_or_default();
    let schemas = &mut document["components"]["schemas"];
    let range = |amount: &mut Value| {
        amount["minimum"] = json!(rules.min_amount);
        amount["maximum"] = json!(rules.max_amount);
    };
    range(&mut schemas["MerchantPaymentRequest"]["properties"]["amount"]);
    for field in ["amount", "min_amount", "max_amount"] {
        range(&mut schemas["NewLinkRequest"]["properties"][field]);
    }
    split_link_request(schemas);
    let create = &mut schemas["CreatePayment"];
    let (drop, required, mode) = match &rules.catalog {
        None => (
            "item",
            "amount",
            "This proxy has no catalog: send `amount`.",
        ),
        Some(_) => ("amount", "item", "This proxy sets the prices: send `item`."),
    };
    if let Some(properties) = create["properties"].as_object_mut() {
        *properties = std::mem::take(properties)
            .into_iter()
            .filter(|(name, _)| name != drop && (rules.browser_reference || name != "reference"))
            .collect();
        match &rules.catalog {
            None => {
                let amount = &mut properties["amount"];
                amount["type"] = json!("integer");
                range(amount);
            }
            Some(catalog) => {
                let item = &mut properties["item"];
                item["type"] = json!("string");
                item["enum"] = json!(catalog.items.keys().collect::<Vec<_>>());
            }
        }
    }
    create["required"] = json!([required]);
    create["description"] = json!(format!("`POST /api/payments`. {mode}"));
    create["example"] = match &rules.catalog {
        None => json!({ "amount": 25000, "description": "Kopi susu" }),
        Some(catalog) => json!({ "item": catalog.items.keys().next() }),
    };
    allow_empty_query_values(&mut document);
    // utoipa writes bytes as an array of numbers: a PNG is binary content.
    document["paths"]["/api/payments/{id}/qr.png"]["get"]["responses"]["200"]["content"]
        ["image/png"]["schema"] = json!({ "type": "string", "format": "binary" });
    let mut json = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

/// The lists' filters read an empty value (`?limit=`) as absent, as they always have; a typed
/// parameter (`limit` an integer) says so with `allowEmptyValue` (utoipa has no attribute for
/// it), so the document neither loses the integer for clients nor calls `?limit=` invalid.
fn allow_empty_query_values(document: &mut Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.starts_with("/api/merchant/") {
            continue;
        }
        let Some(parameters) = item
            .get_mut("get")
            .and_then(|get| get.get_mut("parameters"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
            parameter["allowEmptyValue"] = json!(true);
        }
    }
}

/// `NewLinkRequest` as two bodies a client can only send one of: a fixed price (`amount`,
/// no bounds) or an amount the customer types (optional `min_amount`/`max_amount`, no
/// `amount`). The server refuses `amount` beside a bound (`NewLinkRequest::validate`); one
/// struct with every field optional let a generated client send that. Each body is closed
/// (`additionalProperties: false`) and names the other's fields only as `null`, which the
/// server reads as absent (`whole_number::optional`), so exactly one of them fits any body
/// the server takes.
fn split_link_request(schemas: &mut Value) {
    let Some(derived) = schemas.get("NewLinkRequest").cloned() else {
        return;
    };
    let variant = |description: &str, absent: &[&str], required: &[&str], example: Value| {
        let mut body = derived.clone();
        if let Some(properties) = body["properties"].as_object_mut() {
            for field in absent {
                properties.insert(
                    (*field).to_owned(),
                    json!({ "type": "null", "description": "Not in this kind of link (null is absent)." }),
                );
            }
        }
        body["required"] = json!(required);
        body["description"] = json!(description);
        body["example"] = example;
        body
    };
    let mut fixed = variant(
        "A link with a fixed price: `amount`, and no `min_amount`/`max_amount`.",
        &["min_amount", "max_amount"],
        &["title", "amount"],
        json!({"title": "Kopi susu 1 liter", "amount": 25000, "max_payments": 50}),
    );
    // The price this body is about: a number, never null.
    fixed["properties"]["amount"]["type"] = json!("integer");
    let open = variant(
        "A link for an amount the customer types: within the shop's range and the optional \
         `min_amount`/`max_amount` (`min_amount` at most `max_amount`); no `amount`.",
        &["amount"],
        &["title"],
        json!({"title": "Donasi", "min_amount": 10000}),
    );
    schemas["FixedPriceLink"] = fixed;
    schemas["OpenAmountLink"] = open;
    schemas["NewLinkRequest"] = json!({
        "description": "`POST /api/merchant/payment-links`: a fixed-price link or an open-amount \
            link, exactly one of the two. Unknown fields are refused.",
        "oneOf": [
            { "$ref": "#/components/schemas/FixedPriceLink" },
            { "$ref": "#/components/schemas/OpenAmountLink" }
        ],
        "example": derived["example"].clone(),
    });
}
