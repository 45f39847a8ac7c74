//! The widget's stylesheet reaches the proxy through the build, as its CSP hash only: the
//! pages that run the widget (the hosted payment page, the counter) allow exactly that
//! stylesheet, for browsers without constructable stylesheets, where the widget falls back
//! to a `<style>` element in its shadow root: `../../www/checkout.css` as the widget's own
//! build minifies it (`../../build/css.rs`, the same function), byte for byte.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

#[path = "../../build/css.rs"]
mod css;

fn main() {
    let css = "../../www/checkout.css";
    println!("cargo:rerun-if-changed={css}");
    println!("cargo:rerun-if-changed=../../build/css.rs");
    let bytes = match std::fs::read_to_string(css) {
        Ok(text) => css::minify(&text),
        Err(e) => panic!("the widget's stylesheet {css}: {e}"),
    };
    let source = format!(
        "/// `'sha256-…'` of the stylesheet the widget may put in its shadow root.\n\
         pub const WIDGET_STYLE_HASH: &str = \"'sha256-{}'\";\n",
        STANDARD.encode(Sha256::digest(bytes.as_bytes()))
    );
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("widget_style.rs");
    if let Err(e) = std::fs::write(&out, source) {
        panic!("{}: {e}", out.display());
    }
}
