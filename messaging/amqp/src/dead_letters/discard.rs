//! Discarding dead letters: acknowledged away for good, each logged at
//! warn with its queue, message id, type and reason (never its body).

use lapin::message::Delivery;
use tracing::warn;

use super::{DeadLetterError, DeadLetters, Target, letter::DeadLetter, scan::Scan, settle::Repair};
use crate::{error::MessagingError, topology::dead_letter_queue_of};

impl DeadLetters {
    /// Discards `target`: answers how many dead letters were removed.
    /// [`DeadLetterError::NotFound`] when a message id matches none.
    pub async fn discard(&self, target: Target<'_>) -> Result<usize, DeadLetterError> {
        self.settle(target, Repair::Discard).await
    }
}

/// Acknowledges `batch` away; on a failure, how many were discarded before it.
pub(super) async fn discard_batch(
    scan: &mut Scan,
    queue: &str,
    batch: &[Delivery],
) -> Result<usize, (usize, MessagingError)> {
    let mut discarded = 0;
    for delivery in batch {
        scan.ack(delivery)
            .await
            .map_err(|error| (discarded, error))?;
        discarded += 1;
        metrics::counter!("dead_letters_discarded_total", "queue" => dead_letter_queue_of(queue))
            .increment(1);
        let letter = DeadLetter::read(queue, &delivery.properties, &[]);
        warn!(
            queue,
            message_id = letter.message_id.as_deref().unwrap_or(""),
            r#type = letter.kind.as_deref().unwrap_or(""),
            reason = letter.reason.as_deref().unwrap_or(""),
            request_id = letter.request_id.as_deref().unwrap_or(""),
            "dead letter discarded"
        );
    }
    Ok(discarded)
}
