//! The merchant proxy, and only it: create a payment, read its status.
//!
//! Requests go through gloo-net. Bodies are read with the browser's own `JSON.parse` and
//! turned into Rust types by serde-wasm-bindgen, so no JSON parser is compiled into the wasm.

use super::js;
use crate::machine::{Failure, FailureKind};
use gloo_net::http::Request;
use paydigital::api::{CreatePayment, ErrorBody, Payment};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

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
    read_answer(request.send().await.map_err(failed)?).await
}

/// A response of the proxy: a 2xx body is a payment, anything else its error.
async fn read_answer(response: gloo_net::http::Response) -> Result<Payment, Failure> {
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

/// The create the loader sent while the wasm was still downloading
/// (`www/paydigital-checkout.js`, issue 23): the request as it went out and its pending
/// answer. The widget adopts it only when it is exactly the create it would send itself.
#[derive(serde::Deserialize)]
pub struct EarlyCreate {
    endpoint: String,
    body: String,
    key: String,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    response: js_sys::Promise,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    abort: AbortController,
}

impl EarlyCreate {
    /// What the loader hands over with `mountWithCreate`: the create it already sent, or
    /// nothing (`null`, or anything else it could not have made).
    pub fn from_loader(value: JsValue) -> Option<EarlyCreate> {
        if value.is_undefined() || value.is_null() {
            return None;
        }
        js::read(value).ok()
    }
}

impl EarlyCreate {
    /// Whether this is the request `create` would send to `endpoint`: the same URL, the same
    /// JSON text, and a key the widget could have made (so a retry may repeat it).
    pub fn is_for(&self, endpoint: &str, body: &CreatePayment) -> bool {
        self.endpoint == endpoint
            && js::json(body).as_deref() == Some(self.body.as_str())
            && self.key.len() == 32
            && self.key.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Whether it was sent with `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.key == key
    }

    /// Stops the request (when it is not used, or the checkout goes away).
    pub fn cancel(&self) {
        self.abort.abort();
    }

    /// The idempotency key it was sent with, and what stops it: the widget's from now on.
    pub fn adopt(&self) -> (String, AbortController) {
        (self.key.clone(), self.abort.clone())
    }

    /// Its answer, read as `create`'s would be.
    pub async fn answer(self) -> Result<Payment, Failure> {
        let response = JsFuture::from(self.response).await.map_err(rejected)?;
        let response: web_sys::Response = response
            .dyn_into()
            .map_err(|_| network("the loader's request gave no response"))?;
        read_answer(response.into()).await
    }
}

/// A rejected `fetch` (`TypeError: Failed to fetch`, `AbortError`) as a network failure.
fn rejected(error: JsValue) -> Failure {
    network(
        error
            .dyn_ref::<js_sys::Error>()
            .map_or_else(|| "fetch failed".to_owned(), |e| String::from(e.message())),
    )
}
