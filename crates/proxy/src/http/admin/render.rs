//! How the dashboard draws things, once each: the page around every page (navigation by
//! role, the language switch, the announcement toggle), a payment's row (the lists and the
//! live feed send the same one), its status, moments in the shop's zone, the week's chart.
//! maud escapes every value it is given.

use super::assets::{ADMIN_CSS, ADMIN_JS};
use super::texts::{texts, Texts};
use crate::domain::days::Day;
use crate::domain::payment::{status_at, PaymentRecord};
use crate::domain::staff::Role;
use crate::http::pages::lang::{switch_href, PageLang};
use crate::http::pages::layout::ICON;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use paydigital::{rupiah, Status};
use time::{OffsetDateTime, UtcOffset};

/// Which navigation link is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Payments,
    Links,
    Counter,
    Receipts,
    Audit,
    None,
}

fn head(t: &Texts, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="robots" content="noindex";
            title { (title) " · " (t.title) }
            link rel="icon" type="image/svg+xml" href=(ICON.url());
            link rel="stylesheet" href=(ADMIN_CSS.url());
            script src=(ADMIN_JS.url()) defer {}
        }
    }
}

/// Who a page is drawn for: what the navigation and the header show.
pub struct Viewer<'a> {
    pub email: &'a str,
    pub role: Role,
    pub lang: PageLang,
}

/// A page for a signed-in member of staff.
pub fn page(staff: &Viewer<'_>, nav: Nav, title: &str, body: Markup) -> Response {
    let t = texts(staff.lang);
    let link = |target: Nav, href: &str, label: &str| {
        html! {
            @if nav == target {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(t.lang) {
            (head(t, title))
            body {
                a.skip href="#main" { (t.skip_to_content) }
                header.top {
                    nav aria-label=(t.main_nav) {
                        @if staff.role == Role::Owner {
                            (link(Nav::Overview, "/admin/", t.overview))
                        }
                        (link(Nav::Payments, "/admin/payments", t.payments))
                        @if staff.role == Role::Owner {
                            (link(Nav::Links, "/admin/links", t.payment_links))
                        }
                        (link(Nav::Counter, "/admin/counter", t.counter))
                        (link(Nav::Receipts, "/admin/receipts", t.check_receipt))
                        @if staff.role == Role::Owner {
                            (link(Nav::Audit, "/admin/audit", t.audit_log))
                        }
                        form.signout method="post" action="/admin/logout" {
                            button type="submit" { (t.sign_out) }
                        }
                    }
                    div.tools {
                        label.announce {
                            input #announce type="checkbox";
                            " " (t.announce)
                        }
                        a.lang href=(switch_href(staff.lang, "/admin/")) lang=(staff.lang.other().code()) { (t.other_language) }
                        span.who { (staff.email) }
                    }
                    p #announce-hint hidden { (t.announce_tap) }
                }
                main #main { h1 { (title) } (body) }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page for someone not signed in (the login page, errors before a session).
pub fn bare_page(lang: PageLang, status: StatusCode, title: &str, body: Markup) -> Response {
    let t = texts(lang);
    let markup = html! {
        (DOCTYPE)
        html lang=(t.lang) {
            (head(t, title))
            body.bare {
                main #main { h1 { (title) } (body) }
            }
        }
    };
    (status, Html(markup.into_string())).into_response()
}

/// A short message as a whole page (403, 404, 503).
pub fn message_page(lang: PageLang, status: StatusCode, message: &str) -> Response {
    bare_page(
        lang,
        status,
        status.canonical_reason().unwrap_or("Error"),
        html! { p { (message) } p { a href="/admin/" { (texts(lang).overview) } } },
    )
}

/// A moment as the shop reads it: `2026-12-02 10:15` in its zone.
pub fn moment(at: OffsetDateTime, zone: UtcOffset) -> String {
    let local = at.to_offset(zone);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

pub fn status_word(t: &Texts, status: Status) -> &'static str {
    match status {
        Status::Pending => t.pending,
        Status::Paid => t.paid,
        Status::Expired => t.expired,
    }
}

/// A status as a badge (words, not only a colour).
pub fn status_badge(t: &Texts, status: Status) -> Markup {
    html! { span class={ "badge " (status.as_str()) } data-status=(status.as_str()) { (status_word(t, status)) } }
}

/// One payment as a table row: what the lists show and the live feed sends.
pub fn payment_row(t: &Texts, p: &PaymentRecord, now: OffsetDateTime, zone: UtcOffset) -> Markup {
    let status = status_at(p, now);
    html! {
        tr id={ "row-" (p.id) } data-payment=(p.id) {
            td data-label=(t.created) { (moment(p.created_at, zone)) }
            td.num data-label=(t.total) { (rupiah(p.total_amount)) }
            td data-label=(t.status) { (status_badge(t, status)) @if p.late { " *" } }
            td data-label=(t.customer) { (p.customer_name) }
            td data-label=(t.reference) { (p.reference.as_deref().unwrap_or("")) }
            td data-label=(t.payments) { a href={ "/admin/payments/" (p.id) } { (p.id) } }
        }
    }
}

/// The table the rows go in; `live_prepend`: new payments are added at its top.
pub fn payments_table(t: &Texts, rows: Markup, empty: bool, live_prepend: bool) -> Markup {
    html! {
        table.payments data-live-prepend[live_prepend] {
            thead { tr {
                th scope="col" { (t.created) } th scope="col" { (t.total) } th scope="col" { (t.status) }
                th scope="col" { (t.customer) } th scope="col" { (t.reference) } th scope="col" { "ID" }
            } }
            tbody #rows { (rows) }
        }
        p.empty hidden[!empty] { (t.none_found) }
    }
}

/// Today's paid total and count.
pub fn today_summary(t: &Texts, today: &Day) -> Markup {
    html! {
        section #today aria-live="polite" {
            h2 { (t.today_paid) }
            p.big { (rupiah(today.total)) }
            p { (today.count) " " (t.payments_count) }
        }
    }
}

/// The week as bars, drawn here: no script, no third party.
pub fn week_chart(t: &Texts, days: &[Day]) -> Markup {
    const WIDTH: u64 = 320;
    const HEIGHT: u64 = 120;
    const BAR: u64 = 32;
    let most = days.iter().map(|d| d.total).max().unwrap_or(0).max(1);
    let step = WIDTH / u64::try_from(days.len().max(1)).unwrap_or(1);
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT + 20) } role="img" aria-label=(t.chart_label) {
                @for (i, day) in days.iter().enumerate() {
                    @let x = step.saturating_mul(u64::try_from(i).unwrap_or(0)) + (step.saturating_sub(BAR)) / 2;
                    @let h = day.total.saturating_mul(HEIGHT) / most;
                    rect x=(x) y=(HEIGHT - h) width=(BAR) height=(h.max(1)) {
                        title { (day.date) ": " (rupiah(day.total)) " (" (day.count) ")" }
                    }
                    text x=(x + BAR / 2) y=(HEIGHT + 15) text-anchor="middle" { (day.date.day()) }
                }
            }
            figcaption { (t.last_7_days) }
            table.sr-only {
                caption { (t.chart_label) }
                tbody { @for day in days { tr { th scope="row" { (day.date) } td { (rupiah(day.total)) } td { (day.count) } } } }
            }
        }
    }
}

/// A notice after an action (`?done=`).
pub fn notice(text: Option<&str>) -> Markup {
    html! { @if let Some(text) = text { p.notice role="status" { (text) } } }
}

/// Raw markup already escaped by maud, as JSON carries it to the live feed.
pub fn to_html(markup: Markup) -> String {
    markup.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::sample;
    use time::macros::{date, offset};

    #[test]
    fn a_row_escapes_what_a_customer_wrote() {
        let mut p = sample("PYG-ROW", None);
        p.customer_name = "<script>alert(1)</script>".into();
        let row =
            payment_row(&super::super::texts::ID, &p, p.created_at, offset!(+7)).into_string();
        assert!(row.contains("&lt;script&gt;"), "{row}");
        assert!(!row.contains("<script>"));
        assert!(row.contains(&format!("id=\"row-{}\"", p.id)));
    }

    #[test]
    fn the_chart_has_a_bar_and_a_text_alternative_per_day() {
        let days: Vec<Day> = (0..7)
            .map(|i| Day {
                date: date!(2026 - 11 - 26).saturating_add(time::Duration::days(i)),
                count: 1,
                total: 1000 * (i as u64 + 1),
            })
            .collect();
        let svg = week_chart(&super::super::texts::EN, &days).into_string();
        assert_eq!(svg.matches("<rect").count(), 7);
        assert!(svg.contains("Rp 7.000"));
        assert!(svg.contains("role=\"img\""));
    }
}
