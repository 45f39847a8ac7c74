//! Numbers and times as a customer reads them. Pure, tested natively.

use paydigital::group_digits as grouped;
pub use paydigital::rupiah;

/// Splits the grouped total into what the merchant asked for and the unique code's digits,
/// so the view can mark the code: `(10387, 387)` → `("10.", "387")`. When the code does not
/// sit in the last digits (the amount was not a round number), nothing is marked.
pub fn split_total(total: u64, unique_code: u64) -> (String, String) {
    let text = grouped(total);
    if unique_code == 0 {
        return (text, String::new());
    }
    let code_digits = unique_code.to_string().len() as u32;
    let amount = total.saturating_sub(unique_code);
    if !amount.is_multiple_of(10u64.pow(code_digits)) {
        return (text, String::new());
    }
    // Walk back over the last `code_digits` digits, skipping separators.
    let mut seen = 0;
    let mut split_at = text.len();
    for (i, c) in text.char_indices().rev() {
        if c.is_ascii_digit() {
            seen += 1;
            split_at = i;
            if seen == code_digits {
                break;
            }
        }
    }
    let (head, tail) = text.split_at(split_at);
    (head.to_owned(), tail.to_owned())
}

/// A countdown as `m:ss` (or `h:mm:ss` past an hour).
pub fn countdown(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The wall-clock part of an RFC 3339 time, `2026-11-24T15:04:05+07:00` → `15:04`, shown
/// as the proxy wrote it (in the shop's zone) rather than converted by the phone.
pub fn clock_time(rfc3339: &str) -> Option<&str> {
    let time = rfc3339.split_once('T')?.1;
    time.get(..5)
        .filter(|hm| hm.as_bytes().get(2) == Some(&b':'))
}

/// An RFC 3339 time as a clock time in Jakarta's zone, `2026-11-24T15:19:05+07:00` →
/// `15:19 WIB`: what the saved QR image says under the code, whatever zone the proxy wrote
/// and whatever the phone's clock says. `None` for text that is not such a time. Written over
/// bytes: char searchers and integer parsing would cost the bundle more than this does.
pub fn wib_clock(rfc3339: &str) -> Option<String> {
    let bytes = rfc3339.as_bytes();
    let t = bytes.iter().position(|b| *b == b'T')?;
    let time = bytes.get(t + 1..)?;
    let two = |at: usize| -> Option<i32> {
        match (time.get(at)?, time.get(at + 1)?) {
            (a @ b'0'..=b'9', b @ b'0'..=b'9') => {
                Some(i32::from(a - b'0') * 10 + i32::from(b - b'0'))
            }
            _ => None,
        }
    };
    let (hour, minute) = (two(0)?, two(3)?);
    if time.get(2) != Some(&b':') || hour > 23 || minute > 59 {
        return None;
    }
    // The offset follows the seconds (and any fraction): `Z`, `+07:00`, `-03:30`.
    let zone = time
        .iter()
        .position(|b| matches!(b, b'Z' | b'z' | b'+' | b'-'))?;
    let offset_minutes = match time.get(zone)? {
        b'Z' | b'z' => 0,
        sign => {
            let size = two(zone + 1)? * 60 + two(zone + 4)?;
            if *sign == b'-' {
                -size
            } else {
                size
            }
        }
    };
    // WIB is UTC+7 all year.
    let wib = (hour * 60 + minute - offset_minutes + 7 * 60).rem_euclid(24 * 60);
    let digit = |n: i32| char::from(b'0' + (n % 10) as u8);
    let mut out = String::with_capacity(9);
    for c in [
        digit(wib / 600),
        digit(wib / 60),
        ':',
        digit(wib % 60 / 10),
        digit(wib % 10),
    ] {
        out.push(c);
    }
    out.push_str(" WIB");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unique_code_is_marked_only_where_it_sits() {
        assert_eq!(split_total(10_387, 387), ("10.".into(), "387".into()));
        assert_eq!(split_total(10_042, 42), ("10.0".into(), "42".into()));
        assert_eq!(
            split_total(1_001_387, 1387),
            ("1.00".into(), "1.387".into())
        );
        assert_eq!(split_total(10_887, 387), ("10.887".into(), String::new()));
        assert_eq!(split_total(10_000, 0), ("10.000".into(), String::new()));
    }

    #[test]
    fn countdowns_and_clock_times() {
        assert_eq!(countdown(0), "0:00");
        assert_eq!(countdown(59), "0:59");
        assert_eq!(countdown(899), "14:59");
        assert_eq!(countdown(3600), "1:00:00");
        assert_eq!(clock_time("2026-11-24T15:04:05+07:00"), Some("15:04"));
        assert_eq!(clock_time("garbage"), None);
    }

    #[test]
    fn expiry_times_in_wib_from_any_zone() {
        assert_eq!(
            wib_clock("2026-11-24T15:19:05+07:00").as_deref(),
            Some("15:19 WIB")
        );
        assert_eq!(
            wib_clock("2026-11-24T08:19:05Z").as_deref(),
            Some("15:19 WIB")
        );
        assert_eq!(
            wib_clock("2026-11-24T23:30:00.250-01:00").as_deref(),
            Some("07:30 WIB"),
            "past midnight"
        );
        assert_eq!(
            wib_clock("2026-11-24T16:19:05+08:00").as_deref(),
            Some("15:19 WIB"),
            "WITA"
        );
        for bad in [
            "garbage",
            "2026-11-24T",
            "2026-11-24T1x:00:00Z",
            "2026-11-24T25:00:00Z",
            "2026-11-24T15:19:05",
            "2026-11-24T15:19:05+7",
        ] {
            assert_eq!(wib_clock(bad), None, "{bad}");
        }
    }
}
