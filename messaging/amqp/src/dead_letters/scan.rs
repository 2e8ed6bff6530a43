//! Reading a dead-letter queue without taking from it: a consumer with
//! manual acknowledgements on a channel of its own, bounded to the messages
//! that were in the queue when the scan began, and a close that hands back
//! whatever was not acknowledged.
//!
//! Why consume and close rather than `basic.get` and reject with requeue:
//! a requeued message goes back to the head of a quorum queue, so the next
//! get would return it again and a scan could not move past it; and from
//! RabbitMQ 4.3 a `basic.reject` with requeue counts toward the queue's
//! delivery limit, while messages returned by a closing channel do not.
//! Consuming also streams the queue instead of one round trip per message.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use lapin::{
    Channel, Connection, Consumer,
    message::Delivery,
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions},
    protocol::{AMQPErrorKind, AMQPSoftError},
    types::FieldTable,
};
use tracing::debug;

use crate::{connection::Broker, error::MessagingError, patience::answered};

/// How long a scan waits for the next message before it concludes that the
/// rest is held by another reader (another instance's listing).
const IDLE: Duration = Duration::from_secs(2);

/// How a scan uses what it reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reading {
    /// Holds every message it reads until it closes (a listing, a search
    /// for one message id): the prefetch covers the whole scan.
    Holding,
    /// Acknowledges as it goes (replay or discard everything): at most
    /// this many unacknowledged at a time.
    Rolling(u16),
}

/// Longest wait, after a scan closed, for the messages it handed back to
/// count as ready again.
const RETURN_WAIT: Duration = Duration::from_secs(5);

/// One pass over a dead-letter queue.
pub(super) struct Scan {
    connection: Arc<Connection>,
    channel: Channel,
    queue: String,
    consumer: Option<Consumer>,
    depth: u32,
    left: u32,
    acked: u32,
    within: Duration,
}

impl Scan {
    /// Opens `dlq` and reads at most `reach` of the messages in it now
    /// (`None`: all of them).
    pub(super) async fn open(
        broker: &Broker,
        dlq: &str,
        reach: Option<u32>,
        reading: Reading,
    ) -> Result<Self, MessagingError> {
        let settings = broker.settings();
        let within = settings.answer_timeout;
        let (_, connection) = broker.connection(settings.publish_wait).await?;
        let channel = answered(within, "channel.open", connection.create_channel()).await?;
        let mut scan = Self {
            connection,
            channel,
            queue: dlq.to_owned(),
            consumer: None,
            depth: 0,
            left: 0,
            acked: 0,
            within,
        };
        match scan.start(dlq, reach, reading).await {
            Ok(()) => Ok(scan),
            Err(error) => {
                scan.close().await;
                Err(error)
            }
        }
    }

    async fn start(
        &mut self,
        dlq: &str,
        reach: Option<u32>,
        reading: Reading,
    ) -> Result<(), MessagingError> {
        self.depth = ready_in(&self.channel, dlq, self.within).await?;
        self.left = reach.map_or(self.depth, |reach| reach.min(self.depth));
        if self.left == 0 {
            return Ok(());
        }
        let prefetch = match reading {
            // 0 is "no limit", for a scan longer than a u16 can say.
            Reading::Holding => u16::try_from(self.left).unwrap_or(0),
            Reading::Rolling(window) => window,
        };
        let qos = self.channel.basic_qos(prefetch, BasicQosOptions::default());
        answered(self.within, "basic.qos", qos).await?;
        let consume = self.channel.basic_consume(
            dlq.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        );
        self.consumer = Some(answered(self.within, "basic.consume", consume).await?);
        Ok(())
    }

    /// Messages in the queue when the scan began (those held by another
    /// reader not counted).
    pub(super) fn depth(&self) -> u32 {
        self.depth
    }

    /// The next message, or `None` once the scan has read its reach (or
    /// the rest is held elsewhere).
    pub(super) async fn next(&mut self) -> Result<Option<Delivery>, MessagingError> {
        let Some(consumer) = self.consumer.as_mut().filter(|_| self.left > 0) else {
            return Ok(None);
        };
        match tokio::time::timeout(IDLE, consumer.next()).await {
            Ok(Some(Ok(delivery))) => {
                self.left -= 1;
                Ok(Some(delivery))
            }
            Ok(Some(Err(error))) => Err(error.into()),
            Ok(None) | Err(_) => {
                debug!(
                    left = self.left,
                    "dead-letter scan ended early: the rest is held elsewhere or gone"
                );
                self.left = 0;
                Ok(None)
            }
        }
    }

    /// Up to `max` of the next messages that `wanted` picks; the others
    /// are held, and go back with the close.
    pub(super) async fn next_batch(
        &mut self,
        max: usize,
        wanted: impl Fn(&Delivery) -> bool,
    ) -> Result<Vec<Delivery>, MessagingError> {
        let mut batch = Vec::new();
        while batch.len() < max {
            match self.next().await? {
                Some(delivery) if wanted(&delivery) => batch.push(delivery),
                Some(_) => {}
                None => break,
            }
        }
        Ok(batch)
    }

    /// Takes `delivery` out of the queue for good.
    pub(super) async fn ack(&mut self, delivery: &Delivery) -> Result<(), MessagingError> {
        let ack = delivery.acker.ack(BasicAckOptions::default());
        match answered(self.within, "basic.ack", ack).await? {
            true => {
                self.acked += 1;
                Ok(())
            }
            // The channel is gone: the broker hands the message back.
            false => Err(MessagingError::NotConnected {
                waited: Duration::ZERO,
            }),
        }
    }

    /// Closes the channel: every message read and not acknowledged goes
    /// back to the queue. (Should the close itself fail, the broker does
    /// the same when the channel or its connection goes.) The broker takes
    /// them back asynchronously, so this waits (a little) until the queue
    /// counts them as ready again: the next reader, or a depth read just
    /// after, sees the queue as this scan found it, less what it took.
    pub(super) async fn close(self) {
        if self.channel.status().connected() {
            let close = self.channel.close(200, "dead letters read".into());
            if let Err(error) = answered(self.within, "channel.close", close).await {
                debug!(%error, "dead-letter scan channel not closed cleanly; the broker returns its messages");
                return;
            }
        }
        let expected = self.depth.saturating_sub(self.acked);
        if self.consumer.is_none() || expected == 0 {
            return;
        }
        if let Err(error) = self.wait_returned(expected).await {
            debug!(%error, queue = %self.queue, "could not see the dead letters handed back");
        }
    }

    async fn wait_returned(&self, expected: u32) -> Result<(), MessagingError> {
        let open = self.connection.create_channel();
        let channel = answered(self.within, "channel.open", open).await?;
        let deadline = tokio::time::Instant::now() + RETURN_WAIT;
        let mut ready = ready_in(&channel, &self.queue, self.within).await?;
        while ready < expected && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            ready = ready_in(&channel, &self.queue, self.within).await?;
        }
        if ready < expected {
            debug!(queue = %self.queue, ready, expected, "dead letters still held elsewhere");
        }
        let _ = answered(
            self.within,
            "channel.close",
            channel.close(200, "counted".into()),
        )
        .await;
        Ok(())
    }
}

/// Messages ready in `queue` (a passive declare): those held unacknowledged
/// by a consumer are not counted.
/// Messages ready in `queue`. A queue that does not exist holds none: it
/// is declared with its source queue on the next (re)connection, and in a
/// throw-away namespace (`AMQP_QUEUE_EXPIRY_MS`) an unused one expires.
async fn ready_in(channel: &Channel, queue: &str, within: Duration) -> Result<u32, MessagingError> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let declare = channel.queue_declare(queue.into(), passive, FieldTable::default());
    match answered(within, "queue.declare", declare).await {
        Ok(declared) => Ok(declared.message_count()),
        Err(MessagingError::Amqp(error)) if is_missing_queue(&error) => {
            debug!(queue, "no such dead-letter queue: nothing in it");
            Ok(0)
        }
        Err(error) => Err(error),
    }
}

/// The broker's `NOT_FOUND` answer to a passive declare.
fn is_missing_queue(error: &lapin::Error) -> bool {
    matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(e)
            if matches!(e.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND))
    )
}
