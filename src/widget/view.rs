//! The view: renders the state machine, nothing more. Reactive closures capture only
//! signals and a `StoredValue` handle to the controller.

use super::{browser, Controller, Copied};
use crate::format::{clock_time, countdown, rupiah, split_total};
use crate::i18n::{Lang, Texts};
use crate::machine::{Checkout, FailureKind, Phase, PhaseKind};
use crate::options::Options;
use crate::qr;
use leptos::either::EitherOf5;
use leptos::prelude::*;
use paydigital::api::Payment;
use std::rc::Rc;

type Ctl = StoredValue<Rc<Controller>, LocalStorage>;

pub(super) fn checkout(controller: Rc<Controller>, lang: Lang) -> impl IntoView {
    let texts = controller.texts();
    let state = controller.state;
    let now_ms = controller.now_ms;
    let copied = controller.copied;
    let ctl: Ctl = StoredValue::new_local(controller);
    let kind = Memo::new(move |_| state.with(Checkout::kind));
    let reconnecting = Memo::new(move |_| state.with(Checkout::reconnecting));
    // Read once per phase change: the drawn code never changes while a phase lasts.
    let shown = move || state.with_untracked(|c| c.phase().clone());

    let status_line = move || match kind.get() {
        PhaseKind::Loading => texts.loading.to_owned(),
        PhaseKind::Pending if reconnecting.get() => texts.reconnecting.to_owned(),
        PhaseKind::Pending => texts.waiting.to_owned(),
        PhaseKind::Paid => state
            .with_untracked(|c| c.payment().map(|p| texts.paid_announcement(p.total_amount)))
            .unwrap_or_default(),
        PhaseKind::Expired => texts.expired_title.to_owned(),
        PhaseKind::Error => texts.error_title.to_owned(),
    };

    let theme = ctl.with_value(|c| c.options().map(|o| o.theme).unwrap_or_default());
    let test_mode = Memo::new(move |_| state.with(Checkout::test_mode));

    view! {
        <div class=theme.class() lang=lang.code()>
            // A sandbox's payment says so in every state: nobody should think money moved.
            {move || test_mode.get().then(|| view! { <p class="pd-test" part="test-mode">{texts.test_mode}</p> })}
            <p class="pd-status" part="status" role="status" aria-live="polite" class:pd-warn=move || reconnecting.get()>
                {status_line}
            </p>
            {move || match (kind.get(), shown()) {
                (PhaseKind::Pending, Phase::Pending(payment)) => {
                    EitherOf5::A(pending(ctl, texts, payment, state, now_ms, copied))
                }
                (PhaseKind::Paid, Phase::Paid(payment)) => EitherOf5::B(paid(ctl, texts, payment)),
                (PhaseKind::Expired, Phase::Expired(payment)) => EitherOf5::C(expired(ctl, texts, payment)),
                (PhaseKind::Error, Phase::Error(failure)) => {
                    let message = match failure.kind {
                        FailureKind::Network => texts.network_error.to_owned(),
                        FailureKind::InvalidQr => texts.invalid_qr.to_owned(),
                        FailureKind::Config => format!("{} ({})", texts.bad_config, failure.message),
                        FailureKind::Proxy => failure.message.clone(),
                    };
                    let retryable = failure.kind != FailureKind::Config;
                    EitherOf5::D(view! {
                        <div class="pd-card pd-error" part="card" data-code=failure.code.clone()>
                            <p class="pd-title">{texts.error_title}</p>
                            <p class="pd-message">{message}</p>
                            {retryable.then(|| view! {
                                <button part="button" class="pd-button pd-primary" type="button"
                                    on:click=move |_| ctl.with_value(|c| c.retry())>{texts.retry}</button>
                            })}
                        </div>
                    })
                }
                _ => EitherOf5::E(view! {
                    <div class="pd-card pd-loading" part="card" aria-busy="true"><div class="pd-spinner"></div></div>
                }),
            }}
        </div>
    }
}

fn pending(
    ctl: Ctl,
    texts: &'static Texts,
    payment: Payment,
    state: RwSignal<Checkout>,
    now_ms: RwSignal<f64>,
    copied: RwSignal<Option<Copied>>,
) -> impl IntoView {
    let (head, marked) = split_total(payment.total_amount, payment.unique_code);
    let merchant = paydigital::qris::Qris::parse(&payment.qr_content)
        .map(|code| code.merchant_name.trim().to_owned())
        .unwrap_or_default();
    let label = texts.qr_label(payment.total_amount);
    let matrix = qr::matrix(&payment.qr_content).ok();
    let total_text = payment.total_amount.to_string();
    let invoice = payment.invoice.clone();
    let image = Rc::new(QrImage {
        matrix,
        lines: texts.image_lines(
            &merchant,
            payment.total_amount,
            &payment.invoice,
            &payment.expires_at,
        ),
        file_name: format!("QRIS-{}.png", payment.invoice),
    });
    // On a phone the code is an image as well, so that a long-press saves it in every
    // browser and in-app webview (where a download goes nowhere); elsewhere crisp SVG.
    let in_app = crate::i18n::in_app_browser(&browser::user_agent());
    let png = (in_app || browser::touch_device())
        .then(|| image.data_url())
        .flatten();
    // One markup string either way (a second view type would cost the bundle more); the
    // label is our own words and digits, the source a `data:` URL in base64.
    let (qr_class, qr_markup) = match (&png, &image.matrix) {
        (Some(src), _) => (
            "pd-qr pd-qr-image",
            format!("<img src=\"{src}\" alt=\"{label}\">"),
        ),
        (None, Some(m)) => ("pd-qr", m.to_svg(&label)),
        (None, None) => ("pd-qr", String::new()),
    };

    let saved = image.clone();
    let save = move |_| saved.save();
    // Offered where the browser can share a PNG file (phones); Save is always there.
    let share = browser::can_share_png().then(|| {
        let image = image.clone();
        move |_| {
            let image = image.clone();
            wasm_bindgen_futures::spawn_local(async move { image.share().await });
        }
    });
    let remaining = move || countdown(state.with(|c| c.remaining_secs(now_ms.get())));
    let copy_label = move |which: Copied| {
        move || {
            if copied.get() == Some(which) {
                texts.copied
            } else {
                texts.copy
            }
        }
    };
    let invoice_for_copy = invoice.clone();
    // After 20 s pending: a shopper back from the wallet app reads the status now.
    // A memo: the button is made once when offered, not again with every tick of the clock.
    let check_now_offered = Memo::new(move |_| state.with(|c| c.offers_check_now(now_ms.get())));
    let check_now_resting = move || state.with(|c| c.check_now_resting(now_ms.get()));

    view! {
        <div class="pd-card pd-pending" part="card">
            // Whom the shopper pays (QR tag 59), to compare with what the wallet app shows.
            {(!merchant.is_empty()).then(|| view! { <p class="pd-merchant">{merchant}</p> })}
            <p class="pd-label">{texts.pay_exactly}</p>
            <div class="pd-amount-row">
                <p class="pd-amount" part="amount">"Rp "{head}<mark class="pd-code">{marked}</mark></p>
                <button part="button" class="pd-button pd-copy" type="button" aria-label=texts.copy_amount
                    on:click=move |_| ctl.with_value(|c| c.copy(Copied::Amount, &total_text))>
                    {copy_label(Copied::Amount)}
                </button>
            </div>
            <p class="pd-note">{texts.includes_code}" "{rupiah(payment.unique_code)}</p>
            <div class=qr_class part="qr" inner_html=qr_markup></div>
            {in_app.then(|| view! { <p class="pd-hint">{texts.long_press_hint}</p> })}
            <p class="pd-countdown">{texts.expires_in}" "<time>{remaining}</time></p>
            {move || check_now_offered.get().then(|| view! {
                <button part="button" class="pd-button pd-check-now" type="button"
                    prop:disabled=check_now_resting
                    on:click=move |_| ctl.with_value(|c| c.check_now())>{texts.check_now}</button>
            })}
            <div class="pd-actions" part="buttons">
                <button part="button" class="pd-button pd-primary pd-save" type="button" on:click=save>{texts.save_qr}</button>
                {share.map(|share| view! {
                    <button part="button" class="pd-button pd-share" type="button" on:click=share>{texts.share_qr}</button>
                })}
                // Only https (or the sandbox on this machine): never a `javascript:` link.
                {payment.payment_url.clone().filter(|url| paydigital::links::is_payment_page_link(url)).map(|url| view! {
                    <a part="button" class="pd-button" href=url target="_blank" rel="noopener">{texts.open_payment_page}</a>
                })}
            </div>
            <div class="pd-invoice">
                <span>{texts.invoice}" "<code>{invoice}</code></span>
                <button part="button" class="pd-button pd-copy" type="button" aria-label=texts.copy_invoice
                    on:click=move |_| ctl.with_value(|c| c.copy(Copied::Invoice, &invoice_for_copy))>
                    {copy_label(Copied::Invoice)}
                </button>
            </div>
            <details class="pd-howto">
                <summary>{texts.how_to_pay}</summary>
                <ol>{texts.steps.iter().map(|step| view! { <li>{*step}</li> }).collect_view()}</ol>
            </details>
        </div>
    }
}

/// The QR as an image file for the customer: saved, or shared to an e-wallet app.
struct QrImage {
    matrix: Option<qr::Matrix>,
    /// Under the code: merchant, amount, invoice, expiry (`Texts::image_lines`).
    lines: Vec<String>,
    file_name: String,
}

impl QrImage {
    fn canvas(&self) -> Option<web_sys::HtmlCanvasElement> {
        let canvas = browser::qr_canvas(self.matrix.as_ref()?, &self.lines);
        canvas.map_err(|e| cannot("draw", &e)).ok()
    }

    /// The image as a `data:` URL for an `<img>` (a shop's CSP allows `img-src data:`).
    fn data_url(&self) -> Option<String> {
        self.canvas()?
            .to_data_url_with_type("image/png")
            .map_err(|e| cannot("draw", &e))
            .ok()
    }

    fn save(&self) {
        if let Some(canvas) = self.canvas() {
            if let Err(e) = browser::save_png(&canvas, &self.file_name) {
                cannot("save", &e);
            }
        }
    }

    /// Shares the PNG; where this file cannot be shared after all, or sharing fails, saves it.
    async fn share(&self) {
        let Some(canvas) = self.canvas() else { return };
        let title = self.lines.join(" · ");
        match browser::share_png(&canvas, &self.file_name, &title).await {
            Ok(browser::Shared::Done) => {}
            Ok(browser::Shared::NotOffered) => self.save(),
            Err(e) => {
                cannot("share", &e);
                self.save();
            }
        }
    }
}

fn cannot(what: &str, error: &wasm_bindgen::JsValue) {
    web_sys::console::warn_2(
        &format!("PayDigital checkout: cannot {what} the QR image").into(),
        error,
    );
}

fn paid(ctl: Ctl, texts: &'static Texts, payment: Payment) -> impl IntoView {
    let when = payment
        .paid_at
        .as_deref()
        .and_then(clock_time)
        .map(|t| format!("{} {t}", texts.paid_at));
    let redirecting = ctl.with_value(|c| c.options().is_some_and(|o| o.success_url.is_some()));
    view! {
        <div class="pd-card pd-paid" part="card">
            <div class="pd-check" aria-hidden="true">"✓"</div>
            <p class="pd-title">{texts.paid_title}</p>
            <p class="pd-amount" part="amount">{rupiah(payment.total_amount)}</p>
            {when.map(|w| view! { <p class="pd-note">{w}</p> })}
            // Paid from a saved code after it expired: the money did arrive, late.
            {payment.late.then(|| view! { <p class="pd-note pd-late">{texts.paid_late}</p> })}
            <p class="pd-invoice">{texts.invoice}" "<code>{payment.invoice}</code></p>
            // The shop's own receipt page: proof a screenshot cannot fake (only https, or the
            // proxy on this machine: never a `javascript:` link).
            {payment.receipt_url.filter(|url| paydigital::links::is_payment_page_link(url)).map(|url| view! {
                <a part="button" class="pd-button" href=url target="_blank" rel="noopener">{texts.view_receipt}</a>
            })}
            {redirecting.then(|| view! { <p class="pd-note">{texts.redirecting}</p> })}
        </div>
    }
}

fn expired(ctl: Ctl, texts: &'static Texts, payment: Payment) -> impl IntoView {
    // A payment the shop's server made is renewed by the shop (the page hears
    // `paydigital:expired`); what the browser ordered, the customer renews here.
    let can_renew = ctl.with_value(|c| c.options().is_some_and(Options::can_renew));
    view! {
        <div class="pd-card pd-expired" part="card">
            <p class="pd-title">{texts.expired_title}</p>
            <p class="pd-message">{texts.expired_body}</p>
            <p class="pd-invoice">{texts.invoice}" "<code>{payment.invoice}</code></p>
            {can_renew.then(|| view! {
                <button part="button" class="pd-button pd-primary" type="button"
                    on:click=move |_| ctl.with_value(|c| c.new_code())>{texts.new_code}</button>
            })}
        </div>
    }
}
