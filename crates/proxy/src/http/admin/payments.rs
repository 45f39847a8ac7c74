//! `/admin/payments`: the list (status, search, date range, paging over the store's
//! cursor), one payment's detail with its timeline, **Check now** and **Resend**, and the
//! CSV of the filtered list (a POST: an export is audited, and a GET — a prefetch, a
//! preview — must write nothing). A cashier sees today's payments only and may not export
//! or resend.

use super::overview::now_ms;
use super::render::{self, moment, status_badge, Nav};
use super::session::{Owner, Staff};
use super::texts::Texts;
use crate::domain::clock::before;
use crate::domain::days::{day_number, start_of_day, start_of_today};
use crate::domain::ids;
use crate::domain::payment::{parse_status, status_at, PaymentRecord};
use crate::domain::staff::AuditAction;
use crate::payments::{export, in_counter_list, ServiceError};
use crate::state::AppState;
use crate::store::{EventRecord, ListFilter, StoredAttempt};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use paydigital::rupiah;
use paydigital::Status;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use time::{Date, OffsetDateTime, UtcOffset};

const PAGE: usize = 25;

/// The list's filters as the form sends them (every field optional, empty = unset).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    after: String,
}

impl ListQuery {
    /// The filters that are set, as `(name, value)`: carried to the next page and the export.
    fn filters(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            ("status", self.status.trim()),
            ("q", self.q.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs
    }
}

/// A filter the form could not mean, naming the field.
#[derive(Debug, PartialEq, Eq)]
pub struct BadFilter(pub &'static str, pub String);

/// What `query` asks of the store, for `staff` (a cashier: today only). Pure.
pub fn filter_of(
    query: &ListQuery,
    cashier: bool,
    now: OffsetDateTime,
    zone: UtcOffset,
) -> Result<ListFilter, BadFilter> {
    let status = match query.status.trim() {
        "" => None,
        text => Some(parse_status(text).ok_or_else(|| {
            BadFilter(
                "status",
                format!("{text:?} is not pending, paid or expired"),
            )
        })?),
    };
    let date = |field: &'static str, text: &str| -> Result<Option<Date>, BadFilter> {
        match text.trim() {
            "" => Ok(None),
            text => Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map(Some)
            .map_err(|_| BadFilter(field, format!("{text:?} is not a date (2026-12-01)"))),
        }
    };
    let midnight = |d: Date| start_of_day(day_number(d.midnight().assume_offset(zone), zone), zone);
    let mut created_after =
        date("from", &query.from)?.map(|d| before(midnight(d), Duration::from_secs(1)));
    let mut created_before = date("to", &query.to)?
        .and_then(|d| d.next_day())
        .map(midnight);
    if cashier {
        created_after = Some(before(start_of_today(now, zone), Duration::from_secs(1)));
        created_before = None;
    }
    let before_id = match query.after.trim() {
        "" => None,
        id if ids::looks_like_payment_id(id) => Some(id.to_owned()),
        _ => {
            return Err(BadFilter(
                "after",
                "is not a payment id from this list".into(),
            ))
        }
    };
    let search = Some(query.q.trim())
        .filter(|q| !q.is_empty())
        .map(|q| q.chars().take(200).collect());
    Ok(ListFilter {
        status,
        created_after,
        created_before,
        search,
        before_id,
        limit: PAGE,
        now: Some(now),
        ..ListFilter::default()
    })
}

fn bad_filter(staff: &Staff, e: BadFilter) -> Response {
    render::message_page(
        staff.lang,
        StatusCode::BAD_REQUEST,
        &format!("{}: {} — {}", staff.t().bad_request, e.0, e.1),
    )
}

fn unavailable(staff: &Staff, e: ServiceError) -> Response {
    match e {
        // The asker's mistake (an `after` from another list, or edited): not the server's.
        ServiceError::UnknownCursor(_) => render::message_page(
            staff.lang,
            StatusCode::BAD_REQUEST,
            &format!("{}: after", staff.t().bad_request),
        ),
        e => {
            tracing::error!(error = %e, "dashboard read failed");
            render::message_page(
                staff.lang,
                StatusCode::SERVICE_UNAVAILABLE,
                staff.t().unavailable,
            )
        }
    }
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<ListQuery>,
) -> Response {
    let t = staff.t();
    let now = OffsetDateTime::now_utc();
    let zone = state.config.upstream.zone;
    let filter = match filter_of(&query, !staff.is_owner(), now, zone) {
        Ok(filter) => filter,
        Err(e) => return bad_filter(&staff, e),
    };
    // New payments join the top of the first page when nothing narrows it.
    let unfiltered = filter.status.is_none()
        && filter.search.is_none()
        && filter.before_id.is_none()
        && query.from.trim().is_empty()
        && query.to.trim().is_empty();
    let page = match state.payments.list(filter).await {
        Ok(page) => page,
        Err(e) => return unavailable(&staff, e),
    };
    let rows = html! { @for p in &page.data { (render::payment_row(t, p, now, zone)) } };
    let filters = query.filters();
    let keep = |extra: &str| {
        let mut out = serde_urlencoded::to_string(&filters).unwrap_or_default();
        if !extra.is_empty() {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(extra);
        }
        out
    };
    let option = |value: &str, label: &str| {
        html! { option value=(value) selected[query.status.trim() == value] { (label) } }
    };
    let body = html! {
        form.filters method="get" action="/admin/payments" role="search" {
            div {
                label for="q" { (t.search) }
                input #q name="q" type="search" value=(query.q) placeholder=(t.search_hint);
            }
            div {
                label for="status" { (t.status) }
                select #status name="status" {
                    (option("", t.all_statuses)) (option("pending", t.pending))
                    (option("paid", t.paid)) (option("expired", t.expired))
                }
            }
            @if staff.is_owner() {
                div { label for="from" { (t.from) } input #from name="from" type="date" value=(query.from); }
                div { label for="to" { (t.to) } input #to name="to" type="date" value=(query.to); }
            }
            button type="submit" { (t.filter) }
        }
        @if !staff.is_owner() { p.hint { (t.today_only) } }
        @if staff.is_owner() {
            // A form, not a link: the export writes an audit line, which a GET must not.
            form method="post" action="/admin/payments.csv" {
                p {
                    @for (name, value) in &filters { input type="hidden" name=(name) value=(value); }
                    button type="submit" { (t.export_csv) }
                }
            }
        }
        div data-live="payments" data-live-since=(now_ms(now)) {
            (render::payments_table(t, rows, page.data.is_empty(), unfiltered))
        }
        nav.paging aria-label=(t.payments) {
            @if !query.after.trim().is_empty() { a href={ "/admin/payments?" (keep("")) } { "« " (t.newest) } }
            @if let Some(cursor) = &page.next_cursor {
                a href={ "/admin/payments?" (keep(&format!("after={cursor}"))) } rel="next" { (t.older) " »" }
            }
        }
    };
    render::page(&staff.viewer(), Nav::Payments, t.payments, body)
}

/// `GET /admin/payments.csv` (an old bookmark, a prefetch): the list with the same filters,
/// where the export is a button. Nothing is written.
pub async fn export_asked(Owner(_): Owner, Query(query): Query<ListQuery>) -> Response {
    let filters = serde_urlencoded::to_string(query.filters()).unwrap_or_default();
    Redirect::to(&format!("/admin/payments?{filters}")).into_response()
}

/// `POST /admin/payments.csv`: the filtered list as CSV (owner only), every payment it
/// matches, and an audit line. From the dashboard's own origin only, as every POST
/// (`super::same_origin_only`).
pub async fn export(
    State(state): State<Arc<AppState>>,
    Owner(staff): Owner,
    axum::Form(query): axum::Form<ListQuery>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let zone = state.config.upstream.zone;
    let filter = match filter_of(&query, false, now, zone) {
        Ok(filter) => ListFilter {
            before_id: None,
            ..filter
        },
        Err(e) => return bad_filter(&staff, e),
    };
    let rows = match state.payments.book_rows(filter).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(&staff, e),
    };
    let csv = match export::csv(&rows) {
        Ok(csv) => csv,
        Err(e) => return unavailable(&staff, ServiceError::Internal(e)),
    };
    if let Err(e) = state
        .staff
        .record(
            &staff.email,
            AuditAction::Export,
            Some(format!("{} payments", rows.len())),
            staff.ip,
        )
        .await
    {
        tracing::error!(error = %e, "cannot audit an export");
    }
    let day = now.to_offset(zone).date();
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"payments-{day}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A payment the asker may see: any for the owner; for a cashier today's, and the sales
/// their counter lists (the last 12 hours, across midnight).
async fn visible_payment(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<Arc<PaymentRecord>, Response> {
    // Read from the store: another instance may have changed it since this one cached it.
    let record = match state.payments.stored(id).await {
        Ok(record) => record,
        Err(ServiceError::NotFound) => {
            return Err(render::message_page(
                staff.lang,
                StatusCode::NOT_FOUND,
                staff.t().not_found,
            ))
        }
        Err(e) => return Err(unavailable(staff, e)),
    };
    let zone = state.config.upstream.zone;
    let now = OffsetDateTime::now_utc();
    if !staff.is_owner()
        && record.created_at < start_of_today(now, zone)
        && !in_counter_list(&record, staff.email.as_str(), now)
    {
        return Err(render::message_page(
            staff.lang,
            StatusCode::FORBIDDEN,
            staff.t().today_only,
        ));
    }
    Ok(record)
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn detail(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let t = staff.t();
    let record = match visible_payment(&state, &staff, &id).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let (events, attempts) = match state.payments.timeline(&record.id).await {
        Ok(timeline) => timeline,
        Err(e) => return unavailable(&staff, e),
    };
    let now = OffsetDateTime::now_utc();
    let zone = state.config.upstream.zone;
    let notice = match done.done.as_str() {
        "resent" => Some(t.resent),
        "checked" => Some(t.checked),
        _ => None,
    };
    let status = status_at(&record, now);
    // The events this page shows: the live feed redraws it for any other (no clocks compared).
    let shown: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let body = html! {
        (render::notice(notice))
        div data-live="detail" data-live-since=(now_ms(now)) data-payment=(record.id)
            data-events=(shown.join(" ")) {
            (facts(t, &record, now, zone))
        }
        // The receipt, to open or copy for a customer (it says "not paid" until it is).
        p.receipt {
            a href={ "/r/" (record.receipt_token) } { (t.view_receipt) }
            @if let Some(url) = state.payments.views().receipt_url(&record.receipt_token) {
                " " code { (url) }
            }
        }
        @if status != Status::Paid {
            form method="post" action={ "/admin/payments/" (record.id) "/check" } {
                button type="submit" { (t.check_now) }
            }
        }
        h2 { (t.timeline) }
        (timeline(t, &staff, &record, &events, &attempts, zone))
    };
    render::page(
        &staff.viewer(),
        Nav::Payments,
        &format!("{} {}", t.payments, rupiah(record.total_amount)),
        body,
    )
}

fn facts(t: &Texts, p: &PaymentRecord, now: OffsetDateTime, zone: UtcOffset) -> maud::Markup {
    let status = status_at(p, now);
    html! {
        dl.facts {
            dt { (t.status) } dd { (status_badge(t, status)) @if p.late { " (" (t.late) ")" } }
            dt { (t.total) } dd.big { (rupiah(p.total_amount)) }
            dt { (t.amount) } dd { (rupiah(p.amount)) }
            dt { (t.unique_code) } dd { (p.unique_code) }
            dt { (t.created) } dd { (moment(p.created_at, zone)) }
            dt { (t.expires) } dd { (moment(p.expires_at, zone)) }
            @if let Some(paid) = p.paid_at { dt { (t.paid_at) } dd { (moment(paid, zone)) } }
            dt { (t.source) } dd { (p.source.as_str()) }
            @if let Some(link) = &p.payment_link_id {
                dt { (t.payment_links) } dd { a href={ "/admin/links#link-" (link) } { (link) } }
            }
            @if let Some(cashier) = &p.created_by {
                dt { (t.charged_by) } dd { (cashier) }
            }
            @if let Some(reference) = &p.reference { dt { (t.reference) } dd { (reference) } }
            dt { (t.invoice) } dd { (p.invoice) }
            @if !p.customer_name.is_empty() { dt { (t.customer) } dd { (p.customer_name) } }
            @if !p.description.is_empty() { dt { (t.description) } dd { (p.description) } }
            @if let Some(item) = &p.item { dt { "Item" } dd { (item) } }
            @if !p.metadata.is_empty() {
                dt { (t.metadata) }
                dd { ul.metadata { @for (k, v) in &p.metadata { li { code { (k) } ": " (v) } } } }
            }
            @if let Some(review) = p.review { dt { (t.review) } dd.warn { (review.as_str()) } }
            dt { "ID" } dd { code { (p.id) } }
        }
    }
}

fn timeline(
    t: &Texts,
    staff: &Staff,
    p: &PaymentRecord,
    events: &[EventRecord],
    attempts: &[StoredAttempt],
    zone: UtcOffset,
) -> maud::Markup {
    html! {
        ol.timeline {
            @for e in events {
                li data-event=(e.id) {
                    p.event {
                        strong { (e.event_type) } " · " (moment(e.created_at, zone))
                        " · " span class={ "delivery " (e.state.as_str()) } { (t.delivery) ": " (e.state.as_str()) }
                    }
                    p.small { code { (e.id) } }
                    @let mine: Vec<&StoredAttempt> = attempts.iter().filter(|a| a.event_id == e.id).collect();
                    @if mine.is_empty() {
                        p.small { (t.no_attempts) }
                    } @else {
                        table.attempts {
                            caption { (t.attempts) }
                            thead { tr { th scope="col" { (t.when) } th scope="col" { "HTTP" } th scope="col" { "ms" } } }
                            tbody {
                                @for a in mine {
                                    tr {
                                        td { (moment_secs(a.at, zone)) }
                                        td { (a.outcome) }
                                        td.num { @if let Some(ms) = a.duration_ms { (ms) } @else { "–" } }
                                    }
                                }
                            }
                        }
                    }
                    @if staff.is_owner() {
                        form method="post" action={ "/admin/payments/" (p.id) "/events/" (e.id) "/resend" } {
                            button type="submit" aria-label={ (t.resend) " " (e.event_type) } { (t.resend) }
                        }
                    }
                }
            }
        }
    }
}

fn moment_secs(at: OffsetDateTime, zone: UtcOffset) -> String {
    let local = at.to_offset(zone);
    format!("{}:{:02}", moment(at, zone), local.second())
}

/// **Check now**: PayDigital is asked through the one gate and the budget.
pub async fn check_now(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let record = match visible_payment(&state, &staff, &id).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    if let Err(e) = state.payments.check_now(&record.id).await {
        return match e {
            ServiceError::UpstreamBusy(_) => render::message_page(
                staff.lang,
                StatusCode::SERVICE_UNAVAILABLE,
                staff.t().upstream_busy,
            ),
            e => unavailable(&staff, e),
        };
    }
    if let Err(e) = state
        .staff
        .record(
            &staff.email,
            AuditAction::Check,
            Some(record.id.clone()),
            staff.ip,
        )
        .await
    {
        tracing::error!(error = %e, "cannot audit a check");
    }
    Redirect::to(&format!("/admin/payments/{}?done=checked", record.id)).into_response()
}

/// **Resend**: the event is queued again, with the same `webhook-id` (owner only).
pub async fn resend(
    State(state): State<Arc<AppState>>,
    Owner(staff): Owner,
    Path((id, event)): Path<(String, String)>,
) -> Response {
    let record = match visible_payment(&state, &staff, &id).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let belongs = match state.payments.timeline(&record.id).await {
        Ok((events, _)) => events.iter().any(|e| e.id == event),
        Err(e) => return unavailable(&staff, e),
    };
    if !ids::looks_like_event_id(&event) || !belongs {
        return render::message_page(staff.lang, StatusCode::NOT_FOUND, staff.t().not_found);
    }
    if let Err(e) = state.payments.resend(&event).await {
        return unavailable(&staff, e);
    }
    if let Err(e) = state
        .staff
        .record(
            &staff.email,
            AuditAction::Resend,
            Some(event.clone()),
            staff.ip,
        )
        .await
    {
        tracing::error!(error = %e, "cannot audit a resend");
    }
    Redirect::to(&format!("/admin/payments/{}?done=resent", record.id)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    const JAKARTA: UtcOffset = offset!(+7);

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).expect("enc")).expect("dec")
    }

    #[test]
    fn the_form_becomes_a_store_filter_and_nonsense_names_its_field() {
        let now = datetime!(2026-12-02 10:00 +7);
        let f = filter_of(
            &query(&[
                ("status", "paid"),
                ("q", " Sari "),
                ("from", "2026-12-01"),
                ("to", "2026-12-01"),
            ]),
            false,
            now,
            JAKARTA,
        )
        .expect("filter");
        assert_eq!(f.status, Some(Status::Paid));
        assert_eq!(f.search.as_deref(), Some("Sari"));
        // The whole of 1 December in Jakarta.
        assert_eq!(f.created_after, Some(datetime!(2026-11-30 23:59:59 +7)));
        assert_eq!(f.created_before, Some(datetime!(2026-12-02 00:00 +7)));
        assert_eq!(
            filter_of(&query(&[("status", "refunded")]), false, now, JAKARTA)
                .expect_err("status")
                .0,
            "status"
        );
        assert_eq!(
            filter_of(&query(&[("from", "1 Dec")]), false, now, JAKARTA)
                .expect_err("date")
                .0,
            "from"
        );
        assert_eq!(
            filter_of(&query(&[("after", "PYG123")]), false, now, JAKARTA)
                .expect_err("cursor")
                .0,
            "after"
        );
    }

    #[test]
    fn a_cashier_sees_today_whatever_the_form_says() {
        let now = datetime!(2026-12-02 10:00 +7);
        let f = filter_of(
            &query(&[("from", "2026-01-01"), ("to", "2026-12-31")]),
            true,
            now,
            JAKARTA,
        )
        .expect("filter");
        assert_eq!(f.created_after, Some(datetime!(2026-12-01 23:59:59 +7)));
        assert_eq!(f.created_before, None);
    }
}
