//! PayDigital's two calls as PayDigital answers them (its form fields, its JSON, its
//! mistakes when a fault is on), and the endpoints tests and people drive the sandbox with.

use super::{Endpoint, Faults, Inner, Sandbox, SandboxPayment, Stage};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use paydigital::qris::{MerchantAccount, QrisBuilder};
use paydigital::wire::{format_time, JAKARTA};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// PayDigital's error shape.
pub(super) fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": "error", "message": message })),
    )
        .into_response()
}

/// Writes every number in `value` as a string, as some PHP backends do.
fn stringify_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => *value = Value::String(n.to_string()),
        Value::Object(map) => map.values_mut().for_each(stringify_numbers),
        Value::Array(items) => items.iter_mut().for_each(stringify_numbers),
        _ => {}
    }
}

/// Answers `body` through whatever faults are switched on for `endpoint`.
pub(super) async fn answer(sandbox: &Sandbox, endpoint: Endpoint, mut body: Value) -> Response {
    let faults = sandbox.lock().faults.clone();
    if !faults.applies_to(endpoint) {
        return Json(body).into_response();
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if faults.hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if faults.html_500 {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html("<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>"),
        )
            .into_response();
    }
    if faults.error_in_200 {
        return Json(json!({ "status": "error", "message": "Terjadi kesalahan pada server" }))
            .into_response();
    }
    let data = &mut body["data"];
    if let (Some(url), Endpoint::Create) = (&faults.payment_url, endpoint) {
        data["payment_url"] = json!(url);
    }
    if let (Some(at), Endpoint::Create) = (&faults.expired_at, endpoint) {
        data["expired_at"] = json!(at);
    }
    if endpoint == Endpoint::Status {
        for field in ["amount", "total_amount"] {
            if let Some(n) = data[field].as_u64() {
                data[field] = json!(n.saturating_add(faults.amount_delta));
            }
        }
        if faults.other_invoice {
            data["invoice"] = json!("PYG-SOMEONE-ELSE");
        }
    }
    if faults.oversized {
        body["padding"] = json!("x".repeat(2 * 1024 * 1024));
    }
    if faults.numbers_as_strings {
        stringify_numbers(&mut body);
    }
    if faults.php_notice {
        let text = format!(
            "<br />\n<b>Notice</b>:  Undefined index: customer_email in <b>/var/www/html/api/{}.php</b> on line <b>42</b><br />\n{}",
            if endpoint == Endpoint::Create { "create_payment" } else { "payment" },
            body
        );
        return ([(header::CONTENT_TYPE, "text/html; charset=UTF-8")], text).into_response();
    }
    Json(body).into_response()
}

/// The key a call presents: `Authorization: Bearer`, else the `api_key` field.
fn presented_key<'r>(headers: &'r HeaderMap, form: &'r HashMap<String, String>) -> Option<&'r str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer.or(form.get("api_key").map(String::as_str))
}

fn authorized(sandbox: &Sandbox, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    presented_key(headers, form) == Some(sandbox.config.api_key.as_str())
}

/// With the `echo_key` fault on for `endpoint`: the refusal a careless server gives, quoting
/// the key it was sent (the proxy's log must not keep it).
fn key_echoed(
    sandbox: &Sandbox,
    endpoint: Endpoint,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<Response> {
    let faults = sandbox.lock().faults.clone();
    (faults.echo_key && faults.applies_to(endpoint)).then(|| {
        let key = presented_key(headers, form).unwrap_or("(none)");
        refuse(
            StatusCode::UNAUTHORIZED,
            &format!("Invalid API key {key} for this store"),
        )
    })
}

fn count(inner: &mut Inner, endpoint: &str) {
    *inner.calls.entry(endpoint.to_owned()).or_default() += 1;
}

fn invoice_stamp(now: OffsetDateTime) -> String {
    let local = now.to_offset(JAKARTA);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

fn host_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

pub(super) async fn create_payment(
    State(sandbox): State<Arc<Sandbox>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    count(&mut sandbox.lock(), "create_payment");
    if method != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    if let Some(refused) = key_echoed(&sandbox, Endpoint::Create, &headers, &form) {
        return refused;
    }
    if !authorized(&sandbox, &headers, &form) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    if form.get("store_id").map(String::as_str) != Some(sandbox.config.store_id.as_str()) {
        return refuse(StatusCode::NOT_FOUND, "Store not found");
    }
    let Some(amount) = form
        .get("amount")
        .and_then(|a| a.trim().parse::<u64>().ok())
    else {
        return refuse(StatusCode::BAD_REQUEST, "Invalid amount");
    };
    if amount < 1000 {
        return refuse(StatusCode::BAD_REQUEST, "Minimum amount is 1000");
    }
    let faults = sandbox.lock().faults.clone();
    let now = OffsetDateTime::now_utc();
    let payment = {
        let mut inner = sandbox.lock();
        inner.sequence += 1;
        let invoice = format!("PYG{}{:03}", invoice_stamp(now), inner.sequence % 1000);
        // A unique code no other pending payment uses, so that totals tell payments apart.
        let mut rng = rand::thread_rng();
        let mut unique_code = rng.gen_range(1..=999);
        for _ in 0..50 {
            if !inner
                .payments
                .iter()
                .any(|p| p.state == Stage::Pending && p.total_amount == amount + unique_code)
            {
                break;
            }
            unique_code = rng.gen_range(1..=999);
        }
        let total_amount = amount + unique_code;
        let qr_amount = if faults.wrong_amount_qr && faults.applies_to(Endpoint::Create) {
            total_amount + 1
        } else {
            total_amount
        };
        let mut qr_content = match QrisBuilder::new(sandbox.config.store_name.clone(), "JAKARTA")
            .merchant_account(MerchantAccount::acquirer(
                26,
                "ID.BIZ.PAYDIGITAL.WWW",
                "936000000000000001",
                sandbox.config.store_id.chars().take(15).collect::<String>(),
                "UMI",
            ))
            .merchant_account(MerchantAccount::national("ID1026000000001", "UMI"))
            .postal_code("10110")
            .amount(qr_amount)
            .additional(1, invoice.clone())
            .build()
        {
            Ok(code) => code,
            Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        };
        if faults.bad_crc && faults.applies_to(Endpoint::Create) {
            qr_content.truncate(qr_content.len().saturating_sub(4));
            qr_content.push_str("0000");
        }
        let payment = SandboxPayment {
            invoice,
            amount,
            unique_code,
            total_amount,
            qr_content,
            description: form.get("description").cloned().unwrap_or_default(),
            customer_name: form.get("customer_name").cloned().unwrap_or_default(),
            created_at: now,
            expired_at: now + sandbox.config.ttl,
            state: Stage::Pending,
        };
        inner.payments.push(payment.clone());
        payment
    };
    let base = host_base(&headers);
    let body = json!({
        "status": "success",
        "data": {
            "invoice": payment.invoice,
            "amount": payment.amount,
            "unique_code": payment.unique_code,
            "total_amount": payment.total_amount,
            "qr_content": payment.qr_content,
            "qr_url": format!("{base}/sandbox/qr/{}", payment.invoice),
            "payment_url": format!("{base}/sandbox/pay/{}", payment.invoice),
            "expired_at": format_time(payment.expired_at, JAKARTA),
        }
    });
    answer(&sandbox, Endpoint::Create, body).await
}

pub(super) async fn payment_status(
    State(sandbox): State<Arc<Sandbox>>,
    method: Method,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let invoice = query
        .get("invoice")
        .or(form.get("invoice"))
        .cloned()
        .unwrap_or_default();
    {
        let mut inner = sandbox.lock();
        count(&mut inner, "payment_status");
        *inner.invoice_calls.entry(invoice.clone()).or_default() += 1;
    }
    if method != Method::GET && method != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    if let Some(refused) = key_echoed(&sandbox, Endpoint::Status, &headers, &form) {
        return refused;
    }
    if !authorized(&sandbox, &headers, &form) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    let (payment, word_override) = {
        let inner = sandbox.lock();
        let payment = inner
            .payments
            .iter()
            .find(|p| p.invoice == invoice)
            .cloned();
        let word = inner
            .faults
            .status_word
            .clone()
            .filter(|_| inner.faults.applies_to(Endpoint::Status));
        (payment, word)
    };
    let Some(payment) = payment else {
        return refuse(StatusCode::NOT_FOUND, "Payment not found");
    };
    let paid_at = match payment.state {
        Stage::Paid(at) => Some(format_time(at, JAKARTA)),
        _ => None,
    };
    let body = json!({
        "status": "success",
        "data": {
            "invoice": payment.invoice,
            "amount": payment.amount,
            "unique_code": payment.unique_code,
            "total_amount": payment.total_amount,
            "status": word_override.as_deref().unwrap_or(payment.word()),
            "paid_at": paid_at,
            "customer_name": payment.customer_name,
            "store_name": sandbox.config.store_name,
            "created_at": format_time(payment.created_at, JAKARTA),
            "expired_at": format_time(payment.expired_at, JAKARTA),
        }
    });
    answer(&sandbox, Endpoint::Status, body).await
}

pub(super) async fn pay(
    State(sandbox): State<Arc<Sandbox>>,
    Path(invoice): Path<String>,
) -> Response {
    match sandbox.pay(&invoice) {
        Some(summary) => Json(summary).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "Payment not found"),
    }
}

pub(super) async fn expire(
    State(sandbox): State<Arc<Sandbox>>,
    Path(invoice): Path<String>,
) -> Response {
    match sandbox.expire(&invoice) {
        Some(summary) => Json(summary).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "Payment not found"),
    }
}

pub(super) async fn list_json(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    let inner = sandbox.lock();
    Json(Value::Array(
        inner
            .payments
            .iter()
            .rev()
            .take(100)
            .map(SandboxPayment::summary)
            .collect(),
    ))
}

pub(super) async fn get_faults(State(sandbox): State<Arc<Sandbox>>) -> Json<Faults> {
    Json(sandbox.lock().faults.clone())
}

pub(super) async fn put_faults(State(sandbox): State<Arc<Sandbox>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            sandbox.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(e) => refuse(StatusCode::BAD_REQUEST, &format!("invalid faults: {e}")),
    }
}

pub(super) async fn get_calls(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    Json(sandbox.calls())
}
