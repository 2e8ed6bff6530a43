//! The caller's side of request/reply.
//!
//! Each client owns one reply queue, `<ns>.rpc.reply.<uuid>`, exclusive to its
//! connection and re-declared on every reconnection. Requests carry a fresh
//! `correlation_id` and `reply_to` naming that queue; a map of pending calls
//! wakes exactly the waiter whose id matches. A reply for nobody (its caller
//! timed out, or a duplicate) is counted and dropped.
//!
//! Why a client-owned queue rather than RabbitMQ's Direct Reply-to: Direct
//! Reply-to requires publishing the request on the very channel that consumes
//! `amq.rabbitmq.reply-to`, which rules out our one shared confirm channel and
//! ties every publish to the reply consumer's channel. Both are at-most-once
//! for replies (an exclusive queue dies with its connection, and with it any
//! reply in flight), so neither is relied on for correctness: a lost reply is a
//! timeout, and the saga compensates a timeout.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use lapin::{
    BasicProperties,
    message::Delivery,
    types::{AMQPValue, ShortString},
};
use serde::{Serialize, de::DeserializeOwned};
use tokio::{sync::oneshot, time::Instant};
use tracing::{debug, warn};
use uuid::Uuid;

use super::reply::RpcReply;

use crate::{
    connection::{Broker, Link},
    consumer::{ConsumerHandle, ConsumerSpec, DeliveryHandler, spawn_consumer},
    envelope::{Envelope, HEADER_DEADLINE_MS, MessageMeta, epoch_millis},
    error::{MessagingError, RpcError},
    publisher::Publisher,
    topology::millis,
};

/// Pause before sending again a request the broker refused.
const REFUSED_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Per-call options.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// How long to wait for the reply; also the request's AMQP `expiration`
    /// and deadline header, so the server drops work nobody waits for.
    pub timeout: Duration,
    /// Conversation metadata (the saga id as correlation, the HTTP request id).
    /// The AMQP `correlation_id` of the request is always unique to the call.
    pub meta: MessageMeta,
}

impl CallOptions {
    /// Options with a timeout and no metadata.
    pub fn timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            meta: MessageMeta::default(),
        }
    }
}

type Waiters = Mutex<HashMap<String, oneshot::Sender<Delivery>>>;

/// The caller's side of request/reply. Cheap to clone.
#[derive(Clone)]
pub struct RpcClient {
    inner: Arc<Inner>,
}

struct Inner {
    publisher: Publisher,
    reply_queue: String,
    waiters: Arc<Waiters>,
    dropped_replies: Arc<AtomicU64>,
    consumer: Mutex<Option<ConsumerHandle>>,
    /// The connection generation the reply consumer (and so the reply
    /// queue, exclusive to its connection) lives on.
    consumer_ready: tokio::sync::watch::Receiver<Option<u64>>,
    /// The broker's current connection generation.
    link: tokio::sync::watch::Receiver<Link>,
}

impl RpcClient {
    /// Starts the client's reply consumer on `broker`.
    pub fn start(broker: &Broker) -> Self {
        let settings = broker.settings();
        let reply_queue = settings
            .namespace
            .name(&format!("rpc.reply.{}", Uuid::new_v4().simple()));
        let waiters: Arc<Waiters> = Arc::default();
        let dropped_replies = Arc::new(AtomicU64::new(0));
        let handler = reply_handler(waiters.clone(), dropped_replies.clone());
        let consumer = spawn_consumer(
            broker,
            ConsumerSpec {
                queue: reply_queue.clone(),
                prefetch: 0,
                no_ack: true,
                declare_exclusive: true,
            },
            handler,
        );
        Self {
            inner: Arc::new(Inner {
                publisher: Publisher::new(broker),
                reply_queue,
                waiters,
                dropped_replies,
                consumer_ready: consumer.ready_watch(),
                consumer: Mutex::new(Some(consumer)),
                link: broker.subscribe(),
            }),
        }
    }

    /// The name of this client's reply queue.
    pub fn reply_queue(&self) -> &str {
        &self.inner.reply_queue
    }

    /// True while the reply consumer is registered (part of `/readyz`).
    pub fn is_ready(&self) -> bool {
        self.inner.consumer_ready.borrow().is_some()
    }

    /// Replies that arrived for no waiting caller: late or duplicate.
    pub fn dropped_replies(&self) -> u64 {
        self.inner.dropped_replies.load(Ordering::Relaxed)
    }

    /// Calls `method` on the server consuming `queue` and waits for its reply.
    /// The method must be idempotent: a request the broker refused (nacked)
    /// is sent again while the caller waits, and may arrive twice.
    pub async fn call<Req, Resp>(
        &self,
        queue: &str,
        method: &str,
        request: &Req,
        options: CallOptions,
    ) -> Result<Resp, RpcError>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
    {
        let started = Instant::now();
        let deadline = started + options.timeout;
        let deadline_wall = SystemTime::now() + options.timeout;

        // A request published before our reply queue exists would be answered
        // into the void: wait until the reply consumer is registered on the
        // connection that publishes now, not on one that just died (after a
        // reconnect its flag is stale until it notices).
        let Ok(generation) =
            tokio::time::timeout_at(deadline, self.reply_queue_on_current_connection()).await
        else {
            return Err(RpcError::Transport(MessagingError::NotConnected {
                waited: options.timeout,
            }));
        };

        let envelope = Envelope::new(method, request, options.meta);
        let body = serde_json::to_vec(&envelope).map_err(MessagingError::Encode)?;
        let call_id = Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        let _pending = PendingCall::register(&self.inner.waiters, &call_id, tx);

        let mut properties = envelope
            .properties(&self.inner.publisher.broker().settings().app_id, false)
            .with_correlation_id(ShortString::from(call_id.as_str()))
            .with_reply_to(self.inner.reply_queue.as_str().into());
        if let Some(headers) = properties.headers().clone() {
            let mut headers = headers;
            headers.insert(
                HEADER_DEADLINE_MS.into(),
                AMQPValue::LongLongInt(epoch_millis(deadline_wall)),
            );
            properties = properties.with_headers(headers);
        }
        // The request expires in the queue when its caller stops waiting.
        let expiring = |properties: &BasicProperties| {
            let remaining = deadline.saturating_duration_since(Instant::now());
            properties.clone().with_expiration(
                millis(remaining.max(Duration::from_millis(1)))
                    .to_string()
                    .into(),
            )
        };

        // On that very connection: if it dies meanwhile, the request fails
        // (it did not leave; callers retry) rather than going out on the
        // next connection before the reply queue exists there. A refusal
        // (nack: the queue's cluster node died and its replicas are electing
        // a leader) is sent again, on a fresh channel, while the caller
        // waits: the broker may have kept the first copy, so this is only for
        // requests that are idempotent, as every method of the contract is
        // (verify_or_create and release_credit are keyed by saga).
        let publish = async {
            loop {
                let sent = self
                    .inner
                    .publisher
                    .publish_on(generation, "", queue, &body, expiring(&properties))
                    .await;
                match sent {
                    Err(MessagingError::Nacked) => {
                        metrics::counter!("rpc_client_requests_refused_total").increment(1);
                        debug!(method, "request refused by the broker; sending it again");
                        tokio::time::sleep(REFUSED_PAUSE).await;
                    }
                    sent => break sent,
                }
            }
        };
        match tokio::time::timeout_at(deadline, publish).await {
            Err(_) => return Err(RpcError::Timeout(options.timeout)),
            Ok(Err(error)) => return Err(RpcError::Transport(error)),
            Ok(Ok(())) => {}
        }

        let delivery = match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => {
                metrics::counter!("rpc_client_timeouts_total", "method" => method.to_owned())
                    .increment(1);
                return Err(RpcError::Timeout(options.timeout));
            }
            Ok(Err(_)) => return Err(RpcError::Transport(MessagingError::ShuttingDown)),
            Ok(Ok(delivery)) => delivery,
        };
        metrics::histogram!("rpc_client_duration_seconds", "method" => method.to_owned())
            .record(started.elapsed().as_secs_f64());
        decode_reply(&delivery.data)
    }

    /// Returns, once the reply consumer is registered on the broker's current
    /// connection, that connection's generation.
    async fn reply_queue_on_current_connection(&self) -> u64 {
        let mut ready = self.inner.consumer_ready.clone();
        let mut link = self.inner.link.clone();
        loop {
            let current = {
                let link = link.borrow_and_update();
                link.connection.as_ref().map(|_| link.generation)
            };
            let consuming_on = *ready.borrow_and_update();
            if let Some(generation) = current.filter(|_| consuming_on == current) {
                return generation;
            }
            tokio::select! {
                changed = ready.changed() => if changed.is_err() { std::future::pending::<()>().await },
                changed = link.changed() => if changed.is_err() { std::future::pending::<()>().await },
            }
        }
    }

    /// Stops the reply consumer. Calls still waiting fail at once.
    pub async fn shutdown(&self) {
        let consumer = self
            .inner
            .consumer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(consumer) = consumer {
            consumer.shutdown().await;
        }
        self.inner
            .waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

fn decode_reply<Resp: DeserializeOwned>(data: &[u8]) -> Result<Resp, RpcError> {
    let envelope: Envelope<RpcReply> = serde_json::from_slice(data).map_err(RpcError::Decode)?;
    match envelope.payload {
        RpcReply::Ok { result } => serde_json::from_value(result).map_err(RpcError::Decode),
        RpcReply::Error { error } => Err(RpcError::Remote {
            code: error.code,
            message: error.message,
        }),
    }
}

/// Routes each reply to the caller waiting for its correlation id.
fn reply_handler(waiters: Arc<Waiters>, dropped: Arc<AtomicU64>) -> DeliveryHandler {
    Arc::new(move |delivery: Delivery, _stop| {
        let correlation_id = delivery
            .properties
            .correlation_id()
            .as_ref()
            .map(ShortString::to_string)
            .unwrap_or_default();
        let waiter = waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&correlation_id);
        match waiter {
            Some(waiter) => {
                if waiter.send(delivery).is_err() {
                    debug!(%correlation_id, "caller gave up just as its reply arrived");
                }
            }
            None => {
                dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("rpc_client_replies_dropped_total").increment(1);
                warn!(%correlation_id, "reply for no waiting call (late or duplicate): dropped");
            }
        }
        Box::pin(async {})
    })
}

/// A registered waiter, removed when the call ends however it ends (reply,
/// timeout, error, or the caller's future being dropped).
struct PendingCall<'a> {
    waiters: &'a Waiters,
    id: &'a str,
}

impl<'a> PendingCall<'a> {
    fn register(waiters: &'a Waiters, id: &'a str, tx: oneshot::Sender<Delivery>) -> Self {
        waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_owned(), tx);
        Self { waiters, id }
    }
}

impl Drop for PendingCall<'_> {
    fn drop(&mut self) {
        self.waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(self.id);
    }
}

#[cfg(test)]
mod props;
