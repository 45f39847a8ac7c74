//! Small wrappers over browser APIs that may be missing or throw (private mode storage,
//! clipboard on plain http): each degrades quietly instead of breaking the checkout.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub fn document() -> Result<web_sys::Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}

/// A monotonic clock in milliseconds: immune to the phone's wall clock being wrong.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

pub fn page_lang() -> Option<String> {
    document()
        .ok()?
        .document_element()
        .map(|e| e.get_attribute("lang").unwrap_or_default())
        .filter(|l| !l.is_empty())
}

pub fn page_hidden() -> bool {
    document().is_ok_and(|d| d.hidden())
}

pub fn abort_controller() -> web_sys::AbortController {
    // Only fails where fetch is missing altogether.
    web_sys::AbortController::new().unwrap_or_else(|_| JsValue::UNDEFINED.unchecked_into())
}

/// 128 random bits in hex, for `Idempotency-Key`.
pub fn random_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn session_get(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

pub fn session_set(key: &str, value: &str) {
    if let Some(storage) = session() {
        let _ = storage.set_item(key, value);
    }
}

pub fn session_remove(key: &str) {
    if let Some(storage) = session() {
        let _ = storage.remove_item(key);
    }
}

/// Fires a bubbling, composed `CustomEvent` (it crosses the shadow boundary).
pub fn dispatch(host: &web_sys::HtmlElement, name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&event);
    }
}

pub fn navigate(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(url);
    }
}

pub fn on_document(event: &str, listener: &Closure<dyn FnMut()>) {
    if let Ok(document) = document() {
        let _ = document.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
    }
}

pub fn off_document(event: &str, listener: &Closure<dyn FnMut()>) {
    if let Ok(document) = document() {
        let _ =
            document.remove_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
    }
}

/// `navigator.clipboard.writeText`, where the page may use it (secure contexts only).
pub fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into())
        .unwrap_or(JsValue::UNDEFINED);
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return false;
    };
    write.call1(&clipboard, &text.into()).is_ok()
}

/// Draws the QR (and the amount under it) on a canvas and downloads it as a PNG, which the
/// customer can then pick from the gallery in their e-wallet app.
pub fn save_qr_png(
    matrix: &crate::qr::Matrix,
    caption: &str,
    file_name: &str,
) -> Result<(), JsValue> {
    const SCALE: usize = 10;
    const CAPTION: usize = 56;
    let document = document()?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    let side = (matrix.width + 2 * crate::qr::QUIET_ZONE) * SCALE;
    canvas.set_width(side as u32);
    canvas.set_height((side + CAPTION) as u32);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d canvas"))?
        .dyn_into()?;
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, side as f64, (side + CAPTION) as f64);
    context.set_fill_style_str("#000000");
    for (i, dark) in matrix.dark.iter().enumerate() {
        if *dark {
            let x = (i % matrix.width + crate::qr::QUIET_ZONE) * SCALE;
            let y = (i / matrix.width + crate::qr::QUIET_ZONE) * SCALE;
            context.fill_rect(x as f64, y as f64, SCALE as f64, SCALE as f64);
        }
    }
    context.set_font("bold 28px sans-serif");
    context.set_text_align("center");
    context.fill_text(caption, side as f64 / 2.0, (side + CAPTION / 2) as f64)?;
    let url = canvas.to_data_url_with_type("image/png")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    Ok(())
}
