//! Consumes an event queue: acknowledge after the handler succeeded.
//!
//! Failures are of three kinds. A transient one (the handler's database is
//! unreachable, it lost a deadlock) is waited out: the event stays with this
//! consumer, unacknowledged, and the handler is tried again with capped
//! backoff for as long as the outage lasts, spending none of the queue's
//! delivery limit; meanwhile the prefetch window fills and the consumer takes
//! no new work. A permanent one (an event that cannot be decoded, or whose
//! payload the handler calls invalid) is dead-lettered at once. Anything else
//! (a bug) goes back to the queue after a pause, and the queue's delivery
//! limit dead-letters it after a bounded number of attempts.

use std::{future::Future, sync::Arc, time::Duration};

use lapin::message::Delivery;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};

use crate::{
    connection::Broker,
    consumer::{
        BoxFuture, ConsumerHandle, ConsumerSpec, WaitingOut, ack, dead_letter, requeue,
        spawn_consumer,
    },
    delivery_counts::{DeliveryCounts, EVENTS, PoisonReason},
    envelope::{DeliveryMeta, Envelope},
    error::HandlerError,
};

/// First pause before a failed event goes back to the queue; doubles per attempt.
const RETRY_BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Longest pause before a failed event goes back to the queue.
const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Tries after which an event that keeps failing transiently counts as
/// waiting out an outage (about a second and a half: 200 + 400 + 800 ms).
const WAITING_OUT_AFTER: u32 = 4;
/// Longest pause between two tries of an event waiting out an outage.
const TRANSIENT_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Consumes one event queue.
pub struct EventSubscriber;

impl EventSubscriber {
    /// Starts consuming `queue` with at most `prefetch` events in flight,
    /// decoding each into `Envelope<T>` and calling `handler`.
    pub fn spawn<T, F, Fut>(
        broker: &Broker,
        queue: &str,
        prefetch: u16,
        handler: F,
    ) -> ConsumerHandle
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(DeliveryMeta, Envelope<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let answer_timeout = broker.settings().answer_timeout;
        let waiting_out = WaitingOut::default();
        let waiting = waiting_out.clone();
        let counts = DeliveryCounts::register(&EVENTS, queue);
        let on_delivery = Arc::new(move |delivery: Delivery, stop: CancellationToken| {
            let handler = handler.clone();
            let waiting = waiting.clone();
            let counts = counts.clone();
            Box::pin(handle(
                delivery,
                handler,
                answer_timeout,
                stop,
                waiting,
                counts,
            )) as BoxFuture
        });
        let mut consumer = spawn_consumer(
            broker,
            ConsumerSpec {
                queue: queue.to_owned(),
                prefetch,
                no_ack: false,
                declare_exclusive: false,
            },
            on_delivery,
        );
        consumer.waiting_out = waiting_out;
        consumer
    }
}

async fn handle<T, F, Fut>(
    delivery: Delivery,
    handler: Arc<F>,
    answer_timeout: Duration,
    stop: CancellationToken,
    waiting_out: WaitingOut,
    counts: DeliveryCounts,
) where
    T: DeserializeOwned,
    F: Fn(DeliveryMeta, Envelope<T>) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let meta = DeliveryMeta::from_delivery(&delivery.properties, delivery.redelivered);
    counts.received(delivery.redelivered);
    let span = info_span!(
        "event",
        r#type = meta.kind.as_deref().unwrap_or(""),
        message_id = meta.message_id.as_deref().unwrap_or(""),
        correlation_id = meta.correlation_id.as_deref().unwrap_or(""),
        request_id = meta.request_id.as_deref().unwrap_or(""),
        delivery_count = meta.delivery_count,
    );
    async move {
        let attempt = meta.delivery_count;
        let mut waited_out = 0_u32;
        let mut waiting = None;
        let mut first_failure: Option<tokio::time::Instant> = None;
        loop {
            // Decoded afresh for each try: the handler consumes the envelope.
            let envelope: Envelope<T> = match decode_event(&delivery.data) {
                Ok(envelope) => envelope,
                Err(error) => {
                    warn!(%error, "undecodable event: dead-lettering");
                    counts.dead_lettered(PoisonReason::Undecodable);
                    return dead_letter(&delivery, answer_timeout).await;
                }
            };
            let error = match handler(meta.clone(), envelope).await {
                Ok(()) => {
                    if let Some(since) = first_failure {
                        let waited = since.elapsed().as_secs_f64();
                        metrics::histogram!("events_waited_out_seconds").record(waited);
                        info!(tries = waited_out + 1, waited_seconds = waited, "event applied after waiting out an outage");
                    }
                    return ack(&delivery, answer_timeout).await;
                }
                Err(error) => error,
            };
            if error.transient {
                waited_out += 1;
                let waited = first_failure
                    .get_or_insert_with(tokio::time::Instant::now)
                    .elapsed()
                    .as_secs_f64();
                // A lost race is retried at once and unnoticed; a failure
                // that lasts past a few tries is an outage, and says so.
                if waited_out >= WAITING_OUT_AFTER {
                    waiting.get_or_insert_with(|| waiting_out.enter());
                }
                metrics::counter!("events_transient_retries_total").increment(1);
                if waited_out == 1 || waited_out.is_multiple_of(10) {
                    warn!(code = %error.code, message = %error.message, tries = waited_out, waited_seconds = waited, "event handler failed transiently: waiting it out");
                }
                tokio::select! {
                    _ = tokio::time::sleep(transient_backoff(waited_out)) => continue,
                    // Stopping: the channel's close gives the event back.
                    _ = stop.cancelled() => return,
                }
            }
            metrics::counter!("events_handler_failures_total").increment(1);
            if error.is_invalid_request() {
                warn!(code = %error.code, message = %error.message, "event rejected as invalid: dead-lettering");
                counts.dead_lettered(PoisonReason::Invalid);
                return dead_letter(&delivery, answer_timeout).await;
            }
            warn!(code = %error.code, message = %error.message, attempt, "event handler failed: will retry");
            tokio::time::sleep(retry_backoff(attempt)).await;
            return requeue(&delivery, answer_timeout).await;
        }
    }
    .instrument(span)
    .await;
}

/// An event's body, its payload as the subscriber's type.
fn decode_event<T: DeserializeOwned>(data: &[u8]) -> Result<Envelope<T>, serde_json::Error> {
    serde_json::from_slice(data)
}

fn retry_backoff(attempt: u32) -> Duration {
    RETRY_BACKOFF_BASE
        .saturating_mul(2_u32.saturating_pow(attempt.min(16)))
        .min(RETRY_BACKOFF_MAX)
}

fn transient_backoff(tries: u32) -> Duration {
    RETRY_BACKOFF_BASE
        .saturating_mul(2_u32.saturating_pow(tries.min(16)))
        .min(TRANSIENT_BACKOFF_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(retry_backoff(0), Duration::from_millis(100));
        assert_eq!(retry_backoff(1), Duration::from_millis(200));
        assert_eq!(retry_backoff(3), Duration::from_millis(800));
        assert_eq!(retry_backoff(10), RETRY_BACKOFF_MAX);
        assert_eq!(retry_backoff(u32::MAX), RETRY_BACKOFF_MAX);
        assert_eq!(transient_backoff(1), Duration::from_millis(200));
        assert_eq!(transient_backoff(u32::MAX), TRANSIENT_BACKOFF_MAX);
    }
}

#[cfg(test)]
mod props {
    //! The event decoder on hostile bodies: refused with an error, never a
    //! panic, whatever the bytes.

    use std::fmt::Debug;

    use chrono::{TimeZone, Utc};
    use proptest::{prop_assert_eq, test_runner::TestCaseError};
    use serde::Serialize;
    use uuid::Uuid;

    use super::*;
    use crate::MessageMeta;
    use contract::{Money, ORDER_CANCELLED, ORDER_CONFIRMED, OrderCancelled, OrderConfirmed};
    use testkit::hostile::{DecoderUnderTest, check_decoder};

    const EVENT: [&str; 13] = [
        "/message_id",
        "/type",
        "/schema_version",
        "/correlation_id",
        "/timestamp",
        "/payload",
        "/payload/order_id",
        "/payload/saga_id",
        "/payload/customer_id",
        "/payload/total",
        "/payload/currency",
        "/payload/item_count",
        "/payload/placed_at",
    ];

    fn decode<T: DeserializeOwned>(data: &[u8]) -> Result<Envelope<T>, String> {
        decode_event(data).map_err(|e| e.to_string())
    }

    /// An accepted event encodes back to itself.
    fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(
        event: &Envelope<T>,
    ) -> Result<(), TestCaseError> {
        let bytes = serde_json::to_vec(event).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again: Envelope<T> =
            decode_event(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, event);
        Ok(())
    }

    fn confirmed() -> OrderConfirmed {
        OrderConfirmed {
            order_id: Uuid::from_u128(1),
            saga_id: Uuid::from_u128(2),
            customer_id: Uuid::from_u128(3),
            total: Money::parse("42.00").unwrap(),
            currency: contract::Currency::default(),
            item_count: 3,
            placed_at: Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn hostile_order_confirmed_events_are_refused_never_panic() {
        let valid = Envelope::new(ORDER_CONFIRMED, confirmed(), MessageMeta::default());
        check_decoder(DecoderUnderTest {
            valid: serde_json::to_value(valid).unwrap(),
            required: &EVENT,
            values: &["/payload/total"],
            decode: &decode::<OrderConfirmed>,
            accepted: &round_trips::<OrderConfirmed>,
        });
    }

    #[test]
    fn hostile_order_cancelled_events_are_refused_never_panic() {
        let order = confirmed();
        let cancelled = OrderCancelled {
            order_id: order.order_id,
            saga_id: order.saga_id,
            customer_id: order.customer_id,
            total: order.total,
            currency: order.currency,
            item_count: order.item_count,
            placed_at: order.placed_at,
            cancelled_at: Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap(),
        };
        let valid = Envelope::new(ORDER_CANCELLED, cancelled, MessageMeta::default());
        let required = [&EVENT[..], &["/payload/cancelled_at"]].concat();
        check_decoder(DecoderUnderTest {
            valid: serde_json::to_value(valid).unwrap(),
            required: &required,
            values: &["/payload/total"],
            decode: &decode::<OrderCancelled>,
            accepted: &round_trips::<OrderCancelled>,
        });
    }
}
