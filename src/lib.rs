//! The PayDigital checkout widget.
//!
//! Pure logic lives in modules that build and test natively: [`machine`] (the payment's
//! state machine), [`options`], [`format`], [`i18n`] and [`qr`]. The browser side
//! (`widget`, wasm32 only) renders that state with Leptos inside a shadow root, talks to
//! the merchant proxy and tells the host page through events.

pub mod format;
pub mod i18n;
pub mod machine;
pub mod options;
pub mod qr;

#[cfg(target_arch = "wasm32")]
mod widget;
#[cfg(target_arch = "wasm32")]
pub use widget::{mount, CheckoutHandle};
