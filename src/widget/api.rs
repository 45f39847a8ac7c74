//! The merchant proxy, and only it: create a payment, read its status.
//!
//! JSON goes through the browser's own `JSON` and `serde-wasm-bindgen`, which costs far
//! fewer bytes than `serde_json` in the bundle.

use crate::machine::{Failure, FailureKind};
use paydigital::api::{CreatePayment, ErrorBody, Payment};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

fn network(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Network, "network", message)
}

fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

async fn answer(
    response: Result<gloo_net::http::Response, gloo_net::Error>,
) -> Result<Payment, Failure> {
    let response = response.map_err(|e| network(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| network(e.to_string()))?;
    if response.ok() {
        return parse::<Payment>(&text)
            .ok_or_else(|| network(format!("unreadable answer (HTTP {status})")));
    }
    match parse::<ErrorBody>(&text) {
        // 5xx are worth retrying like a network failure; the rest is the proxy's answer.
        Some(body) if status < 500 || body.error.code.starts_with("upstream") => Err(Failure::new(
            FailureKind::Proxy,
            &body.error.code,
            body.error.message,
        )),
        _ => Err(network(format!("HTTP {status}"))),
    }
}

pub async fn create(
    endpoint: &str,
    body: &CreatePayment,
    idempotency_key: &str,
    signal: &web_sys::AbortSignal,
) -> Result<Payment, Failure> {
    let json = js_sys::JSON::stringify(&super::browser::to_js(body))
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
