//! What the receipt page says, in Indonesian and English: one table per language.

use crate::domain::payment::Source;
use crate::http::pages::lang::PageLang;

pub struct Texts {
    pub title: &'static str,
    pub paid: &'static str,
    pub late: &'static str,
    pub not_paid: &'static str,
    pub not_found: &'static str,
    pub what_for: &'static str,
    pub reference: &'static str,
    pub invoice: &'static str,
    pub paid_at: &'static str,
    pub method: &'static str,
    pub source: &'static str,
    pub customer: &'static str,
    /// `{host}` is the shop's host.
    pub verified: &'static str,
    pub image: &'static str,
    pub online: &'static str,
    pub counter: &'static str,
    pub link: &'static str,
}

const ID: Texts = Texts {
    title: "Struk pembayaran",
    paid: "LUNAS",
    late: "Dibayar terlambat",
    not_paid: "Belum dibayar",
    not_found: "Struk tidak ditemukan.",
    what_for: "Untuk",
    reference: "Referensi",
    invoice: "Nomor invoice",
    paid_at: "Dibayar",
    method: "Metode",
    source: "Sumber",
    customer: "Pelanggan",
    verified: "Diverifikasi oleh {host}: halaman ini dibaca dari catatan toko saat dibuka",
    image: "Simpan sebagai gambar",
    online: "Online",
    counter: "Kasir",
    link: "Tautan pembayaran",
};

const EN: Texts = Texts {
    title: "Payment receipt",
    paid: "PAID",
    late: "Paid late",
    not_paid: "Not paid",
    not_found: "No such receipt.",
    what_for: "For",
    reference: "Reference",
    invoice: "Invoice number",
    paid_at: "Paid",
    method: "Method",
    source: "Source",
    customer: "Customer",
    verified: "Verified by {host}: this page was read from the shop's records when it was opened",
    image: "Save as an image",
    online: "Online",
    counter: "Counter",
    link: "Payment link",
};

pub fn texts(lang: PageLang) -> &'static Texts {
    match lang {
        PageLang::Id => &ID,
        PageLang::En => &EN,
    }
}

/// Where the payment was made, in the customer's words: online (a shop's page or server),
/// at the counter, or through a payment link.
pub fn source_word(t: &Texts, source: Source) -> &'static str {
    match source {
        Source::Merchant | Source::Browser | Source::Catalog => t.online,
        Source::Counter => t.counter,
        Source::Link => t.link,
    }
}
