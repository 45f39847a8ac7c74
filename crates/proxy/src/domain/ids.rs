//! Public ids: `pay_` (payments), `evt_` (webhook events) and `plink_` (payment links) and 22 characters of base64url,
//! 128 bits from the OS's secure random source. Nothing in them can be guessed or counted
//! (PayDigital's invoice numbers are timestamps: anyone could read a shop's sales off them),
//! so only ids go in public URLs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;

const PREFIX: &str = "pay_";
const EVENT_PREFIX: &str = "evt_";
const LINK_PREFIX: &str = "plink_";
/// 16 random bytes in base64url without padding.
const RANDOM_CHARS: usize = 22;
/// Longest id accepted in a URL; longer ones are not looked up at all.
const MAX_LEN: usize = PREFIX.len() + 64;

/// `prefix` and 16 random bytes.
fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new payment id.
pub fn new_payment_id() -> String {
    random_id(PREFIX)
}

/// A new event id, the `webhook-id` of every attempt to deliver that event.
pub fn new_event_id() -> String {
    random_id(EVENT_PREFIX)
}

/// A new payment link id.
pub fn new_link_id() -> String {
    random_id(LINK_PREFIX)
}

/// Bytes in a new receipt token: 128 bits, like the ids, but drawn on their own.
const RECEIPT_TOKEN_BYTES: usize = 16;
/// Shortest and longest receipt token looked up. PostgreSQL's migration gave existing
/// payments 32-byte tokens (43 characters) made in SQL; new ones have 22.
const RECEIPT_TOKEN_CHARS: std::ops::RangeInclusive<usize> = 22..=64;

/// A new receipt token (`/r/{token}`): 128 bits from the OS, drawn apart from the payment's
/// id, so that a shared receipt link says nothing about the payment's other URLs.
pub fn new_receipt_token() -> String {
    let mut bytes = [0u8; RECEIPT_TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `token` has the shape of a receipt token: worth a store lookup. Anything else
/// is not one of this shop's receipts without asking the store.
pub fn looks_like_receipt_token(token: &str) -> bool {
    RECEIPT_TOKEN_CHARS.contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `id` has the shape of a payment link id: worth a store lookup.
pub fn looks_like_link_id(id: &str) -> bool {
    id.strip_prefix(LINK_PREFIX).is_some_and(|rest| {
        (RANDOM_CHARS..=MAX_LEN - PREFIX.len()).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Whether `id` could be an event id (a cursor of the events list).
pub fn looks_like_event_id(id: &str) -> bool {
    id.starts_with(EVENT_PREFIX)
}

/// Whether `id` has the shape of a payment id: worth a store lookup. An invoice number never
/// has it, so it is a 404 without touching the store.
pub fn looks_like_payment_id(id: &str) -> bool {
    id.strip_prefix(PREFIX).is_some_and(|rest| {
        (RANDOM_CHARS..=MAX_LEN - PREFIX.len()).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_prefixed_url_safe_and_distinct() {
        let ids: HashSet<String> = (0..10_000).map(|_| new_payment_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.len(), 26, "{id}");
            assert!(looks_like_payment_id(id), "{id}");
        }
        let event = new_event_id();
        assert!(event.starts_with("evt_") && event.len() == 26, "{event}");
        assert!(looks_like_event_id(&event) && !looks_like_payment_id(&event));
        assert_ne!(new_event_id(), event);
        let link = new_link_id();
        assert!(link.starts_with("plink_") && link.len() == 28, "{link}");
        assert!(looks_like_link_id(&link) && !looks_like_payment_id(&link));
        assert!(!looks_like_link_id("plink_short") && !looks_like_link_id(&new_payment_id()));
    }

    #[test]
    fn receipt_tokens_are_random_distinct_and_not_ids() {
        let tokens: HashSet<String> = (0..10_000).map(|_| new_receipt_token()).collect();
        assert_eq!(tokens.len(), 10_000);
        for token in tokens.iter().take(100) {
            assert_eq!(token.len(), 22, "{token}");
            assert!(looks_like_receipt_token(token), "{token}");
            assert!(!looks_like_payment_id(token), "{token}");
            let bytes = URL_SAFE_NO_PAD.decode(token).expect("base64url");
            assert_eq!(bytes.len(), 16, "128 bits");
        }
        for not_token in ["", "short", "../../etc/passwd0000000000", &"A".repeat(65)] {
            assert!(!looks_like_receipt_token(not_token), "{not_token}");
        }
    }

    #[test]
    fn invoices_and_junk_are_not_ids() {
        for not_id in [
            "PYG20261124080405123",
            "pay_",
            "pay_short",
            "pay_../../etc/passwd000000",
            "PAY_AAAAAAAAAAAAAAAAAAAAAA",
            &format!("pay_{}", "A".repeat(65)),
        ] {
            assert!(!looks_like_payment_id(not_id), "{not_id}");
        }
    }
}
