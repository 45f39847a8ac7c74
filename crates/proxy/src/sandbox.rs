//! A sandbox PayDigital: the same wire format, payments a person (or a test) can pay or
//! expire with one click, and faults to rehearse PayDigital's bad days.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use paydigital::qris::{MerchantAccount, QrisBuilder};
use paydigital::rupiah;
use paydigital::wire::{format_time, JAKARTA};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use time::OffsetDateTime;

/// Which upstream call a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Create,
    Status,
}

/// Misbehaviour to inject, switchable at run time (`PUT /sandbox/faults`) and at start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Only this endpoint misbehaves (both when absent).
    pub only: Option<Endpoint>,
    /// Added delay before each answer.
    pub latency_ms: u64,
    /// Never answer.
    pub hang: bool,
    /// HTTP 500 with an HTML page.
    pub html_500: bool,
    /// A PHP notice printed before the JSON.
    pub php_notice: bool,
    /// Every number written as a string.
    pub numbers_as_strings: bool,
    /// `{"status":"error","message":...}` with HTTP 200.
    pub error_in_200: bool,
    /// A QR whose CRC does not hold.
    pub bad_crc: bool,
    /// A QR for another amount than `total_amount`.
    pub wrong_amount_qr: bool,
    /// The status word to report instead of the real one (`unpaid`, `PAID`, `expired`...).
    pub status_word: Option<String>,
}

impl Faults {
    fn applies_to(&self, endpoint: Endpoint) -> bool {
        self.only.is_none_or(|only| only == endpoint)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State_ {
    Pending,
    Paid(OffsetDateTime),
    Expired,
}

#[derive(Debug, Clone)]
struct SandboxPayment {
    invoice: String,
    amount: u64,
    unique_code: u64,
    total_amount: u64,
    qr_content: String,
    description: String,
    customer_name: String,
    created_at: OffsetDateTime,
    expired_at: OffsetDateTime,
    state: State_,
}

impl SandboxPayment {
    fn word(&self) -> &'static str {
        match self.state {
            State_::Paid(_) => "paid",
            State_::Expired => "expired",
            State_::Pending if OffsetDateTime::now_utc() >= self.expired_at => "expired",
            State_::Pending => "pending",
        }
    }

    fn summary(&self) -> Value {
        json!({
            "invoice": self.invoice,
            "amount": self.amount,
            "unique_code": self.unique_code,
            "total_amount": self.total_amount,
            "status": self.word(),
            "qr_content": self.qr_content,
            "description": self.description,
            "customer_name": self.customer_name,
            "expired_at": format_time(self.expired_at, JAKARTA),
            "paid_at": match self.state { State_::Paid(at) => Some(format_time(at, JAKARTA)), _ => None },
        })
    }
}

#[derive(Default)]
struct Inner {
    /// Newest last.
    payments: Vec<SandboxPayment>,
    faults: Faults,
    calls: BTreeMap<String, u64>,
    invoice_calls: BTreeMap<String, u64>,
    sequence: u64,
}

/// The sandbox's settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub api_key: String,
    pub store_id: String,
    pub store_name: String,
    /// How long a code is valid.
    pub ttl: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            api_key: crate::config::SANDBOX_API_KEY.to_owned(),
            store_id: crate::config::SANDBOX_STORE_ID.to_owned(),
            store_name: "Toko Sandbox".to_owned(),
            ttl: Duration::from_secs(15 * 60),
        }
    }
}

pub struct Sandbox {
    config: SandboxConfig,
    inner: Mutex<Inner>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig, faults: Faults) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            config,
            inner: Mutex::new(Inner {
                faults,
                ..Inner::default()
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Calls received: per endpoint (`create_payment`, `payment_status`) and per invoice.
    pub fn calls(&self) -> Value {
        let inner = self.lock();
        json!({ "endpoints": inner.calls, "invoices": inner.invoice_calls })
    }

    /// Status reads received for one invoice.
    pub fn status_calls(&self, invoice: &str) -> u64 {
        self.lock().invoice_calls.get(invoice).copied().unwrap_or(0)
    }

    /// Marks a payment paid (also after its expiry: QRIS codes stay payable).
    pub fn pay(&self, invoice: &str) -> Option<Value> {
        let mut inner = self.lock();
        let payment = inner.payments.iter_mut().find(|p| p.invoice == invoice)?;
        if !matches!(payment.state, State_::Paid(_)) {
            payment.state = State_::Paid(OffsetDateTime::now_utc());
        }
        Some(payment.summary())
    }

    /// Marks a pending payment expired now.
    pub fn expire(&self, invoice: &str) -> Option<Value> {
        let mut inner = self.lock();
        let payment = inner.payments.iter_mut().find(|p| p.invoice == invoice)?;
        if payment.state == State_::Pending {
            payment.state = State_::Expired;
        }
        Some(payment.summary())
    }
}

/// The sandbox's routes: PayDigital's API, its customer pages and the test endpoints.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route(
            "/api/create_payment.php",
            axum::routing::any(create_payment),
        )
        .route("/api/payment.php", axum::routing::any(payment_status))
        .route("/sandbox", get(list_page))
        .route("/sandbox/pay/{invoice}", get(payment_page))
        .route("/sandbox/qr/{invoice}", get(qr_svg))
        .route("/sandbox/payments", get(list_json))
        .route("/sandbox/payments/{invoice}/pay", post(pay))
        .route("/sandbox/payments/{invoice}/expire", post(expire))
        .route("/sandbox/faults", get(get_faults).put(put_faults))
        .route("/sandbox/calls", get(get_calls))
        // Test pages on other origins click Pay with fetch.
        .layer(tower_http::cors::CorsLayer::permissive())
        .with_state(sandbox)
}

/// PayDigital's error shape.
fn refuse(status: StatusCode, message: &str) -> Response {
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
async fn answer(sandbox: &Sandbox, endpoint: Endpoint, mut body: Value) -> Response {
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

/// Reads the key from `Authorization: Bearer` or the `api_key` field.
fn authorized(sandbox: &Sandbox, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let key = bearer.or(form.get("api_key").map(String::as_str));
    key == Some(sandbox.config.api_key.as_str())
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

async fn create_payment(
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
                .any(|p| p.state == State_::Pending && p.total_amount == amount + unique_code)
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
            state: State_::Pending,
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

async fn payment_status(
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
        State_::Paid(at) => Some(format_time(at, JAKARTA)),
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

async fn pay(State(sandbox): State<Arc<Sandbox>>, Path(invoice): Path<String>) -> Response {
    match sandbox.pay(&invoice) {
        Some(summary) => Json(summary).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "Payment not found"),
    }
}

async fn expire(State(sandbox): State<Arc<Sandbox>>, Path(invoice): Path<String>) -> Response {
    match sandbox.expire(&invoice) {
        Some(summary) => Json(summary).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "Payment not found"),
    }
}

async fn list_json(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
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

async fn get_faults(State(sandbox): State<Arc<Sandbox>>) -> Json<Faults> {
    Json(sandbox.lock().faults.clone())
}

async fn put_faults(State(sandbox): State<Arc<Sandbox>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            sandbox.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(e) => refuse(StatusCode::BAD_REQUEST, &format!("invalid faults: {e}")),
    }
}

async fn get_calls(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    Json(sandbox.calls())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2933}
table{border-collapse:collapse;width:100%}td,th{padding:.5rem;border-bottom:1px solid #e4e7eb;text-align:left}
button{font:inherit;padding:.4rem .9rem;border-radius:.4rem;border:1px solid #0b7a55;background:#0b7a55;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#9b1c1c;border-color:#9b1c1c}.badge{padding:.1rem .5rem;border-radius:1rem;background:#eef2f7}
.paid{background:#d1fae5}.expired{background:#fee2e2}";

const PAGE_SCRIPT: &str = "async function act(invoice, action){const r=await fetch('/sandbox/payments/'+encodeURIComponent(invoice)+'/'+action,{method:'POST'});if(!r.ok){alert('Gagal: '+r.status)}location.reload()}";

fn action_buttons(p: &SandboxPayment) -> String {
    if p.word() == "paid" {
        return String::new();
    }
    let invoice = escape(&p.invoice);
    let mut buttons = format!("<button onclick=\"act('{invoice}','pay')\">Bayar / Pay</button> ");
    if p.word() == "pending" {
        let _ = write!(buttons, "<button class=secondary onclick=\"act('{invoice}','expire')\">Kedaluwarsa / Expire</button>");
    }
    buttons
}

async fn list_page(State(sandbox): State<Arc<Sandbox>>) -> Html<String> {
    let payments: Vec<SandboxPayment> = sandbox
        .lock()
        .payments
        .iter()
        .rev()
        .take(50)
        .cloned()
        .collect();
    let mut rows = String::new();
    for p in &payments {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/sandbox/pay/{inv}\">{inv}</a><br><small>{desc}</small></td><td>{total}</td><td><span class=\"badge {word}\">{word}</span></td><td>{buttons}</td></tr>",
            inv = escape(&p.invoice),
            desc = escape(&p.description),
            total = rupiah(p.total_amount),
            word = p.word(),
            buttons = action_buttons(p),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=4>Belum ada pembayaran. / No payments yet.</td></tr>");
    }
    Html(format!(
        "<!DOCTYPE html><html lang=id><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>PayDigital Sandbox</title><style>{PAGE_STYLE}</style><script>{PAGE_SCRIPT}</script></head><body>
<h1>PayDigital Sandbox</h1><p>Pembayaran uji coba: tidak ada uang sungguhan. Klik <b>Bayar</b> untuk mensimulasikan pelanggan yang membayar.<br><small>Test payments, no real money: click <b>Pay</b> to play the customer.</small></p>
<table><thead><tr><th>Invoice</th><th>Total</th><th>Status</th><th></th></tr></thead><tbody>{rows}</tbody></table>
<p><small><a href=\"/sandbox/payments\">JSON</a> · <a href=\"/sandbox/faults\">faults</a> · <a href=\"/sandbox/calls\">calls</a></small></p></body></html>"
    ))
}

fn qr_svg_text(payload: &str) -> Option<String> {
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build(),
    )
}

async fn payment_page(
    State(sandbox): State<Arc<Sandbox>>,
    Path(invoice): Path<String>,
) -> Response {
    let payment = sandbox
        .lock()
        .payments
        .iter()
        .find(|p| p.invoice == invoice)
        .cloned();
    let Some(p) = payment else {
        return (
            StatusCode::NOT_FOUND,
            Html("<h1>Pembayaran tidak ditemukan / Payment not found</h1>".to_owned()),
        )
            .into_response();
    };
    let svg = qr_svg_text(&p.qr_content).unwrap_or_default();
    Html(format!(
        "<!DOCTYPE html><html lang=id><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>{inv} · PayDigital Sandbox</title><style>{PAGE_STYLE}</style><script>{PAGE_SCRIPT}</script></head><body>
<p><a href=\"/sandbox\">← Sandbox</a></p><h1>{total}</h1><p>Invoice <b>{inv}</b> · <span class=\"badge {word}\">{word}</span></p>
<div style=\"max-width:256px\">{svg}</div><p>{buttons}</p></body></html>",
        inv = escape(&p.invoice),
        total = rupiah(p.total_amount),
        word = p.word(),
        buttons = action_buttons(&p),
    ))
    .into_response()
}

async fn qr_svg(State(sandbox): State<Arc<Sandbox>>, Path(invoice): Path<String>) -> Response {
    let payload = sandbox
        .lock()
        .payments
        .iter()
        .find(|p| p.invoice == invoice)
        .map(|p| p.qr_content.clone());
    match payload.as_deref().and_then(qr_svg_text) {
        Some(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "Payment not found"),
    }
}
