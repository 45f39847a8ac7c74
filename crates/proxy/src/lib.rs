//! The merchant proxy for the PayDigital checkout widget: it keeps the key, sets prices,
//! talks to PayDigital, keeps every payment (SQLite, or PostgreSQL shared by several proxies)
//! and serves the widget. It also holds a sandbox PayDigital so the demo and the tests need
//! no account and no internet.
//!
//! One concern a module, arrows pointing down (nothing names a module above it):
//!
//! ```text
//!   startup ──▶ http ──▶ state ──▶ payments ──▶ domain, store, upstream
//!      │                    └────▶ staff ─────▶ domain, store
//!      └──────▶ workers ───────────────┘
//! ```
//! `http/` parses, authorises and answers; `payments/` is the service every front door and
//! worker calls; `staff/` the shop's people (accounts, sessions, the audit log); `domain/` is what a payment is and how it may change (no I/O); `store/`,
//! `upstream/` and `webhooks` talk to the database, PayDigital and the shop's server.
//! `config` is read by all of them and names none; so is `metrics`, what `/metrics` shows,
//! which only names the store's values it encodes; `logs`, the redactor every log line
//! passes (it reads `config`); and `posters`, a payment link's printable
//! page, which names nothing of the proxy's.

pub mod config;
pub mod domain;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod payments;
pub mod posters;
pub mod staff;
pub mod startup;
pub mod state;
pub mod store;
pub mod upstream;
pub mod webhooks;
pub mod workers;

pub use startup::{start, start_sandbox, Running, StartError};
