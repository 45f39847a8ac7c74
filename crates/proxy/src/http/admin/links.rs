//! `/admin/links` (owner): the shop's payment links — make one (title, a price or bounds,
//! how many may be paid, until when), each with its paid count and total, its URL to copy,
//! its poster, a **Share on WhatsApp** link (a plain `https://wa.me/?text=…` link: nothing is
//! loaded from WhatsApp) and deactivate/activate (audited as `link_change`).

use super::render::{self, moment, Nav};
use super::session::Owner;
use super::texts::link_texts;
use crate::domain::links::{LinkAmount, LinkWithTotals, NewLinkRequest};
use crate::domain::staff::AuditAction;
use crate::payments::ServiceError;
use crate::state::AppState;
use crate::store::links::LinkFilter;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use paydigital::rupiah;
use serde::Deserialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// Links shown on one page.
const PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct LinksQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

/// `https://pay.toko.example` (or this request's host): links are shared absolute.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.config.public_url {
        Some(url) => url.clone(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// The WhatsApp share link: the title and the URL as the message's text.
pub fn whatsapp_share(title: &str, url: &str) -> String {
    let text = format!("{title} {url}");
    // `text=…` form-encoded; a space is `+` there (a `+` itself is `%2B`), which wa.me would
    // show as a plus: `%20` instead.
    let query = serde_urlencoded::to_string([("text", text.as_str())]).unwrap_or_default();
    format!("https://wa.me/?{}", query.replace('+', "%20"))
}

fn amount_of(link: &LinkWithTotals, state: &AppState) -> String {
    let rules = &state.config.rules;
    match link.link.amount {
        LinkAmount::Fixed(price) => rupiah(price),
        open => {
            let (low, high) = open.bounds(rules.min_amount, rules.max_amount);
            format!("{} – {}", rupiah(low), rupiah(high))
        }
    }
}

fn draw(
    state: &AppState,
    staff: &super::session::Staff,
    headers: &HeaderMap,
    links: &[LinkWithTotals],
    more: bool,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let t = staff.t();
    let l = link_texts(staff.lang);
    let zone = state.config.upstream.zone;
    let base = base_url(state, headers);
    let body = html! {
        (render::notice(notice))
        @if let Some(error) = error { p.error role="alert" { (error) } }
        details.create open[links.is_empty() || error.is_some()] {
            summary { (l.new_link) }
            form.filters.link-form method="post" action="/admin/links" {
                div { label for="title" { (l.title) } input #title name="title" required maxlength="120"; }
                div { label for="amount" { (l.amount) } input #amount name="amount" type="number" min="1" inputmode="numeric" aria-describedby="amount-hint"; }
                div { label for="min_amount" { (l.min_amount) } input #min_amount name="min_amount" type="number" min="1" inputmode="numeric"; }
                div { label for="max_amount" { (l.max_amount) } input #max_amount name="max_amount" type="number" min="1" inputmode="numeric"; }
                div { label for="max_payments" { (l.max_payments) } input #max_payments name="max_payments" type="number" min="1" inputmode="numeric"; }
                div { label for="expires_at" { (l.expires_at) } input #expires_at name="expires_at" type="datetime-local"; }
                p.hint #amount-hint { (l.amount_hint) }
                div { button type="submit" { (l.create) } }
            }
        }
        @if links.is_empty() {
            p.empty { (t.none_found) }
        } @else {
            table.payments.links {
                thead { tr {
                    th scope="col" { (l.title) } th scope="col" { (t.amount) } th scope="col" { (l.paid_count) }
                    th scope="col" { (l.paid_total) } th scope="col" { (t.status) } th scope="col" { (l.share) }
                } }
                tbody {
                    @for link in links {
                        @let url = format!("{base}/l/{}", link.link.id);
                        @let field = format!("url-{}", link.link.id);
                        tr id={ "link-" (link.link.id) } data-link=(link.link.id) {
                            td data-label=(l.title) {
                                a href=(url) { (link.link.title) }
                                br; span.small { (moment(link.link.created_at, zone)) }
                                @if let Some(until) = link.link.expires_at { br; span.small { (l.until) " " (moment(until, zone)) } }
                            }
                            td.num data-label=(t.amount) { (amount_of(link, state)) }
                            td.num data-label=(l.paid_count) {
                                span.paid-count { (link.paid_count) }
                                @if let Some(max) = link.link.max_payments { " / " (max) }
                            }
                            td.num data-label=(l.paid_total) { span.paid-total { (rupiah(link.paid_total)) } }
                            td data-label=(t.status) {
                                @if link.link.active { span.badge.paid { (l.active) } } @else { span.badge.expired { (l.inactive) } }
                                form method="post" action={ "/admin/links/" (link.link.id) "/active" } {
                                    input type="hidden" name="active" value=(if link.link.active { "false" } else { "true" });
                                    button type="submit" { (if link.link.active { l.deactivate } else { l.activate }) }
                                }
                            }
                            td data-label=(l.share) {
                                label.sr-only for=(field) { (l.link_url) }
                                input.copy-source id=(field) type="text" readonly value=(url);
                                button type="button" data-copy=(field) data-copied=(l.copied) { (l.copy) }
                                " "
                                a href={ "/l/" (link.link.id) "/poster.png" } download { (l.poster) }
                                " "
                                a.whatsapp href=(whatsapp_share(&link.link.title, &url)) rel="noopener noreferrer" target="_blank" { (l.whatsapp) }
                            }
                        }
                    }
                }
            }
            @if more {
                @if let Some(last) = links.last() {
                    nav.paging aria-label=(t.payment_links) { a href={ "/admin/links?before=" (last.link.id) } rel="next" { (t.older) " »" } }
                }
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = render::page(&staff.viewer(), Nav::Links, t.payment_links, body);
    *response.status_mut() = status;
    response
}

async fn read(
    state: &AppState,
    before: Option<String>,
) -> Result<(Vec<LinkWithTotals>, bool), ServiceError> {
    let page = state
        .payments
        .list_links(LinkFilter {
            active: None,
            before_id: before,
            limit: PAGE,
        })
        .await?;
    let more = page.next_cursor.is_some();
    Ok((page.data, more))
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    Owner(staff): Owner,
    headers: HeaderMap,
    Query(query): Query<LinksQuery>,
) -> Response {
    let l = link_texts(staff.lang);
    let before = query
        .before
        .filter(|b| crate::domain::ids::looks_like_link_id(b));
    let (links, more) = match read(&state, before).await {
        Ok(read) => read,
        Err(e) => return unavailable(&staff, e),
    };
    let notice = match query.done.as_deref() {
        Some("created") => Some(l.created),
        Some("changed") => Some(l.changed),
        _ => None,
    };
    draw(&state, &staff, &headers, &links, more, notice, None)
}

fn unavailable(staff: &super::session::Staff, e: ServiceError) -> Response {
    tracing::error!(error = %e, "payment links unavailable");
    render::message_page(
        staff.lang,
        StatusCode::SERVICE_UNAVAILABLE,
        staff.t().unavailable,
    )
}

/// What the create form posts (every field a text: empty is absent).
#[derive(Deserialize, Default)]
struct LinkForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    min_amount: String,
    #[serde(default)]
    max_amount: String,
    #[serde(default)]
    max_payments: String,
    #[serde(default)]
    expires_at: String,
}

/// A number field: empty is absent; anything else must be digits.
fn number(field: &str, text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| format!("{field}: {text:?}"))
}

/// `2026-12-31T23:59` from a `datetime-local` field, in the shop's zone, as RFC 3339.
fn local_time(text: &str, zone: time::UtcOffset) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let at = time::PrimitiveDateTime::parse(text, &format)
        .map_err(|_| format!("expires_at: {text:?}"))?
        .assume_offset(zone);
    at.format(&time::format_description::well_known::Rfc3339)
        .map(Some)
        .map_err(|_| format!("expires_at: {text:?}"))
}

impl LinkForm {
    fn request(self, zone: time::UtcOffset) -> Result<NewLinkRequest, String> {
        let max_payments = number("max_payments", &self.max_payments)?
            .map(|n| u32::try_from(n).map_err(|_| format!("max_payments: {n}")))
            .transpose()?;
        Ok(NewLinkRequest {
            title: self.title,
            amount: number("amount", &self.amount)?,
            min_amount: number("min_amount", &self.min_amount)?,
            max_amount: number("max_amount", &self.max_amount)?,
            max_payments,
            expires_at: local_time(&self.expires_at, zone)?,
            ..NewLinkRequest::default()
        })
    }
}

async fn audit(state: &AppState, staff: &super::session::Staff, subject: String) {
    if let Err(e) = state
        .staff
        .record(
            &staff.email,
            AuditAction::LinkChange,
            Some(subject),
            staff.ip,
        )
        .await
    {
        tracing::error!(error = %e, "cannot audit a link change");
    }
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    Owner(staff): Owner,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let zone = state.config.upstream.zone;
    let again = |message: String| refuse(&state, &staff, &headers, message);
    let form: LinkForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(e) => return again(format!("{}: {e}", staff.t().bad_request)).await,
    };
    let request = match form.request(zone) {
        Ok(request) => request,
        Err(e) => return again(format!("{}: {e}", staff.t().bad_request)).await,
    };
    let rules = &state.config.rules;
    let validated = match request.clone().validate(
        rules.min_amount,
        rules.max_amount,
        OffsetDateTime::now_utc(),
    ) {
        Ok(validated) => validated,
        Err(invalid) => return again(invalid.to_string()).await,
    };
    match state.payments.create_link(request, None, validated).await {
        Ok((link, _)) => {
            audit(&state, &staff, format!("{} created", link.link.id)).await;
            Redirect::to("/admin/links?done=created").into_response()
        }
        Err(e) => unavailable(&staff, e),
    }
}

/// The page again, saying what was wrong with the form (400).
async fn refuse(
    state: &AppState,
    staff: &super::session::Staff,
    headers: &HeaderMap,
    message: String,
) -> Response {
    match read(state, None).await {
        Ok((links, more)) => draw(state, staff, headers, &links, more, None, Some(&message)),
        Err(e) => unavailable(staff, e),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(state): State<Arc<AppState>>,
    Owner(staff): Owner,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActiveForm>,
) -> Response {
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return render::message_page(
                staff.lang,
                StatusCode::BAD_REQUEST,
                &format!("{}: active", staff.t().bad_request),
            )
        }
    };
    match state.payments.set_link_active(&id, active).await {
        Ok(link) => {
            let word = if active { "activated" } else { "deactivated" };
            audit(&state, &staff, format!("{} {word}", link.link.id)).await;
            Redirect::to("/admin/links?done=changed").into_response()
        }
        Err(ServiceError::NotFound) => {
            render::message_page(staff.lang, StatusCode::NOT_FOUND, staff.t().not_found)
        }
        Err(e) => unavailable(&staff, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::offset;

    #[test]
    fn the_whatsapp_link_carries_the_title_and_url_and_nothing_else() {
        assert_eq!(
            whatsapp_share("Kopi & teh", "https://pay.toko.example/l/plink_A"),
            "https://wa.me/?text=Kopi%20%26%20teh%20https%3A%2F%2Fpay.toko.example%2Fl%2Fplink_A"
        );
    }

    #[test]
    fn the_form_reads_empty_as_absent_and_times_in_the_shops_zone() {
        let form = LinkForm {
            title: "Kopi".into(),
            amount: "25000".into(),
            expires_at: "2026-12-31T23:59".into(),
            ..LinkForm::default()
        };
        let request = form.request(offset!(+7)).expect("valid");
        assert_eq!(request.amount, Some(25_000));
        assert_eq!(request.min_amount, None);
        assert_eq!(
            request.expires_at.as_deref(),
            Some("2026-12-31T23:59:00+07:00")
        );
        let bad = LinkForm {
            title: "Kopi".into(),
            amount: "dua".into(),
            ..LinkForm::default()
        };
        assert!(bad.request(offset!(+7)).is_err());
    }
}
