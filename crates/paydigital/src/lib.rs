//! PayDigital's wire format and QRIS, with no I/O: the widget (wasm32) and the merchant proxy
//! (native) share this crate so that both sides read codes and payments the same way.
//!
//! - [`qris`]: parse, validate and build EMVCo merchant-presented QR payloads.
//! - [`api`]: the JSON the merchant proxy speaks to browsers.
//! - [`wire`] (feature `wire`, on by default): PayDigital's own requests and sloppy replies.

pub mod api;
pub mod qris;
#[cfg(feature = "wire")]
pub mod wire;

use serde::{Deserialize, Serialize};

/// Where a payment stands. Every status word PayDigital may use maps onto one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the customer (also what unknown words mean: never claim paid or expired
    /// on a word we do not know).
    Pending,
    /// Money received. Final.
    Paid,
    /// The code's time is up (a late payment can still turn it paid).
    Expired,
}

impl Status {
    /// Reads one of PayDigital's status words, in any case: `paid`/`success`/`settled` are
    /// paid, `expired`/`cancel…` expired, anything else (`pending`, `unpaid`, new words) pending.
    pub fn from_word(word: &str) -> Status {
        let word = word.trim().to_ascii_lowercase();
        match word.as_str() {
            "paid" | "success" | "settled" | "settlement" => Status::Paid,
            "expired" | "expire" => Status::Expired,
            w if w.starts_with("cancel") => Status::Expired,
            _ => Status::Pending,
        }
    }

    /// The lowercase word used in the proxy's JSON and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Expired => "expired",
        }
    }

    /// Paid never changes again.
    pub fn is_final(self) -> bool {
        self == Status::Paid
    }
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn status_words_map_case_insensitively() {
        for word in ["paid", "PAID", "Success", "settled", " paid "] {
            assert_eq!(Status::from_word(word), Status::Paid, "{word}");
        }
        for word in ["expired", "EXPIRED", "cancel", "Cancelled", "canceled"] {
            assert_eq!(Status::from_word(word), Status::Expired, "{word}");
        }
        for word in ["pending", "unpaid", "UNPAID", "", "refund_requested"] {
            assert_eq!(Status::from_word(word), Status::Pending, "{word}");
        }
    }
}
