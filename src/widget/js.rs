//! The JavaScript boundary: everything that crosses it goes through serde-wasm-bindgen, into
//! and out of typed structs. JSON text is the browser's business (`JSON.parse`,
//! `JSON.stringify`), so no JSON parser is compiled into the wasm.

use crate::options::{OptionsError, RawOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_wasm_bindgen::{Deserializer, Serializer};
use wasm_bindgen::JsValue;

/// Plain objects and `null` for a missing value, as a JSON API would give them to a page.
const PLAIN: Serializer = Serializer::json_compatible();

/// A JavaScript value (a parsed answer from the proxy) as a Rust type.
pub fn read<T: DeserializeOwned>(value: JsValue) -> Result<T, serde_wasm_bindgen::Error> {
    serde_wasm_bindgen::from_value(value)
}

/// A Rust value for the host page: an event's `detail`, a callback's argument.
pub fn write<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value.serialize(&PLAIN).unwrap_or(JsValue::NULL)
}

/// A request body as JSON text.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    js_sys::JSON::stringify(&write(value))
        .ok()
        .map(String::from)
}

/// The options of `mount()`, or the loader's copy of the element's attributes. A missing
/// object is no options (the widget then says which one is needed).
pub fn options(value: JsValue) -> Result<RawOptions, OptionsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(RawOptions::default());
    }
    RawOptions::read(Deserializer::from(value))
}
