//! The widget's CSS goes into the wasm as text (`src/widget/mod.rs`, `STYLES`): its comments and
//! layout whitespace are bytes every shopper downloads. Written here without them (issue 33
//! paid for its constructable stylesheet and `csp_blocked` with them; BENCHMARKS.md).
use std::{env, fs, path::Path};

fn main() {
    let source = "www/checkout.css";
    println!("cargo:rerun-if-changed={source}");
    let css = fs::read_to_string(source).expect("www/checkout.css");
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    fs::write(Path::new(&out).join("checkout.min.css"), minify(&css)).expect("write the CSS");
}

/// Drops comments and collapses whitespace; spaces next to `{ } ; , >` go, and after a `:`
/// (a declaration's: in a selector a `:` starts a word, and the space before it, a descendant
/// combinator, stays). This file's strings hold none of these characters.
fn minify(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::with_capacity(text.len());
    for word in words {
        let glue = out.ends_with(['{', '}', ';', ',', '>', ':'])
            || word.starts_with(['{', '}', ';', ',', '>'])
            || out.is_empty();
        if !glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.replace(";}", "}")
}
