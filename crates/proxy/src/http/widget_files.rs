//! The built widget's files under `/checkout/`, and in sandbox the demo storefront at `/`.

use super::kit::usable_from_any_origin;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// Trunk names built files `name-<16 hex digits>.ext` (wasm: `name-<hash>_bg.wasm`).
fn is_content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Any origin may load the widget, and read its files' timings (`Timing-Allow-Origin`: a shop
/// measuring its checkout page sees where the widget's time goes, issue 23); hashed files are
/// cached for a year (`immutable`: a repeat visit asks nothing, and Chromium keeps the wasm's
/// compiled code with them), the rest revalidated.
async fn widget_headers(req: Request, next: Next) -> Response {
    let hashed = is_content_hashed(req.uri().path());
    let types = req.uri().path().ends_with(".d.ts");
    let mut response = next.run(req).await;
    // axum tells a nested service's route to nobody outside it: the metrics' route is told
    // here (one for all the files).
    response
        .extensions_mut()
        .insert(crate::metrics::Route::fixed("/checkout/"));
    usable_from_any_origin(response.headers_mut());
    response.headers_mut().insert(
        header::HeaderName::from_static("timing-allow-origin"),
        HeaderValue::from_static("*"),
    );
    // `paydigital-checkout.d.ts` (issue 33): guessed from `.ts` it would be `video/mp2t`.
    if types && response.status().is_success() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/typescript; charset=utf-8"),
        );
    }
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let cache = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

/// The widget's files; with `storefront`, the demo shop at `/` too (in sandbox only: a live
/// proxy's front page is nobody's shop).
pub fn router(static_dir: &Path, storefront: bool) -> Router {
    let files = ServeDir::new(static_dir)
        .precompressed_br()
        .precompressed_gzip();
    let index: PathBuf = static_dir.join("index.html");
    let router = Router::new()
        .nest_service("/checkout", files)
        .layer(axum::middleware::from_fn(widget_headers));
    if !storefront {
        return router;
    }
    router.route(
        "/",
        get(move || {
            let index = index.clone();
            async move { storefront_page(&index).await }
        }),
    )
}

async fn storefront_page(index: &Path) -> Response {
    match tokio::fs::read_to_string(index).await {
        Ok(page) => Html(page).into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            Html("<!DOCTYPE html><title>PayDigital Checkout</title><h1>The widget is not built yet</h1><p>Run <code>make demo</code>, or set <code>CHECKOUT_STATIC_DIR</code> to Trunk's output.</p><p><a href=\"/sandbox\">Sandbox</a></p>"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_content_hashed, router};
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;

    /// The browser compiles wasm while it downloads only when it is served as
    /// `application/wasm`, brotli or not; and a shop's page may read the files' timings.
    #[tokio::test]
    async fn wasm_is_served_as_wasm_with_timings_open_compressed_or_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wasm = "paydigital-checkout-0123456789abcdef_bg.wasm";
        std::fs::write(dir.path().join(wasm), b"\0asm\x01\0\0\0").expect("write");
        std::fs::write(dir.path().join(format!("{wasm}.br")), b"brotli").expect("write");
        for encoding in ["identity", "br"] {
            let request = Request::get(format!("/checkout/{wasm}"))
                .header(header::ACCEPT_ENCODING, encoding)
                .body(Body::empty())
                .expect("request");
            let response = router(dir.path(), false)
                .oneshot(request)
                .await
                .expect("answer");
            assert_eq!(response.status(), 200, "{encoding}");
            let headers = response.headers();
            assert_eq!(
                headers[header::CONTENT_TYPE],
                "application/wasm",
                "{encoding}"
            );
            assert_eq!(headers["timing-allow-origin"], "*", "{encoding}");
            assert_eq!(
                headers[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable"
            );
            let brotli = headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes());
            assert_eq!(brotli == Some(b"br".as_slice()), encoding == "br");
        }
    }

    /// The widget's types beside the loader, as TypeScript (not `video/mp2t`, `.ts`'s guess).
    #[tokio::test]
    async fn the_types_are_served_beside_the_loader_as_typescript() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("paydigital-checkout.d.ts"),
            "declare var PayDigitalCheckout: unknown;",
        )
        .expect("write");
        let request = Request::get("/checkout/paydigital-checkout.d.ts")
            .body(Body::empty())
            .expect("request");
        let response = router(dir.path(), false)
            .oneshot(request)
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/typescript; charset=utf-8"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn recognises_trunks_hashed_names() {
        assert!(is_content_hashed(
            "/checkout/paydigital-checkout-0123456789abcdef_bg.wasm"
        ));
        assert!(is_content_hashed(
            "/checkout/paydigital-checkout-0123456789abcdef.js"
        ));
        assert!(is_content_hashed("/style-0123456789abcdef.css"));
        assert!(!is_content_hashed("/checkout/paydigital-checkout.js"));
        assert!(!is_content_hashed("/checkout/index.html"));
    }
}
