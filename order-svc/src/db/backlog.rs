//! What is unfinished, counted for the operator's gauges: sagas not yet
//! ended and events not yet published, each with the age of its oldest.
//! Both counts read only their partial indexes' rows (`sagas_unfinished`,
//! `outbox_unsent`).

use sqlx::{FromRow, PgPool};

/// The unfinished work, as of one reading.
#[derive(Debug, Clone, Copy, PartialEq, FromRow)]
pub struct Backlog {
    /// Sagas not yet confirmed or rejected (running or compensating).
    pub sagas_in_flight: i64,
    /// Seconds since the oldest of them started (0 when none).
    pub saga_oldest_seconds: f64,
    /// Events written to the outbox and not yet confirmed by the broker.
    pub outbox_backlog: i64,
    /// Seconds since the oldest of them was written (0 when none).
    pub outbox_oldest_seconds: f64,
}

/// Reads the backlog.
pub async fn read(pool: &PgPool) -> sqlx::Result<Backlog> {
    sqlx::query_as(
        "SELECT
            (SELECT count(*) FROM sagas WHERE step <> 'done') AS sagas_in_flight,
            COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(created_at))
                      FROM sagas WHERE step <> 'done'), 0)::float8 AS saga_oldest_seconds,
            (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS outbox_backlog,
            COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(created_at))
                      FROM outbox WHERE sent_at IS NULL), 0)::float8 AS outbox_oldest_seconds",
    )
    .fetch_one(pool)
    .await
}
