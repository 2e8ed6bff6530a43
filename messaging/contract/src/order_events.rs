//! The events order-svc publishes about orders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Currency, values::Money};

/// `order.confirmed`: the saga ended with a confirmed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderConfirmed {
    /// The order.
    pub order_id: Uuid,
    /// The saga that reserved the credit this order settles.
    pub saga_id: Uuid,
    /// Its customer.
    pub customer_id: Uuid,
    /// The order's total.
    pub total: Money,
    /// Currency of `total`.
    pub currency: Currency,
    /// Number of units ordered.
    pub item_count: u32,
    /// When the order was placed.
    pub placed_at: DateTime<Utc>,
}

/// `order.cancelled`: a confirmed order was cancelled. Carries everything
/// `order.confirmed` does, so that it can be applied even if it arrives first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order.
    pub order_id: Uuid,
    /// The saga whose credit to release.
    pub saga_id: Uuid,
    /// Its customer.
    pub customer_id: Uuid,
    /// The order's total.
    pub total: Money,
    /// Currency of `total`.
    pub currency: Currency,
    /// Number of units ordered.
    pub item_count: u32,
    /// When the order was placed.
    pub placed_at: DateTime<Utc>,
    /// When it was cancelled.
    pub cancelled_at: DateTime<Utc>,
}
