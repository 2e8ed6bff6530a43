//! An order's status (why it was rejected is the contract's `RejectionReason`).
//! The status owns its moves:
//! `pending` ends `confirmed` or `rejected`; only `confirmed` may be cancelled.

use std::fmt;

use serde::Serialize;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Its saga has not ended yet.
    Pending,
    /// Stock and credit are taken; `order.confirmed` goes out.
    Confirmed,
    /// The saga refused it; see the reason.
    Rejected,
    /// Confirmed, then cancelled: stock restored, credit released.
    Cancelled,
}

impl OrderStatus {
    /// The stored and shown word.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a stored or requested status.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "confirmed" => Some(Self::Confirmed),
            "rejected" => Some(Self::Rejected),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// True once the checkout has ended, one way or the other.
    pub fn is_final_for_checkout(self) -> bool {
        self != OrderStatus::Pending
    }

    /// Whether an order in this status may become `next`.
    pub fn may_become(self, next: OrderStatus) -> bool {
        matches!(
            (self, next),
            (
                OrderStatus::Pending,
                OrderStatus::Confirmed | OrderStatus::Rejected
            ) | (OrderStatus::Confirmed, OrderStatus::Cancelled)
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_legal_moves_are_allowed() {
        use OrderStatus::*;
        assert!(Pending.may_become(Confirmed));
        assert!(Pending.may_become(Rejected));
        assert!(Confirmed.may_become(Cancelled));
        assert!(!Rejected.may_become(Confirmed));
        assert!(!Cancelled.may_become(Confirmed));
        assert!(!Pending.may_become(Cancelled));
        assert!(!Confirmed.may_become(Rejected));
    }
}
