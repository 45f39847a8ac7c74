//! `/admin/audit` (owner): who signed in, failed to, signed out, resent, checked, exported —
//! newest first, paged by the log's own sequence.

use super::render::{self, moment, Nav};
use super::session::Owner;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

const PAGE: usize = 50;

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    before: Option<String>,
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    Owner(staff): Owner,
    Query(query): Query<AuditQuery>,
) -> Response {
    let t = staff.t();
    let before = match query
        .before
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                return render::message_page(
                    staff.lang,
                    StatusCode::BAD_REQUEST,
                    &format!("{}: before", t.bad_request),
                )
            }
        },
    };
    let mut lines = match state.staff.audit_log(before, PAGE + 1).await {
        Ok(lines) => lines,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit log");
            return render::message_page(
                staff.lang,
                StatusCode::SERVICE_UNAVAILABLE,
                t.unavailable,
            );
        }
    };
    let more = lines.len() > PAGE;
    lines.truncate(PAGE);
    let zone = state.config.upstream.zone;
    let body = html! {
        table.audit {
            thead { tr {
                th scope="col" { (t.when) } th scope="col" { (t.who) } th scope="col" { (t.action) }
                th scope="col" { (t.subject) } th scope="col" { (t.ip) }
            } }
            tbody {
                @for line in &lines {
                    tr {
                        td data-label=(t.when) { (moment(line.entry.at, zone)) }
                        td data-label=(t.who) { (line.entry.actor) }
                        td data-label=(t.action) { code { (line.entry.action) } }
                        td data-label=(t.subject) { (line.entry.subject.as_deref().unwrap_or("")) }
                        td data-label=(t.ip) { (line.entry.ip.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if more {
            @if let Some(last) = lines.last() {
                nav.paging aria-label=(t.audit_log) { a href={ "/admin/audit?before=" (last.seq) } rel="next" { (t.older) " »" } }
            }
        }
    };
    render::page(&staff.viewer(), Nav::Audit, t.audit_log, body)
}
