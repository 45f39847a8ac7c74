//! The merchant proxy, and only it: create a payment, read its status.
//!
//! JSON goes through the browser's own `JSON` and a few property reads (`js.rs`), which
//! costs far fewer bytes in the bundle than serde_json or a serde deserializer per type.

use super::js;
use crate::machine::{Failure, FailureKind};
use paydigital::api::{CreatePayment, Payment};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn network(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Network, "network", message)
}

fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// One request with the browser's `fetch`: a status and the body's text, or why not.
async fn fetch(request: web_sys::Request) -> Result<(u16, String), Failure> {
    let window = web_sys::window().ok_or_else(|| network("no window"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(thrown)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(thrown)?)
        .await
        .map_err(thrown)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// A thrown JS value as a network failure: `TypeError: Failed to fetch`, `AbortError: …`.
fn thrown(error: JsValue) -> Failure {
    let message = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.to_string()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "request failed".to_owned());
    network(message)
}

fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    signal: &web_sys::AbortSignal,
) -> Result<web_sys::Request, Failure> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_signal(Some(signal));
    let header_map = web_sys::Headers::new().map_err(thrown)?;
    for (name, value) in headers {
        header_map.set(name, value).map_err(thrown)?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    web_sys::Request::new_with_str_and_init(url, &init).map_err(thrown)
}

async fn answer(request: web_sys::Request) -> Result<Payment, Failure> {
    let (status, text) = fetch(request).await?;
    if (200..300).contains(&status) {
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
    let headers = [
        ("Content-Type", "application/json"),
        ("Idempotency-Key", idempotency_key),
    ];
    answer(request("POST", endpoint, &headers, Some(&json), signal)?).await
}

pub async fn read(url: &str, signal: &web_sys::AbortSignal) -> Result<Payment, Failure> {
    answer(request(
        "GET",
        url,
        &[("Accept", "application/json")],
        None,
        signal,
    )?)
    .await
}
