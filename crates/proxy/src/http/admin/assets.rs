//! The dashboard's own script and styles (`assets/`), built into the binary and served by
//! the pages' asset route under content-hashed names (`http/pages/assets.rs`).

use crate::http::pages::assets::Asset;

pub static ADMIN_JS: Asset = Asset::new("admin.js", include_str!("assets/admin.js"));
pub static ADMIN_CSS: Asset = Asset::new("admin.css", include_str!("assets/admin.css"));
pub static COUNTER_JS: Asset = Asset::new("counter.js", include_str!("assets/counter.js"));
