//! PayDigital: the client that holds the merchant's key on the wire (`client.rs`), and a
//! sandbox PayDigital that speaks the same wire format (`sandbox/`) for the demo and tests.

mod client;
pub mod sandbox;

pub use client::{Upstream, UpstreamFailure};
