//! The checkout saga's persisted state. Every transition is decided by
//! `crate::domain::saga::transition` and written by [`apply_all`] (or
//! [`apply()`] for one saga), the one compare-and-set on `(step, attempt)`,
//! committed together with the order's status and the timeline, before any
//! side effect of the next step is requested; an outcome that arrives for a
//! superseded attempt matches no row and changes nothing.
//!
//! Here: the row, its columns and the timeline; `leases` (who drives a saga
//! until when), `apply` (the one write of a transition) and `moves` (each
//! move outside the batch path, in a transaction of its own).

mod apply;
mod leases;
mod moves;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::domain::saga::{Event, Phase, Step, Transition, transition};

pub use apply::{apply, apply_all};
pub use leases::{SagaLease, claim, claim_orphans, release_lease};
pub(crate) use moves::reject_order;
pub use moves::{compensated, next_attempt, postpone, refused, start_compensation};

/// A saga as stored.
#[derive(Debug, Clone, FromRow)]
pub struct SagaRow {
    /// The saga (and idempotency key of every step).
    pub id: Uuid,
    /// Its order.
    pub order_id: Uuid,
    /// Where it stands.
    pub step: Step,
    /// How it is going.
    pub status: Phase,
    /// Tries of the current step.
    pub attempt: i32,
    /// When the current try of the step gives up.
    pub deadline: Option<DateTime<Utc>>,
    /// The customer, once verified.
    pub customer_id: Option<Uuid>,
    /// The rejection reason, once rejected.
    pub reason: Option<String>,
}

pub(crate) fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// The columns of a [`SagaRow`], for `RETURNING` and `SELECT`.
pub(crate) const SAGA_COLUMNS: &str =
    "id, order_id, step, status, attempt, deadline, customer_id, reason";

/// Appends an entry to the saga's timeline. (Batches write theirs within
/// their own statements: [`apply_all`], recording, the outbox relay.)
pub async fn log_step(
    tx: &mut PgConnection,
    saga_id: Uuid,
    step: &str,
    status: &str,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO saga_steps (saga_id, step, status, detail) VALUES ($1, $2, $3, $4)")
        .bind(saga_id)
        .bind(step)
        .bind(status)
        .bind(detail)
        .execute(tx)
        .await
        .map(drop)
}

/// Decides what `event` does to `saga`. An event its step cannot take is a
/// bug in the driver, reported as an error (nothing is written).
pub(crate) fn plan(saga: &SagaRow, event: Event) -> sqlx::Result<Transition> {
    transition(saga.step, saga.attempt, event)
        .map_err(|illegal| sqlx::Error::InvalidArgument(illegal.to_string()))
}
