//! The public sample codes in `tests/data/qris-vectors.tsv` (a copy of `shared/testdata`),
//! read field by field. Runs natively and, through wasm-bindgen-test, in browsers.

use paydigital::qris::{verify_for_total, Initiation, Qris, QrisError, Tip, VerifyError};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const VECTORS: &str = include_str!("data/qris-vectors.tsv");

fn vector(name: &str) -> &'static str {
    VECTORS
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .find(|(n, _)| *n == name)
        .map(|(_, payload)| payload)
        .unwrap_or_else(|| panic!("vector {name} missing"))
}

#[test]
fn every_vector_parses() {
    let mut count = 0;
    for line in VECTORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (name, payload) = line.split_once('\t').expect("name<TAB>payload");
        Qris::parse(payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        count += 1;
    }
    assert_eq!(count, 4);
}

#[test]
fn dana_static_sticker() {
    let code = Qris::parse(vector("V1_dana_static")).expect("valid");
    assert_eq!(code.initiation, Some(Initiation::Static));
    assert!(!code.dynamic);
    assert_eq!(code.merchant_name, "Saifullah.id");
    assert_eq!(code.merchant_city, "Kota Pontianak");
    assert_eq!(code.postal_code.as_deref(), Some("78124"));
    assert_eq!(code.merchant_category_code, "4814");
    assert_eq!(
        (code.currency.as_str(), code.country.as_str()),
        ("360", "ID")
    );
    assert_eq!(code.amount, None);
    assert_eq!(code.crc, "5F72");
    let tags: Vec<u8> = code.merchant_accounts.iter().map(|a| a.tag).collect();
    assert_eq!(tags, [26, 51]);
    let dana = &code.merchant_accounts[0];
    assert_eq!(dana.guid.as_deref(), Some("ID.DANA.WWW"));
    assert_eq!(dana.pan.as_deref(), Some("936009153000606057"));
    assert_eq!(dana.merchant_id.as_deref(), Some("000606057"));
    assert_eq!(dana.criteria.as_deref(), Some("UMI"));
    let national = code.national_account().expect("tag 51");
    assert_eq!(national.merchant_id.as_deref(), Some("ID1019004699079"));
    // A static code leaves the amount to the customer: any total passes.
    assert!(code.check_total(10_387).is_ok());
}

#[test]
fn doku_dynamic_with_fixed_fee() {
    let code = Qris::parse(vector("V3_doku_dyn_fixedfee")).expect("valid");
    assert!(code.dynamic);
    assert_eq!(code.amount.as_deref(), Some("1000"));
    assert_eq!(code.amount_minor(), Some(100_000));
    assert_eq!(code.tip, Some(Tip::Fixed("500".into())));
    assert_eq!(code.merchant_name, "GUREUM SHOP");
    assert_eq!(code.merchant_city, "JAKARTA PUSAT");
    assert_eq!(code.merchant_category_code, "5399");
    assert_eq!(code.additional(7), Some("A01"));
    assert_eq!(
        code.merchant_accounts[0].guid.as_deref(),
        Some("COM.DOKU.WWW")
    );
    assert!(code.check_total(1000).is_ok());
    assert!(code.check_total(1500).is_err());
}

#[test]
fn gopay_decimal_amount_out_of_order() {
    let payload = vector("V5_gopay_dyn_decimal_outoforder");
    let code = Qris::parse(payload).expect("valid");
    // Tag 54 stands after 62 here: order does not matter.
    assert_eq!(code.amount.as_deref(), Some("39000.00"));
    assert_eq!(code.merchant_name, "Starbucks ");
    assert_eq!(code.merchant_category_code, "5812");
    assert_eq!(
        code.merchant_accounts[0].merchant_id.as_deref(),
        Some("G234326781")
    );
    assert_eq!(code.additional(7), Some("A03"));
    assert!(verify_for_total(payload, 39_000).is_ok());
    assert!(matches!(
        verify_for_total(payload, 39_001),
        Err(VerifyError::AmountMismatch(m)) if m.found == "39000.00" && m.expected == 39_001
    ));
}

#[test]
fn emvco_sample_counts_characters_not_bytes() {
    let code = Qris::parse(vector("V8_emvco_spec_utf8")).expect("valid");
    assert_eq!(code.merchant_name, "BEST TRANSPORT");
    assert_eq!(code.merchant_city, "BEIJING");
    assert_eq!(
        (code.currency.as_str(), code.country.as_str()),
        ("156", "CN")
    );
    assert_eq!(code.amount.as_deref(), Some("23.72"));
    assert_eq!(code.amount_minor(), Some(2372));
    assert_eq!(code.tip, Some(Tip::Prompt));
    assert_eq!(code.additional(3), Some("1234"));
    assert_eq!(code.additional(6), Some("***"));
    assert_eq!(code.additional(9), Some("ME"));
    let tags: Vec<u8> = code.merchant_accounts.iter().map(|a| a.tag).collect();
    assert_eq!(tags, [29, 31]);
}

/// Replaces the CRC of a (changed) payload with the right one.
fn with_crc(body_without_crc: &str) -> String {
    let head = format!("{body_without_crc}6304");
    format!("{head}{:04X}", paydigital::qris::crc16(head.as_bytes()))
}

fn strip_crc(payload: &str) -> &str {
    &payload[..payload.len() - 8]
}

#[test]
fn each_defect_has_its_own_error() {
    let good = vector("V3_doku_dyn_fixedfee");
    let body = strip_crc(good);

    assert_eq!(Qris::parse(""), Err(QrisError::Empty));
    assert_eq!(Qris::parse("hello world"), Err(QrisError::NotQris));

    let wrong_crc = format!("{body}63040000");
    assert_eq!(
        Qris::parse(&wrong_crc),
        Err(QrisError::CrcMismatch {
            expected: 0xFD26,
            found: "0000".into()
        })
    );
    assert_eq!(
        QrisError::CrcMismatch {
            expected: 0x6D3F,
            found: "0000".into()
        }
        .to_string(),
        "crc mismatch: expected 6D3F, found 0000"
    );
    let lower = format!("{body}6304fd26");
    assert_eq!(
        Qris::parse(&lower),
        Err(QrisError::BadCrcFormat("fd26".into()))
    );
    assert!(matches!(
        Qris::parse(body),
        Err(QrisError::MissingTag { tag: 63, .. })
    ));
    let crc_first = format!("{}0703A01", &good[..good.len()]);
    assert_eq!(Qris::parse(&crc_first), Err(QrisError::CrcNotLast));
    assert!(matches!(
        Qris::parse(&good[..good.len() - 3]),
        Err(QrisError::Tlv(paydigital::qris::TlvError::Truncated {
            tag: 63,
            ..
        }))
    ));

    let duplicate = with_crc(&format!("{body}5802ID"));
    assert_eq!(Qris::parse(&duplicate), Err(QrisError::DuplicateTag(58)));

    let no_name = with_crc(&body.replace("5911GUREUM SHOP", ""));
    assert!(matches!(
        Qris::parse(&no_name),
        Err(QrisError::MissingTag { tag: 59, .. })
    ));

    let bad_amount = with_crc(&body.replace("54041000", "54041e03"));
    assert_eq!(
        Qris::parse(&bad_amount),
        Err(QrisError::BadAmount("1e03".into()))
    );
    let three_decimals = with_crc(&body.replace("54041000", "54051.000"));
    assert_eq!(
        Qris::parse(&three_decimals),
        Err(QrisError::BadAmount("1.000".into()))
    );

    let bad_initiation = with_crc(&body.replace("010212", "010213"));
    assert_eq!(
        Qris::parse(&bad_initiation),
        Err(QrisError::BadInitiation("13".into()))
    );

    let no_account = with_crc(
        &body
            .replace(
                "26530012COM.DOKU.WWW0118936008990000002475020424750303URE",
                "",
            )
            .replace("51440014ID.CO.QRIS.WWW0215ID10200392934820303URE", ""),
    );
    assert_eq!(Qris::parse(&no_account), Err(QrisError::NoMerchantAccount));

    let bad_template = with_crc(&body.replace("0303URE5204", "03X3URE5204"));
    assert!(matches!(
        Qris::parse(&bad_template),
        Err(QrisError::Tlv(_) | QrisError::MalformedTemplate { .. })
    ));
    let broken_account = with_crc(&body.replace(
        "51440014ID.CO.QRIS.WWW0215ID10200392934820303URE",
        "51440014ID.CO.QRIS.WWW0299ID10200392934820303URE",
    ));
    assert!(matches!(
        Qris::parse(&broken_account),
        Err(QrisError::MalformedTemplate { tag: 51, .. })
    ));
}

#[test]
fn builder_makes_codes_the_parser_accepts() {
    use paydigital::qris::{MerchantAccount, QrisBuilder};
    let payload = QrisBuilder::new("Toko Kopi Senja", "JAKARTA SELATAN")
        .merchant_account(MerchantAccount::national("ID1026000000001", "UMI"))
        .merchant_account(MerchantAccount::acquirer(
            26,
            "ID.CO.PAYDIGITAL.WWW",
            "936000000000000001",
            "PDSANDBOX01",
            "UMI",
        ))
        .merchant_category_code("5814")
        .postal_code("12190")
        .amount(10_387)
        .additional(1, "PYG20261124150405123")
        .build()
        .expect("valid builder input");
    let code = verify_for_total(&payload, 10_387).expect("round trip");
    assert!(code.dynamic);
    assert_eq!(code.amount.as_deref(), Some("10387"));
    assert_eq!(code.merchant_name, "Toko Kopi Senja");
    assert_eq!(code.additional(1), Some("PYG20261124150405123"));
    assert_eq!(code.merchant_accounts.len(), 2);
    assert_eq!(code.merchant_accounts[0].tag, 26);
}
