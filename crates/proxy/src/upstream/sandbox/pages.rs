//! The sandbox's pages for a person: every payment with Pay and Expire buttons, and one
//! payment's QR as PayDigital's own payment page would show it.

use super::api::refuse;
use super::{Sandbox, SandboxPayment};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use paydigital::rupiah;
use std::fmt::Write;
use std::sync::Arc;

fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

const STYLE: &str = include_str!("assets/sandbox.css");
const SCRIPT: &str = include_str!("assets/sandbox.js");

/// The sandbox's own files, served beside its pages: no inline style or script.
pub const SANDBOX_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// What every sandbox page links in its head.
const HEAD: &str = "<meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
<link rel=stylesheet href=\"/sandbox/assets/sandbox.css\"><script src=\"/sandbox/assets/sandbox.js\" defer></script>";

/// A sandbox page with its policy.
fn page(status: StatusCode, html: String) -> Response {
    (
        status,
        [(header::CONTENT_SECURITY_POLICY, SANDBOX_CSP)],
        Html(html),
    )
        .into_response()
}

/// `/sandbox/assets/{file}`: the pages' stylesheet and script (they change with a release
/// only, and the sandbox is a test tool: revalidated each time).
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "sandbox.css" => (STYLE, "text/css; charset=utf-8"),
        "sandbox.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn action_buttons(p: &SandboxPayment) -> String {
    if p.word() == "paid" {
        return String::new();
    }
    let invoice = escape(&p.invoice);
    let mut buttons =
        format!("<button data-action=pay data-invoice=\"{invoice}\">Bayar / Pay</button> ");
    if p.word() == "pending" {
        let _ = write!(buttons, "<button class=secondary data-action=expire data-invoice=\"{invoice}\">Kedaluwarsa / Expire</button>");
    }
    buttons
}

pub(super) async fn list_page(State(sandbox): State<Arc<Sandbox>>) -> Response {
    let payments: Vec<SandboxPayment> = sandbox
        .lock()
        .payments
        .iter()
        .rev()
        .take(50)
        .cloned()
        .collect();
    let mut rows = String::new();
    for p in &payments {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/sandbox/pay/{inv}\">{inv}</a><br><small>{desc}</small></td><td>{total}</td><td><span class=\"badge {word}\">{word}</span></td><td>{buttons}</td></tr>",
            inv = escape(&p.invoice),
            desc = escape(&p.description),
            total = rupiah(p.total_amount),
            word = p.word(),
            buttons = action_buttons(p),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=4>Belum ada pembayaran. / No payments yet.</td></tr>");
    }
    page(StatusCode::OK, format!(
        "<!DOCTYPE html><html lang=id><head>{HEAD}<title>PayDigital Sandbox</title></head><body>
<h1>PayDigital Sandbox</h1><p>Pembayaran uji coba: tidak ada uang sungguhan. Klik <b>Bayar</b> untuk mensimulasikan pelanggan yang membayar.<br><small>Test payments, no real money: click <b>Pay</b> to play the customer.</small></p>
<table><thead><tr><th>Invoice</th><th>Total</th><th>Status</th><th></th></tr></thead><tbody>{rows}</tbody></table>
<p><small><a href=\"/sandbox/payments\">JSON</a> · <a href=\"/sandbox/faults\">faults</a> · <a href=\"/sandbox/calls\">calls</a></small></p></body></html>"
    ))
}

fn qr_svg_text(payload: &str) -> Option<String> {
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build(),
    )
}

pub(super) async fn payment_page(
    State(sandbox): State<Arc<Sandbox>>,
    Path(invoice): Path<String>,
) -> Response {
    let payment = sandbox
        .lock()
        .payments
        .iter()
        .find(|p| p.invoice == invoice)
        .cloned();
    let Some(p) = payment else {
        return page(
            StatusCode::NOT_FOUND,
            format!("<!DOCTYPE html><html lang=id><head>{HEAD}<title>404</title></head><body><h1>Pembayaran tidak ditemukan / Payment not found</h1></body></html>"),
        );
    };
    let svg = qr_svg_text(&p.qr_content).unwrap_or_default();
    page(StatusCode::OK, format!(
        "<!DOCTYPE html><html lang=id><head>{HEAD}<title>{inv} · PayDigital Sandbox</title></head><body>
<p><a href=\"/sandbox\">← Sandbox</a></p><h1>{total}</h1><p>Invoice <b>{inv}</b> · <span class=\"badge {word}\">{word}</span></p>
<div class=qr>{svg}</div><p>{buttons}</p></body></html>",
        inv = escape(&p.invoice),
        total = rupiah(p.total_amount),
        word = p.word(),
        buttons = action_buttons(&p),
    ))
}

pub(super) async fn qr_svg(
    State(sandbox): State<Arc<Sandbox>>,
    Path(invoice): Path<String>,
) -> Response {
    let payload = sandbox
        .lock()
        .payments
        .iter()
        .find(|p| p.invoice == invoice)
        .map(|p| p.qr_content.clone());
    match payload.as_deref().and_then(qr_svg_text) {
        Some(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "Payment not found"),
    }
}
