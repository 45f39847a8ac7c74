//! A receipt as an image (`GET /r/{token}.png`), for a chat: the same facts as the receipt
//! page, in Indonesian with English under it, and the receipt's own URL as a QR so that
//! whoever is sent the picture can open the page at the shop's address and see it is real.
//! Drawn as SVG and rasterised like the posters (resvg, DejaVu built in). No I/O.

use super::{fonts, qr_element, PosterError, FONT_FAMILY};
use html_escape::encode_text;

/// What a paid receipt shows, already written as the customer reads it.
#[derive(Debug, Clone, Copy)]
pub struct Receipt<'a> {
    /// The shop's name (the QRIS merchant name the customer's app showed).
    pub shop: &'a str,
    /// Paid after the payment had expired.
    pub late: bool,
    /// `Rp 10.387`.
    pub amount: &'a str,
    /// The description (a link's title).
    pub what_for: &'a str,
    pub reference: Option<&'a str>,
    pub invoice: &'a str,
    /// `07-12-2026 21:53:50 WIB`.
    pub paid_at: &'a str,
    /// `Online`, `Kasir / Counter`, `Tautan / Link`.
    pub source: &'a str,
    /// Only when the shop turned it on.
    pub customer: Option<&'a str>,
    /// The shop's host, for "Diverifikasi oleh …".
    pub host: &'a str,
    /// The receipt page: the QR opens it. None when the proxy has no public address.
    pub url: Option<&'a str>,
}

/// The image in SVG units (pixels): a phone screen's width.
const WIDTH: u32 = 720;
const QR_SIDE: u32 = 320;

/// `None`: the payment is not paid, and the picture says only that.
pub fn svg(receipt: Option<&Receipt<'_>>) -> Result<String, PosterError> {
    let mut rows: Vec<(u32, &str, String, &str)> = Vec::new(); // (size, weight, text, colour)
    let Some(r) = receipt else {
        let mut out = header(360);
        out.push_str(&text(180, 56, "bold", "Belum dibayar", "#b42318"));
        out.push_str(&text(250, 36, "normal", "Not paid", "#b42318"));
        out.push_str("</svg>");
        return Ok(out);
    };
    rows.push((34, "bold", r.shop.to_owned(), "#111111"));
    rows.push((96, "bold", "LUNAS".into(), "#067647"));
    rows.push((36, "bold", "PAID".into(), "#067647"));
    if r.late {
        rows.push((
            30,
            "bold",
            "Dibayar terlambat · Paid late".into(),
            "#b54708",
        ));
    }
    rows.push((72, "bold", r.amount.to_owned(), "#111111"));
    rows.push((30, "normal", r.what_for.to_owned(), "#111111"));
    if let Some(reference) = r.reference {
        rows.push((26, "normal", format!("Ref. {reference}"), "#444444"));
    }
    if let Some(customer) = r.customer {
        rows.push((
            26,
            "normal",
            format!("Pelanggan · Customer: {customer}"),
            "#444444",
        ));
    }
    rows.push((26, "normal", format!("Invoice {}", r.invoice), "#444444"));
    rows.push((
        26,
        "normal",
        format!("Dibayar · Paid {}", r.paid_at),
        "#444444",
    ));
    rows.push((
        26,
        "normal",
        format!("QRIS via PayDigital · {}", r.source),
        "#444444",
    ));
    rows.push((
        22,
        "normal",
        format!("Diverifikasi oleh · Verified by {}", r.host),
        "#0b5cad",
    ));
    let qr = r.url.map(|url| qr_element(url, QR_SIDE)).transpose()?;
    let mut y = 40;
    let mut body = String::new();
    for (size, weight, line, colour) in &rows {
        y += size + 18;
        body.push_str(&text(y, *size, weight, line, colour));
    }
    if let Some(qr) = qr {
        let left = (WIDTH - QR_SIDE) / 2;
        body.push_str(&format!(
            r##"<g transform="translate({left} {})">{qr}</g>"##,
            y + 24
        ));
        y += QR_SIDE + 24;
        if let Some(url) = r.url {
            y += 36;
            body.push_str(&text(y, 18, "normal", url, "#444444"));
        }
    }
    let mut out = header(y + 40);
    out.push_str(&body);
    out.push_str("</svg>");
    Ok(out)
}

fn header(height: u32) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT_FAMILY}" text-anchor="middle"><rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    )
}

fn text(y: u32, size: u32, weight: &str, line: &str, colour: &str) -> String {
    format!(
        r##"<text x="{}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{colour}">{}</text>"##,
        WIDTH / 2,
        encode_text(line)
    )
}

/// The receipt as a PNG, at its SVG size (one pixel a unit).
pub fn png(receipt: Option<&Receipt<'_>>) -> Result<Vec<u8>, PosterError> {
    use resvg::{tiny_skia, usvg};
    let svg = svg(receipt)?;
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: "DejaVu Sans".to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(&svg, &options)?;
    let size = tree.size().to_int_size();
    let (width, height) = (size.width(), size.height());
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).ok_or(PosterError::Pixmap(width, height))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Png(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const RECEIPT: Receipt<'static> = Receipt {
        shop: "Toko <Sandbox>",
        late: false,
        amount: "Rp 10.387",
        what_for: "Kopi susu",
        reference: Some("ORDER-1"),
        invoice: "PYG1",
        paid_at: "07-12-2026 21:53:50 WIB",
        source: "Online",
        customer: None,
        host: "pay.toko.example",
        url: Some("https://pay.toko.example/r/Qm3v6r1Jf0Zt8uYk2LcH4w"),
    };

    #[test]
    fn the_svg_says_paid_the_amount_and_who_verified_it() {
        let svg = svg(Some(&RECEIPT)).expect("svg");
        for said in [
            ">Toko &lt;Sandbox&gt;<",
            ">LUNAS<",
            ">Rp 10.387<",
            ">Invoice PYG1<",
            "QRIS via PayDigital",
            "Verified by pay.toko.example",
        ] {
            assert!(svg.contains(said), "{said}: {svg}");
        }
        assert!(!svg.contains("terlambat"));
        let late = super::svg(Some(&Receipt {
            late: true,
            ..RECEIPT
        }))
        .expect("svg");
        assert!(late.contains("Dibayar terlambat"));
        let unpaid = super::svg(None).expect("svg");
        assert!(unpaid.contains("Belum dibayar") && !unpaid.contains("Rp"));
    }

    /// A receipt with another amount is another picture: the amount is drawn, not decoration.
    #[test]
    fn the_png_changes_with_the_amount_and_its_qr_opens_the_receipt() {
        let right = png(Some(&RECEIPT)).expect("png");
        let wrong = png(Some(&Receipt {
            amount: "Rp 10.388",
            ..RECEIPT
        }))
        .expect("png");
        assert_ne!(right, wrong);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("receipt.png");
        std::fs::write(&file, &right).expect("write");
        let out = std::process::Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&file)
            .output()
            .expect("zbarimg (Debian's zbar-tools, installed by make setup-native-tests)");
        assert!(out.status.success(), "zbarimg found no code: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            RECEIPT.url.unwrap_or("")
        );
    }
}
