//! A customer's status and credit limit.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use contract::{Money, ValueError};

/// Whether a customer may buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// May buy.
    Active,
    /// Every checkout is refused with `customer_blocked`.
    Blocked,
}

impl CustomerStatus {
    /// The value stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "active",
            CustomerStatus::Blocked => "blocked",
        }
    }
}

impl FromStr for CustomerStatus {
    type Err = ValueError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "active" => Ok(Self::Active),
            "blocked" => Ok(Self::Blocked),
            other => Err(ValueError(format!(
                "status must be \"active\" or \"blocked\", not {other:?}"
            ))),
        }
    }
}

impl fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A credit limit: an amount from 0 to 1,000,000 with at most two places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditLimit(Money);

impl CreditLimit {
    /// The highest credit limit a customer may have.
    pub const MAX: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

    /// Checks the bound.
    pub fn new(amount: Money) -> Result<Self, ValueError> {
        if amount.amount() > Self::MAX {
            return Err(ValueError(
                "credit_limit must be between 0 and 1000000".into(),
            ));
        }
        Ok(Self(amount))
    }

    /// Parses `"2500.00"`.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        Self::new(Money::parse(raw)?)
    }

    /// The amount.
    pub fn amount(self) -> Decimal {
        self.0.amount()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_limit_is_bounded() {
        assert!(CreditLimit::parse("0").is_ok());
        assert!(CreditLimit::parse("1000000.00").is_ok());
        assert!(CreditLimit::parse("1000000.01").is_err());
        assert!(CreditLimit::parse("-5").is_err());
        assert!(CreditLimit::parse("1.005").is_err());
    }

    #[test]
    fn status_parses_known_words_only() {
        assert_eq!(
            "blocked".parse::<CustomerStatus>().unwrap(),
            CustomerStatus::Blocked
        );
        assert!("Blocked".parse::<CustomerStatus>().is_err());
    }
}
