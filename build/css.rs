//! The widget's stylesheet as it goes into the wasm: shared by the widget's build script
//! (`build.rs`, which writes it for `src/widget/mod.rs`) and the proxy's
//! (`crates/proxy/build.rs`, which hashes the same bytes for the CSP of the pages that run
//! the widget, where a browser without constructable stylesheets falls back to a `<style>`).
//! One function, so the two cannot drift.

/// Drops comments and collapses whitespace; spaces next to `{ } ; , >` go, and after a `:`
/// (a declaration's: in a selector a `:` starts a word, and the space before it, a descendant
/// combinator, stays). This file's strings hold none of these characters.
pub fn minify(css: &str) -> String {
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
