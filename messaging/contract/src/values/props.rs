//! The values on hostile text: whatever is accepted is normalised and
//! parses back to itself; control characters, overlong text and
//! non-canonical forms are refused with a message.

use proptest::prelude::*;

use super::*;
use testkit::hostile::{config, control_char, hostile_text};

/// A plausible address: letters, digits and dots, any case, spaces around.
fn address() -> impl Strategy<Value = String> {
    "[ ]{0,2}[A-Za-z0-9]{1,20}(\\.[A-Za-z0-9]{1,10})?@[A-Za-z0-9]{1,20}\\.[A-Za-z]{2,6}[ ]{0,2}"
}

/// Text with a control character strictly inside (trimming cannot drop it).
fn with_control_inside(text: &str, at: prop::sample::Index, c: char) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = 1 + at.index(chars.len().saturating_sub(1).max(1));
    let mut out: String = chars[..at.min(chars.len())].iter().collect();
    out.push(c);
    out.extend(&chars[at.min(chars.len())..]);
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_accepted_email_is_normal_and_parses_to_itself(raw in prop_oneof![hostile_text(), address()]) {
        if let Ok(email) = Email::parse(&raw) {
            let text = email.as_str();
            prop_assert_eq!(text, text.trim().to_lowercase());
            prop_assert!(text.len() <= 254 && !text.chars().any(char::is_control), "{:?}", text);
            prop_assert_eq!(Email::parse(text), Ok(email.clone()));
            let json = serde_json::to_string(&email).unwrap();
            prop_assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), email);
        }
    }

    #[test]
    fn a_plain_address_is_accepted_lower_cased(raw in address()) {
        let email = Email::parse(&raw).map_err(|e| TestCaseError::fail(e.0))?;
        prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
    }

    #[test]
    fn an_email_with_a_control_character_inside_is_refused(
        raw in address(),
        at in any::<prop::sample::Index>(),
        c in control_char(),
    ) {
        let raw = raw.trim();
        let (_, domain) = raw.split_once('@').unwrap_or((raw, "example.com"));
        // Also inside a quoted local part, where RFC 5322 allows a tab.
        for hostile in [with_control_inside(raw, at, c), format!("\"a{c}b\"@{domain}")] {
            prop_assert!(Email::parse(&hostile).is_err(), "{:?} accepted", hostile);
        }
    }

    #[test]
    fn an_overlong_or_display_name_email_is_refused(local in "[a-z]{1,64}", name in "[A-Za-z ]{1,20}", pad in 250_usize..2000) {
        let address = format!("{local}@example.com");
        let overlong = format!("{local}@{}.example.com", "a".repeat(pad));
        let display_name = format!("{name} <{address}>");
        let angle_brackets = format!("<{address}>");
        for hostile in [overlong, display_name, angle_brackets] {
            prop_assert!(Email::parse(&hostile).is_err(), "{:?} accepted", hostile);
        }
    }

    #[test]
    fn an_accepted_name_is_trimmed_bounded_and_parses_to_itself(raw in hostile_text()) {
        match PersonName::parse(&raw) {
            Ok(name) => {
                let text = name.as_str();
                prop_assert_eq!(text, raw.trim());
                prop_assert!((1..=200).contains(&text.chars().count()));
                prop_assert!(!text.chars().any(char::is_control));
                prop_assert_eq!(PersonName::parse(text), Ok(name.clone()));
            }
            Err(refused) => prop_assert!(!refused.0.is_empty()),
        }
    }

    #[test]
    fn a_name_with_a_control_character_inside_or_too_long_is_refused(
        raw in "[A-Za-z][A-Za-z ]{0,50}[a-z]",
        at in any::<prop::sample::Index>(),
        c in control_char(),
        extra in 201_usize..3000,
    ) {
        prop_assert!(PersonName::parse(&with_control_inside(&raw, at, c)).is_err());
        prop_assert!(PersonName::parse(&"é".repeat(extra)).is_err());
    }

    #[test]
    fn an_accepted_amount_has_two_places_and_parses_to_itself(raw in prop_oneof![
        hostile_text(),
        "[-+ ]?[0-9_.eE]{1,16}[ ]?",
    ]) {
        if let Ok(money) = Money::parse(&raw) {
            let shown = money.to_string();
            let (whole, places) = shown.split_once('.').unwrap_or((&shown, ""));
            prop_assert!(places.len() == 2 && (1..=10).contains(&whole.len()), "{}", shown);
            prop_assert!(money.amount() >= Decimal::ZERO && money.amount() <= Money::MAX);
            prop_assert_eq!(Money::parse(&shown), Ok(money));
            let json = serde_json::to_string(&money).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        }
    }

    #[test]
    fn every_amount_in_range_is_accepted_exactly(cents in 0_i64..=999_999_999_999) {
        let exact = Decimal::new(cents, 2);
        let two_places = format!("{}.{:02}", cents / 100, cents % 100);
        prop_assert_eq!(Money::parse(&two_places).map(|m| m.amount()), Ok(exact));
        prop_assert_eq!(Money::parse(&format!(" {two_places} ")).map(|m| m.amount()), Ok(exact));
        if cents % 100 == 0 {
            prop_assert_eq!(Money::parse(&(cents / 100).to_string()).map(|m| m.amount()), Ok(exact));
        }
    }

    #[test]
    fn non_canonical_negative_or_too_large_amounts_are_refused(cents in 1_i64..=999_999_999_999, c in control_char()) {
        let whole = cents / 100;
        let places = format!("{:02}", cents % 100);
        let canonical = format!("{whole}.{places}");
        for hostile in [
            format!("+{canonical}"),
            format!("-{canonical}"),
            format!("0{canonical}"),
            format!("{canonical}0"),
            format!("{canonical}e0"),
            format!("{whole}e2"),
            format!("{whole}."),
            format!(".{places}"),
            format!("{whole}_{places}"),
            format!("{whole} .{places}"),
            format!("{whole}.{}{c}{}", &places[..1], &places[1..]),
            format!("{whole}{c}.{places}"),
            format!("{}.{places}", whole + 10_000_000_000),
            format!("{whole},{places}"),
            canonical.replace('1', "\u{661}"),
            format!("0x{whole:x}"),
        ] {
            if hostile != canonical {
                prop_assert!(Money::parse(&hostile).is_err(), "{:?} accepted", hostile);
            }
        }
    }
}
