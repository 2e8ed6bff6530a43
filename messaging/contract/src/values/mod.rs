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
mod props;
