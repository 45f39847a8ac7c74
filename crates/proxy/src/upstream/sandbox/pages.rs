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

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2933}
table{border-collapse:collapse;width:100%}td,th{padding:.5rem;border-bottom:1px solid #e4e7eb;text-align:left}
button{font:inherit;padding:.4rem .9rem;border-radius:.4rem;border:1px solid #0b7a55;background:#0b7a55;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#9b1c1c;border-color:#9b1c1c}.badge{padding:.1rem .5rem;border-radius:1rem;background:#eef2f7}
.paid{background:#d1fae5}.expired{background:#fee2e2}";

const PAGE_SCRIPT: &str = "async function act(invoice, action){const r=await fetch('/sandbox/payments/'+encodeURIComponent(invoice)+'/'+action,{method:'POST'});if(!r.ok){alert('Gagal: '+r.status)}location.reload()}";

fn action_buttons(p: &SandboxPayment) -> String {
    if p.word() == "paid" {
        return String::new();
    }
    let invoice = escape(&p.invoice);
    let mut buttons = format!("<button onclick=\"act('{invoice}','pay')\">Bayar / Pay</button> ");
    if p.word() == "pending" {
        let _ = write!(buttons, "<button class=secondary onclick=\"act('{invoice}','expire')\">Kedaluwarsa / Expire</button>");
    }
    buttons
}

pub(super) async fn list_page(State(sandbox): State<Arc<Sandbox>>) -> Html<String> {
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
    Html(format!(
        "<!DOCTYPE html><html lang=id><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>PayDigital Sandbox</title><style>{PAGE_STYLE}</style><script>{PAGE_SCRIPT}</script></head><body>
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
        return (
            StatusCode::NOT_FOUND,
            Html("<h1>Pembayaran tidak ditemukan / Payment not found</h1>".to_owned()),
        )
            .into_response();
    };
    let svg = qr_svg_text(&p.qr_content).unwrap_or_default();
    Html(format!(
        "<!DOCTYPE html><html lang=id><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>{inv} · PayDigital Sandbox</title><style>{PAGE_STYLE}</style><script>{PAGE_SCRIPT}</script></head><body>
<p><a href=\"/sandbox\">← Sandbox</a></p><h1>{total}</h1><p>Invoice <b>{inv}</b> · <span class=\"badge {word}\">{word}</span></p>
<div style=\"max-width:256px\">{svg}</div><p>{buttons}</p></body></html>",
        inv = escape(&p.invoice),
        total = rupiah(p.total_amount),
        word = p.word(),
        buttons = action_buttons(&p),
    ))
    .into_response()
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
