//! Small wrappers over browser APIs that may be missing or throw (private mode storage,
//! clipboard on plain http): each degrades quietly instead of breaking the checkout.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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

pub fn on_document(event: &str, listener: &JsValue) {
    if let Ok(document) = document() {
        let _ = document.add_event_listener_with_callback(event, listener.unchecked_ref());
    }
}

pub fn off_document(event: &str, listener: &JsValue) {
    if let Ok(document) = document() {
        let _ = document.remove_event_listener_with_callback(event, listener.unchecked_ref());
    }
}

/// The window's own events (`focus`, `pageshow`): coming back from another app or tab.
pub fn on_window(event: &str, listener: &JsValue) {
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback(event, listener.unchecked_ref());
    }
}

pub fn off_window(event: &str, listener: &JsValue) {
    if let Some(window) = web_sys::window() {
        let _ = window.remove_event_listener_with_callback(event, listener.unchecked_ref());
    }
}

/// A phone or tablet: a touch screen (`navigator.maxTouchPoints`), where the QR is also an
/// image to long-press and save.
pub fn touch_device() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"maxTouchPoints".into()).ok())
        .and_then(|n| n.as_f64())
        .is_some_and(|n| n > 0.0)
}

pub fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
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

/// The QR with `lines` under it (merchant, amount, invoice, expiry) on a canvas: what Save,
/// Share and the long-pressable image hand the customer, who picks it from the gallery in
/// their e-wallet app and checks it against what the app shows.
pub fn qr_canvas(
    matrix: &crate::qr::Matrix,
    lines: &[String],
) -> Result<web_sys::HtmlCanvasElement, JsValue> {
    const SCALE: usize = 10;
    const LINE: usize = 44;
    let document = document()?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    let side = (matrix.width + 2 * crate::qr::QUIET_ZONE) * SCALE;
    let caption = LINE * lines.len() + LINE / 2;
    canvas.set_width(side as u32);
    canvas.set_height((side + caption) as u32);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d canvas"))?
        .dyn_into()?;
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, side as f64, (side + caption) as f64);
    context.set_fill_style_str("#000000");
    for (i, dark) in matrix.dark.iter().enumerate() {
        if *dark {
            let x = (i % matrix.width + crate::qr::QUIET_ZONE) * SCALE;
            let y = (i / matrix.width + crate::qr::QUIET_ZONE) * SCALE;
            context.fill_rect(x as f64, y as f64, SCALE as f64, SCALE as f64);
        }
    }
    context.set_text_align("center");
    let mut y = side;
    for (i, line) in lines.iter().enumerate() {
        // The amount (always there, after the merchant when there is one) stands out.
        let amount = line.starts_with("Rp ");
        context.set_font(if amount || i == 0 {
            "bold 30px sans-serif"
        } else {
            "24px sans-serif"
        });
        y += LINE;
        context.fill_text_with_max_width(
            line,
            side as f64 / 2.0,
            y as f64 - 12.0,
            side as f64 - 20.0,
        )?;
    }
    Ok(canvas)
}

/// Downloads the canvas as a PNG file.
pub fn save_png(canvas: &web_sys::HtmlCanvasElement, file_name: &str) -> Result<(), JsValue> {
    let url = canvas.to_data_url_with_type("image/png")?;
    let link: web_sys::HtmlAnchorElement = document()?.create_element("a")?.dyn_into()?;
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    Ok(())
}

const PNG: &str = "image/png";

fn png_file(parts: &JsValue, file_name: &str) -> Result<web_sys::File, JsValue> {
    let options = web_sys::FilePropertyBag::new();
    options.set_type(PNG);
    web_sys::File::new_with_blob_sequence_and_options(parts, file_name, &options)
}

fn share_data(file: &web_sys::File, title: &str) -> web_sys::ShareData {
    let data = web_sys::ShareData::new();
    data.set_files(&js_sys::Array::of1(file));
    data.set_title(title);
    data
}

/// Whether this browser can share a PNG file (the Web Share API with files: phones, mostly).
/// Asked before calling: where `canShare` is missing, calling it would throw.
pub fn can_share_png() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let has =
        |name: &str| js_sys::Reflect::get(&navigator, &name.into()).is_ok_and(|f| f.is_function());
    if !has("canShare") || !has("share") {
        return false;
    }
    png_file(&js_sys::Array::new(), "QRIS.png")
        .is_ok_and(|probe| navigator.can_share_with_data(&share_data(&probe, "QRIS")))
}

/// How a share ended.
pub enum Shared {
    /// The share sheet took the file (or the customer closed it: their choice).
    Done,
    /// This file cannot be shared here: save it instead.
    NotOffered,
}

/// Hands the canvas to the phone's share sheet as a PNG file.
pub async fn share_png(
    canvas: &web_sys::HtmlCanvasElement,
    file_name: &str,
    title: &str,
) -> Result<Shared, JsValue> {
    let mut to_blob = |resolve: js_sys::Function, _reject: js_sys::Function| {
        let _ = canvas.to_blob_with_type(&resolve, PNG);
    };
    let blob = JsFuture::from(js_sys::Promise::new(&mut to_blob)).await?;
    if blob.is_null() {
        return Err(JsValue::from_str("the QR image could not be encoded"));
    }
    let file = png_file(&js_sys::Array::of1(&blob), file_name)?;
    let data = share_data(&file, title);
    let navigator = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .navigator();
    if !navigator.can_share_with_data(&data) {
        return Ok(Shared::NotOffered);
    }
    match JsFuture::from(navigator.share_with_data(&data)).await {
        Ok(_) => Ok(Shared::Done),
        // Closing the share sheet rejects with AbortError: nothing went wrong.
        Err(e) if error_name(&e).as_deref() == Some("AbortError") => Ok(Shared::Done),
        Err(e) => Err(e),
    }
}

fn error_name(error: &JsValue) -> Option<String> {
    js_sys::Reflect::get(error, &"name".into())
        .ok()?
        .as_string()
}
