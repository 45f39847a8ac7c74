//! What the proxy tells Prometheus: `GET /metrics` on `CHECKOUT_METRICS_LISTEN`, in the
//! Prometheus text format (prometheus-client's encoder). Counters and histograms are kept
//! here as things happen — requests by route template (`http/metrics.rs` records them),
//! PayDigital calls and the budget's refusals (`upstream/`), webhook attempts
//! (`workers/deliver.rs`), store errors (the services' store calls), scheduled backup
//! snapshots (`workers/backup.rs`) — each a few atomic operations. What the store holds
//! (open payments, the webhook queue) is read once per scrape ([`Backlog`]), not kept up
//! to date on every change.
//!
//! Labels are bounded: a route is its template (`/api/payments/{id}`), never a payment id; a
//! method outside the usual seven is `other`; outcomes are the few words below.
//!
//! Like `config`, read by the modules that record and naming none of them.

use crate::store::{Backlog, StoreError};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use time::OffsetDateTime;

/// The `Content-Type` of what [`Metrics::encode`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every metric's name starts with this and `_`.
pub const PREFIX: &str = "checkout";

/// Request latency buckets, seconds: a status read takes well under a millisecond, a create
/// waits for PayDigital (its timeout is 10 s).
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// PayDigital and webhook receivers: tens of milliseconds to their timeouts (10 s, 15 s).
const REMOTE_BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0,
];

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

fn remote_histogram() -> Histogram {
    Histogram::new(REMOTE_BUCKETS)
}

/// A request's route: the template axum matched (shared, never copied per request), a name
/// its router gave it (`/checkout/`, the widget's files), or `unmatched` for what no route
/// took (a 404).
#[derive(Clone, Debug)]
pub struct Route(RouteName);

#[derive(Clone, Debug)]
enum RouteName {
    Matched(axum::extract::MatchedPath),
    Static(&'static str),
}

impl Route {
    pub fn matched(path: axum::extract::MatchedPath) -> Route {
        Route(RouteName::Matched(path))
    }

    /// A route named by its router (a nested service, whose template axum keeps to itself).
    pub const fn fixed(name: &'static str) -> Route {
        Route(RouteName::Static(name))
    }

    pub const UNMATCHED: Route = Route::fixed("unmatched");

    pub fn as_str(&self) -> &str {
        match &self.0 {
            RouteName::Matched(path) => tidy_route(path.as_str()),
            RouteName::Static(name) => name,
        }
    }
}

/// A nested service's template ends in axum's private tail parameter: shown as `{*path}`.
fn tidy_route(template: &str) -> &str {
    match template.find("{*__private__axum_nest_tail_param}") {
        // The files under `/checkout/`: one route, whatever the file.
        Some(at) if template[..at].ends_with('/') => &template[..at],
        _ => template,
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Route) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// A method as a label: the usual ones by name, anything else `other` (a client may send
/// any token as a method).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: Route,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: Route,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    instance_id: String,
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

/// What the budget refused, by who asked (`upstream::Call`'s words).
pub const BUDGET_CALLS: [&str; 3] = ["create", "watched_status", "background_status"];
/// What a webhook attempt left its event in.
pub const WEBHOOK_OUTCOMES: [&str; 4] = ["delivered", "retry", "failed", "abandoned"];
/// Store errors: the database could not be reached, or a query failed.
pub const STORE_ERROR_KINDS: [&str; 2] = ["unavailable", "query"];

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    upstream_calls: Family<UpstreamLabels, Counter>,
    upstream_duration: HistogramFamily<KindLabels>,
    budget_refusals: Family<CallLabels, Counter>,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    webhook_duration: Histogram,
    store_errors: Family<KindLabels, Counter>,
    backup_snapshots: Family<ResultLabels, Counter>,
    backup_last_success: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// The proxy's metrics, all at zero, with `instance_id` in `checkout_instance_info`.
    pub fn new(instance_id: &str) -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = HistogramFamily::<RouteLabels>::new_with_constructor(http_histogram);
        let upstream_calls = Family::<UpstreamLabels, Counter>::default();
        let upstream_duration =
            HistogramFamily::<KindLabels>::new_with_constructor(remote_histogram);
        let budget_refusals = Family::<CallLabels, Counter>::default();
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        let webhook_duration = remote_histogram();
        let store_errors = Family::<KindLabels, Counter>::default();
        let backup_snapshots = Family::<ResultLabels, Counter>::default();
        let backup_last_success: Gauge = Gauge::default();
        for result in ["ok", "failed"] {
            drop(backup_snapshots.get_or_create(&ResultLabels { result }));
        }
        // The few words a label can take are there from the start, at 0: a rate over them
        // is 0, not "no data", before the first refusal.
        for call in BUDGET_CALLS {
            drop(budget_refusals.get_or_create(&CallLabels { call }));
        }
        for outcome in WEBHOOK_OUTCOMES {
            drop(webhook_attempts.get_or_create(&OutcomeLabels { outcome }));
        }
        for kind in STORE_ERROR_KINDS {
            drop(store_errors.get_or_create(&KindLabels { kind }));
        }
        registry.register(
            "instance",
            "This proxy: its CHECKOUT_INSTANCE_ID and version (always 1)",
            Info::new(InstanceLabels {
                instance_id: instance_id.to_owned(),
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to its headers), by method and route template",
            http_duration.clone(),
        );
        registry.register(
            "upstream_calls",
            "Calls made to PayDigital, by kind (create, status) and outcome (ok, timeout, \
             transport, http_4xx, http_5xx, refused, bad_answer, too_large)",
            upstream_calls.clone(),
        );
        registry.register(
            "upstream_call_duration_seconds",
            "Time a PayDigital call took, by kind",
            upstream_duration.clone(),
        );
        registry.register(
            "upstream_budget_refusals",
            "PayDigital calls not made because the group's budget was spent, by caller \
             (create, watched_status, background_status)",
            budget_refusals.clone(),
        );
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by what they left the event in (delivered, retry, \
             failed: the schedule ran out, abandoned: the receiver answered 410)",
            webhook_attempts.clone(),
        );
        registry.register(
            "webhook_attempt_duration_seconds",
            "Time a webhook receiver took to answer (or to fail)",
            webhook_duration.clone(),
        );
        registry.register(
            "store_errors",
            "Store calls that failed, by kind (unavailable: no connection; query: the \
             database refused or the data is corrupt)",
            store_errors.clone(),
        );
        registry.register(
            "backup_snapshots",
            "Scheduled snapshots of the SQLite store (CHECKOUT_BACKUP_DIR), by result (ok, \
             failed: nothing was kept, see the log)",
            backup_snapshots.clone(),
        );
        registry.register(
            "backup_last_success_timestamp_seconds",
            "When the newest good snapshot was taken, unix seconds (0: none yet by this \
             process)",
            backup_last_success.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            upstream_calls,
            upstream_duration,
            budget_refusals,
            webhook_attempts,
            webhook_duration,
            store_errors,
            backup_snapshots,
            backup_last_success,
        }
    }

    /// A scheduled snapshot taken at `at` (`ok`) or not (failed).
    pub fn backup_snapshot(&self, ok: bool, at: OffsetDateTime) {
        let result = if ok { "ok" } else { "failed" };
        self.backup_snapshots
            .get_or_create(&ResultLabels { result })
            .inc();
        if ok {
            self.backup_last_success.set(at.unix_timestamp());
        }
    }

    /// One request answered.
    pub fn http_request(&self, method: &'static str, route: &Route, status: u16, took: Duration) {
        let route = route.clone();
        self.http_duration
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.http_requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// One call to PayDigital made (a retry is a call of its own).
    pub fn upstream_call(&self, kind: &'static str, outcome: &'static str, took: Duration) {
        self.upstream_calls
            .get_or_create(&UpstreamLabels { kind, outcome })
            .inc();
        self.upstream_duration
            .get_or_create(&KindLabels { kind })
            .observe(took.as_secs_f64());
    }

    /// A call the budget did not allow (`call`: one of [`BUDGET_CALLS`]).
    pub fn budget_refused(&self, call: &'static str) {
        self.budget_refusals
            .get_or_create(&CallLabels { call })
            .inc();
    }

    /// A webhook attempt made (`outcome`: one of [`WEBHOOK_OUTCOMES`]).
    pub fn webhook_attempt(&self, outcome: &'static str, took: Duration) {
        self.webhook_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.webhook_duration.observe(took.as_secs_f64());
    }

    /// A store call failed. A list's unknown cursor is the caller's mistake, not counted.
    pub fn store_error(&self, error: &StoreError) {
        let kind = match error {
            StoreError::UnknownCursor(_) => return,
            StoreError::Unavailable { .. } => "unavailable",
            _ => "query",
        };
        self.store_errors.get_or_create(&KindLabels { kind }).inc();
    }

    /// Everything, as Prometheus reads it. `backlog`: what the store held at `now`, or
    /// `None` when it could not be read (`checkout_store_up 0`, and no store gauges).
    pub fn encode(&self, backlog: Option<&Backlog>, now: OffsetDateTime) -> String {
        let mut text = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        let _ = prometheus_client::encoding::prometheus_text::encode(
            &mut text,
            &backlog_registry(backlog, now),
        );
        text
    }
}

/// The gauges read from the store for one scrape. With several proxies on one PostgreSQL,
/// each reports the same group-wide values: aggregate them with `max`, not `sum`.
fn backlog_registry(backlog: Option<&Backlog>, now: OffsetDateTime) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    let up: Gauge = Gauge::default();
    up.set(i64::from(backlog.is_some()));
    registry.register(
        "store_up",
        "1 when this scrape could read the store, else 0",
        up,
    );
    let Some(backlog) = backlog else {
        return registry;
    };
    let count = |n: u64| {
        let gauge: Gauge = Gauge::default();
        gauge.set(i64::try_from(n).unwrap_or(i64::MAX));
        gauge
    };
    let open = Family::<StatusLabels, Gauge>::default();
    open.get_or_create(&StatusLabels { status: "pending" })
        .set(i64::try_from(backlog.payments_pending).unwrap_or(i64::MAX));
    open.get_or_create(&StatusLabels { status: "expired" })
        .set(i64::try_from(backlog.payments_expired_watched).unwrap_or(i64::MAX));
    registry.register(
        "open_payments",
        "Payments still checked at PayDigital, by status: pending (the code is payable) and \
         expired (checked for a late payment until CHECKOUT_LATE_PAYMENT_GRACE_SECS)",
        open,
    );
    registry.register(
        "webhook_queue_pending",
        "Webhook events waiting for delivery (first attempt or a retry)",
        count(backlog.events_pending),
    );
    let age = backlog
        .oldest_pending_event_at
        .map_or(0.0, |at| (now - at).as_seconds_f64().max(0.0));
    let oldest: Gauge<f64, AtomicU64> = Gauge::default();
    oldest.set(age);
    registry.register(
        "webhook_queue_oldest_seconds",
        "Age of the oldest event not yet delivered, seconds (0 when none waits)",
        oldest,
    );
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_templates_and_nested_files_one_route() {
        assert_eq!(
            tidy_route("/checkout/{*__private__axum_nest_tail_param}"),
            "/checkout/"
        );
        assert_eq!(tidy_route("/api/payments/{id}"), "/api/payments/{id}");
        assert_eq!(Route::UNMATCHED.as_str(), "unmatched");
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
        let odd = axum::http::Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&odd), "other");
    }

    #[test]
    fn encodes_prometheus_text_with_the_store_gauges() {
        let metrics = Metrics::new("px-test");
        metrics.upstream_call("create", "ok", Duration::from_millis(30));
        metrics.budget_refused("background_status");
        metrics.webhook_attempt("delivered", Duration::from_millis(5));
        let at = time::macros::datetime!(2026-11-24 07:00:00 UTC);
        metrics.backup_snapshot(true, at);
        metrics.backup_snapshot(false, at + Duration::from_secs(60));
        let now = time::macros::datetime!(2026-11-24 08:00:00 UTC);
        let backlog = Backlog {
            payments_pending: 3,
            payments_expired_watched: 1,
            events_pending: 2,
            oldest_pending_event_at: Some(now - Duration::from_secs(90)),
        };
        let text = metrics.encode(Some(&backlog), now);
        for line in [
            "checkout_instance_info{instance_id=\"px-test\",version=\"",
            "checkout_upstream_calls_total{kind=\"create\",outcome=\"ok\"} 1\n",
            "checkout_upstream_budget_refusals_total{call=\"background_status\"} 1\n",
            "checkout_upstream_budget_refusals_total{call=\"create\"} 0\n",
            "checkout_webhook_attempts_total{outcome=\"delivered\"} 1\n",
            "checkout_open_payments{status=\"pending\"} 3\n",
            "checkout_webhook_queue_oldest_seconds 90",
            "checkout_store_up 1\n",
            "checkout_backup_snapshots_total{result=\"ok\"} 1\n",
            "checkout_backup_snapshots_total{result=\"failed\"} 1\n",
            "checkout_backup_last_success_timestamp_seconds 1795503600\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        let down = metrics.encode(None, now);
        assert!(down.contains("checkout_store_up 0\n"), "{down}");
        assert!(!down.contains("checkout_open_payments"), "{down}");
    }
}
