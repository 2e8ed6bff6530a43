//! Replaying dead letters: each is published again to its source queue as
//! it was (message id, type, correlation id, headers), with a publisher
//! confirm, and only then acknowledged in its `.dlq`. A crash in between
//! leaves it in both places, a duplicate the consumers recognise by its
//! message id; never in neither.

use futures_util::future::join_all;
use lapin::{
    BasicProperties,
    message::Delivery,
    types::{FieldTable, ShortString},
};
use tracing::info;

use super::{DeadLetterError, DeadLetters, Target, scan::Scan, settle::Repair};
use crate::{
    envelope::HEADER_DELIVERY_COUNT, error::MessagingError, publisher::Publisher,
    topology::dead_letter_queue_of,
};

impl DeadLetters {
    /// Replays `target`: answers how many dead letters went back to their
    /// source queue. [`DeadLetterError::NotFound`] when a message id
    /// matches none.
    pub async fn replay(&self, target: Target<'_>) -> Result<usize, DeadLetterError> {
        self.settle(target, Repair::Replay).await
    }
}

/// Publishes `batch` again (confirms awaited together) and acknowledges
/// each confirmed one; on a failure, how many were replayed. One not
/// confirmed is not acknowledged: it stays a dead letter.
pub(super) async fn replay_batch(
    scan: &mut Scan,
    publisher: &Publisher,
    queue: &str,
    batch: &[Delivery],
) -> Result<usize, (usize, MessagingError)> {
    let published = join_all(batch.iter().map(|d| republish(publisher, queue, d))).await;
    let mut replayed = 0;
    let mut failure = None;
    for (delivery, outcome) in batch.iter().zip(published) {
        match outcome {
            Err(error) => failure = failure.or(Some(error)),
            Ok(()) => {
                scan.ack(delivery)
                    .await
                    .map_err(|error| (replayed, error))?;
                replayed += 1;
                metrics::counter!("dead_letters_replayed_total", "queue" => dead_letter_queue_of(queue))
                    .increment(1);
                info!(
                    queue,
                    message_id = message_id(delivery),
                    "dead letter replayed"
                );
            }
        }
    }
    match failure {
        Some(error) => Err((replayed, error)),
        None => Ok(replayed),
    }
}

/// Publishes `delivery` to `queue` (through the default exchange) as it
/// was, confirmed.
async fn republish(
    publisher: &Publisher,
    queue: &str,
    delivery: &Delivery,
) -> Result<(), MessagingError> {
    let properties = as_published(&delivery.properties);
    publisher
        .publish("", queue, &delivery.data, properties)
        .await
}

/// The properties to publish a dead letter again with: all of them
/// (message id, type, correlation id, timestamp, headers, `x-death` for
/// its history), except the count of deliveries the quorum queue added.
fn as_published(properties: &BasicProperties) -> BasicProperties {
    let Some(headers) = properties.headers() else {
        return properties.clone();
    };
    let kept = headers
        .inner()
        .iter()
        .filter(|(name, _)| name.as_str() != HEADER_DELIVERY_COUNT)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect::<std::collections::BTreeMap<ShortString, _>>();
    properties.clone().with_headers(FieldTable::from(kept))
}

fn message_id(delivery: &Delivery) -> &str {
    delivery
        .properties
        .message_id()
        .as_ref()
        .map_or("", |id| id.as_str())
}

#[cfg(test)]
mod tests {
    use lapin::types::AMQPValue;

    use super::*;

    #[test]
    fn a_replay_keeps_every_property_but_the_delivery_count() {
        let mut headers = FieldTable::default();
        headers.insert(HEADER_DELIVERY_COUNT.into(), AMQPValue::LongLongInt(3));
        headers.insert("x-request-id".into(), AMQPValue::LongString("r".into()));
        let original = BasicProperties::default()
            .with_message_id("m-1".into())
            .with_type("order.confirmed".into())
            .with_headers(headers);
        let replayed = as_published(&original);
        assert_eq!(replayed.message_id(), original.message_id());
        assert_eq!(replayed.kind(), original.kind());
        let headers = replayed.headers().as_ref().unwrap().inner();
        assert!(headers.contains_key("x-request-id"));
        assert!(!headers.contains_key(HEADER_DELIVERY_COUNT));
    }
}
