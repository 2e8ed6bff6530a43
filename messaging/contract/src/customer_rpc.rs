//! The customer service's RPC: requests and replies.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Currency,
    values::{Email, Money, PersonName},
};

/// `customer.verify_or_create`: find or create the customer by email, check it
/// may buy, and reserve `amount` of its credit for the saga. A guest (no
/// `customer_id`) may not buy for an email that belongs to an account with a
/// password: that is refused with `sign_in_required`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyOrCreateRequest {
    /// The saga (and idempotency) key: one reservation per saga.
    pub saga_id: Uuid,
    /// The customer's email; finds the customer, or creates one.
    pub email: Email,
    /// The name for a new customer (an existing customer keeps theirs).
    pub name: PersonName,
    /// The amount to reserve.
    pub amount: Money,
    /// Currency of `amount`.
    pub currency: Currency,
    /// The signed-in customer the checkout is for (order-svc checked their
    /// access token); absent for a guest checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
}

/// The answer to `customer.verify_or_create`. The same saga always gets the
/// same answer, however often it asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum VerifyOrCreateReply {
    /// The credit is reserved for the saga.
    Reserved {
        /// The customer, found or created.
        customer_id: Uuid,
    },
    /// The customer may not buy this.
    Refused {
        /// The customer, when there is one.
        customer_id: Option<Uuid>,
        /// Why.
        reason: RefusalReason,
    },
}

/// Why a customer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The customer's status is `blocked`.
    CustomerBlocked,
    /// The amount exceeds the credit still available.
    CreditLimitExceeded,
    /// A guest checkout named the email of an account with a password (or a
    /// signed-in checkout named another account): the customer must sign in.
    SignInRequired,
    /// The saga's credit was already released (a release overtook this
    /// request, for example after the caller timed out).
    SagaReleased,
}

impl RefusalReason {
    /// Every reason, in the contract's order.
    pub const ALL: [Self; 4] = [
        Self::CustomerBlocked,
        Self::CreditLimitExceeded,
        Self::SignInRequired,
        Self::SagaReleased,
    ];

    /// Reads a code; `None` for one this contract does not name.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// The contract's `snake_case` code.
    pub fn code(self) -> &'static str {
        match self {
            RefusalReason::CustomerBlocked => "customer_blocked",
            RefusalReason::CreditLimitExceeded => "credit_limit_exceeded",
            RefusalReason::SignInRequired => "sign_in_required",
            RefusalReason::SagaReleased => "saga_released",
        }
    }
}

/// `customer.release_credit`: release whatever the saga holds. Idempotent;
/// releasing what was never reserved succeeds and fences a later reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseCreditRequest {
    /// The saga whose reservation to release.
    pub saga_id: Uuid,
}

/// The answer to `customer.release_credit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseCreditReply {
    /// The amount this call gave back (zero when nothing was held).
    pub released: Money,
}
