//! Rejection reasons in plain language.

use contract::RejectionReason;

/// What a rejection reason means for the shopper (a code this UI does not
/// know, from a newer server, gets the general sentence).
pub fn explain(reason: &str) -> &'static str {
    match RejectionReason::parse(reason) {
        Some(RejectionReason::CustomerBlocked) => {
            "Your account is blocked, so we cannot take orders from it. Please contact support."
        }
        Some(RejectionReason::CreditLimitExceeded) => {
            "This order is more than your available credit. Try fewer items."
        }
        Some(RejectionReason::InsufficientStock) => {
            "Sorry, we do not have enough of some items any more. Please adjust your cart."
        }
        Some(RejectionReason::CustomerServiceUnavailable) => {
            "We could not check your account just now. Nothing was charged; please try again in a moment."
        }
        Some(RejectionReason::CustomerInvalid) => "We could not accept these customer details.",
        Some(RejectionReason::SignInRequired) => {
            "This email belongs to an account. Sign in to order with it."
        }
        None => "The order could not be placed.",
    }
}
