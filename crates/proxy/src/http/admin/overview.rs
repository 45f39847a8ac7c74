//! `/admin/`: today's money, the week, the latest payments (the owner's landing page; a
//! cashier lands on the counter).

use super::render::{self, Nav};
use super::session::Staff;
use super::texts::Texts;
use crate::domain::days::{day_number, last_days, start_of_day};
use crate::state::AppState;
use crate::store::ListFilter;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use std::sync::Arc;
use time::OffsetDateTime;

const LATEST: usize = 10;

pub async fn page(State(state): State<Arc<AppState>>, staff: Staff) -> Response {
    if !staff.is_owner() {
        return Redirect::to("/admin/counter").into_response();
    }
    let t = staff.t();
    let now = OffsetDateTime::now_utc();
    let zone = state.config.upstream.zone;
    let summary = match today_and_week(&state, t, now).await {
        Ok(markup) => markup,
        Err(response) => return response,
    };
    let latest = state
        .payments
        .list(ListFilter {
            limit: LATEST,
            now: Some(now),
            ..ListFilter::default()
        })
        .await;
    let Ok(latest) = latest else {
        return render::message_page(staff.lang, StatusCode::SERVICE_UNAVAILABLE, t.unavailable);
    };
    let rows = html! { @for p in &latest.data { (render::payment_row(t, p, now, zone)) } };
    let body = html! {
        div data-live="overview" data-live-since=(now_ms(now)) {
            (summary)
            h2 { (t.latest_payments) }
            (render::payments_table(t, rows, latest.data.is_empty(), true))
            p { a href="/admin/payments" { (t.payments) " →" } }
        }
    };
    render::page(&staff.viewer(), Nav::Overview, t.overview, body)
}

/// Today's total and the week's chart, as the overview and the live feed draw them.
pub async fn today_and_week(
    state: &AppState,
    t: &Texts,
    now: OffsetDateTime,
) -> Result<Markup, Response> {
    let zone = state.config.upstream.zone;
    let week_start = start_of_day(day_number(now, zone).saturating_sub(6), zone);
    let totals = state.payments.paid_by_day(week_start).await.map_err(|e| {
        tracing::error!(error = %e, "cannot read the week's totals");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    let days = last_days(now, zone, 7, &totals);
    Ok(html! {
        div #summary {
            @if let Some(today) = days.last() { (render::today_summary(t, today)) }
            (render::week_chart(t, &days))
        }
    })
}

pub fn now_ms(now: OffsetDateTime) -> i128 {
    now.unix_timestamp_nanos() / 1_000_000
}
