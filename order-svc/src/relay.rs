//! The outbox relay: publishes queued events with publisher confirms and marks
//! a row sent only after the broker confirmed it. A trigger's `NOTIFY` wakes it
//! the moment a row is committed (in any instance); a slow tick covers a lost
//! notification. Rows are locked `FOR UPDATE SKIP LOCKED`, so two instances
//! never publish the same row at once; a crash between publish and commit
//! publishes a row again, with the same message id, which consumers deduplicate.
//! Each event is published as its envelope says, with the request id it
//! carries (in a span of that `request_id`, for the lines about it).

use std::time::Duration;

use amqp::{Envelope, EventPublisher};
use sqlx::{PgPool, postgres::PgListener};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::db::outbox;

/// Rows published per transaction.
const BATCH: i64 = 50;
/// Fallback wake-up when no notification arrives.
const TICK: Duration = Duration::from_secs(2);
/// Pause after the broker refused or failed a publish.
const FAILURE_PAUSE: Duration = Duration::from_millis(500);
/// The channel the outbox trigger notifies.
const CHANNEL: &str = "outbox_written";

/// Relays until `stop`.
pub fn spawn(pool: PgPool, publisher: EventPublisher, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener = listen(&pool).await;
        loop {
            match relay_batch(&pool, &publisher).await {
                Ok(sent) if sent as i64 == BATCH => continue,
                Ok(_) => {}
                Err(error) => {
                    warn!(%error, "outbox relay round failed; will retry");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(FAILURE_PAUSE) => {}
                    }
                    continue;
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(TICK) => {}
                notified = next_notification(&mut listener) => {
                    if !notified {
                        listener = listen(&pool).await;
                    }
                }
            }
        }
    })
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(CHANNEL).await.ok()?;
    Some(listener)
}

/// Waits for a notification; false when the listener is gone (after a pause,
/// so that a database outage does not spin).
async fn next_notification(listener: &mut Option<PgListener>) -> bool {
    match listener {
        Some(l) => match l.recv().await {
            Ok(_) => true,
            Err(error) => {
                debug!(%error, "outbox listener lost; reconnecting");
                tokio::time::sleep(FAILURE_PAUSE).await;
                false
            }
        },
        None => {
            tokio::time::sleep(TICK).await;
            false
        }
    }
}

/// Publishes up to one batch of unsent rows; returns how many were sent.
/// The batch's messages are all in flight at once (each still confirmed by
/// the broker before its row is marked), and the confirmed rows are marked
/// sent in one statement: one transaction per batch, however large. Events
/// of one order may therefore reach the broker out of order (a cancellation
/// before its confirmation); customer-svc's history is built to take that.
async fn relay_batch(pool: &PgPool, publisher: &EventPublisher) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let events = outbox::lock_unsent(&mut tx, BATCH).await?;
    if events.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let outcomes =
        futures_util::future::join_all(events.iter().map(|event| publish(publisher, event))).await;
    let mut confirmed = Vec::with_capacity(events.len());
    for (event, outcome) in events.iter().zip(outcomes) {
        match outcome {
            Ok(()) => confirmed.push(event),
            Err(error) => outbox::mark_failed(&mut tx, event.id, &error).await?,
        }
    }
    outbox::mark_sent(&mut tx, &confirmed).await?;
    tx.commit().await?;
    let sent = confirmed.len();
    if sent > 0 {
        info!(sent, "outbox events published");
    }
    if sent < events.len() {
        tokio::time::sleep(FAILURE_PAUSE).await;
    }
    Ok(sent)
}

/// Publishes one queued event as its envelope says (with its request id),
/// in a span carrying that id.
async fn publish(publisher: &EventPublisher, event: &outbox::PendingEvent) -> Result<(), String> {
    let request_id = event.envelope["request_id"].as_str().unwrap_or("");
    let span = info_span!(
        "outbox.publish",
        message_id = %event.id,
        kind = %event.message_type,
        request_id,
    );
    async {
        let published =
            match serde_json::from_value::<Envelope<serde_json::Value>>(event.envelope.clone()) {
                Ok(envelope) => publisher
                    .publish(&envelope)
                    .await
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            };
        match &published {
            Ok(()) => debug!("event published (broker confirmed)"),
            Err(error) => warn!(%error, "publish failed; the row stays queued"),
        }
        published
    }
    .instrument(span)
    .await
}
