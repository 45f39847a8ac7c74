//! The merchant proxy, and only it: create a payment, read its status.
//!
//! JSON goes through the browser's own `JSON` and a few property reads (`js.rs`), which
//! costs far fewer bytes in the bundle than serde_json or a serde deserializer per type.

use super::js;
use crate::machine::{Failure, FailureKind};
use paydigital::api::{CreatePayment, Payment};
use wasm_bindgen::JsValue;

fn network(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Network, "network", message)
}

fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

async fn answer(
    response: Result<gloo_net::http::Response, gloo_net::Error>,
) -> Result<Payment, Failure> {
    let response = response.map_err(|e| network(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| network(e.to_string()))?;
    if response.ok() {
        return parse(&text)
            .as_ref()
            .and_then(js::payment)
            .ok_or_else(|| network(format!("unreadable answer (HTTP {status})")));
    }
    match parse(&text).as_ref().and_then(js::error) {
        // 5xx are worth retrying like a network failure; the rest is the proxy's answer.
        Some(error) if status < 500 || error.code.starts_with("upstream") => {
            Err(Failure::new(FailureKind::Proxy, &error.code, error.message))
        }
        _ => Err(network(format!("HTTP {status}"))),
    }
}

pub async fn create(
    endpoint: &str,
    body: &CreatePayment,
    idempotency_key: &str,
    signal: &web_sys::AbortSignal,
) -> Result<Payment, Failure> {
    let json = js_sys::JSON::stringify(&js::create_request(body))
        .map(String::from)
        .map_err(|_| network("cannot encode the request"))?;
    let request = gloo_net::http::Request::post(endpoint)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotency_key)
        .abort_signal(Some(signal))
        .body(JsValue::from_str(&json))
        .map_err(|e| network(e.to_string()))?;
    answer(request.send().await).await
}

pub async fn read(url: &str, signal: &web_sys::AbortSignal) -> Result<Payment, Failure> {
    let response = gloo_net::http::Request::get(url)
        .header("Accept", "application/json")
        .abort_signal(Some(signal))
        .send()
        .await;
    answer(response).await
}
