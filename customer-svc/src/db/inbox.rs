//! The processed-message inbox that makes event handling exactly-once.

use std::collections::HashSet;

use sqlx::PgConnection;

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
