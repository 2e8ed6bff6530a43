//! The processed-message inbox that makes event handling exactly-once.

use sqlx::PgConnection;

/// Records `message_id` as processed; false if it already was. Call inside the
/// transaction that applies the message, so that both commit or neither does.
pub async fn first_time(
    tx: &mut PgConnection,
    message_id: &str,
    message_type: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO processed_messages (message_id, message_type) VALUES ($1, $2)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(message_type)
    .execute(tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
