//! The contract machines read: `/api/openapi.json` is the document the code generates, the
//! committed `docs/openapi.json` is that document, `/api/docs` draws it with nothing from
//! elsewhere, and its examples have the shape of real answers.

use crate::helpers::{TestApp, MERCHANT_KEY};
use paydigital_proxy::http::openapi::document_json;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const REGENERATE: &str = "cargo run -p paydigital-proxy -- openapi --output docs/openapi.json";

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {path} ({e}): make it with `{REGENERATE}`"));
    assert!(
        committed == document_json(),
        "docs/openapi.json differs from the document the code generates: regenerate it with \
         `{REGENERATE}` and commit it"
    );
}

#[tokio::test]
async fn the_proxy_serves_the_document_and_a_page_that_loads_nothing() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/api/openapi.json", app.proxy.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let document: Value = response.json().await.expect("json");
    assert_eq!(
        document,
        serde_json::from_str::<Value>(document_json()).expect("json")
    );
    assert_eq!(document["openapi"], "3.1.0");
    for webhook in ["payment.created", "payment.paid", "payment.expired"] {
        assert!(
            document["webhooks"][webhook]["post"].is_object(),
            "{webhook}"
        );
    }
    // Every merchant operation needs the key; no browser one does.
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let secured = operation["security"] == json!([{ "merchantKey": [] }]);
            assert_eq!(
                secured,
                path.starts_with("/api/merchant/"),
                "{method} {path}"
            );
        }
    }

    let page = app
        .http
        .get(format!("{}/api/docs", app.proxy.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/html")));
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self';"),
        "{csp}"
    );
    let html = page.text().await.expect("text");
    for absent in ["<script", "<style", "style=", "src=", "@import", "url("] {
        assert!(!html.contains(absent), "the page has {absent}");
    }
    // Its one stylesheet, from this origin.
    assert_eq!(html.matches("<link").count(), 1);
    assert!(html.contains(r#"<link rel="stylesheet" href="/assets/docs."#));
    // Every operation, webhook and schema of the document is on the page.
    for (path, item) in document["paths"].as_object().expect("paths") {
        assert!(html.contains(path.as_str()), "{path}");
        for operation in item.as_object().expect("item").values() {
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
    }
    for webhook in document["webhooks"].as_object().expect("webhooks").keys() {
        assert!(html.contains(webhook.as_str()), "{webhook}");
    }
    for schema in document["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        assert!(
            html.contains(&format!("id=\"schema-{schema}\"")),
            "{schema}"
        );
    }
    for code in [
        "amount_out_of_range",
        "idempotency_in_progress",
        "rate_limited",
    ] {
        assert!(html.contains(code), "{code}");
    }
}

/// A JSON value's fields and the JSON type of each (`null` fits any type: an example may
/// show a field null that a real answer fills, and the other way round).
fn shape(value: &Value) -> BTreeMap<String, &'static str> {
    value
        .as_object()
        .expect("an object")
        .iter()
        .map(|(key, value)| {
            let kind = match value {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            (key.clone(), kind)
        })
        .collect()
}

fn assert_same_shape(example: &Value, real: &Value, what: &str) {
    let (example, real) = (shape(example), shape(real));
    assert_eq!(
        example.keys().collect::<Vec<_>>(),
        real.keys().collect::<Vec<_>>(),
        "{what}: the example's fields are not a real answer's"
    );
    for (key, kind) in &example {
        let real = real[key];
        assert!(
            *kind == real || *kind == "null" || real == "null",
            "{what}.{key}: the example has a {kind}, a real answer a {real}"
        );
    }
}

#[tokio::test]
async fn the_examples_have_the_shape_of_real_answers() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(document_json()).expect("json");
    let schemas = &document["components"]["schemas"];

    let public = app.create_ok(25_000).await;
    assert_same_shape(&schemas["Payment"]["example"], &public, "Payment");
    let read = app.status_json(public["id"].as_str().expect("id")).await;
    assert_same_shape(&schemas["Payment"]["example"], &read, "Payment (read)");

    let request = &schemas["MerchantPaymentRequest"]["example"];
    let merchant = app.merchant_create(request.clone()).await;
    assert_same_shape(
        &schemas["MerchantPayment"]["example"],
        &merchant,
        "MerchantPayment",
    );
    for (field, value) in request.as_object().expect("example") {
        assert_eq!(&merchant[field], value, "the example request's {field}");
    }

    let browser_request = &schemas["CreatePayment"]["example"];
    let response = app.create(browser_request.clone()).await;
    assert_eq!(
        response.status(),
        201,
        "the browser example request is refused"
    );

    let events = app
        .merchant(Method::GET, "events", Some(MERCHANT_KEY), None)
        .await;
    assert_eq!(events.status(), 200);
    let events: Value = events.json().await.expect("json");
    let event = &events["data"][0];
    assert_same_shape(
        &schemas["MerchantPayment"]["example"],
        &event["data"],
        "event data",
    );
}

/// A proxy's document says what that proxy takes: with a catalog, `item` (one of its ids)
/// and no `amount`; its own amount range for the shop's server; no `reference` from
/// browsers when `CHECKOUT_BROWSER_REFERENCE=off`.
#[tokio::test]
async fn a_proxy_documents_its_own_catalog_and_amount_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(
        &catalog,
        "[items.kopi-susu]\nname = \"Kopi Susu\"\nprice = 25000\n\
         [items.roti]\nname = \"Roti\"\nprice = 12000\n",
    )
    .expect("write");
    let app = TestApp::spawn_with(&[
        ("CHECKOUT_CATALOG", catalog.to_str().expect("path")),
        ("CHECKOUT_MAX_AMOUNT", "5000000"),
        ("CHECKOUT_BROWSER_REFERENCE", "off"),
    ])
    .await;
    let document: Value = app
        .http
        .get(format!("{}/api/openapi.json", app.proxy.url()))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let schemas = &document["components"]["schemas"];
    let create = &schemas["CreatePayment"];
    assert_eq!(create["required"], json!(["item"]));
    assert_eq!(
        create["properties"]["item"]["enum"],
        json!(["kopi-susu", "roti"])
    );
    assert!(create["properties"].get("amount").is_none(), "{create}");
    assert!(create["properties"].get("reference").is_none(), "{create}");
    let response = app.create(create["example"].clone()).await;
    assert_eq!(response.status(), 201, "the example is refused");
    let amount = &schemas["MerchantPaymentRequest"]["properties"]["amount"];
    assert_eq!(
        (amount["minimum"].clone(), amount["maximum"].clone()),
        (json!(1000), json!(5_000_000))
    );

    // The default document (the committed one) takes open amounts.
    let default: Value = serde_json::from_str(document_json()).expect("json");
    let create = &default["components"]["schemas"]["CreatePayment"];
    assert_eq!(create["required"], json!(["amount"]));
    assert!(create["properties"].get("item").is_none(), "{create}");
}
