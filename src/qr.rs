//! The QR drawn locally: SVG for the screen, a module matrix for the saved PNG.

use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code, as the QR standard asks.
pub const QUIET_ZONE: usize = 4;

/// A QR code's modules, row by row, `true` for dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

/// Encodes a payload (QRIS codes use error correction level M, like the banks' apps).
pub fn matrix(payload: &str) -> Result<Matrix, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)?;
    Ok(Matrix {
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    })
}

impl Matrix {
    /// One SVG with one path: a square per dark module, crisp at any size.
    pub fn to_svg(&self, label: &str) -> String {
        let size = self.width + 2 * QUIET_ZONE;
        let mut path = String::with_capacity(self.dark.iter().filter(|d| **d).count() * 12);
        for (i, dark) in self.dark.iter().enumerate() {
            if *dark {
                let (x, y) = (i % self.width + QUIET_ZONE, i / self.width + QUIET_ZONE);
                path.push('M');
                path.push_str(&x.to_string());
                path.push(' ');
                path.push_str(&y.to_string());
                path.push_str("h1v1h-1z");
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>",
            label = escape_attribute(label),
        )
    }
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// Counts the dark modules an SVG from [`Matrix::to_svg`] draws.
pub fn svg_module_count(svg: &str) -> usize {
    svg.matches("h1v1h-1z").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_draws_every_dark_module_with_a_quiet_zone() {
        let payload = "00020101021226570011ID.DANA.WWW011893600915300060605702090006060570303UMI51440014ID.CO.QRIS.WWW0215ID10190046990790303UMI5204481453033605802ID5912Saifullah.id6014Kota Pontianak61057812463045F72";
        let m = matrix(payload).expect("encodes");
        let svg = m.to_svg("QRIS code to pay Rp 10.387");
        assert_eq!(
            svg_module_count(&svg),
            m.dark.iter().filter(|d| **d).count()
        );
        let size = m.width + 8;
        assert!(svg.contains(&format!("viewBox=\"0 0 {size} {size}\"")));
        assert!(svg.contains("aria-label=\"QRIS code to pay Rp 10.387\""));
        // The first finder pattern's corner sits just inside the quiet zone.
        assert!(svg.contains("M4 4h1v1h-1z"));
        assert!(!svg.contains("M3 "));
    }
}
