//! The widget's words, Indonesian first. Pure, tested natively.

use crate::format::rupiah;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Id,
    En,
}

impl Lang {
    /// Reads a `lang` attribute or the page's language (`en-US` is English); anything
    /// else, or nothing, is Indonesian.
    pub fn from_tag(tag: Option<&str>) -> Lang {
        match tag.map(|t| t.trim().to_ascii_lowercase()) {
            Some(t) if t == "en" || t.starts_with("en-") => Lang::En,
            _ => Lang::Id,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Id => &ID,
            Lang::En => &EN,
        }
    }
}

/// Fixed strings; the few with numbers in them are methods below.
pub struct Texts {
    pub lang: Lang,
    pub loading: &'static str,
    pub pay_exactly: &'static str,
    pub includes_code: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub copy_amount: &'static str,
    pub copy_invoice: &'static str,
    pub invoice: &'static str,
    pub expires_in: &'static str,
    pub waiting: &'static str,
    pub reconnecting: &'static str,
    pub save_qr: &'static str,
    /// Hands the QR image to the phone's share sheet (an e-wallet app, a chat).
    pub share_qr: &'static str,
    pub open_payment_page: &'static str,
    pub how_to_pay: &'static str,
    pub steps: [&'static str; 4],
    pub paid_title: &'static str,
    pub paid_at: &'static str,
    pub redirecting: &'static str,
    pub view_receipt: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub new_code: &'static str,
    pub error_title: &'static str,
    pub retry: &'static str,
    pub network_error: &'static str,
    pub invalid_qr: &'static str,
    pub bad_config: &'static str,
    /// The badge on a sandbox proxy's payments: no money moves.
    pub test_mode: &'static str,
    /// The success view of a payment paid after its code had expired.
    pub paid_late: &'static str,
    /// After 20 s pending: read the status now.
    pub check_now: &'static str,
    /// In an in-app browser (Instagram, TikTok, ...) downloads go nowhere.
    pub long_press_hint: &'static str,
    /// Under the code in the saved image, before the expiry time.
    pub valid_until: &'static str,
}

pub const ID: Texts = Texts {
    lang: Lang::Id,
    loading: "Menyiapkan kode QRIS…",
    pay_exactly: "Bayar tepat sejumlah ini",
    includes_code: "termasuk kode unik",
    copy: "Salin",
    copied: "Tersalin",
    copy_amount: "Salin jumlah",
    copy_invoice: "Salin nomor invoice",
    invoice: "Invoice",
    expires_in: "Berlaku",
    waiting: "Menunggu pembayaran…",
    reconnecting: "Koneksi terputus, mencoba lagi…",
    save_qr: "Simpan gambar QR",
    share_qr: "Bagikan QR",
    open_payment_page: "Buka halaman pembayaran",
    how_to_pay: "Cara bayar",
    steps: [
        "Buka aplikasi pembayaran QRIS apa pun: GoPay, OVO, DANA, ShopeePay, LinkAja atau mobile banking.",
        "Pindai kode QR ini, atau unggah gambar QR yang sudah disimpan dari galeri.",
        "Periksa nama toko dan jumlahnya: harus sama persis.",
        "Konfirmasi pembayaran. Halaman ini berubah sendiri setelah pembayaran diterima.",
    ],
    paid_title: "Pembayaran berhasil",
    paid_at: "Dibayar pukul",
    redirecting: "Mengalihkan…",
    view_receipt: "Lihat struk",
    expired_title: "Kode QR kedaluwarsa",
    expired_body: "Waktu pembayaran habis. Jika Anda sudah membayar, halaman ini akan berubah begitu pembayaran diterima.",
    new_code: "Buat kode baru",
    error_title: "Pembayaran belum bisa dibuat",
    retry: "Coba lagi",
    network_error: "Tidak dapat terhubung ke server toko. Periksa koneksi internet Anda.",
    invalid_qr: "Kode QR dari penyedia pembayaran tidak valid, jadi tidak ditampilkan. Jangan membayar dengan kode lain.",
    bad_config: "Tombol pembayaran ini belum diatur dengan benar.",
    test_mode: "MODE UJI",
    paid_late: "Uang diterima setelah kode QR kedaluwarsa.",
    check_now: "Saya sudah bayar — cek sekarang",
    long_press_hint: "Tekan lama kode QR untuk menyimpannya ke galeri.",
    valid_until: "Berlaku sampai",
};

pub const EN: Texts = Texts {
    lang: Lang::En,
    loading: "Preparing your QRIS code…",
    pay_exactly: "Pay exactly this amount",
    includes_code: "includes unique code",
    copy: "Copy",
    copied: "Copied",
    copy_amount: "Copy amount",
    copy_invoice: "Copy invoice number",
    invoice: "Invoice",
    expires_in: "Valid for",
    waiting: "Waiting for payment…",
    reconnecting: "Connection lost, retrying…",
    save_qr: "Save QR image",
    share_qr: "Share QR",
    open_payment_page: "Open payment page",
    how_to_pay: "How to pay",
    steps: [
        "Open any QRIS payment app: GoPay, OVO, DANA, ShopeePay, LinkAja or mobile banking.",
        "Scan this QR code, or upload the saved QR image from your gallery.",
        "Check the shop name and the amount: it must match exactly.",
        "Confirm the payment. This page updates by itself once the payment arrives.",
    ],
    paid_title: "Payment successful",
    paid_at: "Paid at",
    redirecting: "Redirecting…",
    view_receipt: "View receipt",
    expired_title: "QR code expired",
    expired_body: "Time is up. If you already paid, this page will update as soon as the payment arrives.",
    new_code: "Get a new code",
    error_title: "The payment could not be created",
    retry: "Try again",
    network_error: "Cannot reach the shop's server. Check your internet connection.",
    invalid_qr: "The payment provider sent an invalid QR code, so it is not shown. Do not pay with any other code.",
    bad_config: "This payment button is not set up correctly.",
    test_mode: "TEST MODE",
    paid_late: "The money arrived after the QR code expired.",
    check_now: "I've paid — check now",
    long_press_hint: "Long-press the QR code to save it to your gallery.",
    valid_until: "Valid until",
};

impl Texts {
    /// The QR's accessible name.
    pub fn qr_label(&self, total: u64) -> String {
        match self.lang {
            Lang::En => format!("QRIS code to pay {}", rupiah(total)),
            Lang::Id => format!("Kode QRIS untuk membayar {}", rupiah(total)),
        }
    }

    /// The lines under the code in the saved or shared image, so that the wallet app's
    /// screen can be checked against them: whom (QR tag 59), how much, which invoice, until
    /// when (WIB). A line with nothing to say is left out.
    pub fn image_lines(
        &self,
        merchant: &str,
        total: u64,
        invoice: &str,
        expires_at: &str,
    ) -> Vec<String> {
        let mut lines = Vec::with_capacity(4);
        if !merchant.trim().is_empty() {
            lines.push(merchant.trim().to_owned());
        }
        lines.push(rupiah(total));
        lines.push(format!("{} {invoice}", self.invoice));
        if let Some(at) = crate::format::wib_clock(expires_at) {
            lines.push(format!("{} {at}", self.valid_until));
        }
        lines
    }

    /// What the status line announces when a payment succeeds.
    pub fn paid_announcement(&self, total: u64) -> String {
        format!("{}: {}", self.paid_title, rupiah(total))
    }
}

/// Whether the user agent is an app's built-in browser (Instagram, Facebook, TikTok, LINE,
/// WhatsApp), where a download goes nowhere: there the widget says to long-press the QR.
pub fn in_app_browser(user_agent: &str) -> bool {
    const APPS: [&str; 8] = [
        "Instagram",
        "FBAN/",
        "FBAV/",
        "FB_IAB",
        "TikTok",
        "musical_ly",
        " Line/",
        "WhatsApp",
    ];
    // Over bytes: `str::contains` would bring the two-way searcher into the bundle.
    let ua = user_agent.as_bytes();
    APPS.iter()
        .any(|app| ua.windows(app.len()).any(|w| w == app.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_app_browsers_are_recognised() {
        for ua in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 338.0.3.21.103",
            "Mozilla/5.0 (Linux; Android 14; SM-A546E Build/UP1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/125.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/466.0.0.39.98;]",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/466.0]",
            "Mozilla/5.0 (Linux; Android 13; wv) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 musical_ly_2023405020 BytedanceWebview/d8a21c6",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 TikTok 34.5.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari Line/14.9.0",
            "Mozilla/5.0 (Linux; Android 14; wv) AppleWebKit/537.36 Chrome/125.0 Mobile Safari/537.36 WhatsApp/2.24.12",
        ] {
            assert!(in_app_browser(ua), "{ua}");
        }
        for ua in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/60.5 Safari/605.1.15",
        ] {
            assert!(!in_app_browser(ua), "{ua}");
        }
    }

    #[test]
    fn the_saved_image_says_whom_how_much_which_invoice_and_until_when() {
        assert_eq!(
            ID.image_lines(" Toko Kopi ", 10_387, "PYG1", "2026-11-24T15:19:05+07:00"),
            [
                "Toko Kopi",
                "Rp 10.387",
                "Invoice PYG1",
                "Berlaku sampai 15:19 WIB"
            ]
        );
        assert_eq!(
            EN.image_lines("", 10_387, "PYG1", "not a time"),
            ["Rp 10.387", "Invoice PYG1"],
            "what is unknown is left out, never the amount"
        );
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::from_tag(None), Lang::Id);
        assert_eq!(Lang::from_tag(Some("en")), Lang::En);
        assert_eq!(Lang::from_tag(Some("en-US")), Lang::En);
        assert_eq!(Lang::from_tag(Some("EN-gb")), Lang::En);
        assert_eq!(Lang::from_tag(Some("id-ID")), Lang::Id);
        assert_eq!(Lang::from_tag(Some("fr")), Lang::Id);
        assert_eq!(Lang::from_tag(Some("enx")), Lang::Id);
    }

    #[test]
    fn labels_name_the_amount_in_each_language() {
        assert_eq!(
            Lang::En.texts().qr_label(10_387),
            "QRIS code to pay Rp 10.387"
        );
        assert_eq!(
            Lang::Id.texts().qr_label(10_387),
            "Kode QRIS untuk membayar Rp 10.387"
        );
        // Through a copy too: the texts are consts, so no identity may be relied on.
        let copied = EN;
        assert_eq!(copied.qr_label(1000), "QRIS code to pay Rp 1.000");
    }
}
