//! Where a saga stands: its step and its phase, as the `step` and `status`
//! columns store them.

use std::fmt;

/// Where a saga stands (the `step` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Step {
    /// Step 2: customer-svc verifies the customer and holds the credit.
    VerifyCustomer,
    /// Steps 3 and 4: the stock is taken and the order confirmed.
    ReserveStock,
    /// Compensation: customer-svc releases what the saga holds.
    ReleaseCredit,
    /// Ended.
    Done,
}

impl Step {
    /// Its name in the database and on the timeline.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::VerifyCustomer => "verify_customer",
            Step::ReserveStock => "reserve_stock",
            Step::ReleaseCredit => "release_credit",
            Step::Done => "done",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a saga is going (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Phase {
    /// On its way to a confirmation.
    Running,
    /// The order is rejected; what is held is being released.
    Compensating,
    /// Ended with the order confirmed.
    Confirmed,
    /// Ended with the order rejected.
    Rejected,
}

impl Phase {
    /// Its name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::Compensating => "compensating",
            Phase::Confirmed => "confirmed",
            Phase::Rejected => "rejected",
        }
    }
}
