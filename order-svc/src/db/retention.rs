//! Bounded storage: what order-svc keeps only for a while. `Idempotency-Key`s
//! (a retry comes within hours), sent outbox rows (kept for inspection, then
//! of no use), and the timelines of sagas that finished long ago. Orders and
//! their lines are kept: they are the shop's records.

use std::time::Duration;

use sqlx::PgPool;

/// How long each kind of row is kept (`IDEMPOTENCY_KEY_TTL`,
/// `OUTBOX_RETENTION`, `SAGA_TIMELINE_RETENTION`).
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// An `Idempotency-Key` is remembered this long.
    pub idempotency_keys: Duration,
    /// A sent event stays in the outbox this long after it was sent.
    pub sent_events: Duration,
    /// A finished saga's timeline is kept this long after it finished.
    pub finished_timelines: Duration,
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Idempotency keys forgotten.
    pub keys: u64,
    /// Sent outbox rows removed.
    pub events: u64,
    /// Timeline entries removed.
    pub steps: u64,
}

/// Most rows of one kind removed per statement, so that a sweep after a
/// long pause is many short statements, not one long one.
const SWEEP_LIMIT: i64 = 10_000;

/// Removes what has outlived its retention: statements of [`SWEEP_LIMIT`]
/// rows, repeated until one removes fewer, so that the sweep keeps up with
/// any write rate.
pub async fn sweep(pool: &PgPool, retention: &Retention) -> sqlx::Result<Swept> {
    let mut swept = Swept::default();
    loop {
        let round = sweep_once(pool, retention).await?;
        swept.keys += round.keys;
        swept.events += round.events;
        swept.steps += round.steps;
        let limit = SWEEP_LIMIT.unsigned_abs();
        if round.keys < limit && round.events < limit && round.steps < limit {
            return Ok(swept);
        }
        tokio::task::yield_now().await;
    }
}

async fn sweep_once(pool: &PgPool, retention: &Retention) -> sqlx::Result<Swept> {
    let keys = delete_aged(
        pool,
        "DELETE FROM idempotency_keys WHERE key IN (
           SELECT key FROM idempotency_keys
           WHERE created_at < now() - make_interval(secs => $1) LIMIT $2)",
        retention.idempotency_keys,
    )
    .await?;
    let events = delete_aged(
        pool,
        "DELETE FROM outbox WHERE id IN (
           SELECT id FROM outbox
           WHERE sent_at < now() - make_interval(secs => $1) LIMIT $2)",
        retention.sent_events,
    )
    .await?;
    let steps = delete_aged(
        pool,
        "DELETE FROM saga_steps WHERE id IN (
           SELECT st.id FROM saga_steps st JOIN sagas s ON s.id = st.saga_id
           WHERE s.step = 'done' AND s.updated_at < now() - make_interval(secs => $1)
           LIMIT $2)",
        retention.finished_timelines,
    )
    .await?;
    Ok(Swept {
        keys,
        events,
        steps,
    })
}

/// Runs one `DELETE` whose `$1` is the age in seconds and `$2` the row limit.
async fn delete_aged(pool: &PgPool, statement: &'static str, age: Duration) -> sqlx::Result<u64> {
    sqlx::query(statement)
        .bind(age.as_secs_f64())
        .bind(SWEEP_LIMIT)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
}
