//! The shop's currency. One shop sells in one currency: prices, order
//! totals and every customer's credit are amounts of it, so that credit
//! never adds up amounts of different currencies. Both services read it from
//! `SHOP_CURRENCY` and refuse what is in another.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::ValueError;

/// An ISO 4217 currency code: three capital letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Currency(String);

impl Currency {
    /// The default shop currency.
    pub const DEFAULT: &'static str = "EUR";

    /// Parses a code such as `EUR`; anything else (lower case, other
    /// lengths, other characters) is refused.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError(
                "must be an ISO 4217 code such as \"EUR\"".into(),
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Currency::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Currency {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::Currency;

    #[test]
    fn three_capital_letters_only() {
        assert_eq!(
            Currency::parse("EUR").map(|c| c.to_string()),
            Ok("EUR".into())
        );
        for bad in ["eur", "EU", "EURO", "E1R", "", " EUR", "ÉUR"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn decodes_only_valid_codes() {
        assert!(serde_json::from_str::<Currency>("\"USD\"").is_ok());
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }
}
