//! The processed-message inbox that makes event handling exactly-once, kept
//! for `INBOX_RETENTION` (a redelivery comes within minutes; and applying an
//! event again later still changes nothing: history rows are keyed by order,
//! reservations by saga).

use std::{collections::HashSet, time::Duration};

use sqlx::{PgConnection, PgPool};

/// Records each `(message id, type)` as processed and returns the ids that
/// were not processed before. Call inside the transaction that applies the
/// messages, so that both commit or neither does. Ids must be distinct.
pub async fn first_times(
    tx: &mut PgConnection,
    messages: &[(&str, &str)],
) -> sqlx::Result<HashSet<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "INSERT INTO processed_messages (message_id, message_type)
         SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
    )
    .bind(messages.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(messages.iter().map(|(_, kind)| *kind).collect::<Vec<_>>())
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Most inbox rows removed per sweep.
const SWEEP_LIMIT: i64 = 10_000;

/// Forgets messages processed longer than `retention` ago, in statements of
/// [`SWEEP_LIMIT`] rows until one removes fewer; returns how many.
pub async fn forget_older_than(pool: &PgPool, retention: Duration) -> sqlx::Result<u64> {
    let mut forgotten = 0;
    loop {
        let round = forget_some(pool, retention).await?;
        forgotten += round;
        if round < SWEEP_LIMIT.unsigned_abs() {
            return Ok(forgotten);
        }
        tokio::task::yield_now().await;
    }
}

async fn forget_some(pool: &PgPool, retention: Duration) -> sqlx::Result<u64> {
    sqlx::query(
        "DELETE FROM processed_messages WHERE message_id IN (
           SELECT message_id FROM processed_messages
           WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2)",
    )
    .bind(retention.as_secs_f64())
    .bind(SWEEP_LIMIT)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
}
