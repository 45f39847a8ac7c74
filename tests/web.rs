//! The widget in real browsers (headless Chromium and Firefox), against the sandbox proxy
//! that `make test` starts (`PAYDIGITAL_TEST_PROXY`, baked in at build time). One fresh host
//! element per test, as in Leptos' own counter tests.
#![cfg(target_arch = "wasm32")]

use paydigital_checkout::{mount, mount_with_create, CheckoutHandle};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn proxy() -> &'static str {
    match option_env!("PAYDIGITAL_TEST_PROXY") {
        Some(url) => url,
        None => panic!("PAYDIGITAL_TEST_PROXY must name the sandbox proxy (make test sets it)"),
    }
}

fn endpoint() -> String {
    format!("{}/api/payments", proxy())
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

/// A fresh element on the page to mount into.
fn new_host() -> HtmlElement {
    let element: HtmlElement = document()
        .create_element("div")
        .expect("div")
        .dyn_into()
        .expect("html");
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("append");
    element
}

fn options(value: Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).expect("options")
}

/// A JavaScript value as JSON, for assertions.
fn to_json(value: &JsValue) -> Value {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Waits until `ready` holds, failing the test after 20 s.
async fn wait_until(what: &str, ready: impl FnMut() -> bool) {
    wait_within(what, 20_000, ready).await;
}

/// Waits until `ready` holds, failing the test after `ms`.
async fn wait_within(what: &str, ms: u32, mut ready: impl FnMut() -> bool) {
    for _ in 0..ms / 50 {
        if ready() {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out waiting for {what}");
}

fn state(host: &Element) -> Option<String> {
    host.get_attribute("data-state")
}

async fn wait_state(host: &Element, wanted: &str) {
    wait_until(&format!("data-state={wanted}"), || {
        state(host).as_deref() == Some(wanted)
    })
    .await;
    assert_eq!(state(host).as_deref(), Some(wanted));
    // The view follows the state on the reactive system's next turn.
    leptos::task::tick().await;
    sleep(0).await;
}

fn shadow(host: &Element) -> web_sys::ShadowRoot {
    host.shadow_root()
        .expect("the widget renders in a shadow root")
}

fn find(host: &Element, selector: &str) -> Option<Element> {
    shadow(host).query_selector(selector).expect("selector")
}

fn text(host: &Element, selector: &str) -> String {
    find(host, selector)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

async fn fetch_json(method: &str, url: &str) -> Value {
    let response = match method {
        "POST" => gloo_net::http::Request::post(url).send().await,
        _ => gloo_net::http::Request::get(url).send().await,
    }
    .expect("sandbox answers");
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn sandbox(action: &str, invoice: &str) {
    let answer = fetch_json(
        "POST",
        &format!("{}/sandbox/payments/{invoice}/{action}", proxy()),
    )
    .await;
    assert_eq!(answer["invoice"], invoice, "sandbox {action}: {answer}");
}

async fn set_faults(faults: Value) {
    let response = gloo_net::http::Request::put(&format!("{}/sandbox/faults", proxy()))
        .header("Content-Type", "application/json")
        .body(faults.to_string())
        .expect("body")
        .send()
        .await
        .expect("sandbox answers");
    assert!(response.ok());
}

async fn create_calls() -> u64 {
    fetch_json("GET", &format!("{}/sandbox/calls", proxy())).await["endpoints"]["create_payment"]
        .as_u64()
        .unwrap_or(0)
}

/// The public id of the payment a checkout shows (`checkout.payment.id`).
fn id_of(handle: &CheckoutHandle) -> String {
    to_json(&handle.payment())["id"]
        .as_str()
        .expect("a payment is shown")
        .to_owned()
}

fn invoice_of(host: &Element) -> String {
    text(host, ".pd-invoice code")
}

/// Records the widget's events as they bubble to the document.
type Listener = Closure<dyn FnMut(web_sys::CustomEvent)>;

struct Events {
    seen: Rc<RefCell<Vec<(String, Value)>>>,
    /// Kept alive as long as the recorder.
    _listeners: Vec<Listener>,
}

impl Events {
    fn listen(target: &Element) -> Events {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let mut closures = Vec::new();
        for name in [
            "paydigital:created",
            "paydigital:paid",
            "paydigital:expired",
            "paydigital:error",
        ] {
            let seen = seen.clone();
            let closure = Listener::new(move |event: web_sys::CustomEvent| {
                let detail: Value = to_json(&event.detail());
                seen.borrow_mut().push((event.type_(), detail));
            });
            target
                .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
                .expect("listen");
            closures.push(closure);
        }
        Events {
            seen,
            _listeners: closures,
        }
    }

    fn names(&self) -> Vec<String> {
        self.seen.borrow().iter().map(|(n, _)| n.clone()).collect()
    }

    fn detail(&self, name: &str) -> Option<Value> {
        self.seen
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
    }
}

fn clear_session() {
    if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = storage.clear();
    }
}

async fn mount_pending(amount: u64, extra: Value) -> (HtmlElement, CheckoutHandle) {
    clear_session();
    let host = new_host();
    let mut opts = json!({ "amount": amount, "endpoint": endpoint(), "pollInterval": 1000 });
    if let (Some(o), Some(e)) = (opts.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let handle = mount(host.clone(), options(opts)).expect("mounts");
    wait_state(&host, "pending").await;
    (host, handle)
}

#[wasm_bindgen_test]
async fn shows_the_amount_and_a_qr_matching_the_qrcode_matrix() {
    let (host, handle) = mount_pending(10_000, json!({ "lang": "en" })).await;
    let payment = fetch_json("GET", &format!("{}/{}", endpoint(), id_of(&handle))).await;
    assert_eq!(payment["invoice"], invoice_of(&host));
    assert_eq!(
        to_json(&handle.payment())["total_amount"],
        payment["total_amount"]
    );
    let total = payment["total_amount"].as_u64().expect("total");
    let unique = payment["unique_code"].as_u64().expect("unique");
    let svg = find(&host, ".pd-qr svg").expect("QR drawn as SVG");
    assert_eq!(
        svg.get_attribute("aria-label").as_deref(),
        Some(paydigital_checkout::i18n::EN.qr_label(total).as_str())
    );
    let expected = qrcode::QrCode::with_error_correction_level(
        payment["qr_content"].as_str().expect("qr").as_bytes(),
        qrcode::EcLevel::M,
    )
    .expect("encodes");
    let dark = expected
        .to_colors()
        .iter()
        .filter(|c| **c == qrcode::Color::Dark)
        .count();
    let path = svg
        .query_selector("path")
        .expect("query")
        .expect("path")
        .get_attribute("d")
        .expect("d");
    assert_eq!(path.matches("h1v1h-1z").count(), dark);
    assert_eq!(
        svg.get_attribute("viewBox"),
        Some(format!("0 0 {0} {0}", expected.width() + 8))
    );
    let amount = text(&host, ".pd-amount");
    assert_eq!(amount, paydigital_checkout::format::rupiah(total));
    assert_eq!(
        text(&host, ".pd-code"),
        unique.to_string(),
        "the unique code is marked"
    );
    assert_eq!(text(&host, ".pd-label"), "Pay exactly this amount");
    assert_eq!(text(&host, ".pd-merchant"), "Toko Sandbox");
    assert!(
        text(&host, ".pd-countdown time").starts_with("14:")
            || text(&host, ".pd-countdown time") == "15:00"
    );
    let link = find(&host, "a.pd-button").expect("payment page link");
    assert!(link
        .get_attribute("href")
        .unwrap_or_default()
        .contains("/sandbox/pay/"));
    assert!(text(&host, ".pd-howto").contains("GoPay"));
    assert_eq!(
        find(&host, "[role=status]")
            .and_then(|e| e.get_attribute("aria-live"))
            .as_deref(),
        Some("polite")
    );
}

#[wasm_bindgen_test]
async fn turns_paid_when_the_sandbox_is_paid_and_tells_the_page() {
    clear_session();
    let host = new_host();
    let events = Events::listen(&document().document_element().expect("html"));
    let _handle = mount(
        host.clone(),
        options(json!({ "amount": 12_000, "endpoint": endpoint(), "pollInterval": 1000 })),
    )
    .expect("mounts");
    wait_state(&host, "pending").await;
    let invoice = invoice_of(&host);
    assert_eq!(
        events
            .detail("paydigital:created")
            .map(|d| d["invoice"].clone()),
        Some(json!(invoice))
    );
    sandbox("pay", &invoice).await;
    wait_state(&host, "paid").await;
    assert!(find(&host, ".pd-qr").is_none(), "no QR once paid");
    assert_eq!(text(&host, ".pd-title"), "Pembayaran berhasil");
    assert_eq!(
        events
            .detail("paydigital:paid")
            .map(|d| d["status"].clone()),
        Some(json!("paid"))
    );
    let names = events.names();
    let created = names.iter().position(|n| n == "paydigital:created");
    let paid = names.iter().position(|n| n == "paydigital:paid");
    assert!(created < paid, "{names:?}");
}

#[wasm_bindgen_test]
async fn expiry_hides_the_qr_and_offers_a_new_code() {
    let (host, _handle) = mount_pending(13_000, json!({})).await;
    let first = invoice_of(&host);
    sandbox("expire", &first).await;
    wait_state(&host, "expired").await;
    assert!(
        find(&host, ".pd-qr").is_none(),
        "the QR is hidden when expired"
    );
    assert_eq!(text(&host, ".pd-title"), "Kode QR kedaluwarsa");
    let button: HtmlElement = find(&host, ".pd-expired button")
        .expect("new code button")
        .dyn_into()
        .expect("button");
    button.click();
    wait_state(&host, "pending").await;
    assert_ne!(invoice_of(&host), first, "a new payment");
}

#[wasm_bindgen_test]
async fn a_code_with_a_bad_crc_is_never_drawn() {
    // Our proxy refuses such a code itself (502)...
    set_faults(json!({ "bad_crc": true, "only": "create" })).await;
    clear_session();
    let host = new_host();
    let _handle = mount(
        host.clone(),
        options(json!({ "amount": 14_000, "endpoint": endpoint() })),
    )
    .expect("mounts");
    wait_state(&host, "error").await;
    set_faults(json!({})).await;
    assert!(find(&host, "svg").is_none());
    assert!(
        find(&host, ".pd-error button").is_some(),
        "a retry is offered"
    );

    // ...and the widget checks on its own, for proxies written by others: this fixture is a
    // pending payment whose code's CRC was altered.
    let storage = web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .expect("storage");
    let fixture_endpoint = "/tests/fixtures";
    let host = new_host();
    storage
        .set_item(
            &format!("paydigital-checkout|{fixture_endpoint}|amount=10000|"),
            "bad-crc-payment.json",
        )
        .expect("store");
    let _handle = mount(
        host.clone(),
        options(json!({ "amount": 10_000, "endpoint": fixture_endpoint })),
    )
    .expect("mounts");
    wait_state(&host, "error").await;
    assert_eq!(
        find(&host, ".pd-error")
            .and_then(|e| e.get_attribute("data-code"))
            .as_deref(),
        Some("invalid_qr")
    );
    assert!(find(&host, "svg").is_none(), "never drawn");
}

#[wasm_bindgen_test]
async fn a_reload_resumes_the_pending_payment() {
    let (host, handle) = mount_pending(15_000, json!({ "reference": "ORDER-RESUME" })).await;
    let invoice = invoice_of(&host);
    let qr = find(&host, ".pd-qr").expect("qr").inner_html();
    drop(handle);
    let creates = create_calls().await;
    // A reload: the same page mounts the same order again.
    let host = new_host();
    let _handle = mount(
        host.clone(),
        options(json!({ "amount": 15_000, "endpoint": endpoint(), "reference": "ORDER-RESUME" })),
    )
    .expect("mounts");
    wait_state(&host, "pending").await;
    assert_eq!(invoice_of(&host), invoice);
    assert_eq!(find(&host, ".pd-qr").expect("qr").inner_html(), qr);
    assert_eq!(create_calls().await, creates, "no second payment");
}

/// Counts `fetch` calls whose URL contains `needle` (and can make them fail).
fn instrument_fetch() {
    js_sys::eval(
        "if (!window.__pdFetch) { window.__pdFetch = window.fetch; window.__pdCount = {}; window.__pdFail = null;
           window.fetch = function (input, init) {
             var url = typeof input === 'string' ? input : input.url;
             window.__pdCount[url] = (window.__pdCount[url] || 0) + 1;
             if (window.__pdFail && url.indexOf(window.__pdFail) >= 0) return Promise.reject(new TypeError('offline (test)'));
             return window.__pdFetch.call(this, input, init);
           }; }",
    )
    .expect("instrument fetch");
}

fn fetches(needle: &str) -> u32 {
    let script = format!(
        "Object.keys(window.__pdCount).filter(function (u) {{ return u.indexOf({needle:?}) >= 0; }}).reduce(function (n, u) {{ return n + window.__pdCount[u]; }}, 0)"
    );
    js_sys::eval(&script)
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as u32
}

fn fail_fetches(needle: Option<&str>) {
    let value = needle.map_or("null".to_owned(), |n| format!("{n:?}"));
    js_sys::eval(&format!("window.__pdFail = {value};")).expect("set");
}

#[wasm_bindgen_test]
async fn destroy_stops_every_request_and_removes_the_dom() {
    instrument_fetch();
    let (host, mut handle) = mount_pending(16_000, json!({})).await;
    let id = id_of(&handle);
    wait_until("a status read", || fetches(&id) >= 1).await;
    handle.destroy();
    assert_eq!(handle.state(), "destroyed");
    assert!(handle.payment().is_null());
    assert!(find(&host, ".pd").is_none(), "the DOM is gone");
    assert_eq!(state(&host), None);
    let after = fetches(&id);
    sleep(3500).await;
    assert_eq!(fetches(&id), after, "no request after destroy()");
}

#[wasm_bindgen_test]
async fn backs_off_and_says_reconnecting_while_the_proxy_is_unreachable() {
    instrument_fetch();
    let (host, handle) = mount_pending(17_000, json!({})).await;
    let id = id_of(&handle);
    fail_fetches(Some(&id));
    wait_until("reconnecting", || {
        text(&host, "[role=status]") == paydigital_checkout::i18n::ID.reconnecting
    })
    .await;
    let start = fetches(&id);
    sleep(6000).await;
    let attempts = fetches(&id) - start;
    // Without backoff a 1 s poll would try 6 times; with it: 2 s, 4 s (±20 %) → at most 3.
    assert!(attempts <= 3, "{attempts} attempts in 6 s");
    assert_eq!(
        state(&host).as_deref(),
        Some("pending"),
        "a network blip is not an error"
    );
    fail_fetches(None);
    // The next try may be a whole backoff away: up to 16 s (+20 %) by now, and a loaded
    // machine's timers run late.
    let longest_wait = paydigital_checkout::machine::MAX_BACKOFF_MS + 10_000;
    wait_within("recovered", longest_wait, || {
        text(&host, "[role=status]") == paydigital_checkout::i18n::ID.waiting
    })
    .await;
}

#[wasm_bindgen_test]
async fn speaks_indonesian_by_default_and_english_on_request() {
    let (indonesian, _a) = mount_pending(18_000, json!({})).await;
    assert_eq!(text(&indonesian, ".pd-label"), "Bayar tepat sejumlah ini");
    assert_eq!(
        find(&indonesian, ".pd")
            .and_then(|e| e.get_attribute("lang"))
            .as_deref(),
        Some("id")
    );
    let (english, _b) = mount_pending(18_000, json!({ "lang": "en-US" })).await;
    assert_eq!(text(&english, ".pd-label"), "Pay exactly this amount");
    assert_eq!(text(&english, "summary"), "How to pay");
}

#[wasm_bindgen_test]
async fn bad_options_show_an_error_instead_of_a_blank_box() {
    let host = new_host();
    let events = Events::listen(&host);
    let _handle =
        mount(host.clone(), options(json!({ "amount": "sepuluh ribu" }))).expect("mounts");
    wait_state(&host, "error").await;
    assert!(text(&host, ".pd-message").contains("amount"));
    assert_eq!(
        events.detail("paydigital:error").map(|d| d["code"].clone()),
        Some(json!("invalid_options"))
    );
}

#[wasm_bindgen_test]
async fn an_option_of_the_wrong_type_is_named_with_its_value() {
    // The values are formatted by JavaScript (patches/serde-wasm-bindgen), as serde would.
    for (value, shown) in [
        (json!(2.5), "floating point `2.5`"),
        (json!(7), "floating point `7.0`"),
        (json!(true), "boolean `true`"),
    ] {
        let host = new_host();
        let events = Events::listen(&host);
        let _handle = mount(
            host.clone(),
            options(json!({ "amount": 10_000, "description": value })),
        )
        .expect("mounts");
        wait_state(&host, "error").await;
        let message = events
            .detail("paydigital:error")
            .and_then(|d| d["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        assert!(message.starts_with("option description: "), "{message}");
        assert!(
            message.ends_with(&format!("invalid type: {shown}, expected a string")),
            "{message}"
        );
    }
}

/// Loads the built loader from the proxy (another origin than this test page).
async fn load_loader() {
    let window = web_sys::window().expect("window");
    if js_sys::Reflect::get(&window, &"PayDigitalCheckout".into()).is_ok_and(|v| !v.is_undefined())
    {
        return;
    }
    let script: web_sys::HtmlScriptElement = document()
        .create_element("script")
        .expect("script")
        .dyn_into()
        .expect("script");
    script.set_src(&format!("{}/checkout/paydigital-checkout.js", proxy()));
    document()
        .head()
        .expect("head")
        .append_child(&script)
        .expect("append");
    wait_until("the loader", || {
        js_sys::Reflect::get(&window, &"PayDigitalCheckout".into()).is_ok_and(|v| !v.is_undefined())
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_loader_mounts_elements_and_the_javascript_api_from_another_origin() {
    clear_session();
    load_loader().await;
    // The custom element, configured by attributes.
    let element = document()
        .create_element("paydigital-checkout")
        .expect("element");
    element.set_attribute("amount", "19000").expect("attr");
    element
        .set_attribute("endpoint", &endpoint())
        .expect("attr");
    element.set_attribute("lang", "en").expect("attr");
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("append");
    wait_state(&element, "pending").await;
    assert!(find(&element, ".pd-qr svg").is_some());
    // Removing it stops its work (once the script that removed it is done: a move is not a
    // removal).
    element.remove();
    wait_until("the removed element stopped", || state(&element).is_none()).await;

    // PayDigitalCheckout.mount(target, { onCreated, ... }) → a handle with destroy().
    let target = new_host();
    target.set_id("pay-target");
    let created: Rc<RefCell<Option<Value>>> = Rc::new(RefCell::new(None));
    let sink = created.clone();
    let on_created = Closure::<dyn FnMut(JsValue)>::new(move |detail: JsValue| {
        *sink.borrow_mut() = Some(to_json(&detail));
    });
    let opts = options(json!({ "amount": 20_000, "endpoint": endpoint() }));
    js_sys::Reflect::set(&opts, &"onCreated".into(), on_created.as_ref()).expect("set");
    let api = js_sys::Reflect::get(
        &web_sys::window().expect("window"),
        &"PayDigitalCheckout".into(),
    )
    .expect("api");
    let mount_fn: js_sys::Function = js_sys::Reflect::get(&api, &"mount".into())
        .expect("mount")
        .dyn_into()
        .expect("fn");
    let promise: js_sys::Promise = mount_fn
        .call2(&api, &"#pay-target".into(), &opts)
        .expect("call")
        .dyn_into()
        .expect("promise");
    let checkout = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("mounted");
    wait_state(&target, "pending").await;
    wait_until("onCreated", || created.borrow().is_some()).await;
    assert_eq!(
        created.borrow().as_ref().map(|p| p["amount"].clone()),
        Some(json!(20_000))
    );
    let destroy: js_sys::Function = js_sys::Reflect::get(&checkout, &"destroy".into())
        .expect("destroy")
        .dyn_into()
        .expect("fn");
    destroy.call0(&checkout).expect("destroyed");
    assert_eq!(state(&target), None);
    assert!(shadow(&target)
        .query_selector(".pd")
        .expect("query")
        .is_none());
}

#[wasm_bindgen_test]
async fn the_loader_creates_once_while_the_wasm_loads_and_the_widget_shows_that_payment() {
    clear_session();
    load_loader().await;
    let before = create_calls().await;
    let element = document()
        .create_element("paydigital-checkout")
        .expect("element");
    element.set_attribute("amount", " 21000 ").expect("attr");
    element
        .set_attribute("endpoint", &format!("{}/", endpoint()))
        .expect("attr");
    element
        .set_attribute("reference", "ORDER-EARLY")
        .expect("attr");
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("append");
    wait_state(&element, "pending").await;
    assert!(find(&element, ".pd-qr svg").is_some());
    // The loader's create, sent before the widget ran, is the only one: the widget took it.
    assert_eq!(create_calls().await, before + 1, "one create, not two");
    element.remove();
}

/// What the loader hands `mountWithCreate`: a create already sent (its answer `response`).
fn early_create(
    endpoint: &str,
    body: &str,
    response: js_sys::Promise,
) -> (JsValue, web_sys::AbortController) {
    let abort = web_sys::AbortController::new().expect("abort");
    let value = js_sys::Object::new();
    for (name, field) in [
        ("endpoint", JsValue::from_str(endpoint)),
        ("body", JsValue::from_str(body)),
        ("key", JsValue::from_str("0123456789abcdef0123456789abcdef")),
        ("response", response.into()),
        ("abort", abort.clone().into()),
    ] {
        js_sys::Reflect::set(&value, &name.into(), &field).expect("set");
    }
    (value.into(), abort)
}

fn never_answered() -> js_sys::Promise {
    js_sys::Promise::new(&mut |_, _| {})
}

#[wasm_bindgen_test]
async fn an_early_create_that_is_not_the_widgets_own_is_cancelled_and_not_shown() {
    clear_session();
    let host = new_host();
    let (early, abort) = early_create(&endpoint(), r#"{"amount":11111}"#, never_answered());
    let handle = mount_with_create(
        host.clone(),
        options(json!({ "amount": 22_000, "endpoint": endpoint() })),
        early,
    )
    .expect("mounts");
    assert!(abort.signal().aborted(), "cancelled at once");
    wait_state(&host, "pending").await;
    assert_eq!(to_json(&handle.payment())["amount"], json!(22_000));
}

#[wasm_bindgen_test]
async fn the_widget_checks_the_qris_of_the_loaders_answer_before_drawing_it() {
    clear_session();
    // The fixture is a pending payment whose code's CRC was altered, answered as if created.
    let fixtures = "/tests/fixtures";
    let answer = web_sys::window()
        .expect("window")
        .fetch_with_str(&format!("{fixtures}/bad-crc-payment.json"));
    let (early, _abort) = early_create(fixtures, r#"{"amount":10000}"#, answer);
    let host = new_host();
    let _handle = mount_with_create(
        host.clone(),
        options(json!({ "amount": 10_000, "endpoint": fixtures })),
        early,
    )
    .expect("mounts");
    wait_state(&host, "error").await;
    assert_eq!(error_code(&host).as_deref(), Some("invalid_qr"));
    assert!(find(&host, "svg").is_none(), "never drawn");
}

#[wasm_bindgen_test]
async fn destroy_stops_the_loaders_create_too() {
    clear_session();
    let host = new_host();
    let (early, abort) = early_create(&endpoint(), r#"{"amount":23000}"#, never_answered());
    let mut handle = mount_with_create(
        host.clone(),
        options(json!({ "amount": 23_000, "endpoint": endpoint() })),
        early,
    )
    .expect("mounts");
    sleep(50).await;
    assert!(!abort.signal().aborted(), "taken, still waited for");
    assert_eq!(state(&host).as_deref(), Some("loading"));
    handle.destroy();
    assert!(abort.signal().aborted(), "stopped with the checkout");
}

fn error_code(host: &Element) -> Option<String> {
    find(host, ".pd-error").and_then(|e| e.get_attribute("data-code"))
}

#[wasm_bindgen_test]
async fn upstream_faults_on_create_show_an_error_and_retry_recovers() {
    for (fault, code) in [
        (
            json!({ "html_500": true, "only": "create" }),
            "upstream_error",
        ),
        (
            json!({ "error_in_200": true, "only": "create" }),
            "upstream_error",
        ),
        (json!({ "wrong_amount_qr": true }), "upstream_error"),
        (
            json!({ "hang": true, "only": "create" }),
            "upstream_timeout",
        ),
    ] {
        set_faults(fault.clone()).await;
        clear_session();
        let host = new_host();
        let _handle = mount(
            host.clone(),
            options(json!({ "amount": 21_000, "endpoint": endpoint() })),
        )
        .expect("mounts");
        wait_state(&host, "error").await;
        assert_eq!(error_code(&host).as_deref(), Some(code), "{fault}");
        assert!(find(&host, "svg").is_none(), "{fault}: no code drawn");
        assert!(
            !text(&host, ".pd-message").is_empty(),
            "{fault}: says what happened"
        );
        // PayDigital recovers; the customer presses "try again".
        set_faults(json!({})).await;
        let retry: HtmlElement = find(&host, ".pd-error button")
            .expect("retry")
            .dyn_into()
            .expect("button");
        retry.click();
        wait_state(&host, "pending").await;
        assert!(find(&host, ".pd-qr svg").is_some(), "{fault}: recovered");
    }
}

#[wasm_bindgen_test]
async fn faults_the_proxy_survives_never_reach_the_customer() {
    for fault in [
        json!({ "php_notice": true }),
        json!({ "numbers_as_strings": true }),
        json!({ "latency_ms": 1500 }),
    ] {
        set_faults(fault.clone()).await;
        let (host, _handle) = mount_pending(22_000, json!({})).await;
        assert!(find(&host, ".pd-qr svg").is_some(), "{fault}");
    }
    set_faults(json!({})).await;

    let (host, _handle) = mount_pending(23_000, json!({})).await;
    let invoice = invoice_of(&host);
    for fault in [
        json!({ "html_500": true, "only": "status" }),
        json!({ "error_in_200": true, "only": "status" }),
        json!({ "php_notice": true, "only": "status" }),
        json!({ "status_word": "unpaid" }),
    ] {
        set_faults(fault.clone()).await;
        let before = upstream_reads(&invoice).await;
        let mut reads = before;
        for _ in 0..100 {
            reads = upstream_reads(&invoice).await;
            if reads > before {
                break;
            }
            sleep(100).await;
        }
        assert!(
            reads > before,
            "{fault}: the widget's polls reached upstream"
        );
        // Let the widget take in the proxy's answer to that read.
        sleep(1500).await;
        assert_eq!(state(&host).as_deref(), Some("pending"), "{fault}");
        assert_eq!(
            text(&host, "[role=status]"),
            paydigital_checkout::i18n::ID.waiting,
            "{fault}"
        );
    }
    // PayDigital's own word for paid, in capitals.
    set_faults(json!({ "status_word": "PAID" })).await;
    wait_state(&host, "paid").await;
    set_faults(json!({})).await;
}

/// Status reads the sandbox received for `invoice`.
async fn upstream_reads(invoice: &str) -> u64 {
    fetch_json("GET", &format!("{}/sandbox/calls", proxy())).await["invoices"][invoice]
        .as_u64()
        .unwrap_or(0)
}

#[wasm_bindgen_test]
async fn a_late_payment_after_expiry_still_turns_paid() {
    // QRIS codes stay payable after their time: the widget keeps checking for a while.
    let (host, _handle) = mount_pending(24_000, json!({})).await;
    let invoice = invoice_of(&host);
    sandbox("expire", &invoice).await;
    wait_state(&host, "expired").await;
    sandbox("pay", &invoice).await;
    wait_state(&host, "paid").await;
}

/// Mounts with options the way a careless host page passes them, and returns the error shown.
async fn mount_error(opts: Value) -> (String, Option<Value>) {
    let host = new_host();
    let events = Events::listen(&host);
    let _handle = mount(host.clone(), options(opts)).expect("mounting never throws");
    wait_state(&host, "error").await;
    (
        text(&host, ".pd-message"),
        events.detail("paydigital:error"),
    )
}

#[wasm_bindgen_test]
async fn options_of_the_wrong_type_are_named_and_digits_as_text_are_fine() {
    // `"5000"` for `5000`: what attributes give, and what many pages pass.
    let (host, _handle) = mount_pending(
        0,
        json!({ "amount": "22000", "pollInterval": "1500", "customerName": "Budi" }),
    )
    .await;
    assert!(text(&host, ".pd-amount").starts_with("Rp 22."));

    for (opts, option) in [
        (
            json!({ "amount": 5000, "pollInterval": true }),
            "pollInterval",
        ),
        (json!({ "amount": { "value": 5000 } }), "amount"),
        (
            json!({ "amount": 5000, "customerName": 42 }),
            "customerName",
        ),
        (json!({ "item": ["kopi"] }), "item"),
    ] {
        clear_session();
        let (message, detail) = mount_error(opts.clone()).await;
        assert!(message.contains(option), "{opts}: {message}");
        let detail = detail.expect("paydigital:error fired");
        assert_eq!(detail["code"], "invalid_options", "{opts}");
        assert!(
            detail["message"].as_str().unwrap_or("").contains(option),
            "{opts}: {detail}"
        );
    }
}

/// Records the `AbortSignal` of every request the page sends, by URL.
fn record_signals() {
    instrument_fetch();
    js_sys::eval(
        "if (!window.__pdSignals) { window.__pdSignals = []; var inner = window.fetch;
           window.fetch = function (input, init) {
             var signal = (init && init.signal) || (typeof input === 'string' ? null : input.signal);
             window.__pdSignals.push({ url: typeof input === 'string' ? input : input.url, signal: signal });
             return inner.call(this, input, init);
           }; }",
    )
    .expect("record signals");
}

/// Whether every request whose URL contains `needle` had its signal aborted: `None` if none.
fn all_aborted(needle: &str) -> Option<bool> {
    let script = format!(
        "(function () {{ var seen = window.__pdSignals.filter(function (s) {{ return s.url.indexOf({needle:?}) >= 0; }});
           return seen.length === 0 ? null : seen.every(function (s) {{ return s.signal && s.signal.aborted; }}); }})()"
    );
    js_sys::eval(&script).ok().and_then(|v| v.as_bool())
}

#[wasm_bindgen_test]
async fn destroy_aborts_the_request_in_flight() {
    record_signals();
    // PayDigital takes 3 s to create: the widget is taken away while it waits.
    set_faults(json!({ "latency_ms": 3000, "only": "create" })).await;
    clear_session();
    let host = new_host();
    let events = Events::listen(&host);
    let mut handle = mount(
        host.clone(),
        options(json!({ "amount": 23_000, "endpoint": endpoint() })),
    )
    .expect("mounts");
    wait_until("the create request", || {
        all_aborted("/api/payments").is_some()
    })
    .await;
    assert_eq!(
        all_aborted("/api/payments"),
        Some(false),
        "sent, not yet aborted"
    );
    handle.destroy();
    assert_eq!(
        all_aborted("/api/payments"),
        Some(true),
        "destroy() aborted it"
    );
    sleep(3500).await;
    set_faults(json!({})).await;
    assert_eq!(state(&host), None, "nothing came back to life");
    assert!(
        events.names().is_empty(),
        "no event after destroy: {:?}",
        events.names()
    );
}

/// Stands in for the phone's share sheet: `navigator.canShare`/`share` on this page only.
fn offer_sharing(offered: bool) {
    let script = if offered {
        "Object.defineProperty(navigator, 'canShare', { configurable: true, value: function (d) {
           return !!(d && d.files && d.files.length === 1 && d.files[0].type === 'image/png'); } });
         Object.defineProperty(navigator, 'share', { configurable: true, value: function (d) {
           window.__pdShared = d; return Promise.resolve(); } });"
    } else {
        "Object.defineProperty(navigator, 'canShare', { configurable: true, value: undefined });
         Object.defineProperty(navigator, 'share', { configurable: true, value: undefined });"
    };
    js_sys::eval(script).expect("stub navigator");
    js_sys::eval("window.__pdShared = null;").expect("reset");
}

/// Catches the Save button's download (an `<a download>` clicked off the page).
fn catch_downloads() {
    js_sys::eval(
        "window.__pdSaved = null;
         if (!window.__pdClick) { window.__pdClick = HTMLAnchorElement.prototype.click;
           HTMLAnchorElement.prototype.click = function () {
             if (this.download) { window.__pdSaved = { name: this.download, href: this.href }; return; }
             return window.__pdClick.call(this); }; }",
    )
    .expect("catch downloads");
}

fn page_value(expression: &str) -> JsValue {
    js_sys::eval(expression).unwrap_or(JsValue::UNDEFINED)
}

fn click(host: &Element, selector: &str) {
    let button: HtmlElement = find(host, selector)
        .unwrap_or_else(|| panic!("{selector} is shown"))
        .dyn_into()
        .expect("html");
    button.click();
}

#[wasm_bindgen_test]
async fn share_hands_the_png_to_the_share_sheet_where_offered() {
    offer_sharing(true);
    catch_downloads();
    let (host, _handle) = mount_pending(24_000, json!({})).await;
    let invoice = invoice_of(&host);
    assert!(
        find(&host, ".pd-save").is_some(),
        "Save stays next to Share"
    );
    click(&host, ".pd-share");
    wait_until("navigator.share", || {
        !page_value("window.__pdShared").is_null()
    })
    .await;
    let file = page_value("window.__pdShared.files[0]");
    let file: web_sys::File = file.dyn_into().expect("a File");
    assert_eq!(file.name(), format!("QRIS-{invoice}.png"));
    assert_eq!(file.type_(), "image/png");
    let bytes = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .expect("readable");
    let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
    assert_eq!(bytes.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]), "a PNG");
    assert!(
        bytes.len() > 1000,
        "with the code in it: {} bytes",
        bytes.len()
    );
    assert!(
        page_value("window.__pdSaved").is_null(),
        "shared, not saved"
    );
    offer_sharing(false);
}

#[wasm_bindgen_test]
async fn without_sharing_save_downloads_the_png() {
    offer_sharing(false);
    catch_downloads();
    let (host, _handle) = mount_pending(25_000, json!({})).await;
    let invoice = invoice_of(&host);
    assert!(
        find(&host, ".pd-share").is_none(),
        "no Share where it is not offered"
    );
    click(&host, ".pd-save");
    let name = page_value("window.__pdSaved && window.__pdSaved.name");
    assert_eq!(name.as_string(), Some(format!("QRIS-{invoice}.png")));
    let href = page_value("window.__pdSaved.href")
        .as_string()
        .unwrap_or_default();
    assert!(
        href.starts_with("data:image/png;base64,"),
        "{}",
        &href[..href.len().min(40)]
    );
}

/// Creates a payment the way a shop's server would hand one to its page (here through the
/// browser API, which gives the same `pay_` id), and returns its JSON.
async fn server_payment(amount: u64) -> Value {
    let response = gloo_net::http::Request::post(&endpoint())
        .header("Content-Type", "application/json")
        .body(json!({ "amount": amount }).to_string())
        .expect("body")
        .send()
        .await
        .expect("proxy answers");
    assert_eq!(response.status(), 201);
    serde_json::from_str(&response.text().await.expect("body")).expect("JSON")
}

#[wasm_bindgen_test]
async fn a_payment_made_by_the_shop_server_is_shown_and_never_renewed_here() {
    clear_session();
    let payment = server_payment(26_000).await;
    let id = payment["id"].as_str().expect("id");
    let invoice = payment["invoice"].as_str().expect("invoice");
    let creates = create_calls().await;
    let host = new_host();
    let events = Events::listen(&host);
    let handle = mount(
        host.clone(),
        options(json!({ "payment": id, "endpoint": endpoint(), "pollInterval": 1000 })),
    )
    .expect("mounts");
    wait_state(&host, "pending").await;
    assert_eq!(invoice_of(&host), invoice);
    assert_eq!(id_of(&handle), id);
    assert_eq!(find(&host, ".pd-qr svg").map(|_| ()), Some(()));
    assert_eq!(create_calls().await, creates, "shown, not created");
    sandbox("expire", invoice).await;
    wait_state(&host, "expired").await;
    assert!(
        find(&host, ".pd-expired button").is_none(),
        "no new code: the shop's server prices its orders"
    );
    assert_eq!(
        events.detail("paydigital:expired").map(|d| d["id"].clone()),
        Some(json!(id))
    );
    // Still watched after expiry: a late payment turns it paid.
    sandbox("pay", invoice).await;
    wait_state(&host, "paid").await;
    assert_eq!(create_calls().await, creates);

    // The same through the element's attribute, and an id that is not one.
    load_loader().await;
    let element = document()
        .create_element("paydigital-checkout")
        .expect("element");
    let other = server_payment(27_000).await;
    element
        .set_attribute("payment", other["id"].as_str().expect("id"))
        .expect("attr");
    element
        .set_attribute("endpoint", &endpoint())
        .expect("attr");
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("append");
    wait_state(&element, "pending").await;
    assert_eq!(
        invoice_of(&element),
        other["invoice"].as_str().expect("invoice")
    );
    element.remove();
    let (message, _) =
        mount_error(json!({ "payment": other["invoice"], "endpoint": endpoint() })).await;
    assert!(message.contains("payment"), "{message}");
}

// ---- The shopper on a phone (issue 34) ----

/// The paid event's `detail.late`, the success view's word on it, and the test-mode badge in
/// every state of a sandbox's payment (this proxy is `serve --sandbox`: `livemode: false`).
#[wasm_bindgen_test]
async fn a_payment_after_expiry_is_paid_late_and_a_sandbox_one_says_test_mode_throughout() {
    let host = new_host();
    let events = Events::listen(&host);
    clear_session();
    let _handle = mount(
        host.clone(),
        options(json!({ "amount": 26_000, "endpoint": endpoint(), "pollInterval": 1000 })),
    )
    .expect("mounts");
    wait_state(&host, "pending").await;
    assert_eq!(text(&host, ".pd-test"), "MODE UJI", "pending");
    let invoice = invoice_of(&host);
    sandbox("expire", &invoice).await;
    wait_state(&host, "expired").await;
    assert_eq!(text(&host, ".pd-test"), "MODE UJI", "expired");
    // The expired view keeps reading while visible: the saved code paid late turns it paid.
    sandbox("pay", &invoice).await;
    wait_state(&host, "paid").await;
    assert_eq!(text(&host, ".pd-test"), "MODE UJI", "paid");
    let detail = events.detail("paydigital:paid").expect("paid event");
    assert_eq!(
        (&detail["late"], &detail["livemode"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        text(&host, ".pd-late"),
        "Uang diterima setelah kode QR kedaluwarsa."
    );
}

/// Makes `document.hidden` say `hidden` on this page (`None`: the browser's own again).
fn set_hidden(hidden: Option<bool>) {
    let script = match hidden {
        Some(h) => format!(
            "Object.defineProperty(document, 'hidden', {{ configurable: true, get: function () {{ return {h}; }} }});"
        ),
        None => "delete document.hidden;".to_owned(),
    };
    js_sys::eval(&script).expect("visibility");
}

#[wasm_bindgen_test]
async fn back_on_the_tab_reads_at_once_with_a_60_second_poll_interval() {
    instrument_fetch();
    // The tab shown again, the window focused again, the page back from the bfcache.
    for (back, target) in [
        ("visibilitychange", "document"),
        ("focus", "window"),
        ("pageshow", "window"),
    ] {
        let (host, handle) = mount_pending(27_000, json!({ "pollInterval": 60_000 })).await;
        let id = id_of(&handle);
        // Off to the wallet app: the tab hides, and the shopper pays there.
        set_hidden(Some(true));
        js_sys::eval("document.dispatchEvent(new Event('visibilitychange'))").expect("hide");
        sandbox("pay", &invoice_of(&host)).await;
        // The proxy has heard of it (its short refresh window may otherwise still answer
        // pending to a read right after the create): the widget's one read must see paid.
        for _ in 0..100 {
            if fetch_json("GET", &format!("{}/{id}", endpoint())).await["status"] == "paid" {
                break;
            }
            sleep(100).await;
        }
        let reads = fetches(&id);
        set_hidden(None);
        js_sys::eval(&format!("{target}.dispatchEvent(new Event('{back}'))")).expect("back");
        // Far sooner than the next poll, 60 s away.
        wait_within(&format!("paid after {back}"), 5_000, || {
            state(&host).as_deref() == Some("paid")
        })
        .await;
        assert_eq!(fetches(&id), reads + 1, "{back}: one read, at once");
    }
}

#[wasm_bindgen_test]
async fn after_20_seconds_pending_check_now_reads_at_once_at_most_every_5_seconds() {
    instrument_fetch();
    let (host, handle) =
        mount_pending(28_000, json!({ "pollInterval": 60_000, "lang": "en" })).await;
    let id = id_of(&handle);
    assert!(find(&host, ".pd-check-now").is_none(), "not at first");
    wait_within("the check-now button", 25_000, || {
        find(&host, ".pd-check-now").is_some()
    })
    .await;
    assert_eq!(text(&host, ".pd-check-now"), "I've paid — check now");
    let reads = fetches(&id);
    click(&host, ".pd-check-now");
    wait_until("the check's read", || fetches(&id) == reads + 1).await;
    // Pressed again at once: resting (disabled), and no second read however it is pressed.
    leptos::task::tick().await;
    let button: web_sys::HtmlButtonElement = find(&host, ".pd-check-now")
        .expect("shown")
        .dyn_into()
        .expect("button");
    assert!(button.disabled(), "resting for 5 s");
    button.click();
    // The button comes back after the rest, with still only the one read made.
    wait_within("the rest to end", 7_000, || !button.disabled()).await;
    assert_eq!(fetches(&id), reads + 1, "one read per 5 s");
    sandbox("pay", &invoice_of(&host)).await;
    click(&host, ".pd-check-now");
    wait_within("paid after check now", 5_000, || {
        state(&host).as_deref() == Some("paid")
    })
    .await;
}

/// Makes this page look like a phone (touch points), and optionally an in-app browser; records
/// what is drawn on canvases as text (`window.__pdTexts`). `None` gives everything back.
fn as_phone(user_agent: Option<Option<&str>>) {
    let script = match user_agent {
        Some(ua) => format!(
            "Object.defineProperty(navigator, 'maxTouchPoints', {{ configurable: true, get: function () {{ return 5; }} }});
             {ua}
             window.__pdTexts = [];
             if (!window.__pdFillText) {{ window.__pdFillText = CanvasRenderingContext2D.prototype.fillText;
               CanvasRenderingContext2D.prototype.fillText = function (t) {{
                 window.__pdTexts.push(String(t)); return window.__pdFillText.apply(this, arguments); }}; }}",
            ua = ua.map_or(String::new(), |ua| format!(
                "Object.defineProperty(navigator, 'userAgent', {{ configurable: true, get: function () {{ return {ua:?}; }} }});"
            )),
        ),
        None => "delete navigator.maxTouchPoints; delete navigator.userAgent;".to_owned(),
    };
    js_sys::eval(&script).expect("phone");
}

#[wasm_bindgen_test]
async fn on_a_phone_the_qr_is_an_image_carrying_merchant_amount_invoice_and_expiry() {
    as_phone(Some(None));
    let (host, handle) = mount_pending(29_000, json!({})).await;
    let payment = to_json(&handle.payment());
    let img: web_sys::HtmlImageElement = find(&host, ".pd-qr img")
        .expect("the QR is an image to long-press")
        .dyn_into()
        .expect("img");
    assert!(
        img.src().starts_with("data:image/png;base64,"),
        "drawn here"
    );
    assert!(
        img.alt().starts_with("Kode QRIS untuk membayar Rp "),
        "{}",
        img.alt()
    );
    assert!(find(&host, ".pd-qr svg").is_none());
    assert!(
        find(&host, ".pd-hint").is_none(),
        "no hint outside an in-app browser"
    );
    let drawn: Vec<String> =
        serde_json::from_value(to_json(&page_value("window.__pdTexts"))).expect("texts");
    let total = payment["total_amount"].as_u64().expect("total");
    let merchant = paydigital::qris::Qris::parse(payment["qr_content"].as_str().expect("qr"))
        .expect("qris")
        .merchant_name
        .trim()
        .to_owned();
    let expected = [
        merchant.clone(),
        paydigital::rupiah(total),
        format!("Invoice {}", payment["invoice"].as_str().expect("invoice")),
    ];
    assert_eq!(
        drawn.get(..3),
        Some(&expected[..]),
        "under the code: {drawn:?}"
    );
    assert!(
        drawn
            .get(3)
            .is_some_and(|l| l.starts_with("Berlaku sampai ") && l.ends_with(" WIB")),
        "{drawn:?}"
    );
    // Whom the shopper pays stands above the amount.
    assert_eq!(text(&host, ".pd-merchant"), merchant);
    let merchant_line = find(&host, ".pd-merchant").expect("merchant");
    let amount = find(&host, ".pd-amount").expect("amount");
    assert_ne!(
        merchant_line.compare_document_position(&amount)
            & web_sys::Node::DOCUMENT_POSITION_FOLLOWING,
        0,
        "the amount follows the merchant's name"
    );
    as_phone(None);
}

#[wasm_bindgen_test]
async fn in_an_in_app_browser_a_line_says_to_long_press_the_qr() {
    as_phone(Some(Some(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 338.0.3.21.103",
    )));
    let (host, _handle) = mount_pending(29_500, json!({ "lang": "en" })).await;
    assert!(find(&host, ".pd-qr img").is_some());
    assert_eq!(
        text(&host, ".pd-hint"),
        "Long-press the QR code to save it to your gallery."
    );
    as_phone(None);
}

#[wasm_bindgen_test]
async fn themes_change_the_card_never_the_qr_and_parts_are_styleable() {
    let style = document().create_element("style").expect("style");
    style.set_text_content(Some(
        ".pd-parts::part(amount) { outline: 3px solid rgb(1, 2, 3); }",
    ));
    document()
        .head()
        .expect("head")
        .append_child(&style)
        .expect("style");
    let (host, _handle) = mount_pending(30_000, json!({ "theme": "dark" })).await;
    host.set_class_name("pd-parts");
    let computed = |selector: &str, property: &str| {
        let element = find(&host, selector).unwrap_or_else(|| panic!("{selector}"));
        web_sys::window()
            .and_then(|w| w.get_computed_style(&element).ok().flatten())
            .and_then(|s| s.get_property_value(property).ok())
            .unwrap_or_default()
    };
    assert_eq!(
        computed(".pd-card", "background-color"),
        "rgb(27, 36, 48)",
        "a dark card"
    );
    assert_eq!(
        computed(".pd-qr", "background-color"),
        "rgb(255, 255, 255)",
        "a white QR"
    );
    let svg = find(&host, ".pd-qr svg").expect("svg").outer_html();
    assert!(svg.contains("fill=\"#fff\"") && svg.contains("fill=\"#000\""));
    assert_eq!(
        computed(".pd-amount", "outline-color"),
        "rgb(1, 2, 3)",
        "::part(amount)"
    );
    for part in ["card", "amount", "qr", "buttons", "button", "status"] {
        assert!(
            shadow(&host)
                .query_selector(&format!("[part~={part}]"))
                .ok()
                .flatten()
                .is_some(),
            "part {part}"
        );
    }
    let (light, _other) = mount_pending(30_500, json!({})).await;
    let card = shadow(&light)
        .query_selector(".pd-card")
        .ok()
        .flatten()
        .expect("card");
    let background = web_sys::window()
        .and_then(|w| w.get_computed_style(&card).ok().flatten())
        .and_then(|s| s.get_property_value("background-color").ok());
    assert_eq!(
        background.as_deref(),
        Some("rgb(255, 255, 255)"),
        "light by default"
    );
    style.remove();
}

#[wasm_bindgen_test]
async fn styles_are_an_adopted_stylesheet_not_an_inline_style() {
    let (host, _handle) = mount_pending(23_000, json!({})).await;
    let (other, _other_handle) = mount_pending(23_500, json!({})).await;
    let root = shadow(&host);
    assert!(
        root.query_selector("style").expect("query").is_none(),
        "no <style> for a strict CSP to refuse"
    );
    let adopted = |host: &Element| {
        js_sys::Array::from(
            &js_sys::Reflect::get(&shadow(host), &"adoptedStyleSheets".into()).expect("adopted"),
        )
    };
    assert_eq!(adopted(&host).length(), 1);
    assert!(
        adopted(&host).get(0) == adopted(&other).get(0),
        "one stylesheet for every checkout on the page"
    );
    let card = find(&host, ".pd").expect("card");
    let style = web_sys::window()
        .expect("window")
        .get_computed_style(&card)
        .expect("style")
        .expect("computed");
    assert_eq!(
        style.get_property_value("max-width").expect("max-width"),
        "420px",
        "the adopted sheet styles the card"
    );
}

#[wasm_bindgen_test]
async fn mount_destroy_mount_at_once_makes_one_payment() {
    clear_session();
    instrument_fetch();
    let opts = json!({ "amount": 24_000, "endpoint": endpoint(), "reference": "STRICT-MODE" });
    let before = create_calls().await;
    // Creates only (reads go to `{endpoint}/{id}`): the requests to exactly the endpoint.
    let creates_sent = || {
        js_sys::eval(&format!("window.__pdCount[{:?}] || 0", endpoint()))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    let sent = creates_sent();
    let host = new_host();
    let mut first = mount(host.clone(), options(opts.clone())).expect("mounts");
    // The first create is on its way (React StrictMode's first mount) when it is destroyed.
    wait_until("the first create sent", || creates_sent() > sent).await;
    first.destroy();
    let second = mount(host.clone(), options(opts)).expect("mounts again");
    wait_state(&host, "pending").await;
    assert!(!id_of(&second).is_empty());
    assert_eq!(
        create_calls().await,
        before + 1,
        "one payment for the order"
    );
}

#[wasm_bindgen_test]
async fn the_same_order_mounted_twice_in_a_tab_is_one_payment() {
    clear_session();
    let opts = json!({ "amount": 25_000, "endpoint": endpoint(), "reference": "TWICE" });
    let before = create_calls().await;
    let (one, two) = (new_host(), new_host());
    let first = mount(one.clone(), options(opts.clone())).expect("mounts");
    let second = mount(two.clone(), options(opts)).expect("mounts");
    wait_state(&one, "pending").await;
    wait_state(&two, "pending").await;
    assert_eq!(id_of(&first), id_of(&second));
    assert_eq!(create_calls().await, before + 1, "one payment, shown twice");
}
