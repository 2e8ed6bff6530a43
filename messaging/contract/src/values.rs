//! Values that cross the service boundary, parsed once at each edge: an
//! invalid email, name or amount cannot exist past `parse`.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a value was refused; the message is fit for an API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

/// An email address, trimmed and lower-cased (emails are unique
/// case-insensitively), at most 254 characters, with a domain that has a dot.
/// Parsed by `email_address` (RFC 5322, no regex and no Unicode tables), so
/// that the WASM UI applies exactly these rules at a small cost in size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    /// Parses and normalises an email address.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let email = raw.trim().to_lowercase();
        let domain_has_dot = email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        // A bare address only: `Eve <eve@example.com>` is a valid RFC 5322
        // mailbox, but stored as is it would make a second customer for
        // eve@example.com.
        let bare = email_address::EmailAddress::from_str(&email)
            .is_ok_and(|parsed| parsed.display_part().is_empty() && parsed.email() == email);
        // RFC 5322 lets a quoted local part hold a tab (`"a\tb"@example.com`);
        // no shop's customer has one, and it would reach the database and the
        // logs as a control character.
        let printable = !email.chars().any(char::is_control);
        if email.len() > 254 || !domain_has_dot || !bare || !printable {
            return Err(ValueError(format!("{raw:?} is not a valid email address")));
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Email::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let name = raw.trim();
        let length = name.chars().count();
        if length == 0 || length > 200 {
            return Err(ValueError("name must be 1 to 200 characters".into()));
        }
        if name.chars().any(char::is_control) {
            return Err(ValueError(
                "name must not contain control characters".into(),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PersonName::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: not negative, at most two decimal places, at most
/// 10 digits before the point (`NUMERIC(12,2)`). In JSON a string with exactly
/// two places, `"19.90"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// The largest amount a `NUMERIC(12,2)` column holds.
    pub const MAX: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 2); // 9999999999.99

    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Checks a decimal: not negative, at most two places, within `NUMERIC(12,2)`.
    pub fn new(amount: Decimal) -> Result<Self, ValueError> {
        let amount = amount.normalize();
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(ValueError("amount must not be negative".into()));
        }
        if amount.scale() > 2 {
            return Err(ValueError(
                "amount must have at most two decimal places".into(),
            ));
        }
        if amount > Self::MAX {
            return Err(ValueError("amount is too large".into()));
        }
        let mut amount = amount.abs();
        amount.rescale(2);
        Ok(Self(amount))
    }

    /// Parses `"19.90"` (or `"19.9"`, `"19"`): digits, at most one point
    /// with one or two places after it, nothing else (around it, spaces). A
    /// sign, an exponent (`"1e3"`), digit separators (`"1_000"`), a bare point
    /// (`".5"`, `"5."`) or leading zeros are refused: `Decimal` reads them, but
    /// an amount that means something else than it looks is a typo to catch,
    /// not to charge. `"-0"` is zero, as it always was.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let text = raw.trim();
        let not_an_amount =
            || ValueError(format!("{raw:?} is not a decimal amount such as \"19.90\""));
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, places) = match unsigned.split_once('.') {
            Some((whole, places)) => (whole, Some(places)),
            None => (unsigned, None),
        };
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let canonical =
            digits(whole) && (whole == "0" || !whole.starts_with('0')) && places.is_none_or(digits);
        if !canonical {
            return Err(not_an_amount());
        }
        if places.is_some_and(|places| places.len() > 2) {
            return Err(ValueError(
                "amount must have at most two decimal places".into(),
            ));
        }
        if whole.len() > 10 {
            return Err(ValueError("amount is too large".into()));
        }
        let amount = Decimal::from_str(text).map_err(|_| not_an_amount())?;
        Self::new(amount)
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Money::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("not-an-email").is_err());
        assert!(Email::parse("").is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert!(
            Email::parse("a@localhost").is_err(),
            "a shop needs a routable domain"
        );
        assert!(Email::parse("a@b@example.com").is_err());
        assert!(Email::parse("a b@example.com").is_err());
        assert!(
            Email::parse("Eve <eve@example.com>").is_err(),
            "a bare address only"
        );
        assert!(Email::parse("<eve@example.com>").is_err());
        assert!(Email::parse("first.last+tag@sub.example.co.uk").is_ok());
        // Found by the property tests: RFC 5322 allows a tab in a quoted local part.
        assert!(Email::parse("\"a\tb\"@example.com").is_err());
    }

    #[test]
    fn name_is_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"é".repeat(200)).is_ok());
        assert!(PersonName::parse(&"é".repeat(201)).is_err());
        assert!(PersonName::parse("Ada\u{0007}").is_err());
    }

    #[test]
    fn money_has_two_places_and_no_sign() {
        assert_eq!(Money::parse("19.9").unwrap().to_string(), "19.90");
        assert_eq!(Money::parse("5000").unwrap().to_string(), "5000.00");
        assert_eq!(Money::parse("1.50").unwrap().to_string(), "1.50");
        assert_eq!(Money::parse("-0").unwrap().to_string(), "0.00");
        assert!(Money::parse("1.234").is_err());
        assert!(Money::parse("-1").is_err());
        assert!(Money::parse("abc").is_err());
        assert!(Money::parse("10000000000").is_err());
        assert_eq!(Money::parse("9999999999.99").unwrap().amount(), Money::MAX);
        assert_eq!(
            serde_json::to_string(&Money::parse("3").unwrap()).unwrap(),
            "\"3.00\""
        );
        assert!(
            serde_json::from_str::<Money>("3.5").is_err(),
            "numbers are not money"
        );
    }

    #[test]
    fn money_refuses_what_decimal_reads_but_nobody_writes() {
        // Found by the property tests: `Decimal::from_str` reads all of these.
        for hostile in [
            "1e3", "1E3", "1_000", "1__0", "+5", ".5", "5.", "019.90", "1.500", "0.",
        ] {
            assert!(Money::parse(hostile).is_err(), "{hostile:?} accepted");
        }
        assert_eq!(Money::parse(" 0.5 ").unwrap().to_string(), "0.50");
        assert_eq!(
            Money::parse("1.234").unwrap_err().0,
            "amount must have at most two decimal places"
        );
        assert_eq!(
            Money::parse("10000000000").unwrap_err().0,
            "amount is too large"
        );
    }
}

#[cfg(test)]
mod props {
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
}
