//! The OpenAPI document drawn as one HTML page: the document's words, each tag's operations,
//! the webhooks and the schemas. maud escapes every value; the document is our own.

use super::DOCS_CSS;
use maud::{html, Markup, DOCTYPE};
use serde_json::{Map, Value};

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
                link rel="stylesheet" href=(DOCS_CSS.url());
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
