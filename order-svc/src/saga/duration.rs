//! How long sagas take from start to end, by how they ended: the histogram
//! `saga_duration_seconds{outcome}`. Measured from the saga's stored start,
//! so that a saga resumed by another instance, or after a crash, counts
//! its whole life.

use chrono::Utc;

use crate::db::sagas::SagaRow;

/// How a saga ended (the `outcome` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Stock reserved and the order confirmed.
    Confirmed,
    /// customer-svc refused: the order rejected, nothing to compensate.
    Rejected,
    /// The order rejected and its credit released.
    Compensated,
}

impl Ending {
    const ALL: [Ending; 3] = [Self::Confirmed, Self::Rejected, Self::Compensated];

    fn label(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Compensated => "compensated",
        }
    }
}

/// Registers every outcome's series, empty, so that they exist from the start.
pub(super) fn register() {
    for ending in Ending::ALL {
        let _ = metrics::histogram!("saga_duration_seconds", "outcome" => ending.label());
    }
}

/// Records that `saga` ended as `ending`, now.
pub(super) fn record(saga: &SagaRow, ending: Ending) {
    let age = (Utc::now() - saga.started_at)
        .to_std()
        .unwrap_or_default()
        .as_secs_f64();
    metrics::histogram!("saga_duration_seconds", "outcome" => ending.label()).record(age);
}
