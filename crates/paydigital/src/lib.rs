//! PayDigital's wire format and QRIS, with no I/O: the widget (wasm32) and the merchant proxy
//! (native) share this crate so that both sides read codes and payments the same way.
//!
//! - [`qris`]: parse, validate and build EMVCo merchant-presented QR payloads.
//! - [`api`]: the JSON the merchant proxy speaks to browsers.
//! - [`wire`] (feature `wire`, on by default): PayDigital's own requests and sloppy replies.

pub mod api;
pub mod links;
pub mod qris;
#[cfg(feature = "wire")]
pub mod wire;

use serde::{Deserialize, Serialize};

/// Groups a rupiah amount's digits with dots, as Indonesians write them: `10387` → `10.387`.
pub fn group_digits(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A rupiah amount as shown to customers: `Rp 10.387`.
pub fn rupiah(amount: u64) -> String {
    format!("Rp {}", group_digits(amount))
}

/// Where a payment stands. Every status word PayDigital may use maps onto one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    use super::{rupiah, Status};

    #[test]
    fn rupiah_uses_indonesian_grouping() {
        assert_eq!(rupiah(0), "Rp 0");
        assert_eq!(rupiah(999), "Rp 999");
        assert_eq!(rupiah(1000), "Rp 1.000");
        assert_eq!(rupiah(10_387), "Rp 10.387");
        assert_eq!(rupiah(1_234_567), "Rp 1.234.567");
    }

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
