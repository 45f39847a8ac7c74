//! The contract's two doors: `/api/openapi.json` (the document `openapi.rs` generates, for
//! machines) and `/api/docs` (the same document drawn here as one HTML page, for people).
//! The page loads nothing: no script, no font, no third party; its one stylesheet is inline
//! and allowed by its hash in the page's CSP.

use super::kit::{no_store, usable_from_any_origin};
use super::openapi::document_json_for;
use crate::domain::new_payment::PaymentRules;
use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

/// The document this proxy's `rules` make, and its page, drawn once here.
pub fn router(rules: &PaymentRules) -> Router<Arc<AppState>> {
    let json: Arc<str> = document_json_for(rules).into();
    let document = serde_json::from_str::<Value>(&json).unwrap_or_default();
    let page: Arc<str> = render(&document).into_string().into();
    Router::new()
        .route("/api/openapi.json", get(move || openapi_json(json.clone())))
        .route("/api/docs", get(move || docs_page(page.clone())))
        // Every `/api/` answer is `no-store` (`docs/proxy-api.md`); this one changes with
        // each release.
        .layer(no_store())
}

async fn openapi_json(json: Arc<str>) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json.to_string(),
    )
        .into_response();
    // Any tool on any origin may read the contract.
    usable_from_any_origin(response.headers_mut());
    response
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:70em;margin:0 auto;\
padding:1em;color:#1a1a1a}code,.mono{font-family:ui-monospace,monospace;font-size:.92em}\
h2{border-bottom:2px solid #ddd;margin-top:2em}h3{margin-top:1.6em}\
.op{border:1px solid #ddd;border-radius:6px;padding:.2em 1em 1em;margin:1em 0}\
.method{display:inline-block;min-width:4.5em;font-weight:700}\
table{border-collapse:collapse;width:100%;margin:.5em 0}\
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f5f5f5}.muted{color:#555}nav li{margin:.1em 0}";

/// Nothing from elsewhere, nothing inline but the one stylesheet, no frames, no forms.
fn docs_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'"
        )
    })
}

async fn docs_page(page: Arc<str>) -> Response {
    let mut response = axum::response::Html(page.to_string()).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(docs_csp()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A description's Markdown, as far as these use it: `code` spans; the rest is text.
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn object(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flat_map(Map::iter)
}

fn schema_anchor(name: &str) -> String {
    format!("schema-{name}")
}

/// A schema in a few words: `string`, `integer ≥ 0`, a link to a named one, an enum's words.
fn schema_type(schema: &Value) -> Markup {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return html! { a href={ "#" (schema_anchor(name)) } { (name) } };
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(combinator).and_then(Value::as_array) {
            let joiner = if combinator == "allOf" {
                " and "
            } else {
                " or "
            };
            return html! {
                @for (i, part) in parts.iter().enumerate() {
                    @if i > 0 { (joiner) }
                    (schema_type(part))
                }
            };
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut bounds = Vec::new();
    for (key, word) in [
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("maxProperties", "pairs ≤"),
    ] {
        if let Some(n) = schema.get(key) {
            bounds.push(format!("{word} {n}"));
        }
    }
    html! {
        @for (i, t) in types.iter().enumerate() {
            @if i > 0 { " or " }
            @if *t == "array" {
                "array of " (schema.get("items").map(schema_type).unwrap_or_else(|| html! { "any" }))
            } @else if *t == "object" && schema.get("additionalProperties").is_some_and(Value::is_object) {
                "object of " (schema.get("additionalProperties").map(schema_type).unwrap_or_default())
            } @else {
                (t)
            }
        }
        @if let Some(words) = schema.get("enum").and_then(Value::as_array) {
            " one of "
            @for (i, word) in words.iter().enumerate() {
                @if i > 0 { ", " }
                code { (word) }
            }
        }
        @if !bounds.is_empty() { span.muted { " (" (bounds.join(", ")) ")" } }
        @if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            span.muted { " matching " code { (pattern) } }
        }
    }
}

fn render_operation(path: &str, method: &str, op: &Value) -> Markup {
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    html! {
        section.op id=(text(op, "operationId")) {
            h4 { span.method { (method.to_uppercase()) } " " code { (path) } }
            @if !text(op, "summary").is_empty() { p { strong { (prose(text(op, "summary"))) } } }
            @if !text(op, "description").is_empty() { p { (prose(text(op, "description"))) } }
            @if secured { p { "Needs " code { "Authorization: Bearer <CHECKOUT_MERCHANT_KEY>" } "." } }
            @if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                table {
                    tr { th { "Parameter" } th { "In" } th { "Type" } th { "Description" } }
                    @for param in params {
                        tr {
                            td.mono { (text(param, "name")) @if param.get("required") == Some(&Value::Bool(true)) { " (required)" } }
                            td { (text(param, "in")) }
                            td { (param.get("schema").map(schema_type).unwrap_or_default()) }
                            td { (prose(text(param, "description"))) }
                        }
                    }
                }
            }
            @if let Some(body) = op.get("requestBody") {
                @for (content_type, content) in object(&body["content"]) {
                    p { "Body (" code { (content_type) } "): " (content.get("schema").map(schema_type).unwrap_or_default()) }
                }
            }
            table {
                tr { th { "Status" } th { "Answer" } th { "Description" } }
                @for (status, response) in object(&op["responses"]) {
                    tr {
                        td.mono { (status) }
                        td {
                            @for (content_type, content) in object(&response["content"]) {
                                (content.get("schema").map(schema_type).unwrap_or_default())
                                " " span.muted { "(" (content_type) ")" }
                            }
                        }
                        td { (prose(text(response, "description"))) }
                    }
                }
            }
        }
    }
}

fn render_operations(paths: &Value, tag: &str) -> Markup {
    html! {
        @for (path, item) in object(paths) {
            @for (method, op) in object(item) {
                @if op.get("tags").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t == tag)) {
                    (render_operation(path, method, op))
                }
            }
        }
    }
}

fn render_schema(name: &str, schema: &Value) -> Markup {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // A flattened struct is `allOf` [a reference, the object's own fields].
    let parts: Vec<&Value> = match schema.get("allOf").and_then(Value::as_array) {
        Some(parts) => parts.iter().collect(),
        None => vec![schema],
    };
    html! {
        section id=(schema_anchor(name)) {
            h3 { code { (name) } }
            @if !text(schema, "description").is_empty() { p { (prose(text(schema, "description"))) } }
            @for part in parts {
                @if part.get("$ref").is_some() {
                    p { "Every field of " (schema_type(part)) ", and:" }
                } @else if let Some(properties) = part.get("properties") {
                    @let required: Vec<&str> = part.get("required").and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_else(|| required.clone());
                    table {
                        tr { th { "Field" } th { "Type" } th { "Description" } }
                        @for (field, property) in object(properties) {
                            tr {
                                td.mono { (field) @if required.contains(&field.as_str()) { " *" } }
                                td { (schema_type(property)) }
                                td { (prose(text(property, "description"))) }
                            }
                        }
                    }
                } @else {
                    p { (schema_type(part)) }
                }
            }
            @if let Some(example) = schema.get("example") {
                details { summary { "Example" } pre.mono { (serde_json::to_string_pretty(example).unwrap_or_default()) } }
            }
        }
    }
}

/// The whole page: the document's words, each tag's operations, the webhooks, the schemas.
pub fn render(document: &Value) -> Markup {
    let info = &document["info"];
    let tags: Vec<(&str, &str)> = document["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| (text(t, "name"), text(t, "description")))
                .collect()
        })
        .unwrap_or_default();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (text(info, "title")) " — API reference" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (text(info, "title")) " " span.muted { (text(info, "version")) } }
                p { (prose(text(info, "description"))) }
                p { "The machine-readable document: " a href="/api/openapi.json" { code { "/api/openapi.json" } } " (OpenAPI " (text(document, "openapi")) ")." }
                nav { ul {
                    @for (name, _) in &tags { li { a href={ "#tag-" (name) } { (name) } } }
                    li { a href="#schemas" { "schemas" } }
                } }
                @for (name, description) in &tags {
                    h2 id={ "tag-" (name) } { (name) }
                    p { (prose(description)) }
                    @if *name == "webhooks" {
                        (render_operations(&document["webhooks"], name))
                    } @else {
                        (render_operations(&document["paths"], name))
                    }
                }
                h2 id="schemas" { "Schemas" }
                @for (name, schema) in object(&document["components"]["schemas"]) {
                    (render_schema(name, schema))
                }
            }
        }
    }
}
