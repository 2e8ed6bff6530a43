//! Keeps the order history in sync: consumes `order.confirmed` and
//! `order.cancelled` from the customer's order-events queue.

use messaging::{
    Broker, ConsumerHandle, DeliveryMeta, Envelope, EventSubscriber, HandlerError,
    contract::{self, OrderCancelled, OrderConfirmed},
};
use sqlx::PgPool;
use tracing::{debug, error};

use crate::db::history::{self, Applied};

/// Starts consuming order events.
pub fn spawn_order_events(broker: &Broker, pool: PgPool, prefetch: u16) -> ConsumerHandle {
    let queue = contract::customer_order_events_queue(&broker.settings().namespace);
    EventSubscriber::spawn(
        broker,
        &queue,
        prefetch,
        move |_meta: DeliveryMeta, event| {
            let pool = pool.clone();
            async move { apply(&pool, event).await }
        },
    )
}

/// Applies one order event; an error returns it to the queue for another try.
async fn apply(pool: &PgPool, event: Envelope<serde_json::Value>) -> Result<(), HandlerError> {
    let message_id = event.message_id.to_string();
    let outcome = match event.kind.as_str() {
        contract::ORDER_CONFIRMED => {
            let payload: OrderConfirmed = decode(event.payload)?;
            history::apply_confirmed(pool, &message_id, &payload).await
        }
        contract::ORDER_CANCELLED => {
            let payload: OrderCancelled = decode(event.payload)?;
            history::apply_cancelled(pool, &message_id, &payload).await
        }
        other => {
            debug!(kind = other, "event of no interest: acknowledged");
            return Ok(());
        }
    };
    match outcome {
        Ok(Applied::Duplicate) => {
            debug!(%message_id, "event already applied");
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(cause) => {
            error!(error = %cause, %message_id, "could not apply event");
            Err(HandlerError::internal(cause))
        }
    }
}

/// A payload that does not fit its type will never fit: the handler fails on
/// every attempt and the queue's delivery limit dead-letters it.
fn decode<T: serde::de::DeserializeOwned>(payload: serde_json::Value) -> Result<T, HandlerError> {
    serde_json::from_value(payload).map_err(|e| HandlerError::invalid_request(e.to_string()))
}
