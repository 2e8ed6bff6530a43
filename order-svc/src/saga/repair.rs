//! Repairs ordered from outside a saga's own steps: an operator's resume or
//! compensation (`crate::usecases::Repair`), and the recovery round's
//! automatic compensation of sagas older than `SAGA_AUTO_COMPENSATE_AFTER`.
//! Each is written by `crate::db::sagas` (resume moves no step; a
//! compensation is the same compare-and-set on step and attempt as every
//! move, so a driver's own move meanwhile wins or loses, never both), then
//! the saga is handed to this instance's coordinator so that its next step
//! runs now rather than at the next recovery round.

use std::time::Duration;

use sqlx::PgPool;
use tracing::{info, warn};
use uuid::Uuid;

use contract::RejectionReason;

use super::Coordinator;
use crate::db::sagas::{self, Ordered, Resumed};

/// The rejection reason of an ordered compensation. The contract names no
/// code for "an operator (or the age limit) gave up on it"; a saga that
/// has not ended in time is one customer-svc did not see through, the
/// case this code names.
pub const ORDERED_REASON: RejectionReason = RejectionReason::CustomerServiceUnavailable;

/// Who ordered a compensation.
#[derive(Debug, Clone, Copy)]
pub enum OrderedBy {
    /// An operator, through the admin API.
    Operator,
    /// The recovery round: the saga is older than this.
    Age(Duration),
}

impl OrderedBy {
    /// The timeline's words for it.
    fn detail(self) -> String {
        match self {
            OrderedBy::Operator => "compensation ordered by an operator".to_owned(),
            OrderedBy::Age(limit) => format!(
                "not finished {} after it started (SAGA_AUTO_COMPENSATE_AFTER): compensating automatically",
                humantime::format_duration(limit)
            ),
        }
    }
}

/// Orders the compensation of saga `id` and, when it moved, signals its
/// order's end to waiting checkouts and drives the compensation now.
pub async fn compensate(
    coordinator: &Coordinator,
    pool: &PgPool,
    id: Uuid,
    by: OrderedBy,
) -> sqlx::Result<Ordered> {
    let ordered = sagas::order_compensation(pool, id, ORDERED_REASON, &by.detail()).await?;
    if let Ordered::Now(saga) = &ordered {
        metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => ORDERED_REASON.code())
            .increment(1);
        match by {
            OrderedBy::Operator => {
                info!(saga_id = %saga.id, order_id = %saga.order_id, "compensation ordered by an operator");
            }
            OrderedBy::Age(limit) => {
                metrics::counter!("sagas_auto_compensated_total").increment(1);
                warn!(saga_id = %saga.id, order_id = %saga.order_id, after = %humantime::format_duration(limit),
                      "saga not finished in time: compensating automatically");
            }
        }
        coordinator.waiters().ended(saga.order_id);
        coordinator.drive_in_background(saga.id);
    }
    Ok(ordered)
}

/// Frees saga `id`'s lease and backoff (an operator's resume) and drives it now.
pub async fn resume(coordinator: &Coordinator, pool: &PgPool, id: Uuid) -> sqlx::Result<Resumed> {
    let resumed = sagas::resume(pool, id, "resumed by an operator").await?;
    if let Resumed::Now(saga) = &resumed {
        info!(saga_id = %saga.id, order_id = %saga.order_id, step = %saga.step, "saga resumed by an operator");
        coordinator.drive_in_background(saga.id);
    }
    Ok(resumed)
}

/// Compensates up to `limit` sagas older than `limit_age` that are still on
/// their way to a confirmation; returns how many it compensated (another
/// instance's round may take some first).
pub async fn compensate_overdue(
    coordinator: &Coordinator,
    pool: &PgPool,
    limit_age: Duration,
    limit: i64,
) -> sqlx::Result<usize> {
    let mut compensated = 0;
    for id in sagas::overdue(pool, limit_age, limit).await? {
        if let Ordered::Now(_) =
            compensate(coordinator, pool, id, OrderedBy::Age(limit_age)).await?
        {
            compensated += 1;
        }
    }
    Ok(compensated)
}
