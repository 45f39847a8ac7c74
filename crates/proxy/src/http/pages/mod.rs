//! The pages the proxy draws for people, on one layer: `lang.rs` (one language rule for
//! every page, and the switch), `layout.rs` (the customer pages' frame and headers),
//! `assets.rs` (stylesheets and scripts as files with content-hashed names; `assets/`), and
//! a module per customer page holding only its handlers, its view and its texts: `hosted.rs`
//! (`/pay/{id}`), `link/` (`/l/{id}`), `receipt/` (`/r/{token}`), `docs/` (`/api/docs`). The dashboard (`http/admin/`)
//! draws its own pages on the same language rule and assets.
//!
//! No page has an inline style or script, and no page's policy says `'unsafe-inline'`.

pub mod assets;
pub mod docs;
pub mod hosted;
pub mod lang;
pub mod layout;
pub mod link;
pub mod receipt;

/// What the build tells about the widget (`build.rs`): its fallback stylesheet's CSP hash.
pub mod widget {
    include!(concat!(env!("OUT_DIR"), "/widget_style.rs"));
}
