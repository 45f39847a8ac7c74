//! `cargo fuzz run qris`: the parser must never panic, and whatever it accepts must check
//! out against its own CRC and amount rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paydigital::qris::{crc16, Qris};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = Qris::parse(text) {
        let covered = &text[..text.len() - 4];
        assert_eq!(format!("{:04X}", crc16(covered.as_bytes())), code.crc);
        if code.amount.is_some() {
            assert!(code.amount_minor().is_some());
        }
    }
});
