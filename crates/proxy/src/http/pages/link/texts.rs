//! What a payment link's page says, in Indonesian and English: one table per language.

use crate::http::pages::lang::PageLang;

pub struct Texts {
    pub pay: &'static str,
    pub amount_label: &'static str,
    /// `{min}` and `{max}` are the bounds, as rupiah.
    pub amount_hint: &'static str,
    pub amount_range: &'static str,
    pub amount_whole: &'static str,
    pub not_found: &'static str,
    pub sold_out: &'static str,
    pub inactive: &'static str,
    pub expired: &'static str,
    pub busy: &'static str,
    pub bad_token: &'static str,
    pub stale_token: &'static str,
    pub failed: &'static str,
    pub again: &'static str,
    pub qris: &'static str,
}

const ID: Texts = Texts {
    pay: "Bayar",
    amount_label: "Jumlah (Rp)",
    amount_hint: "Dari {min} sampai {max}",
    amount_range: "Jumlah harus dari {min} sampai {max}.",
    amount_whole: "Tulis jumlahnya dalam rupiah, tanpa sen.",
    not_found: "Tautan pembayaran tidak ditemukan.",
    sold_out: "Maaf, sudah habis terjual.",
    inactive: "Tautan pembayaran ini sudah tidak aktif.",
    expired: "Tautan pembayaran ini sudah kedaluwarsa.",
    busy: "Sedang dibayar oleh pembeli lain. Coba lagi sebentar lagi.",
    bad_token: "Formulir ini bukan untuk tautan ini. Buka tautannya lagi.",
    stale_token: "Formulir ini sudah terlalu lama. Buka tautannya lagi.",
    failed: "Pembayaran belum bisa dibuat. Coba lagi.",
    again: "Kembali",
    qris: "Bayar dengan QRIS",
};

const EN: Texts = Texts {
    pay: "Pay",
    amount_label: "Amount (Rp)",
    amount_hint: "From {min} to {max}",
    amount_range: "The amount must be from {min} to {max}.",
    amount_whole: "Type the amount in whole rupiah.",
    not_found: "No such payment link.",
    sold_out: "Sorry, this is sold out.",
    inactive: "This payment link is no longer active.",
    expired: "This payment link has expired.",
    busy: "Someone else is paying right now. Please try again shortly.",
    bad_token: "This form is not for this link. Open the link again.",
    stale_token: "This form is too old. Open the link again.",
    failed: "The payment could not be made. Please try again.",
    again: "Back",
    qris: "Pay with QRIS",
};

pub fn texts(lang: PageLang) -> &'static Texts {
    match lang {
        PageLang::Id => &ID,
        PageLang::En => &EN,
    }
}

/// A text with its `{min}`/`{max}` filled in.
pub fn bounded(text: &str, min: &str, max: &str) -> String {
    text.replace("{min}", min).replace("{max}", max)
}
