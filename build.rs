//! The widget's CSS goes into the wasm as text (`src/widget/mod.rs`, `STYLES`): its comments and
//! layout whitespace are bytes every shopper downloads. Written here without them (issue 33
//! paid for its constructable stylesheet and `csp_blocked` with them; BENCHMARKS.md).
use std::{env, fs, path::Path};

#[path = "build/css.rs"]
mod css;

fn main() {
    let source = "www/checkout.css";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=build/css.rs");
    let css = fs::read_to_string(source).expect("www/checkout.css");
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    fs::write(Path::new(&out).join("checkout.min.css"), css::minify(&css)).expect("write the CSS");
}
