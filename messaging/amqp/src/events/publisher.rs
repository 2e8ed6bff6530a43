//! Publishes events to `<ns>.events` with the event type as routing key.

use serde::Serialize;

use crate::{connection::Broker, envelope::Envelope, error::MessagingError, publisher::Publisher};

/// Publishes domain events, persistent, `mandatory` and confirmed. Cheap to clone.
#[derive(Clone)]
pub struct EventPublisher {
    publisher: Publisher,
    exchange: String,
}

impl EventPublisher {
    /// A publisher to `broker`'s namespace events exchange.
    pub fn new(broker: &Broker) -> Self {
        Self {
            publisher: Publisher::new(broker),
            exchange: broker.settings().namespace.events_exchange(),
        }
    }

    /// Publishes `event` with its type as routing key and returns once the
    /// broker confirmed it. [`MessagingError::Unroutable`] means no queue is
    /// bound for that type: the event was not stored anywhere.
    pub async fn publish<T: Serialize>(&self, event: &Envelope<T>) -> Result<(), MessagingError> {
        let body = serde_json::to_vec(event)?;
        let properties = event.properties(&self.publisher.broker().settings().app_id, true);
        self.publisher
            .publish(&self.exchange, &event.kind, &body, properties)
            .await?;
        metrics::counter!("events_published_total", "type" => event.kind.clone()).increment(1);
        Ok(())
    }
}
