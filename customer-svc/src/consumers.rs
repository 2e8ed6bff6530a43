//! Keeps the order history in sync: consumes `order.confirmed` and
//! `order.cancelled` from the customer's order-events queue. Events that
//! arrive together are applied in one transaction (a [`Batcher`]); each is
//! acknowledged once its batch is committed. Each event is handled in the
//! subscriber's span, which carries its `request_id` (the request that
//! caused it); the line saying what it did to the history is written there.

use amqp::{Broker, ConsumerHandle, DeliveryMeta, Envelope, EventSubscriber, HandlerError};
use contract::{OrderCancelled, OrderConfirmed};
use edge::{
    batch::{BatchError, Batcher},
    database,
};
use sqlx::PgPool;
use tracing::{debug, error, info};

use crate::db::history::{self, Applied, OrderChange, OrderEvent};

/// The most events applied in one transaction.
const MAX_BATCH: usize = 64;

type HistoryWriter = Batcher<OrderEvent, Applied, sqlx::Error>;

/// Starts consuming order events.
pub fn spawn_order_events(broker: &Broker, pool: PgPool, prefetch: u16) -> ConsumerHandle {
    let queue = amqp::system::customer_order_events_queue(&broker.settings().namespace);
    let writer: HistoryWriter = Batcher::spawn("order_events", MAX_BATCH, move |batch| {
        let pool = pool.clone();
        async move { history::apply_all(&pool, &batch).await }
    });
    EventSubscriber::spawn(
        broker,
        &queue,
        prefetch,
        move |_meta: DeliveryMeta, event| {
            let writer = writer.clone();
            async move { apply(&writer, event).await }
        },
    )
}

/// Applies one order event. Any database failure that is not the event's
/// own doing (`edge::database::Fault`: the database away, restarting, closed,
/// read-only, out of connections, or something not known) is waited out by
/// the subscriber, however long; only an event whose data the schema
/// refuses goes back to the queue, for the delivery limit to dead-letter.
async fn apply(
    writer: &HistoryWriter,
    event: Envelope<serde_json::Value>,
) -> Result<(), HandlerError> {
    let message_id = event.message_id.to_string();
    let kind = event.kind.clone();
    let change = match event.kind.as_str() {
        contract::ORDER_CONFIRMED => {
            OrderChange::Confirmed(decode::<OrderConfirmed>(event.payload)?)
        }
        contract::ORDER_CANCELLED => {
            OrderChange::Cancelled(decode::<OrderCancelled>(event.payload)?)
        }
        other => {
            debug!(kind = other, "event of no interest: acknowledged");
            return Ok(());
        }
    };
    let order_id = match &change {
        OrderChange::Confirmed(event) => event.order_id,
        OrderChange::Cancelled(event) => event.order_id,
    };
    let outcome = writer
        .submit(OrderEvent {
            message_id: message_id.clone(),
            change,
        })
        .await;
    match outcome {
        Ok(Applied::Duplicate) => {
            debug!(%message_id, "event already applied");
            Ok(())
        }
        Ok(Applied::Applied) => {
            info!(%kind, %order_id, "order event applied to the history");
            Ok(())
        }
        Ok(Applied::UnknownCustomer) => {
            info!(%kind, %order_id, "order event of a customer no longer kept: nothing applied");
            Ok(())
        }
        Err(BatchError::Unavailable(cause)) => Err(HandlerError::transient(cause)),
        Err(BatchError::Failed(cause)) if database::fault(&cause).is_waited_out() => {
            Err(HandlerError::transient(cause))
        }
        // Shutting down: the event goes back to the queue with the channel.
        Err(BatchError::Stopped) => Err(HandlerError::transient("the service is stopping")),
        // The event's own data breaks a rule of the schema: it would fail
        // again however long it waited, so the delivery limit dead-letters it.
        Err(BatchError::Failed(cause)) => {
            error!(error = %cause, %message_id, "could not apply event: its data is refused");
            Err(HandlerError::internal(cause))
        }
    }
}

/// A payload that does not fit its type will never fit: the handler fails on
/// every attempt and the queue's delivery limit dead-letters it.
fn decode<T: serde::de::DeserializeOwned>(payload: serde_json::Value) -> Result<T, HandlerError> {
    serde_json::from_value(payload).map_err(|e| HandlerError::invalid_request(e.to_string()))
}
