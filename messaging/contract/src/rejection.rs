//! Why an order was rejected: the order API's `reason`, which order-svc
//! stores and the UI explains to the shopper. One enum, so the services and
//! the browser read the same codes.

use serde::{Deserialize, Serialize};

/// Why the saga rejected an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// The customer's status is `blocked`.
    CustomerBlocked,
    /// The total exceeds the customer's available credit.
    CreditLimitExceeded,
    /// Not enough stock for at least one line (or a product was retired meanwhile).
    InsufficientStock,
    /// customer-svc did not answer in time; the credit is released.
    CustomerServiceUnavailable,
    /// customer-svc refused the request as invalid.
    CustomerInvalid,
    /// A guest checkout named an account's email: its owner must sign in.
    SignInRequired,
}

impl RejectionReason {
    /// Every reason, in the contract's order.
    pub const ALL: [Self; 6] = [
        Self::CustomerBlocked,
        Self::CreditLimitExceeded,
        Self::InsufficientStock,
        Self::CustomerServiceUnavailable,
        Self::CustomerInvalid,
        Self::SignInRequired,
    ];

    /// The contract's `snake_case` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::CustomerBlocked => "customer_blocked",
            Self::CreditLimitExceeded => "credit_limit_exceeded",
            Self::InsufficientStock => "insufficient_stock",
            Self::CustomerServiceUnavailable => "customer_service_unavailable",
            Self::CustomerInvalid => "customer_invalid",
            Self::SignInRequired => "sign_in_required",
        }
    }

    /// Reads a code; `None` for one this contract does not name.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_its_code_and_its_json() {
        for reason in RejectionReason::ALL {
            assert_eq!(RejectionReason::parse(reason.code()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.code()));
        }
        assert_eq!(RejectionReason::parse("nope"), None);
    }
}
