//! What can happen to a saga: the events [`super::transition()`] takes.

use std::time::Duration;

use uuid::Uuid;

use contract::RejectionReason;

/// What happened to a saga.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Step 2 is asked again (its driver died mid-call), with a new deadline.
    Retried {
        /// How long the new try may take.
        step_timeout: Duration,
        /// In words.
        why: String,
    },
    /// customer-svc verified the customer and holds the credit.
    Verified {
        /// The customer.
        customer_id: Uuid,
    },
    /// customer-svc refused: nothing is held, nothing to compensate.
    Refused {
        /// Why.
        reason: RejectionReason,
        /// The customer, when known.
        customer_id: Option<Uuid>,
        /// In words.
        detail: String,
    },
    /// The order is rejected and what may be held must be released: step 2
    /// had no usable answer, or step 3 found too little stock.
    CompensationStarted {
        /// Why.
        reason: RejectionReason,
        /// The failed step's timeline status (`timed_out`, `failed`).
        status: &'static str,
        /// In words.
        detail: String,
    },
    /// Someone outside the saga's own steps orders its compensation: an
    /// operator, or the recovery round once the saga is older than
    /// `SAGA_AUTO_COMPENSATE_AFTER`. The order is rejected, and whichever
    /// instance takes the saga first releases what it may hold.
    CompensationOrdered {
        /// Why (the order's rejection reason).
        reason: RejectionReason,
        /// In words: who ordered it, and why.
        detail: String,
    },
    /// The stock is taken and the order confirmed.
    Confirmed,
    /// customer-svc released what the saga held.
    Compensated {
        /// In words.
        detail: String,
    },
    /// The release could not be done now: try again after `delay`.
    Postponed {
        /// How long until the next try.
        delay: Duration,
        /// In words (written on the first postponement only).
        detail: String,
    },
}

impl Event {
    /// Its name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Retried { .. } => "retried",
            Event::Verified { .. } => "verified",
            Event::Refused { .. } => "refused",
            Event::CompensationStarted { .. } => "compensation_started",
            Event::CompensationOrdered { .. } => "compensation_ordered",
            Event::Confirmed => "confirmed",
            Event::Compensated { .. } => "compensated",
            Event::Postponed { .. } => "postponed",
        }
    }
}
