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

/// The two kinds of payment link are two bodies: a fixed price (`amount`, bounds only as
/// null) or an open amount (`amount` only as null), each closed to other fields. A body
/// with `amount` and a bound fits neither, and the server refuses it; each kind's example
/// is taken.
#[tokio::test]
async fn a_link_body_is_a_fixed_price_or_an_open_amount_never_both() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(document_json()).expect("json");
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["NewLinkRequest"]["oneOf"],
        json!([
            { "$ref": "#/components/schemas/FixedPriceLink" },
            { "$ref": "#/components/schemas/OpenAmountLink" }
        ])
    );
    let (fixed, open) = (&schemas["FixedPriceLink"], &schemas["OpenAmountLink"]);
    for body in [fixed, open] {
        assert_eq!(body["additionalProperties"], json!(false), "{body}");
    }
    assert_eq!(fixed["required"], json!(["title", "amount"]));
    assert_eq!(fixed["properties"]["amount"]["type"], "integer");
    assert_eq!(open["properties"]["amount"]["type"], "null");
    for bound in ["min_amount", "max_amount"] {
        assert_eq!(fixed["properties"][bound]["type"], "null", "{bound}");
        assert_eq!(
            open["properties"][bound]["type"],
            json!(["integer", "null"]),
            "{bound}"
        );
    }
    // Both bodies name the same fields: only the amount's differ.
    let names = |body: &Value| {
        body["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(names(fixed), names(open));

    let create = |body: Value| {
        app.merchant(
            Method::POST,
            "payment-links",
            Some(MERCHANT_KEY),
            Some(body),
        )
    };
    for example in [&fixed["example"], &open["example"]] {
        let response = create(example.clone()).await;
        assert_eq!(response.status(), 201, "the example {example} is refused");
    }
    // What each kind names as null is absent to the server.
    let nulls = create(json!({"title": "Kopi", "amount": 25000, "min_amount": null})).await;
    assert_eq!(nulls.status(), 201);
    let nulls = create(json!({"title": "Donasi", "amount": null, "max_amount": 50000})).await;
    assert_eq!(nulls.status(), 201);
    // Neither body: refused.
    let both = create(json!({"title": "Kopi", "amount": 25000, "min_amount": 10000})).await;
    assert_eq!(both.status(), 400);
}

/// The list parameters are typed as what they are, for generated clients (`limit: 10`,
/// not `"10"`), and the server still refuses anything else with a 400 naming the parameter,
/// at the document's own bounds.
#[tokio::test]
async fn list_parameters_are_typed_and_the_server_keeps_to_the_types() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(document_json()).expect("json");
    let parameter = |path: &str, name: &str| -> Value {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["schema"].clone())
            .unwrap_or_else(|| panic!("{path} has no {name}"))
    };
    for path in [
        "/api/merchant/payments",
        "/api/merchant/events",
        "/api/merchant/payment-links",
    ] {
        let limit = parameter(path, "limit");
        assert_eq!(
            (&limit["type"], &limit["minimum"], &limit["maximum"]),
            (&json!("integer"), &json!(1), &json!(100)),
            "{path}"
        );
    }
    for (path, item) in document["paths"].as_object().expect("paths") {
        let parameters = item["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for query in parameters.iter().filter(|p| p["in"] == "query") {
            assert_eq!(query["allowEmptyValue"], json!(true), "{path} {query}");
        }
    }
    assert_eq!(
        parameter("/api/merchant/payments", "status"),
        json!({ "$ref": "#/components/schemas/Status" })
    );
    assert_eq!(
        document["components"]["schemas"]["Status"]["enum"],
        json!(["pending", "paid", "expired"])
    );
    assert_eq!(
        parameter("/api/merchant/payment-links", "active"),
        json!({ "type": "boolean" })
    );
    let created_after = parameter("/api/merchant/payments", "created_after");
    let forms = created_after["anyOf"].as_array().expect("anyOf");
    let seconds = forms
        .iter()
        .find(|f| f["type"] == "integer")
        .expect("unix seconds");
    let (min, max) = (
        seconds["minimum"].as_i64().expect("minimum"),
        seconds["maximum"].as_i64().expect("maximum"),
    );
    assert!(forms.iter().any(|f| f["format"] == "date-time"));
    assert!(forms.iter().any(|f| f["format"] == "date"));

    let app = &app;
    let status_of = |query: String| async move {
        let response = app
            .merchant(Method::GET, &query, Some(MERCHANT_KEY), None)
            .await;
        let status = response.status().as_u16();
        let field = response.json::<Value>().await.expect("json")["error"]["field"].clone();
        (status, field)
    };
    let ok = (200, Value::Null);
    for query in [
        "payments?limit=1".to_owned(),
        "payments?limit=100".to_owned(),
        "events?limit=10".to_owned(),
        "payment-links?limit=10&active=true".to_owned(),
        "payment-links?active=false".to_owned(),
        "payments?status=expired".to_owned(),
        format!("payments?created_after={min}"),
        format!("payments?created_after={max}"),
        "payments?created_after=2026-11-01T10:00:00%2B07:00".to_owned(),
        "payments?created_after=2026-11-01".to_owned(),
        // Empty is absent, as it always was (`allowEmptyValue` below).
        "payments?limit=&status=&created_after=&cursor=&reference=".to_owned(),
        "payment-links?limit=&active=&cursor=".to_owned(),
        "events?limit=&after=".to_owned(),
    ] {
        assert_eq!(status_of(query.clone()).await, ok, "{query}");
    }
    for (query, field) in [
        ("payments?limit=ten".to_owned(), "limit"),
        ("payments?limit=10.0".to_owned(), "limit"),
        ("events?limit=true".to_owned(), "limit"),
        ("payment-links?limit=101".to_owned(), "limit"),
        ("payment-links?active=1".to_owned(), "active"),
        ("payment-links?active=TRUE".to_owned(), "active"),
        ("payments?status=PAID".to_owned(), "status"),
        (
            format!("payments?created_after={}", min - 1),
            "created_after",
        ),
        (
            format!("payments?created_after={}", max + 1),
            "created_after",
        ),
        ("payments?created_after=1.5".to_owned(), "created_after"),
    ] {
        assert_eq!(
            status_of(query.clone()).await,
            (400, json!(field)),
            "{query}"
        );
    }
}

/// The QR images and `/healthz` are in the document with the content types they are served
/// with, and `/healthz`'s answer has its documented shape.
#[tokio::test]
async fn the_images_and_the_health_check_are_documented_as_served() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(document_json()).expect("json");
    let payment = app.create_ok(25_000).await;
    let id = payment["id"].as_str().expect("id");
    for (path, content_type) in [
        ("/api/payments/{id}/qr.svg", "image/svg+xml"),
        ("/api/payments/{id}/qr.png", "image/png"),
        ("/healthz", "application/json"),
    ] {
        let operation = &document["paths"][path]["get"];
        let content = operation["responses"]["200"]["content"]
            .as_object()
            .unwrap_or_else(|| panic!("{path}: no 200 content in the document"));
        assert_eq!(content.keys().collect::<Vec<_>>(), [content_type], "{path}");
        assert!(operation["security"].is_null(), "{path} needs no key");
        let response = app
            .http
            .get(format!("{}{}", app.proxy.url(), path.replace("{id}", id)))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        if path.contains("{id}") {
            let unknown = app
                .http
                .get(format!(
                    "{}{}",
                    app.proxy.url(),
                    path.replace("{id}", "pay_AAAAAAAAAAAAAAAAAAAAAA")
                ))
                .send()
                .await
                .expect("answer");
            assert_eq!(unknown.status(), 404, "{path}");
            assert_eq!(unknown.headers()["content-type"], "application/json");
            assert!(
                operation["responses"]["404"]["content"]["application/json"].is_object(),
                "{path}: the 404 is documented"
            );
        }
    }
    assert_eq!(
        document["paths"]["/api/payments/{id}/qr.png"]["get"]["responses"]["200"]["content"]
            ["image/png"]["schema"],
        json!({ "type": "string", "format": "binary" })
    );

    let health: Value = app
        .http
        .get(format!("{}/healthz", app.proxy.url()))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let schemas = &document["components"]["schemas"];
    assert_same_shape(&schemas["Health"]["example"], &health, "Health");
    assert_eq!(schemas["HealthStatus"]["enum"], json!([health["status"]]));
    let responses = &document["paths"]["/healthz"]["get"]["responses"];
    assert_eq!(
        responses["503"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/HealthDown" })
    );
}

/// The link fields whose patterns stand for the server's own checks: a `title` matches the
/// document's pattern exactly when the server takes it (`clean_text`: no control character,
/// not only white space), and every `success_url` the pattern allows the server takes (the
/// pattern is a part of `is_success_url`, so a generated client never sends a refused one).
#[tokio::test]
async fn link_patterns_say_what_the_server_takes() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(document_json()).expect("json");
    let fixed = &document["components"]["schemas"]["FixedPriceLink"]["properties"];
    let pattern = |field: &str| {
        regex::Regex::new(fixed[field]["pattern"].as_str().expect("a pattern")).expect("regex")
    };
    let accepted = |body: Value| async {
        let response = app
            .merchant(
                Method::POST,
                "payment-links",
                Some(MERCHANT_KEY),
                Some(body),
            )
            .await;
        match response.status().as_u16() {
            201 => true,
            400 => false,
            other => panic!("a link create answered {other}"),
        }
    };
    let title = pattern("title");
    for text in [
        "Kopi susu",
        " Kopi ",
        " ",
        "\u{3000}\u{a0}",
        "\u{2003}x",
        "\u{feff}",
        "a\u{7}b",
        "\u{85}",
        "Kopi\u{200b}",
    ] {
        let body = json!({ "title": text, "amount": 25000 });
        assert_eq!(
            title.is_match(text),
            accepted(body).await,
            "title {text:?}: the pattern and the server disagree"
        );
    }
    let url = pattern("success_url");
    for text in [
        "/",
        "/thanks?order=1",
        "//evil.example",
        "/\\evil.example",
        "https://toko.example/terima-kasih",
        "HTTP://toko.example:8443",
        "https://",
        "https://user@toko.example/",
        "ftp://toko.example/",
        "/with space",
        "thanks",
    ] {
        let body = json!({ "title": "Kopi", "amount": 25000, "success_url": text });
        if url.is_match(text) {
            assert!(
                accepted(body).await,
                "success_url {text:?}: the pattern allows it"
            );
        }
    }
    assert!(url.is_match("/thanks?order=1") && url.is_match("https://toko.example/a"));
    assert!(!url.is_match("//evil.example") && !url.is_match("/\\evil.example"));
}
