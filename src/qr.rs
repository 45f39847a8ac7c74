//! The QR drawn locally: SVG for the screen, a module matrix for the saved PNG.

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{bits, ec, Color, EcLevel};

/// Light modules around the code, as the QR standard asks.
pub const QUIET_ZONE: usize = 4;

/// A QR code's modules, row by row, `true` for dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

/// The masks in the order the `qrcode` crate tries them (ties go to the first).
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// Encodes a payload (QRIS codes use error correction level M, like the banks' apps).
///
/// The same code, module for module, as `qrcode::QrCode::with_error_correction_level`: the
/// same encoder, the same masks, the same penalty rules. Only the mask choice is scored here
/// rather than in the crate, whose scoring allocates a boxed closure per module and per mask
/// and so took most of the time.
pub fn matrix(payload: &str) -> Result<Matrix, qrcode::types::QrError> {
    let bits = bits::encode_auto(payload.as_bytes(), EcLevel::M)?;
    let version = bits.version();
    let width = usize::try_from(version.width()).unwrap_or(0);
    let data = bits.into_bytes();
    let (encoded, ec_data) = ec::construct_codewords(&data, version, EcLevel::M)?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ec_data);
    let mut best: Option<(u16, Vec<bool>)> = None;
    for mask in MASKS {
        let mut masked = canvas.clone();
        masked.apply_mask(mask);
        let dark: Vec<bool> = masked
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        let score = penalty(&dark, width);
        if best.as_ref().is_none_or(|(lowest, _)| score < *lowest) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.ok_or(qrcode::types::QrError::DataTooLong)?;
    Ok(Matrix { width, dark })
}

/// The `qrcode` crate's penalty score (its rules N1–N4, with its u16 arithmetic), over a
/// masked matrix. Rows and columns are scanned as contiguous slices (columns through a
/// transposed copy), which is what makes this fast.
fn penalty(dark: &[bool], width: usize) -> u16 {
    if width == 0 || dark.len() != width * width {
        return u16::MAX;
    }
    let mut columns = vec![false; dark.len()];
    for (i, d) in dark.iter().enumerate() {
        if let Some(cell) = columns.get_mut((i % width) * width + i / width) {
            *cell = *d;
        }
    }
    let mut score: u16 = 0;
    for lines in [dark, columns.as_slice()] {
        // N1: runs of five or more of one colour.
        for line in lines.chunks_exact(width) {
            let mut run: u16 = 1;
            for pair in line.windows(2) {
                if pair[0] == pair[1] {
                    run += 1;
                } else {
                    if run >= 5 {
                        score = score.wrapping_add(run - 2);
                    }
                    run = 1;
                }
            }
            if run >= 5 {
                score = score.wrapping_add(run - 2);
            }
        }
        // N3: finder-like runs (dark, light, dark ×3, light, dark) without four light
        // modules on one side.
        const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
        let mut finder: u16 = 0;
        for line in lines.chunks_exact(width) {
            for (j, window) in line.windows(7).enumerate() {
                if window != FINDER {
                    continue;
                }
                let before = line.get(j.saturating_sub(4)..j).unwrap_or_default();
                let after = line.get(j + 7..(j + 11).min(width)).unwrap_or_default();
                if !before.contains(&true) || !after.contains(&true) {
                    finder = finder.wrapping_add(40);
                }
            }
        }
        score = score.wrapping_add(finder.wrapping_sub(360));
    }
    // N2: 2×2 blocks of one colour.
    for (upper, lower) in dark
        .chunks_exact(width)
        .zip(dark.chunks_exact(width).skip(1))
    {
        for (top, bottom) in upper.windows(2).zip(lower.windows(2)) {
            if top[0] == top[1] && top[1] == bottom[0] && bottom[0] == bottom[1] {
                score = score.wrapping_add(3);
            }
        }
    }
    // N4: imbalance between dark and light.
    let dark_count = dark.iter().filter(|d| **d).count();
    let balance = (dark_count * 200 / dark.len()).abs_diff(100);
    score.wrapping_add(u16::try_from(balance).unwrap_or(u16::MAX))
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
                push_number(&mut path, x);
                path.push(' ');
                push_number(&mut path, y);
                path.push_str("h1v1h-1z");
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>",
            label = escape_attribute(label),
        )
    }
}

/// Appends a small number's digits (coordinates are below 1000): cheaper than formatting
/// for the few thousand modules of a code.
fn push_number(out: &mut String, n: usize) {
    if n >= 100 {
        out.push(char::from(b'0' + (n / 100 % 10) as u8));
    }
    if n >= 10 {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
    }
    out.push(char::from(b'0' + (n % 10) as u8));
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

    /// The same matrix as the crate's own encoder, for the sample codes and many others.
    #[test]
    fn matches_the_qrcode_crates_own_matrix() {
        let mut payloads: Vec<String> =
            include_str!("../crates/paydigital/tests/data/qris-vectors.tsv")
                .lines()
                .filter_map(|l| l.split_once('\t').map(|(_, p)| p.to_owned()))
                .collect();
        // Lengths across many versions; digits, alphanumerics and bytes.
        for n in (1..400).step_by(7) {
            payloads.push("0002010102122".repeat(n / 13 + 1)[..n].to_owned());
            payloads.push("ID.CO.QRIS.WWW TOKO ".repeat(n / 20 + 1)[..n].to_owned());
            payloads.push(format!("{}é", "x".repeat(n)));
        }
        for payload in payloads {
            let ours = matrix(&payload).expect("encodes");
            let theirs =
                qrcode::QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
                    .expect("encodes");
            assert_eq!(ours.width, theirs.width(), "{payload}");
            let theirs: Vec<bool> = theirs
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect();
            assert!(ours.dark == theirs, "{payload}");
        }
    }

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
        // Coordinates of one, two and three digits are written right.
        let mut digits = String::new();
        for n in [0, 7, 10, 99, 100, 184] {
            push_number(&mut digits, n);
            digits.push(',');
        }
        assert_eq!(digits, "0,7,10,99,100,184,");
        // The first finder pattern's corner sits just inside the quiet zone.
        assert!(svg.contains("M4 4h1v1h-1z"));
        assert!(!svg.contains("M3 "));
    }
}
