//! Repairing what customer-svc could not process, without `rabbitmqctl`:
//! the dead letters of its queues (its RPC requests and its order events)
//! listed a page at a time with why they died, replayed into their queue
//! once whatever refused them is fixed, or discarded. The broker work is
//! `amqp::dead_letters`'; this decides what a caller may ask and what each
//! failure means to them.

use amqp::{
    Broker, Topology,
    dead_letters::{DeadLetterError, DeadLetters, QueueLetters, Target},
};
use edge::paging::Paging;

/// What a repair can run into.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The queue named is not one of the service's.
    #[error("{0:?} is not one of this service's queues")]
    UnknownQueue(String),
    /// No dead letter has this message id.
    #[error("no dead letter has message id {0:?}")]
    UnknownMessage(String),
    /// The queue holds RPC requests, which are discarded, not replayed.
    #[error("{0:?} holds RPC requests, whose callers have given up: discard them instead")]
    NotReplayable(String),
    /// The broker failed or is unreachable; `done` dead letters had been
    /// handled before.
    #[error("the broker is unavailable ({done} dead letters were handled before): {cause}")]
    BrokerUnavailable {
        /// Dead letters replayed or discarded before the failure.
        done: usize,
        /// What failed.
        cause: String,
    },
}

impl From<DeadLetterError> for RepairError {
    fn from(error: DeadLetterError) -> Self {
        match error {
            DeadLetterError::UnknownQueue(name) => Self::UnknownQueue(name),
            DeadLetterError::NotFound(id) => Self::UnknownMessage(id),
            DeadLetterError::NotReplayable(queue) => Self::NotReplayable(queue),
            DeadLetterError::Broker { done, source } => Self::BrokerUnavailable {
                done,
                cause: source.to_string(),
            },
        }
    }
}

/// The dead-letter repairs. Cheap to clone.
#[derive(Clone)]
pub struct DeadLetterDesk {
    letters: DeadLetters,
}

impl DeadLetterDesk {
    /// Repairs on `topology`'s queues over `broker`.
    pub fn new(broker: &Broker, topology: &Topology) -> Self {
        Self {
            letters: DeadLetters::new(broker, topology),
        }
    }

    /// One page of each queue's dead letters (`queue`: just that one),
    /// oldest first, with each queue's depth; nothing is taken.
    pub async fn list(
        &self,
        queue: Option<&str>,
        paging: Paging,
    ) -> Result<Vec<QueueLetters>, RepairError> {
        let skip = (paging.page - 1).saturating_mul(paging.per_page);
        Ok(self.letters.browse(queue, skip, paging.per_page).await?)
    }

    /// Publishes the selected dead letters again to their queue: how many.
    pub async fn replay(&self, target: Target<'_>) -> Result<usize, RepairError> {
        Ok(self.letters.replay(target).await?)
    }

    /// Removes the selected dead letters for good: how many.
    pub async fn discard(&self, target: Target<'_>) -> Result<usize, RepairError> {
        Ok(self.letters.discard(target).await?)
    }
}
