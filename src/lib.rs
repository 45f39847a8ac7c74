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
pub use widget::{mount, mount_with_create, CheckoutHandle};

// talc instead of Rust's default dlmalloc: fewer bytes to download and faster allocation on
// a slow phone (issue 23; BENCHMARKS.md, "Time to QR"). The widget is single-threaded wasm.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
