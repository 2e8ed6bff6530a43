//! A saga as stored: its row and the columns that make it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::domain::saga::{Phase, Step};

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
    /// When the saga began (with its order): its age, however often it was resumed.
    #[sqlx(rename = "created_at")]
    pub started_at: DateTime<Utc>,
    /// The id of the HTTP request that started it (`None` for sagas
    /// recorded before request ids were kept): every step's span, RPC
    /// request and event carries it.
    pub request_id: Option<String>,
}

pub(crate) fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// The columns of a [`SagaRow`], for `RETURNING` and `SELECT`.
pub(crate) const SAGA_COLUMNS: &str =
    "id, order_id, step, status, attempt, deadline, customer_id, reason, created_at, request_id";
