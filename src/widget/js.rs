//! Plain JavaScript objects to and from the widget's types, by hand: `JSON.parse` plus a few
//! property reads cost far fewer bytes in the bundle than a serde deserializer per type.

use crate::machine::Failure;
use crate::options::{NumberOrText, RawOptions};
use js_sys::{Object, Reflect};
use paydigital::api::{CreatePayment, ErrorDetail, Payment};
use paydigital::Status;
use wasm_bindgen::JsValue;

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// A whole, non-negative number that JavaScript can hold exactly.
fn whole(object: &JsValue, key: &str) -> Option<u64> {
    get(object, key)
        .as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64)
}

fn number_or_text(object: &JsValue, key: &str) -> Option<NumberOrText> {
    let value = get(object, key);
    if let Some(n) = value.as_f64() {
        Some(NumberOrText::Number(n))
    } else {
        value.as_string().map(NumberOrText::Text)
    }
}

/// A payment as the proxy sends it; `None` when a field is missing or of the wrong type.
pub fn payment(object: &JsValue) -> Option<Payment> {
    let status = match text(object, "status")?.as_str() {
        "pending" => Status::Pending,
        "paid" => Status::Paid,
        "expired" => Status::Expired,
        _ => return None,
    };
    Some(Payment {
        invoice: text(object, "invoice")?,
        status,
        amount: whole(object, "amount")?,
        unique_code: whole(object, "unique_code")?,
        total_amount: whole(object, "total_amount")?,
        qr_content: text(object, "qr_content")?,
        payment_url: text(object, "payment_url"),
        expires_at: text(object, "expires_at")?,
        expires_in: whole(object, "expires_in")?,
        server_time: text(object, "server_time")?,
        paid_at: text(object, "paid_at"),
    })
}

/// `{"error":{"code","message"}}`.
pub fn error(object: &JsValue) -> Option<ErrorDetail> {
    let detail = get(object, "error");
    Some(ErrorDetail {
        code: text(&detail, "code")?,
        message: text(&detail, "message")?,
    })
}

/// The options of `mount()`, or the loader's copy of the element's attributes.
pub fn options(object: &JsValue) -> RawOptions {
    RawOptions {
        endpoint: text(object, "endpoint"),
        amount: number_or_text(object, "amount"),
        item: text(object, "item"),
        description: text(object, "description"),
        customer_name: text(object, "customerName"),
        reference: text(object, "reference"),
        lang: text(object, "lang"),
        poll_interval: number_or_text(object, "pollInterval"),
        success_url: text(object, "successUrl"),
    }
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

fn set_text(object: &Object, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        set(object, key, value.as_str());
    }
}

/// The create request's JSON object.
pub fn create_request(body: &CreatePayment) -> JsValue {
    let object = Object::new();
    if let Some(amount) = body.amount {
        set(&object, "amount", amount as f64);
    }
    set_text(&object, "item", &body.item);
    set_text(&object, "description", &body.description);
    set_text(&object, "customer_name", &body.customer_name);
    set_text(&object, "reference", &body.reference);
    object.into()
}

/// A payment for an event's `detail` (the proxy's field names).
pub fn from_payment(payment: &Payment) -> JsValue {
    let object = Object::new();
    set(&object, "invoice", payment.invoice.as_str());
    set(&object, "status", payment.status.as_str());
    set(&object, "amount", payment.amount as f64);
    set(&object, "unique_code", payment.unique_code as f64);
    set(&object, "total_amount", payment.total_amount as f64);
    set(&object, "qr_content", payment.qr_content.as_str());
    set(
        &object,
        "payment_url",
        payment
            .payment_url
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    );
    set(&object, "expires_at", payment.expires_at.as_str());
    set(&object, "expires_in", payment.expires_in as f64);
    set(&object, "server_time", payment.server_time.as_str());
    set(
        &object,
        "paid_at",
        payment
            .paid_at
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    );
    object.into()
}

/// `{code, message}` for `paydigital:error`.
pub fn from_failure(failure: &Failure) -> JsValue {
    let object = Object::new();
    set(&object, "code", failure.code.as_str());
    set(&object, "message", failure.message.as_str());
    object.into()
}
