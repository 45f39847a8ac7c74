//! `/admin/live`: what changed since a moment, for the open pages to show without a reload.
//! A page polls it every 2 s with the `now` of its last answer; events are read by time
//! (with an overlap the page removes by event id), so a change committed late on another
//! instance is not skipped. Each change comes with its payment's row drawn as the lists draw
//! it, and a paid one with what the soundbox says and when it was paid: a page speaks only
//! what was paid after announcing was turned on and after the page opened (admin.js), never
//! what the overlap, a late check or a sleeping tab brings back from before.

use super::overview::{now_ms, today_and_week};
use super::render;
use super::session::Staff;
use crate::domain::clock::before;
use crate::domain::days::start_of_today;
use crate::domain::payment::{paid_by, status_at};
use crate::domain::words::announcement;
use crate::payments::{is_counter_sale_of, RECENT_SALES};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How far back a poll reads before the moment it names (commits that came late).
const OVERLAP: Duration = Duration::from_secs(10);
/// How far back any poll may reach (a tab that slept a day starts again from here).
const MAX_BACK: Duration = Duration::from_secs(300);
const MAX_CHANGES: usize = 200;

#[derive(Deserialize)]
pub struct LiveQuery {
    /// Unix milliseconds: the `now` of the page's previous answer (or of the page itself).
    since: i64,
    /// The last event of a full answer (its `after`): go on exactly after it, no overlap.
    #[serde(default)]
    after: Option<String>,
    /// `1`: also send today's summary and the week (the overview shows them).
    #[serde(default)]
    summary: u8,
}

#[derive(Serialize)]
pub struct Change {
    event: String,
    #[serde(rename = "type")]
    kind: String,
    payment: String,
    status: &'static str,
    /// The payment's row, as the lists draw it.
    row: String,
    /// What to say aloud, for a payment that was paid.
    announce: Option<String>,
    /// For a payment that was paid: unix milliseconds by which it surely was (`paid_by`),
    /// on the server's clock, as `now` is.
    paid_at: Option<i128>,
    /// A sale the person asking charged at the counter: their counter page lists it (made
    /// on another of their devices too).
    counter: bool,
}

#[derive(Serialize)]
pub struct Live {
    now: i128,
    /// Set when the answer was full: the next poll sends it back to read on from there.
    after: Option<String>,
    changes: Vec<Change>,
    summary: Option<String>,
}

pub async fn changes(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(query): Query<LiveQuery>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let zone = state.config.upstream.zone;
    let asked = OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(query.since).saturating_mul(1_000_000),
    )
    .unwrap_or(now);
    // An event id is 30-odd characters; anything longer is not one of ours.
    let after = query.after.filter(|id| !id.is_empty() && id.len() <= 64);
    let floor = before(now, MAX_BACK);
    let since = match after {
        Some(_) => asked.max(floor),
        None => before(asked, OVERLAP).max(floor),
    };
    let events = match state
        .payments
        .events_since(since, after.clone(), MAX_CHANGES)
        .await
    {
        Ok(events) => events,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the live feed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // A full answer may have left events out: the next poll goes on after the last one given
    // (by its place in the log: a burst of one instant may hold more than a page).
    let (answered_to, next_after) = match events.last() {
        Some(last) if events.len() >= MAX_CHANGES => (last.created_at, Some(last.id.clone())),
        _ => (now, None),
    };
    let t = staff.t();
    // A cashier's pages show today's payments, and the counter its last hours' sales.
    let cashier_sees_from = start_of_today(now, zone).min(before(now, RECENT_SALES));
    let mut changes = Vec::new();
    for event in events {
        let Ok(record) = state.payments.stored(&event.payment_id).await else {
            continue;
        };
        if !staff.is_owner() && record.created_at < cashier_sees_from {
            continue;
        }
        let status = status_at(&record, now);
        let paid = event.event_type == "payment.paid";
        let announce = paid.then(|| announcement(record.total_amount));
        let paid_at = paid.then(|| now_ms(paid_by(&record, event.created_at)));
        changes.push(Change {
            row: render::to_html(render::payment_row(t, &record, now, zone)),
            event: event.id,
            kind: event.event_type,
            payment: record.id.clone(),
            status: status.as_str(),
            announce,
            paid_at,
            counter: is_counter_sale_of(&record, staff.email.as_str()),
        });
    }
    let summary = if query.summary == 1 && staff.is_owner() && !changes.is_empty() {
        match today_and_week(&state, t, now).await {
            Ok(markup) => Some(render::to_html(markup)),
            Err(response) => return response,
        }
    } else {
        None
    };
    Json(Live {
        now: now_ms(answered_to),
        after: next_after,
        changes,
        summary,
    })
    .into_response()
}
