//! Which URLs a page may follow: shared by the proxy (what it passes on) and the widget (what
//! it renders), so that neither can be talked into a `javascript:` link.

/// A payment page link PayDigital gave (`payment_url`): `https://`, or `http://` to this
/// machine (the sandbox). Anything else — `javascript:`, `data:`, plain `http://` across a
/// network — is not shown.
pub fn is_payment_page_link(url: &str) -> bool {
    let url = url.as_bytes();
    if has_hidden_characters(url) {
        return false;
    }
    match after_scheme(url, b"https://") {
        Some(rest) => !host_of(rest).is_empty(),
        None => local_http(url),
    }
}

/// `http://` to this machine (`localhost`, `127.x.x.x`, `[::1]`): cleartext that never
/// crosses a network.
pub fn is_local_http(url: &str) -> bool {
    local_http(url.as_bytes())
}

/// Where the widget may send the shopper after paying (`success-url`): an absolute
/// `http(s)://` URL, or a path on the page's own origin. Browsers read `\` as `/` and drop
/// tabs and newlines, so `/\host`, `//host` and `/<tab>/host` are other hosts: refused.
pub fn is_return_url(url: &str) -> bool {
    let url = url.as_bytes();
    if has_hidden_characters(url) {
        return false;
    }
    if let Some(rest) = after_scheme(url, b"https://").or_else(|| after_scheme(url, b"http://")) {
        return !host_of(rest).is_empty();
    }
    match url {
        [b'/', second, ..] => !matches!(second, b'/' | b'\\'),
        [b'/'] => true,
        _ => false,
    }
}

// Bytes, not `str`: the widget carries these, and char searchers and boundary checks cost
// it bytes.

fn local_http(url: &[u8]) -> bool {
    after_scheme(url, b"http://").is_some_and(|rest| is_loopback_host(host_of(rest)))
}

/// What follows `scheme` (compared without case) at the start of `url`.
fn after_scheme<'a>(url: &'a [u8], scheme: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = url.split_at_checked(scheme.len())?;
    head.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// Spaces or control characters anywhere: browsers strip or reinterpret them.
fn has_hidden_characters(url: &[u8]) -> bool {
    url.iter().any(|b| *b <= b' ' || *b == 0x7f)
}

/// The host of `rest` (what follows `scheme://`), without user info or port.
fn host_of(rest: &[u8]) -> &[u8] {
    let end = rest
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#' | b'\\'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    let start = authority
        .iter()
        .rposition(|b| *b == b'@')
        .map_or(0, |at| at + 1);
    let host_port = authority.get(start..).unwrap_or_default();
    let (host, stop) = match host_port.strip_prefix(b"[") {
        Some(v6) => (v6, b']'),
        None => (host_port, b':'),
    };
    let stop = host.iter().position(|b| *b == stop).unwrap_or(host.len());
    host.get(..stop).unwrap_or_default()
}

fn is_loopback_host(host: &[u8]) -> bool {
    host.eq_ignore_ascii_case(b"localhost")
        || host == b"::1"
        || host.strip_prefix(b"127.").is_some_and(|rest| {
            !rest.is_empty() && rest.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_page_links_are_https_or_this_machine() {
        for good in [
            "https://paydigital.biz.id/pay/PYG1",
            "HTTPS://PAYDIGITAL.BIZ.ID/pay",
            "http://127.0.0.1:8080/sandbox/pay/PYG1",
            "http://localhost/sandbox/pay/PYG1",
            "http://[::1]:9/x",
        ] {
            assert!(is_payment_page_link(good), "{good}");
        }
        for bad in [
            "javascript:alert(document.cookie)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "http://paydigital.biz.id/pay",
            "http://127.0.0.1.evil.example/pay",
            "http://evil.example@127.0.0.1.evil.example/",
            "https://",
            "https:/\tevil.example",
            "//evil.example/pay",
            "",
        ] {
            assert!(!is_payment_page_link(bad), "{bad}");
        }
    }

    #[test]
    fn return_urls_are_http_or_a_path_on_this_origin() {
        for good in [
            "https://toko.example/terima-kasih",
            "http://toko.example/",
            "/terima-kasih",
            "/",
        ] {
            assert!(is_return_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.example/x",
            "/\\evil.example/x",
            "/\t/evil.example/x",
            "\\\\evil.example",
            "data:text/html,x",
            "terima-kasih",
            "https://",
        ] {
            assert!(!is_return_url(bad), "{bad:?}");
        }
    }
}
