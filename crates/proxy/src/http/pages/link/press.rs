//! What a Pay press posts, read as a person typed it, and whether it came from this site.

use crate::domain::new_payment::Invalid;
use axum::http::{header, HeaderMap};

/// What the form posts.
#[derive(serde::Deserialize)]
pub struct Press {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub amount: Option<String>,
}

/// A typed amount: digits, maybe grouped with dots or spaces as Indonesians write them.
pub fn typed_amount(text: Option<&str>) -> Result<Option<u64>, Invalid> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let digits: String = text.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::field(
            "amount",
            "amount is a whole number of rupiah",
        ));
    }
    digits
        .parse::<u64>()
        .map(Some)
        .map_err(|_| Invalid::field("amount", "amount is a whole number of rupiah"))
}

/// A form posted from another site is refused: the page is this origin's.
pub fn from_another_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn typed_amounts_as_people_write_them() {
        assert_eq!(typed_amount(None), Ok(None));
        assert_eq!(typed_amount(Some("  ")), Ok(None));
        assert_eq!(typed_amount(Some("25000")), Ok(Some(25_000)));
        assert_eq!(typed_amount(Some("25.000")), Ok(Some(25_000)));
        assert_eq!(typed_amount(Some("1 000 000")), Ok(Some(1_000_000)));
        for bad in ["-5", "1e4", "25,5", "Rp 5000", "99999999999999999999999"] {
            assert!(typed_amount(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_press_from_another_site_is_told_apart() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("shop.example"));
        assert!(!from_another_site(&headers), "no Origin: a plain form post");
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://shop.example"),
        );
        assert!(!from_another_site(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(from_another_site(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(from_another_site(&headers));
    }
}
