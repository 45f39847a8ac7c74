//! Property tests: built codes always parse back, and nothing makes the parser panic.
#![cfg(not(target_arch = "wasm32"))]

use paydigital::qris::{crc16, verify_for_total, MerchantAccount, Qris, QrisBuilder};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    // Merchant names and cities, UTF-8 included: lengths count characters.
    "[A-Za-z0-9 .&'é北京-]{1,25}"
}

proptest! {
    #[test]
    fn built_codes_round_trip(
        merchant in name(),
        city in name(),
        nmid in "ID[0-9]{13}",
        amount in proptest::option::of(1000u64..100_000_000),
        bill in proptest::option::of("[A-Z0-9]{1,25}"),
    ) {
        let mut builder = QrisBuilder::new(merchant.clone(), city.clone())
            .merchant_account(MerchantAccount::national(nmid.clone(), "UMI"));
        if let Some(amount) = amount {
            builder = builder.amount(amount);
        }
        if let Some(bill) = &bill {
            builder = builder.additional(1, bill.clone());
        }
        let payload = builder.build().expect("valid input");
        let code = Qris::parse(&payload).expect("built codes parse");
        prop_assert_eq!(&code.merchant_name, &merchant);
        prop_assert_eq!(&code.merchant_city, &city);
        prop_assert_eq!(code.dynamic, amount.is_some());
        prop_assert_eq!(code.national_account().and_then(|a| a.merchant_id.clone()), Some(nmid));
        prop_assert_eq!(code.additional(1).map(str::to_owned), bill);
        if let Some(amount) = amount {
            prop_assert!(verify_for_total(&payload, amount).is_ok());
            prop_assert!(verify_for_total(&payload, amount + 1).is_err());
        }
    }

    #[test]
    fn any_string_fails_gracefully(input in any::<String>()) {
        let _ = Qris::parse(&input);
    }

    #[test]
    fn anything_after_the_format_indicator_fails_gracefully(tail in "[0-9A-Za-z. 北]{0,200}") {
        let _ = Qris::parse(&format!("000201{tail}"));
    }

    #[test]
    fn a_valid_crc_over_garbage_fails_gracefully(tail in "[0-9]{0,120}") {
        let head = format!("000201{tail}6304");
        let payload = format!("{head}{:04X}", crc16(head.as_bytes()));
        let _ = Qris::parse(&payload);
    }

    #[test]
    fn any_single_character_change_is_caught(position in 0usize..160, replacement in "[0-9A-Z]") {
        let good = QrisBuilder::new("Toko", "Jakarta")
            .merchant_account(MerchantAccount::national("ID1026000000001", "UMI"))
            .amount(10_387)
            .build()
            .expect("valid");
        let position = position % good.len();
        let mut changed = good.clone();
        changed.replace_range(position..position + 1, &replacement);
        prop_assume!(changed != good);
        prop_assert!(Qris::parse(&changed).is_err(), "{changed}");
    }
}
