//! How full the dead-letter queues are. A full `.dlq` refuses new dead
//! letters (they wait in their source queue, see [`crate::Topology`]), which
//! an operator must hear about: every interval, each dead-letter queue's
//! depth is read (a passive declare) into the gauges
//! `dead_letter_queue_messages{queue}` and `dead_letter_queue_full{queue}`
//! (1 at its limit), and a full one is logged as an error.

use std::time::Duration;

use lapin::{options::QueueDeclareOptions, types::FieldTable};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error};

use crate::{connection::Broker, error::MessagingError, patience::answered, topology::Topology};

/// Watches `topology`'s dead-letter queues every `every` until `stop`.
pub fn spawn_watch(
    broker: &Broker,
    topology: &Topology,
    every: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let (broker, topology) = (broker.clone(), topology.clone());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(error) = read_depths(&broker, &topology).await {
                debug!(%error, "dead-letter queues not read this time");
            }
        }
    })
}

/// One dead-letter queue's depth, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    /// The dead-letter queue.
    pub queue: String,
    /// Messages in it.
    pub messages: i64,
    /// True at its limit: it refuses new dead letters.
    pub full: bool,
}

/// Reads each dead-letter queue's depth into the gauges once, and returns them.
pub async fn read_depths(
    broker: &Broker,
    topology: &Topology,
) -> Result<Vec<Depth>, MessagingError> {
    let within = broker.settings().answer_timeout;
    let (_, connection) = broker.connection(within).await?;
    let channel = answered(within, "channel.open", connection.create_channel()).await?;
    let depths = depths_on(&channel, topology, within).await;
    let _ = answered(
        within,
        "channel.close",
        channel.close(200, "counted".into()),
    )
    .await;
    depths
}

async fn depths_on(
    channel: &lapin::Channel,
    topology: &Topology,
    within: Duration,
) -> Result<Vec<Depth>, MessagingError> {
    let limit = topology.dead_letter_limit();
    let mut depths = Vec::new();
    for queue in topology.queues() {
        let name = queue.dead_letter_queue();
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let declare = channel.queue_declare(name.as_str().into(), passive, FieldTable::default());
        let declared = answered(within, "queue.declare", declare).await?;
        let depth = i64::from(declared.message_count());
        let full = depth >= limit;
        metrics::gauge!("dead_letter_queue_messages", "queue" => name.clone()).set(depth as f64);
        metrics::gauge!("dead_letter_queue_full", "queue" => name.clone()).set(if full {
            1.0
        } else {
            0.0
        });
        if full {
            error!(queue = %name, depth, limit, "dead-letter queue full: new dead letters wait in their source queue until room is made");
        }
        depths.push(Depth {
            queue: name,
            messages: depth,
            full,
        });
    }
    Ok(depths)
}
