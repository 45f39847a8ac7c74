//! PayDigital: the client that holds the merchant's key on the wire (`client.rs`), the one
//! budget every call it makes goes through (`budget.rs`), and a sandbox PayDigital that
//! speaks the same wire format (`sandbox/`) for the demo and tests.

pub mod budget;
mod client;
pub mod sandbox;

pub use budget::{Budget, Call};
pub use client::{ClientError, Upstream, UpstreamFailure};
