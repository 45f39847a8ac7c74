//! A sandbox PayDigital: the same wire format (`api.rs`), payments a person (or a test) can
//! pay or expire with one click (`pages.rs`), and faults to rehearse PayDigital's bad days.
//! This file holds its state and routes.

mod api;
mod pages;

use axum::routing::{get, post};
use axum::Router;
use paydigital::wire::{format_time, JAKARTA};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
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
    /// `payment_url` as given instead of the sandbox's page (`javascript:alert(1)`...).
    pub payment_url: Option<String>,
    /// `expired_at` as given instead of the real one (`9999-12-31 23:59:59`...).
    pub expired_at: Option<String>,
    /// Status answers whose `amount` and `total_amount` are this much higher than the
    /// payment's (a forged or broken answer: the proxy must not believe "paid" from it).
    pub amount_delta: u64,
    /// Status answers that name another invoice than the one asked about.
    pub other_invoice: bool,
    /// An answer padded to about 2 MB (the proxy reads at most 64 KiB of any answer).
    pub oversized: bool,
    /// Every call refused with 401 and a message that quotes the key it was sent, as a
    /// careless server's error might (the proxy's log must not keep the key).
    pub echo_key: bool,
}

impl Faults {
    fn applies_to(&self, endpoint: Endpoint) -> bool {
        self.only.is_none_or(|only| only == endpoint)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Where a sandbox payment is (the word PayDigital uses for it depends on the clock too).
enum Stage {
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
    state: Stage,
}

impl SandboxPayment {
    fn word(&self) -> &'static str {
        match self.state {
            Stage::Paid(_) => "paid",
            Stage::Expired => "expired",
            Stage::Pending if OffsetDateTime::now_utc() >= self.expired_at => "expired",
            Stage::Pending => "pending",
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
            "paid_at": match self.state { Stage::Paid(at) => Some(format_time(at, JAKARTA)), _ => None },
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
        if !matches!(payment.state, Stage::Paid(_)) {
            payment.state = Stage::Paid(OffsetDateTime::now_utc());
        }
        Some(payment.summary())
    }

    /// Marks a pending payment expired now.
    pub fn expire(&self, invoice: &str) -> Option<Value> {
        let mut inner = self.lock();
        let payment = inner.payments.iter_mut().find(|p| p.invoice == invoice)?;
        if payment.state == Stage::Pending {
            payment.state = Stage::Expired;
        }
        Some(payment.summary())
    }
}

/// The sandbox's routes: PayDigital's API, its customer pages and the test endpoints.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route(
            "/api/create_payment.php",
            axum::routing::any(api::create_payment),
        )
        .route("/api/payment.php", axum::routing::any(api::payment_status))
        .route("/sandbox", get(pages::list_page))
        .route("/sandbox/pay/{invoice}", get(pages::payment_page))
        .route("/sandbox/qr/{invoice}", get(pages::qr_svg))
        .route("/sandbox/assets/{file}", get(pages::asset))
        .route("/sandbox/payments", get(api::list_json))
        .route("/sandbox/payments/{invoice}/pay", post(api::pay))
        .route("/sandbox/payments/{invoice}/expire", post(api::expire))
        .route("/sandbox/faults", get(api::get_faults).put(api::put_faults))
        .route("/sandbox/calls", get(api::get_calls))
        // Test pages on other origins click Pay with fetch.
        .layer(tower_http::cors::CorsLayer::permissive())
        .with_state(sandbox)
}
