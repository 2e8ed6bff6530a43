//! The walk that replay and discard share: the chosen dead-letter queues
//! in turn, the dead letters the target picks in batches, each batch
//! replayed or discarded, and every message not acknowledged handed back
//! when the scan closes (also after a failure).

use super::{
    DeadLetterError, DeadLetters, Target, discard, replay,
    scan::{Reading, Scan},
};
use crate::error::MessagingError;

/// Dead letters handled at once: replayed together (their confirms
/// awaited together), then acknowledged.
const BATCH: usize = 64;

/// What to do with the dead letters a target picks.
#[derive(Debug, Clone, Copy)]
pub(super) enum Repair {
    /// Publish again to the source queue, then acknowledge.
    Replay,
    /// Acknowledge away.
    Discard,
}

impl DeadLetters {
    /// Applies `repair` to `target`: how many dead letters it handled.
    pub(super) async fn settle(
        &self,
        target: Target<'_>,
        repair: Repair,
    ) -> Result<usize, DeadLetterError> {
        let (mut queues, reading) = match target {
            // One message: read every queue to its end, holding the others.
            Target::Message(_) => (self.selected(None)?, Reading::Holding),
            Target::All(queue) => (self.selected(queue)?, Reading::Rolling(BATCH as u16)),
        };
        if let Repair::Replay = repair {
            // Requests are never replayed (`DeadLetterError::NotReplayable`).
            if let Target::All(Some(name)) = target
                && queues.iter().all(|queue| queue.takes_requests())
            {
                return Err(DeadLetterError::NotReplayable(name.to_owned()));
            }
            queues.retain(|queue| !queue.takes_requests());
        }
        let _turn = self.turn.lock().await;
        let mut done = 0;
        for queue in queues {
            let dlq = queue.dead_letter_queue();
            let mut scan = Scan::open(&self.broker, &dlq, None, reading)
                .await
                .map_err(|source| DeadLetterError::Broker { done, source })?;
            let outcome = self
                .settle_queue(&mut scan, &queue.name, target, repair)
                .await;
            scan.close().await;
            match outcome {
                Ok(count) => done += count,
                Err((count, source)) => {
                    return Err(DeadLetterError::Broker {
                        done: done + count,
                        source,
                    });
                }
            }
        }
        match target {
            Target::Message(id) if done == 0 => Err(DeadLetterError::NotFound(id.to_owned())),
            _ => Ok(done),
        }
    }

    /// One queue's part; on a failure, how many were handled before it.
    async fn settle_queue(
        &self,
        scan: &mut Scan,
        queue: &str,
        target: Target<'_>,
        repair: Repair,
    ) -> Result<usize, (usize, MessagingError)> {
        let mut done = 0;
        loop {
            let batch = scan
                .next_batch(BATCH, |delivery| target.matches(delivery))
                .await
                .map_err(|error| (done, error))?;
            if batch.is_empty() {
                return Ok(done);
            }
            let outcome = match repair {
                Repair::Replay => replay::replay_batch(scan, &self.publisher, queue, &batch).await,
                Repair::Discard => discard::discard_batch(scan, queue, &batch).await,
            };
            match outcome {
                Ok(count) => done += count,
                Err((count, error)) => return Err((done + count, error)),
            }
        }
    }
}
