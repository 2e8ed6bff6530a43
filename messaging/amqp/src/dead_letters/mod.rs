//! What could not be processed, and the operator's tools for it, so that
//! nobody needs `rabbitmqctl` or a management UI to repair: how full each
//! dead-letter queue is ([`spawn_watch`], the gauges), and [`DeadLetters`],
//! which lists the dead letters of a topology's queues without taking them,
//! replays them into their source queue, or discards them.
//!
//! All three read a `.dlq` the same way ([`scan`]): consume it with manual
//! acknowledgements, hold what was read, and close the channel, which hands
//! back every message not acknowledged to the queue. Only a
//! message replayed (after the broker confirmed its copy in the source
//! queue) or discarded is acknowledged. A crash or a lost connection at any
//! point therefore returns the dead letters, at worst leaving a replayed one
//! both in its source queue and in the `.dlq`: a duplicate, which consumers
//! recognise by its message id, never a loss. Each dead letter replayed
//! or discarded counts in `dead_letters_replayed_total{queue}` or
//! `dead_letters_discarded_total{queue}` (`queue`: the `.dlq`, as in the
//! gauges).

mod browse;
mod discard;
mod letter;
mod replay;
mod scan;
mod settle;
mod watch;

use std::sync::Arc;

use lapin::message::Delivery;
use tokio::sync::Mutex;

pub use browse::QueueLetters;
pub use letter::{Body, DeadLetter};
pub use watch::{Depth, read_depths, spawn_watch};

use crate::{
    connection::Broker, error::MessagingError, publisher::Publisher, topology::QueueSpec,
    topology::Topology,
};

/// Which dead letters a replay or a discard is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Every copy of the message with this id, in whichever queue.
    Message(&'a str),
    /// Every dead letter of one queue (`Some`, a source queue's name or
    /// its `.dlq`'s) or of all of them.
    All(Option<&'a str>),
}

impl Target<'_> {
    fn matches(&self, delivery: &Delivery) -> bool {
        match self {
            Target::Message(id) => {
                delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(|m| m.as_str())
                    == Some(*id)
            }
            Target::All(_) => true,
        }
    }
}

/// What a repair can run into.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// No queue of the topology has this name (nor a `.dlq` of that name).
    #[error("no queue named {0:?} is dead-lettered here")]
    UnknownQueue(String),
    /// No dead letter has this message id.
    #[error("no dead letter has message id {0:?}")]
    NotFound(String),
    /// A request queue's dead letters are not replayed: their callers gave
    /// up long ago (the server would drop them as late, their sagas
    /// compensated), so a replay would only look like work. Discard them.
    #[error("{0:?} holds RPC requests, whose callers have given up: discard them instead")]
    NotReplayable(String),
    /// The broker failed or could not be reached; `done` messages had been
    /// replayed or discarded before (the rest are still dead letters).
    #[error("the broker failed after {done} dead letters were handled: {source}")]
    Broker {
        /// Dead letters replayed or discarded before the failure.
        done: usize,
        /// What failed.
        source: MessagingError,
    },
}

impl From<MessagingError> for DeadLetterError {
    fn from(source: MessagingError) -> Self {
        Self::Broker { done: 0, source }
    }
}

/// The repairs on a topology's dead-letter queues. Cheap to clone.
///
/// One repair runs at a time per `DeadLetters` (a listing holds the
/// messages it reads until it is done, and another reader would not see
/// them meanwhile). Two service instances listing at the same moment can
/// each see part of a queue; nothing is lost either way.
#[derive(Clone)]
pub struct DeadLetters {
    broker: Broker,
    topology: Topology,
    publisher: Publisher,
    turn: Arc<Mutex<()>>,
}

impl DeadLetters {
    /// Repairs on `topology`'s dead-letter queues over `broker`.
    pub fn new(broker: &Broker, topology: &Topology) -> Self {
        Self {
            broker: broker.clone(),
            topology: topology.clone(),
            publisher: Publisher::new(broker),
            turn: Arc::new(Mutex::new(())),
        }
    }

    /// The queues `queue` names (`None`: all), by a source queue's name or
    /// its dead-letter queue's.
    fn selected(&self, queue: Option<&str>) -> Result<Vec<QueueSpec>, DeadLetterError> {
        let queues = self.topology.queues();
        match queue {
            None => Ok(queues.to_vec()),
            Some(name) => queues
                .iter()
                .find(|q| q.name == name || q.dead_letter_queue() == name)
                .map(|q| vec![q.clone()])
                .ok_or_else(|| DeadLetterError::UnknownQueue(name.to_owned())),
        }
    }
}
