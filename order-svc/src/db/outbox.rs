//! The outbox table: events written in the business transaction, published
//! later by the relay (`crate::relay`).

use serde::Serialize;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use amqp::{Envelope, MessageMeta};

/// An event to queue, with the conversation it belongs to.
pub struct Queued<'a, T> {
    /// The event.
    pub payload: &'a T,
    /// The saga it belongs to (also its causation).
    pub saga_id: Uuid,
    /// Its correlation id.
    pub correlation_id: &'a str,
    /// The id of the HTTP request that caused it, carried by the envelope
    /// (so kept in the row, and published with it).
    pub request_id: Option<&'a str>,
}

/// Queues an event inside `tx` (see [`insert_all`]); returns its message id.
pub async fn insert<T: Serialize>(
    tx: &mut PgConnection,
    kind: &str,
    event: Queued<'_, T>,
) -> sqlx::Result<Uuid> {
    let ids = insert_all(tx, kind, &[event]).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| sqlx::Error::Protocol("an outbox insert returned no id".into()))
}

/// Events ready for the outbox, one array per column.
pub struct OutboxRows {
    /// Row and message ids.
    pub ids: Vec<Uuid>,
    /// The saga of each.
    pub saga_ids: Vec<Uuid>,
    /// The full envelopes.
    pub envelopes: Vec<serde_json::Value>,
}

/// Envelopes events of type `kind` for the outbox: each envelope's message
/// id is its row's id.
pub fn rows<T: Serialize>(kind: &str, events: &[Queued<'_, T>]) -> sqlx::Result<OutboxRows> {
    let mut rows = OutboxRows {
        ids: Vec::with_capacity(events.len()),
        saga_ids: Vec::with_capacity(events.len()),
        envelopes: Vec::with_capacity(events.len()),
    };
    for event in events {
        let envelope = Envelope::new(
            kind,
            event.payload,
            MessageMeta {
                correlation_id: Some(event.correlation_id.to_owned()),
                causation_id: Some(event.saga_id.to_string()),
                request_id: event.request_id.map(str::to_owned),
            },
        );
        rows.ids.push(envelope.message_id);
        rows.saga_ids.push(event.saga_id);
        rows.envelopes
            .push(serde_json::to_value(&envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
    }
    Ok(rows)
}

/// Queues events of type `kind` inside `tx`: one statement however many.
/// Each envelope's message id is its row's id; they are returned in the
/// order given.
pub async fn insert_all<T: Serialize>(
    tx: &mut PgConnection,
    kind: &str,
    events: &[Queued<'_, T>],
) -> sqlx::Result<Vec<Uuid>> {
    let rows = rows(kind, events)?;
    sqlx::query(
        "INSERT INTO outbox (id, message_type, saga_id, envelope)
         SELECT e.id, $2, e.saga_id, e.envelope
         FROM unnest($1::uuid[], $3::uuid[], $4::jsonb[]) AS e(id, saga_id, envelope)",
    )
    .bind(&rows.ids)
    .bind(kind)
    .bind(&rows.saga_ids)
    .bind(&rows.envelopes)
    .execute(tx)
    .await?;
    Ok(rows.ids)
}

/// An unsent row.
#[derive(Debug, FromRow)]
pub struct PendingEvent {
    /// Row and message id.
    pub id: Uuid,
    /// The saga it belongs to.
    pub saga_id: Option<Uuid>,
    /// Event type.
    pub message_type: String,
    /// The full envelope.
    pub envelope: serde_json::Value,
}

/// Locks up to `limit` unsent rows, oldest first, skipping rows another
/// relay holds.
pub async fn lock_unsent(tx: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<PendingEvent>> {
    sqlx::query_as(
        "SELECT id, saga_id, message_type, envelope FROM outbox
         WHERE sent_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(tx)
    .await
}

/// Marks rows sent (the broker confirmed each) and notes each in its saga's
/// timeline: one statement for the whole batch.
pub async fn mark_sent(tx: &mut PgConnection, events: &[&PendingEvent]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = events.iter().map(|event| event.id).collect();
    let (saga_ids, details): (Vec<Uuid>, Vec<String>) = events
        .iter()
        .filter_map(|event| {
            let detail = format!("{} published (broker confirmed)", event.message_type);
            event.saga_id.map(|saga_id| (saga_id, detail))
        })
        .unzip();
    sqlx::query(
        "WITH sent AS (
           UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1)
         )
         INSERT INTO saga_steps (saga_id, step, status, detail)
         SELECT e.saga_id, 'publish_event', 'completed', e.detail
         FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS e(saga_id, detail, n)
         ORDER BY e.n",
    )
    .bind(&ids)
    .bind(&saga_ids)
    .bind(&details)
    .execute(tx)
    .await
    .map(drop)
}

/// Records a failed publish on a row.
pub async fn mark_failed(tx: &mut PgConnection, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(tx)
        .await
        .map(drop)
}
