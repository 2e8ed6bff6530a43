//! The consume loop shared by the RPC server, the RPC client's reply queue and
//! event subscribers.
//!
//! For each connection generation it opens a channel, sets the prefetch,
//! (optionally) declares its queue, consumes, and hands each delivery to a
//! task. When the connection is lost it starts again on the next generation.
//! On shutdown it cancels the consumer first (no new deliveries), waits for
//! the handlers in flight to finish and acknowledge, then closes its channel.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use lapin::{
    Channel, Connection,
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
        BasicQosOptions, BasicRejectOptions, QueueDeclareOptions,
    },
    types::FieldTable,
};
use tokio::{sync::watch, task::JoinHandle};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{debug, info, warn};

use crate::{
    connection::{Broker, Link},
    error::MessagingError,
    patience::answered,
};

/// Pause before consuming again after a failure on a healthy connection (for
/// example the queue does not exist yet), so that a persistent error does not spin.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
/// Handles one delivery; the token is cancelled when the consumer stops, so
/// that a handler waiting out an outage gives the delivery back instead of
/// holding up the shutdown.
pub(crate) type DeliveryHandler =
    Arc<dyn Fn(Delivery, CancellationToken) -> BoxFuture + Send + Sync + 'static>;

/// What to consume and how.
pub(crate) struct ConsumerSpec {
    pub(crate) queue: String,
    pub(crate) prefetch: u16,
    /// Deliveries are acknowledged by the broker on sending (reply queues only).
    pub(crate) no_ack: bool,
    /// Declare the queue as exclusive and auto-deleted before consuming: a
    /// queue that lives exactly as long as this consumer's connection.
    pub(crate) declare_exclusive: bool,
}

/// A running consumer: stop it with [`ConsumerHandle::shutdown`].
pub struct ConsumerHandle {
    stop: CancellationToken,
    /// The connection generation the consumer is registered on, if any.
    ready: watch::Receiver<Option<u64>>,
    /// Deliveries whose handler is waiting out a transient failure.
    pub(crate) waiting_out: WaitingOut,
    task: JoinHandle<()>,
}

/// How many of a consumer's deliveries are waiting out a transient failure
/// (its database away, say): while any is, the consumer takes no new work
/// and is not ready. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct WaitingOut(Arc<AtomicUsize>);

impl WaitingOut {
    /// True while at least one delivery is waiting out a failure.
    pub fn is_waiting(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }

    /// Counts one delivery as waiting until the guard is dropped.
    pub(crate) fn enter(&self) -> WaitingGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        WaitingGuard(self.0.clone())
    }
}

/// One delivery waiting out a failure; dropping it ends the wait.
pub(crate) struct WaitingGuard(Arc<AtomicUsize>);

impl Drop for WaitingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConsumerHandle {
    /// Its deliveries waiting out a transient failure (for `/readyz`).
    pub fn waiting_out(&self) -> WaitingOut {
        self.waiting_out.clone()
    }

    /// True while the consumer is registered with the broker.
    pub fn is_ready(&self) -> bool {
        self.ready.borrow().is_some()
    }

    /// Waits until the consumer is registered with the broker, at most `within`.
    pub async fn wait_ready(&self, within: Duration) -> bool {
        let mut ready = self.ready.clone();
        tokio::time::timeout(within, ready.wait_for(Option::is_some))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Stops taking deliveries, waits for the handlers in flight, closes the channel.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    pub(crate) fn ready_watch(&self) -> watch::Receiver<Option<u64>> {
        self.ready.clone()
    }
}

pub(crate) fn spawn_consumer(
    broker: &Broker,
    spec: ConsumerSpec,
    handler: DeliveryHandler,
) -> ConsumerHandle {
    let stop = CancellationToken::new();
    let (ready_tx, ready) = watch::channel(None);
    let task = tokio::spawn(run(broker.clone(), spec, handler, stop.clone(), ready_tx));
    ConsumerHandle {
        stop,
        ready,
        waiting_out: WaitingOut::default(),
        task,
    }
}

enum Ended {
    Stopped,
    LinkLost,
    CancelledByBroker,
}

async fn run(
    broker: Broker,
    spec: ConsumerSpec,
    handler: DeliveryHandler,
    stop: CancellationToken,
    ready: watch::Sender<Option<u64>>,
) {
    let mut link = broker.subscribe();
    let within = broker.settings().answer_timeout;
    let tracker = TaskTracker::new();
    loop {
        let Some((generation, connection)) = next_connection(&mut link, &stop).await else {
            break;
        };
        let outcome = consume_generation(
            &spec,
            &handler,
            &connection,
            generation,
            within,
            &mut link,
            &stop,
            &ready,
            &tracker,
        )
        .await;
        ready.send_replace(None);
        match outcome {
            Ok(Ended::Stopped) => break,
            Ok(Ended::LinkLost) => {
                info!(queue = %spec.queue, generation, "consumer lost its connection; will resume");
            }
            Ok(Ended::CancelledByBroker) => {
                warn!(queue = %spec.queue, generation, "the broker cancelled the consumer; will resume");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(RETRY_PAUSE) => {}
                }
            }
            Err(error) => {
                warn!(queue = %spec.queue, generation, %error, "consumer failed; will resume");
                broker.report_failure(generation, &error);
                // A lost connection resumes on the next generation at once; an
                // error on a healthy connection waits a little before retrying.
                let next_generation = link.wait_for(|l| l.generation != generation);
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(RETRY_PAUSE) => {}
                    _ = next_generation => {}
                }
            }
        }
    }
    ready.send_replace(None);
    tracker.close();
    tracker.wait().await;
    debug!(queue = %spec.queue, "consumer stopped");
}

/// Waits for a live connection, or `None` on shutdown.
async fn next_connection(
    link: &mut watch::Receiver<Link>,
    stop: &CancellationToken,
) -> Option<(u64, Arc<Connection>)> {
    let live = link.wait_for(|link| {
        link.connection
            .as_ref()
            .is_some_and(|c| c.status().connected())
    });
    tokio::select! {
        _ = stop.cancelled() => None,
        link = live => {
            let link = link.ok()?;
            Some((link.generation, link.connection.clone()?))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn consume_generation(
    spec: &ConsumerSpec,
    handler: &DeliveryHandler,
    connection: &Connection,
    generation: u64,
    within: Duration,
    link: &mut watch::Receiver<Link>,
    stop: &CancellationToken,
    ready: &watch::Sender<Option<u64>>,
    tracker: &TaskTracker,
) -> Result<Ended, MessagingError> {
    let channel = answered(within, "channel.open", connection.create_channel()).await?;
    answered(
        within,
        "basic.qos",
        channel.basic_qos(spec.prefetch, BasicQosOptions::default()),
    )
    .await?;
    if spec.declare_exclusive {
        let options = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        answered(
            within,
            "queue.declare",
            channel.queue_declare(spec.queue.as_str().into(), options, FieldTable::default()),
        )
        .await?;
    }
    let consume = channel.basic_consume(
        spec.queue.as_str().into(),
        "".into(),
        BasicConsumeOptions {
            no_ack: spec.no_ack,
            ..BasicConsumeOptions::default()
        },
        FieldTable::default(),
    );
    let mut consumer = answered(within, "basic.consume", consume).await?;
    ready.send_replace(Some(generation));
    debug!(queue = %spec.queue, generation, "consuming");

    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => {
                ready.send_replace(None);
                let cancel = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default());
                let _ = answered(within, "basic.cancel", cancel).await;
                // Handlers in flight still need this channel to acknowledge.
                tracker.close();
                tracker.wait().await;
                close_quietly(&channel, within).await;
                return Ok(Ended::Stopped);
            }
            changed = link.changed() => {
                let lost = changed.is_err() || {
                    let now = link.borrow_and_update();
                    now.generation != generation || now.connection.is_none()
                };
                if lost {
                    return Ok(Ended::LinkLost);
                }
            }
            delivery = consumer.next() => match delivery {
                Some(Ok(delivery)) => {
                    tracker.spawn(handler(delivery, stop.clone()));
                }
                Some(Err(error)) => return Err(error.into()),
                None => {
                    close_quietly(&channel, within).await;
                    return Ok(Ended::CancelledByBroker);
                }
            },
        }
    }
}

async fn close_quietly(channel: &Channel, within: Duration) {
    if channel.status().connected() {
        let close = channel.close(200, "consumer stopped".into());
        let _ = answered(within, "channel.close", close).await;
    }
}

/// Acknowledges a delivery whose work is done (or deliberately dropped).
pub(crate) async fn ack(delivery: &Delivery, within: Duration) {
    let ack = delivery.acker.ack(BasicAckOptions::default());
    if let Err(error) = answered(within, "basic.ack", ack).await {
        warn!(%error, "ack failed; the broker will redeliver");
    }
}

/// Returns a delivery to its queue, for another attempt.
pub(crate) async fn requeue(delivery: &Delivery, within: Duration) {
    let nack = delivery.acker.nack(BasicNackOptions {
        requeue: true,
        ..BasicNackOptions::default()
    });
    if let Err(error) = answered(within, "basic.nack", nack).await {
        warn!(%error, "nack failed; the broker will redeliver");
    }
}

/// Rejects a delivery without requeue: the broker dead-letters it.
pub(crate) async fn dead_letter(delivery: &Delivery, within: Duration) {
    metrics::counter!("messages_dead_lettered_total").increment(1);
    let reject = delivery.acker.reject(BasicRejectOptions { requeue: false });
    if let Err(error) = answered(within, "basic.reject", reject).await {
        warn!(%error, "reject failed; the broker will redeliver");
    }
}
