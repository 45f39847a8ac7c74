//! Stylesheets and scripts of the proxy's pages, as files built into the binary (no
//! `dist/`, nothing from another host) and served at `/assets/{stem}.{hash}.{ext}`: the name
//! carries the first bytes of the file's SHA-256, so an answer may be kept for a year
//! (`immutable`) and a new release is a new name, never a stale file on a phone. Each page
//! module declares its own [`Asset`]s; `http/mod.rs` hands them all to [`router`].

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// One file: its plain name (`admin.css`) and its bytes.
pub struct Asset {
    name: &'static str,
    body: &'static str,
    hashed: OnceLock<String>,
}

impl Asset {
    pub const fn new(name: &'static str, body: &'static str) -> Asset {
        Asset {
            name,
            body,
            hashed: OnceLock::new(),
        }
    }

    /// `admin.css` → `admin.0123456789ab.css`.
    pub fn file_name(&self) -> &str {
        self.hashed.get_or_init(|| {
            let digest = Sha256::digest(self.body.as_bytes());
            let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            match self.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", self.name),
            }
        })
    }

    /// Where a page links it.
    pub fn url(&self) -> String {
        format!("/assets/{}", self.file_name())
    }

    fn content_type(&self) -> &'static str {
        match self.name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        }
    }
}

type Files = Arc<HashMap<String, &'static Asset>>;

/// `/assets/{file}` for every asset given, by its hashed name only.
pub fn router<S>(assets: &[&'static Asset]) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let files: Files = Arc::new(
        assets
            .iter()
            .map(|asset| (asset.file_name().to_owned(), *asset))
            .collect(),
    );
    Router::new()
        .route("/assets/{file}", get(file))
        .with_state(files)
}

async fn file(State(files): State<Files>, Path(name): Path<String>) -> Response {
    let Some(asset) = files.get(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type()),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    static ONE: Asset = Asset::new("one.css", "body{color:#111}");
    static TWO: Asset = Asset::new("one.css", "body{color:#222}");

    #[test]
    fn a_new_body_is_a_new_name() {
        assert!(ONE.file_name().starts_with("one."));
        assert!(ONE.file_name().ends_with(".css"));
        assert_ne!(ONE.file_name(), TWO.file_name());
        assert_eq!(ONE.url(), format!("/assets/{}", ONE.file_name()));
    }

    #[tokio::test]
    async fn served_by_hashed_name_only_and_kept_for_a_year() {
        let app: Router = router(&[&ONE]);
        let answer = app
            .clone()
            .oneshot(
                Request::get(ONE.url())
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answer");
        assert_eq!(answer.status(), 200);
        assert_eq!(
            answer.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        assert_eq!(
            answer.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        for stale in ["/assets/one.css", "/assets/one.000000000000.css"] {
            let answer = app
                .clone()
                .oneshot(Request::get(stale).body(Body::empty()).expect("request"))
                .await
                .expect("answer");
            assert_eq!(answer.status(), 404, "{stale}");
        }
    }
}
