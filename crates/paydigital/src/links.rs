//! Which URLs a page may follow: shared by the proxy (what it passes on) and the widget (what
//! it renders), so that neither can be talked into a `javascript:` link.

/// A payment page link PayDigital gave (`payment_url`): `https://`, or `http://` to this
/// machine (the sandbox). Anything else — `javascript:`, `data:`, plain `http://` across a
/// network — is not shown.
pub fn is_payment_page_link(url: &str) -> bool {
    if has_hidden_characters(url) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://") {
        return !host_of(rest).is_empty();
    }
    is_local_http(&lower)
}

/// `http://` to this machine (`localhost`, `127.0.0.0/8`, `[::1]`): cleartext that never
/// crosses a network.
pub fn is_local_http(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower
        .strip_prefix("http://")
        .is_some_and(|rest| is_loopback_host(host_of(rest)))
}

/// Where the widget may send the shopper after paying (`success-url`): an absolute
/// `http(s)://` URL, or a path on the page's own origin. Browsers read `\` as `/` and drop
/// tabs and newlines, so `/\host`, `//host` and `/<tab>/host` are other hosts: refused.
pub fn is_return_url(url: &str) -> bool {
    if has_hidden_characters(url) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        return !host_of(rest).is_empty();
    }
    let mut chars = url.chars();
    chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'))
}

/// Whitespace or control characters anywhere: browsers strip or reinterpret them.
fn has_hidden_characters(url: &str) -> bool {
    url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The host of `rest` (what follows `scheme://`), without user info or port.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host
            .parse::<core::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
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
