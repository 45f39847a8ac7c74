//! The browser side: mounting into a shadow root, the controller that drives the state
//! machine (requests, timers, visibility, storage, events) and the Leptos view.

mod api;
mod browser;
mod js;
mod view;

use crate::i18n::{Lang, Texts};
use crate::machine::{Checkout, Failure, FailureKind, Phase, PhaseKind};
use crate::options::{Options, Order, DEFAULT_POLL_MS};
use leptos::prelude::*;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, HtmlElement};

/// The widget's styles, inside its shadow root (so the shop's CSS cannot reach in):
/// `www/checkout.css` without comments and layout whitespace (`build.rs`).
const STYLES: &str = include_str!(concat!(env!("OUT_DIR"), "/checkout.min.css"));

/// After an order's resume key in sessionStorage: the create's idempotency key for it
/// (`www/paydigital-checkout.js` reads and writes the same entry).
const KEY_SUFFIX: &str = "|key";

thread_local! {
    /// One constructable stylesheet for every checkout on the page, made on first use.
    /// `None` where the browser cannot adopt one (the `<style>` fallback is used then).
    static SHEET: Option<web_sys::CssStyleSheet> = web_sys::CssStyleSheet::new()
        .ok()
        .filter(|sheet| sheet.replace_sync(STYLES).is_ok());
}

/// Gives the shadow root the widget's styles. Adopted as a constructable stylesheet, which a
/// page's CSP `style-src` does not govern (an inline `<style>` needs `'unsafe-inline'`, which
/// strict shops refuse: issue 33); an inline `<style>` only where the browser lacks them.
fn adopt_styles(shadow: &web_sys::ShadowRoot, root: &web_sys::Element) -> Result<(), JsValue> {
    let adopted = SHEET.with(|sheet| {
        // Every engine shipped constructable sheets and `adoptedStyleSheets` together.
        let sheet = sheet.as_ref()?;
        js_sys::Reflect::set(
            shadow,
            &"adoptedStyleSheets".into(),
            &js_sys::Array::of1(sheet),
        )
        .ok()
    });
    if adopted.is_none() {
        let style = browser::document()?.create_element("style")?;
        style.set_text_content(Some(STYLES));
        root.append_child(&style)?;
    }
    Ok(())
}

/// A listener on the document, kept until the checkout stops.
type Listener = Closure<dyn FnMut(JsValue)>;

/// `focus` and `pageshow` are the window's events; the others are the document's.
fn on_window(event: &str) -> bool {
    matches!(event, "focus" | "pageshow")
}

/// Which copy button last copied, for its "copied" label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copied {
    Amount,
    Invoice,
}

/// Drives one mounted checkout. Owned by its [`CheckoutHandle`]; async work holds an `Rc`
/// and checks `alive` after every await, so nothing outlives `destroy()`.
pub(crate) struct Controller {
    host: HtmlElement,
    options: Option<Options>,
    texts: &'static Texts,
    pub(crate) state: RwSignal<Checkout>,
    pub(crate) now_ms: RwSignal<f64>,
    pub(crate) copied: RwSignal<Option<Copied>>,
    alive: Cell<bool>,
    /// Bumped by every restart so that the loops of an older attempt stop.
    generation: Cell<u32>,
    abort: RefCell<AbortController>,
    ticker: RefCell<Option<gloo_timers::callback::Interval>>,
    /// Its listeners on the document (`visibilitychange`, `securitypolicyviolation`), removed
    /// by `stop`.
    listeners: RefCell<Vec<(&'static str, Listener)>>,
    idempotency_key: RefCell<String>,
    reading: Cell<bool>,
    last_kind: Cell<Option<PhaseKind>>,
    /// The create the loader sent before the wasm was there, until the first `begin` uses
    /// or cancels it.
    early: RefCell<Option<api::EarlyCreate>>,
}

impl Controller {
    fn options(&self) -> Option<&Options> {
        self.options.as_ref()
    }

    pub(crate) fn texts(&self) -> &'static Texts {
        self.texts
    }

    fn current(&self, generation: u32) -> bool {
        self.alive.get() && self.generation.get() == generation
    }

    /// Applies a transition and tells the host page when the phase changed.
    fn update(&self, change: impl FnOnce(&mut Checkout)) {
        if !self.alive.get() {
            return;
        }
        if self.state.try_update(change).is_some() {
            self.announce();
        }
    }

    /// Tells the host page when the phase changed. Kept apart from the generic `update` so
    /// that it is compiled once, not once per transition.
    fn announce(&self) {
        let Some((kind, phase)) = self
            .state
            .try_with_untracked(|c| (c.kind(), c.phase().clone()))
        else {
            return;
        };
        if self.last_kind.replace(Some(kind)) == Some(kind) {
            return;
        }
        let _ = self.host.set_attribute("data-state", kind.as_str());
        let resume_key = self.options().and_then(Options::resume_key);
        match &phase {
            Phase::Loading => {}
            Phase::Pending(payment) => {
                if let Some(key) = &resume_key {
                    browser::session_set(key, &payment.id);
                }
                browser::dispatch(&self.host, "paydigital:created", &js::write(payment));
            }
            Phase::Paid(payment) => {
                browser::dispatch(&self.host, "paydigital:paid", &js::write(payment));
                if let Some(url) = self.options().and_then(|o| o.success_url.clone()) {
                    let host = self.host.clone();
                    gloo_timers::callback::Timeout::new(2500, move || {
                        // Only if the checkout is still on the page (destroy clears data-state).
                        if host.is_connected()
                            && host.get_attribute("data-state").as_deref() == Some("paid")
                        {
                            browser::navigate(&url);
                        }
                    })
                    .forget();
                }
            }
            Phase::Expired(payment) => {
                // The order's key stays: mounted again (a reload, a changed `lang`), the same
                // key answers with this expired payment; only "new code" makes another.
                if let Some(key) = &resume_key {
                    browser::session_remove(key);
                }
                browser::dispatch(&self.host, "paydigital:expired", &js::write(payment));
            }
            Phase::Error(failure) => {
                let line = format!(
                    "PayDigital checkout: {} ({})",
                    failure.message, failure.code
                );
                // A set-up mistake is the shop developer's to fix: an error, not a warning.
                if failure.kind == FailureKind::Config {
                    web_sys::console::error_1(&line.into());
                } else {
                    web_sys::console::warn_1(&line.into());
                }
                browser::dispatch(&self.host, "paydigital:error", &js::write(failure));
            }
        }
    }

    /// Starts (or restarts) a payment: resume a remembered one, else create.
    fn begin(self: &Rc<Self>) {
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        self.abort.borrow().abort();
        *self.abort.borrow_mut() = browser::abort_controller();
        self.update(Checkout::restart);
        let Some(options) = self.options().cloned() else {
            return;
        };
        let early = self.take_early(&options);
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let signal = this.abort.borrow().signal();
            let Some(create) = options.create_request() else {
                // The shop's server made this payment: show it as it stands.
                if let Order::Payment(id) = &options.order {
                    let read = api::read(&options.status_url(id), &signal).await;
                    if !this.current(generation) {
                        return;
                    }
                    match read {
                        Ok(payment) => this.update(|c| c.created(payment, browser::now_ms())),
                        Err(failure) => this.update(|c| c.create_failed(failure)),
                    }
                    this.poll(generation).await;
                }
                return;
            };
            if let Some(resume_key) = options.resume_key() {
                if let Some(id) = browser::session_get(&resume_key) {
                    match api::read(&options.status_url(&id), &signal).await {
                        Ok(payment)
                            if payment.status != paydigital::Status::Expired
                                && this.current(generation) =>
                        {
                            this.update(|c| c.created(payment, browser::now_ms()));
                            this.poll(generation).await;
                            return;
                        }
                        _ => browser::session_remove(&resume_key),
                    }
                }
            }
            if !this.current(generation) {
                return;
            }
            let key = this.remembered_key(&options);
            let early = match early {
                Some(early) => Some(early.answer().await),
                None => None,
            };
            let created = match early {
                Some(answer) if !matches!(&answer, Err(f) if f.kind == FailureKind::Network) => {
                    answer
                }
                _ if !this.current(generation) => return,
                // No loader's create, or one that never got an answer (offline, or refused by
                // the page's CSP before this widget listened): sent (again) with the key, so
                // the proxy makes no second payment and a refusal now reaches `watch_csp`.
                _ => api::create(&options.endpoint, &create, &key, &signal).await,
            };
            if !this.current(generation) {
                return;
            }
            match created {
                Ok(payment) => this.update(|c| c.created(payment, browser::now_ms())),
                Err(failure) => this.update(|c| c.create_failed(failure)),
            }
            this.poll(generation).await;
        });
    }

    /// The create's idempotency key for this order, remembered in the session *before* the
    /// create is sent: a remount at once (React StrictMode), a double click, a reload or a
    /// second element with the same order sends the same key, so the proxy makes one payment.
    fn remembered_key(&self, options: &Options) -> String {
        let Some(name) = options.resume_key().map(|k| k + KEY_SUFFIX) else {
            return self.idempotency_key.borrow().clone();
        };
        match browser::session_get(&name) {
            Some(key) => {
                self.idempotency_key.replace(key.clone());
                key
            }
            None => {
                let key = self.idempotency_key.borrow().clone();
                browser::session_set(&name, &key);
                key
            }
        }
    }

    /// The loader's early create, if this first attempt is to use it: exactly the create it
    /// would send, and no remembered payment to resume instead. Adopted here, before any
    /// await, so that a destroy() from now on stops it; any other is cancelled.
    fn take_early(&self, options: &Options) -> Option<api::EarlyCreate> {
        let early = self.early.borrow_mut().take()?;
        let resumes = options
            .resume_key()
            .is_some_and(|key| browser::session_get(&key).is_some());
        // The loader sends the remembered key too; one that differs would be a second payment.
        let remembered = options
            .resume_key()
            .and_then(|key| browser::session_get(&(key + KEY_SUFFIX)));
        let wanted = options
            .create_request()
            .filter(|_| !resumes && remembered.as_ref().is_none_or(|k| early.has_key(k)));
        match wanted {
            Some(create) if early.is_for(&options.endpoint, &create) => {
                // Its key and its abort are this attempt's now: "Try again" repeats the key.
                let (key, abort) = early.adopt();
                *self.idempotency_key.borrow_mut() = key;
                *self.abort.borrow_mut() = abort;
                Some(early)
            }
            Some(_) => {
                // A loader out of step with this widget: its answer is not shown, and the
                // payment it may have made expires unused.
                early.cancel();
                web_sys::console::warn_1(
                    &"PayDigital checkout: the loader's early create differs from the widget's"
                        .into(),
                );
                None
            }
            None => {
                early.cancel();
                None
            }
        }
    }

    /// Reads the status until there is nothing left to wait for.
    async fn poll(self: &Rc<Self>, generation: u32) {
        loop {
            if !self.current(generation) {
                return;
            }
            let Some(delay) = self
                .state
                .try_with_untracked(|c| c.next_read_in_ms(js_sys::Math::random()))
                .flatten()
            else {
                return;
            };
            gloo_timers::future::TimeoutFuture::new(delay).await;
            if !self.current(generation) {
                return;
            }
            // A hidden tab does not poll; becoming visible reads at once (see `watch_visibility`).
            if browser::page_hidden() {
                continue;
            }
            self.read_status(generation).await;
        }
    }

    async fn read_status(self: &Rc<Self>, generation: u32) {
        let (Some(options), Some(id)) = (
            self.options(),
            self.state
                .try_with_untracked(|c| c.payment().map(|p| p.id.clone()))
                .flatten(),
        ) else {
            return;
        };
        if self.reading.replace(true) {
            return;
        }
        let signal = self.abort.borrow().signal();
        let result = api::read(&options.status_url(&id), &signal).await;
        self.reading.set(false);
        if !self.current(generation) {
            return;
        }
        match result {
            Ok(payment) => self.update(|c| c.status_read(payment, browser::now_ms())),
            Err(_) => self.update(Checkout::read_failed),
        }
    }

    fn listen(&self, event: &'static str, listener: Listener) {
        if on_window(event) {
            browser::on_window(event, listener.as_ref());
        } else {
            browser::on_document(event, listener.as_ref());
        }
        self.listeners.borrow_mut().push((event, listener));
    }

    /// Back from the wallet app: the tab shows again (`visibilitychange`), the window gets
    /// focus (a split screen, a desktop), or the page comes back from the back-forward cache
    /// (`pageshow`). Each reads at once, whatever the poll interval; a read already under way
    /// is not doubled (`reading`).
    fn watch_visibility(self: &Rc<Self>) {
        for event in ["visibilitychange", "focus", "pageshow"] {
            self.watch_coming_back(event);
        }
    }

    fn watch_coming_back(self: &Rc<Self>, event: &'static str) {
        let this = Rc::downgrade(self);
        let on_change = Listener::new(move |_| {
            let Some(this) = this.upgrade() else { return };
            let wanted = this
                .state
                .try_with_untracked(Checkout::wants_reads)
                .unwrap_or(false);
            if wanted && !browser::page_hidden() {
                let generation = this.generation.get();
                wasm_bindgen_futures::spawn_local(
                    async move { this.read_status(generation).await },
                );
            }
        });
        self.listen(event, on_change);
    }

    /// A page whose CSP leaves the proxy out of `connect-src` makes every request fail as if
    /// offline: the browser tells only through `securitypolicyviolation`. A violation for the
    /// proxy's endpoint ends this attempt with `csp_blocked`, naming the directive, instead of
    /// reconnecting forever (whichever comes first, the event or the failed fetch).
    fn watch_csp(self: &Rc<Self>) {
        let Some(endpoint) = self.options().map(|o| o.endpoint.clone()) else {
            return;
        };
        let this = Rc::downgrade(self);
        let on_violation = Listener::new(move |event: JsValue| {
            let Some(this) = this.upgrade() else { return };
            let field = |name: &str| {
                js_sys::Reflect::get(&event, &name.into())
                    .map_or_else(|_| js_sys::JsString::from(""), js_sys::JsString::from)
            };
            // The refused URL is the endpoint's (a create, or a read below it); a browser that
            // reports only the origin of a cross-origin URL gives the endpoint's beginning.
            // Compared by JavaScript: Rust's substring search costs the bundle over 1 KB.
            let blocked = field("blockedURI");
            if !(blocked.includes(&endpoint, 0)
                || blocked.length() > 0
                    && js_sys::JsString::from(endpoint.as_str())
                        .starts_with(&String::from(&blocked), 0))
            {
                return;
            }
            let mut directive = field("effectiveDirective");
            if directive.length() == 0 {
                directive = field("violatedDirective");
            }
            let message = js_sys::JsString::from("Content-Security-Policy ")
                .concat(&directive)
                .concat(&" blocks ".into())
                .concat(&blocked);
            this.generation.set(this.generation.get().wrapping_add(1));
            this.abort.borrow().abort();
            // Through loading, so that an error already shown (`network`) is replaced and
            // announced again.
            this.update(Checkout::restart);
            this.update(|c| {
                c.create_failed(Failure::new(
                    FailureKind::Config,
                    "csp_blocked",
                    String::from(message),
                ))
            });
        });
        self.listen("securitypolicyviolation", on_violation);
    }

    /// "I've paid — check now": a read at once, at most one per 5 s (`Checkout::check_now`).
    pub(crate) fn check_now(self: &Rc<Self>) {
        let now = browser::now_ms();
        if self.state.try_update(|c| c.check_now(now)) == Some(true) {
            let generation = self.generation.get();
            let this = self.clone();
            wasm_bindgen_futures::spawn_local(async move { this.read_status(generation).await });
        }
    }

    fn start_ticker(self: &Rc<Self>) {
        let this = Rc::downgrade(self);
        let interval = gloo_timers::callback::Interval::new(1000, move || {
            let Some(this) = this.upgrade() else { return };
            let now = browser::now_ms();
            this.now_ms.try_set(now);
            let due = this
                .state
                .try_with_untracked(|c| {
                    c.kind() == PhaseKind::Pending && c.remaining_secs(now) == 0
                })
                .unwrap_or(false);
            if due {
                // The poll loop, still running while pending, makes the late checks.
                this.update(|c| c.tick(now));
            }
        });
        *self.ticker.borrow_mut() = Some(interval);
    }

    /// "Try again": the same idempotency key, so a create that did happen is not repeated.
    pub(crate) fn retry(self: &Rc<Self>) {
        self.begin();
    }

    /// "New code" after expiry: a new payment, so a new key.
    pub(crate) fn new_code(self: &Rc<Self>) {
        if let Some(key) = self.options().and_then(Options::resume_key) {
            browser::session_remove(&(key.clone() + KEY_SUFFIX));
            browser::session_remove(&key);
        }
        *self.idempotency_key.borrow_mut() = browser::random_key();
        self.begin();
    }

    pub(crate) fn copy(&self, which: Copied, text: &str) {
        if browser::copy_text(text) {
            self.copied.try_set(Some(which));
            let copied = self.copied;
            gloo_timers::callback::Timeout::new(2000, move || {
                copied.try_set(None);
            })
            .forget();
        }
    }

    /// Stops every timer, listener and request.
    fn stop(&self) {
        self.alive.set(false);
        self.abort.borrow().abort();
        if let Some(early) = self.early.borrow_mut().take() {
            early.cancel();
        }
        self.ticker.borrow_mut().take();
        for (event, listener) in self.listeners.take() {
            if on_window(event) {
                browser::off_window(event, listener.as_ref());
            } else {
                browser::off_document(event, listener.as_ref());
            }
        }
    }
}

/// What `mount()` returns: `destroy()` stops all work and removes the widget's DOM.
#[wasm_bindgen]
pub struct CheckoutHandle {
    controller: Option<Rc<Controller>>,
    /// Leptos' `UnmountHandle`: dropping it unmounts the view and disposes its signals.
    view: Option<Box<dyn Any>>,
    root: Option<web_sys::Element>,
}

#[wasm_bindgen]
impl CheckoutHandle {
    /// Stops every timer and request and removes the widget's DOM. Safe to call twice.
    pub fn destroy(&mut self) {
        if let Some(controller) = self.controller.take() {
            controller.stop();
            let _ = controller.host.remove_attribute("data-state");
        }
        self.view.take();
        if let Some(root) = self.root.take() {
            root.remove();
        }
    }

    /// The payment shown (the same object as the events' `detail`), or `null` before there
    /// is one and after `destroy()`.
    #[wasm_bindgen(getter)]
    pub fn payment(&self) -> JsValue {
        self.controller
            .as_ref()
            .and_then(|c| c.state.try_with_untracked(|s| s.payment().map(js::write)))
            .flatten()
            .unwrap_or(JsValue::NULL)
    }

    /// The phase: `loading`, `pending`, `paid`, `expired`, `error` (or `destroyed`).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.controller
            .as_ref()
            .and_then(|c| c.state.try_with_untracked(|s| s.kind().as_str().to_owned()))
            .unwrap_or_else(|| "destroyed".to_owned())
    }
}

impl Drop for CheckoutHandle {
    fn drop(&mut self) {
        self.destroy();
    }
}

/// Mounts a checkout into `host` (its shadow root) with options as in `docs/embed.md`
/// (`amount`, `item` or `payment`, `endpoint`, `description`, `customerName`, `reference`, `lang`,
/// `pollInterval`, `successUrl`). Set-up mistakes show an error in the widget and fire
/// `paydigital:error`; they do not throw.
#[wasm_bindgen]
pub fn mount(host: HtmlElement, options: JsValue) -> Result<CheckoutHandle, JsValue> {
    mount_with_create(host, options, JsValue::NULL)
}

/// [`mount`], with the create the loader sent while the wasm downloaded
/// (`{endpoint, body, key, response, abort}`, see `www/paydigital-checkout.js`): the widget
/// shows its answer, after checking it as its own, only if it is exactly the create the
/// widget would send; otherwise it cancels it and sends its own.
#[wasm_bindgen(js_name = mountWithCreate)]
pub fn mount_with_create(
    host: HtmlElement,
    options: JsValue,
    early: JsValue,
) -> Result<CheckoutHandle, JsValue> {
    let early = api::EarlyCreate::from_loader(early);
    let options = js::options(options)
        .and_then(Options::from_raw)
        .map_err(|e| e.to_string());
    let lang = Lang::from_tag(
        options
            .as_ref()
            .ok()
            .and_then(|o| o.lang.clone())
            .or_else(browser::page_lang)
            .as_deref(),
    );

    let shadow = match host.shadow_root() {
        Some(shadow) => shadow,
        None => host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?,
    };
    let document = browser::document()?;
    let root = document.create_element("div")?;
    root.set_class_name("pd-root");
    adopt_styles(&shadow, &root)?;
    let container: HtmlElement = document.create_element("div")?.dyn_into()?;
    root.append_child(&container)?;
    shadow.append_child(&root)?;

    let slot: Rc<RefCell<Option<Rc<Controller>>>> = Rc::new(RefCell::new(None));
    let filled = slot.clone();
    let poll_interval = options
        .as_ref()
        .map_or(DEFAULT_POLL_MS, |o| o.poll_interval_ms);
    let controller_options = options.as_ref().ok().cloned();
    let view_handle = leptos::mount::mount_to(container, move || {
        let controller = Rc::new(Controller {
            host,
            options: controller_options,
            texts: lang.texts(),
            state: RwSignal::new(Checkout::new(poll_interval)),
            now_ms: RwSignal::new(browser::now_ms()),
            copied: RwSignal::new(None),
            alive: Cell::new(true),
            generation: Cell::new(0),
            abort: RefCell::new(browser::abort_controller()),
            ticker: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            idempotency_key: RefCell::new(browser::random_key()),
            reading: Cell::new(false),
            last_kind: Cell::new(None),
            early: RefCell::new(None),
        });
        *filled.borrow_mut() = Some(controller.clone());
        view::checkout(controller, lang)
    });
    let controller = slot
        .borrow_mut()
        .take()
        .ok_or_else(|| JsValue::from_str("mount failed"))?;
    match &options {
        Ok(_) => {
            *controller.early.borrow_mut() = early;
            controller.start_ticker();
            controller.watch_visibility();
            controller.watch_csp();
            controller.begin();
        }
        Err(message) => {
            if let Some(early) = early {
                early.cancel();
            }
            controller.update(|c| {
                c.create_failed(Failure::new(
                    FailureKind::Config,
                    "invalid_options",
                    message.clone(),
                ))
            })
        }
    }
    Ok(CheckoutHandle {
        controller: Some(controller),
        view: Some(Box::new(view_handle)),
        root: Some(root),
    })
}

/// Draws any payload as the widget's QR SVG (`PayDigitalCheckout.load()` gives access), for
/// pages that show a code elsewhere, and for the benchmark.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(payload: &str, label: &str) -> Result<String, JsValue> {
    crate::qr::matrix(payload)
        .map(|m| m.to_svg(label))
        .map_err(|e| JsValue::from_str(&e.to_string()))
}
