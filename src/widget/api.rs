//! The merchant proxy, and only it: create a payment, read its status.
//!
//! Requests go through gloo-net. Bodies are read with the browser's own `JSON.parse` and
//! turned into Rust types by serde-wasm-bindgen, so no JSON parser is compiled into the wasm.

use super::js;
use crate::machine::{Failure, FailureKind};
use gloo_net::http::Request;
use paydigital::api::{CreatePayment, ErrorBody, Payment};
use web_sys::AbortSignal;

fn network(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Network, "network", message)
}

/// gloo-net's error (`TypeError: Failed to fetch`, `AbortError: …`) as a network failure.
fn failed(error: gloo_net::Error) -> Failure {
    network(error.to_string())
}

/// Sends a request; a 2xx body is a payment, anything else the proxy's error (or a
/// network failure, which the caller retries).
async fn answer(request: Request) -> Result<Payment, Failure> {
    let response = request.send().await.map_err(failed)?;
    let status = response.status();
    let body = js_sys::JSON::parse(&response.text().await.map_err(failed)?).ok();
    if response.ok() {
        return body
            .and_then(|body| js::read::<Payment>(body).ok())
            .ok_or_else(|| network(format!("unreadable answer (HTTP {status})")));
    }
    match body.and_then(|body| js::read::<ErrorBody>(body).ok()) {
        // 5xx are worth retrying like a network failure; the rest is the proxy's answer.
        Some(ErrorBody { error }) if status < 500 || error.code.starts_with("upstream") => {
            Err(Failure::new(FailureKind::Proxy, &error.code, error.message))
        }
        _ => Err(network(format!("HTTP {status}"))),
    }
}

/// `POST {endpoint}`: a new payment, or the one this idempotency key already made.
pub async fn create(
    endpoint: &str,
    body: &CreatePayment,
    idempotency_key: &str,
    signal: &AbortSignal,
) -> Result<Payment, Failure> {
    let json = js::json(body).ok_or_else(|| network("cannot encode the request"))?;
    let request = Request::post(endpoint)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotency_key)
        .abort_signal(Some(signal))
        .body(json)
        .map_err(failed)?;
    answer(request).await
}

/// `GET {url}`: the payment as the proxy knows it now.
pub async fn read(url: &str, signal: &AbortSignal) -> Result<Payment, Failure> {
    let request = Request::get(url)
        .header("Accept", "application/json")
        .abort_signal(Some(signal))
        .build()
        .map_err(failed)?;
    answer(request).await
}
