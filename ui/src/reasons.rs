//! Rejection reasons in plain language.

/// What a rejection reason means for the shopper.
pub fn explain(reason: &str) -> &'static str {
    match reason {
        "customer_blocked" => {
            "Your account is blocked, so we cannot take orders from it. Please contact support."
        }
        "credit_limit_exceeded" => {
            "This order is more than your available credit. Try fewer items."
        }
        "insufficient_stock" => {
            "Sorry, we do not have enough of some items any more. Please adjust your cart."
        }
        "customer_service_unavailable" => {
            "We could not check your account just now. Nothing was charged; please try again in a moment."
        }
        "customer_invalid" => "We could not accept these customer details.",
        "sign_in_required" => "This email belongs to an account. Sign in to order with it.",
        _ => "The order could not be placed.",
    }
}
