//! Printable posters for payment links: an A6 page (105 × 148 mm) with the link's title, its
//! price, the link's URL as a QR code a phone camera opens, and "Scan untuk bayar". No I/O.
//!
//! The poster is drawn once, as SVG; the PNG is that same SVG rasterised by resvg with the
//! fonts built into the binary (DejaVu Sans), so the two never drift apart and a server
//! without fonts installed prints the same page. The QR is **not** a QRIS code: it opens the
//! link's page, which makes a fresh, exactly-priced QRIS for each customer.

use qrcode::{EcLevel, QrCode};
use std::sync::{Arc, OnceLock};

pub mod receipt;

/// What a poster shows.
#[derive(Debug, Clone, Copy)]
pub struct Poster<'a> {
    /// The link's title (≤ 120 characters: wrapped onto at most three lines).
    pub title: &'a str,
    /// The price as the customer reads it: `Rp 25.000`, or for an open amount its bounds
    /// (`Rp 10.000 – Rp 50.000`) or words such as "Nominal bebas".
    pub price: &'a str,
    /// The link's page, `{CHECKOUT_PUBLIC_URL}/l/{id}`: what the QR opens.
    pub url: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("the link's URL does not fit in a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("the poster's SVG cannot be read back: {0}")]
    Svg(#[from] resvg::usvg::Error),
    #[error("the poster cannot be rasterised at {0} × {1} pixels")]
    Pixmap(u32, u32),
    #[error("the poster's PNG cannot be written: {0}")]
    Png(String),
}

/// The page in SVG user units: tenths of a millimetre, so A6 is 1050 × 1480.
const PAGE_WIDTH: u32 = 1050;
const PAGE_HEIGHT: u32 = 1480;
/// The QR's side (with its quiet zone), and its top edge.
const QR_SIDE: u32 = 640;
const QR_TOP: u32 = 470;
/// The title's type size and how many characters a line of it holds (DejaVu Sans Bold
/// averages about 0.63 em a character: 26 × 0.63 × 56 ≈ 920 units of the 1050 wide page).
const TITLE_SIZE: u32 = 56;
const TITLE_LINE_CHARS: usize = 26;
const TITLE_MAX_LINES: usize = 3;
/// The PNG prints at 300 dpi: 105 mm → 1240 px.
const PNG_DPI: f32 = 300.0;

/// Font families in the SVG: the embedded one first, so resvg finds it; a browser that has
/// none of them uses its own sans-serif.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans, Arial, Helvetica, sans-serif";

/// The poster as an SVG document (A6: its width and height are in millimetres).
pub fn svg(poster: &Poster<'_>) -> Result<String, PosterError> {
    let qr = qr_path(poster.url)?;
    let title_lines = wrap_title(poster.title);
    let mut out = String::with_capacity(8 * 1024 + qr.len());
    out.push_str(&format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="105mm" height="148mm" viewBox="0 0 {PAGE_WIDTH} {PAGE_HEIGHT}" font-family="{FONT_FAMILY}" text-anchor="middle">"##
    ));
    out.push_str(&format!(
        r##"<rect width="{PAGE_WIDTH}" height="{PAGE_HEIGHT}" fill="#ffffff"/><rect x="30" y="30" width="{}" height="{}" rx="40" fill="none" stroke="#0b5cad" stroke-width="8"/>"##,
        PAGE_WIDTH - 60,
        PAGE_HEIGHT - 60
    ));
    // The title from the top, one line under another; the price under it.
    let centre = PAGE_WIDTH / 2;
    let mut baseline = 150;
    for line in &title_lines {
        out.push_str(&format!(
            r##"<text x="{centre}" y="{baseline}" font-size="{TITLE_SIZE}" font-weight="bold" fill="#111111">{}</text>"##,
            html_escape::encode_text(line)
        ));
        baseline += TITLE_SIZE + 14;
    }
    let price_baseline = QR_TOP - 40;
    out.push_str(&format!(
        r##"<text x="{centre}" y="{price_baseline}" font-size="72" font-weight="bold" fill="#0b5cad">{}</text>"##,
        html_escape::encode_text(poster.price)
    ));
    // The QR, centred, black modules on white, crisp at any scale.
    let qr_left = (PAGE_WIDTH - QR_SIDE) / 2;
    out.push_str(&format!(
        r##"<g transform="translate({qr_left} {QR_TOP})">{qr}</g>"##
    ));
    let below = QR_TOP + QR_SIDE;
    out.push_str(&format!(
        r##"<text x="{centre}" y="{}" font-size="76" font-weight="bold" fill="#111111">Scan untuk bayar</text>"##,
        below + 100
    ));
    out.push_str(&format!(
        r##"<text x="{centre}" y="{}" font-size="40" fill="#444444">Scan to pay · QRIS</text>"##,
        below + 160
    ));
    // The address in print too, for a customer whose camera will not read the code.
    out.push_str(&format!(
        r##"<text x="{centre}" y="{}" font-size="{}" fill="#444444">{}</text>"##,
        below + 250,
        url_size(poster.url),
        html_escape::encode_text(poster.url)
    ));
    out.push_str("</svg>");
    Ok(out)
}

/// The poster as a PNG at 300 dpi (1240 × 1748 pixels), from [`svg`].
pub fn png(poster: &Poster<'_>) -> Result<Vec<u8>, PosterError> {
    use resvg::{tiny_skia, usvg};
    let svg = svg(poster)?;
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: "DejaVu Sans".to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(&svg, &options)?;
    // A6 is 105 mm wide: 300 dpi is this many pixels per SVG unit (a tenth of a millimetre).
    let scale = PNG_DPI / 25.4 / 10.0;
    let (width, height) = (
        (PAGE_WIDTH as f32 * scale).round() as u32,
        (PAGE_HEIGHT as f32 * scale).round() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).ok_or(PosterError::Pixmap(width, height))?;
    let size = tree.size();
    let transform = tiny_skia::Transform::from_scale(
        width as f32 / size.width(),
        height as f32 / size.height(),
    );
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Png(e.to_string()))
}

/// The fonts the PNG is drawn with, loaded once: DejaVu Sans (regular and bold), built in.
pub(crate) fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.load_font_data(dejavu::sans::bold().to_vec());
            Arc::new(db)
        })
        .clone()
}

/// The URL as a QR code: one `<path>` per colour from the qrcode crate's own SVG renderer,
/// scaled so the code with its quiet zone fills [`QR_SIDE`]. Error correction Q: a poster
/// on a stall gets creased, splashed and taped over.
fn qr_path(url: &str) -> Result<String, PosterError> {
    qr_element(url, QR_SIDE)
}

/// `url` as a QR code filling a square of `side` units (with its quiet zone).
pub(crate) fn qr_element(url: &str, side: u32) -> Result<String, PosterError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::Q)?;
    // Whole units per module, as large as fits with the 4-module quiet zone.
    let modules = u32::try_from(code.width())
        .unwrap_or(u32::MAX)
        .saturating_add(8);
    let unit = (side / modules.max(1)).max(1);
    let drawn = code
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .module_dimensions(unit, unit)
        .build();
    // The renderer writes a whole document; the poster nests its `<svg>` element, which SVG
    // allows, centred in the QR's square.
    let element = drawn
        .find("<svg")
        .and_then(|start| drawn.get(start..))
        .unwrap_or("");
    let offset = side.saturating_sub(unit.saturating_mul(modules)) / 2;
    Ok(format!(
        r##"<g transform="translate({offset} {offset})">{element}</g>"##
    ))
}

/// The title on at most three lines, by words; a longer one ends in "…".
fn wrap_title(title: &str) -> Vec<String> {
    let title = title.trim();
    let mut lines: Vec<String> = textwrap::wrap(title, TITLE_LINE_CHARS)
        .into_iter()
        .map(|line| line.into_owned())
        .collect();
    if lines.len() > TITLE_MAX_LINES {
        lines.truncate(TITLE_MAX_LINES);
        if let Some(last) = lines.last_mut() {
            let kept: String = last.chars().take(TITLE_LINE_CHARS - 1).collect();
            *last = format!("{}…", kept.trim_end());
        }
    }
    lines
}

/// A long address is printed smaller so it stays on the page.
fn url_size(url: &str) -> u32 {
    match url.chars().count() {
        0..=40 => 34,
        41..=55 => 26,
        _ => 20,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTER: Poster<'static> = Poster {
        title: "Kopi Susu Gula Aren <Spesial> & Roti Bakar",
        price: "Rp 25.000",
        url: "https://toko.example/l/plink_AbCdEfGhIjKlMnOpQrStUv",
    };

    #[test]
    fn the_svg_names_the_title_the_price_and_what_to_do() {
        let svg = svg(&POSTER).expect("svg");
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"105mm\" height=\"148mm\""
        ));
        // Escaped, and wrapped by words onto two lines.
        assert!(svg.contains(">Kopi Susu Gula Aren</text>"));
        assert!(svg.contains(">&lt;Spesial&gt; &amp; Roti Bakar</text>"));
        assert!(svg.contains(">Rp 25.000<"));
        assert!(svg.contains(">Scan untuk bayar<"));
        assert!(svg.contains(POSTER.url));
        // One document: the QR's own prolog does not land inside it.
        assert_eq!(svg.matches("<?xml").count(), 0);
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_long_title_is_cut_to_three_lines() {
        let title = "Paket ".repeat(30);
        let lines = wrap_title(&title);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.chars().count() <= TITLE_LINE_CHARS));
        assert!(lines[2].ends_with('…'));
        assert_eq!(wrap_title("Es teh"), vec!["Es teh".to_owned()]);
    }

    #[test]
    fn the_png_is_a6_at_300_dpi() {
        let png = png(&POSTER).expect("png");
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().expect("a PNG");
        let info = reader.info();
        assert_eq!((info.width, info.height), (1240, 1748));
    }

    /// The QR on the PNG opens the link: read back by zbar, an independent decoder.
    #[test]
    fn zbar_reads_the_link_url_from_the_png() {
        let dir = std::env::temp_dir().join(format!("poster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("poster.png");
        std::fs::write(&file, png(&POSTER).expect("png")).expect("write");
        if let Ok(keep) = std::env::var("PAYDIGITAL_KEEP_POSTER") {
            let _ = std::fs::copy(&file, keep);
        }
        let out = std::process::Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&file)
            .output()
            .expect("zbarimg (Debian's zbar-tools, installed by make setup-native-tests)");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success(), "zbarimg found no code: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), POSTER.url);
    }
}
