//! Names and declarations of every exchange and queue, derived from one
//! namespace so that two deployments (or two test runs) share a broker without
//! touching each other.
//!
//! Every queue that consumes work is a durable quorum queue with a
//! `x-delivery-limit`, dead-lettered through `<ns>.dlx` into its own
//! `<queue>.dlq`: a message that cannot be processed ends there instead of being
//! redelivered for ever, and the broker, not the client, counts the attempts.
//!
//! Nothing is dropped on the way: dead-lettering is at-least-once (the
//! source queue keeps a dead letter until its `.dlq` has taken it), and a
//! `.dlq` at its length limit refuses new dead letters (`reject-publish`)
//! instead of dropping its oldest; they wait in the source queue until an
//! operator makes room, and `crate::dead_letters` reports how full each one
//! is. (Both settings are queue arguments: a queue declared by an earlier
//! version without them is refused by the broker as "inequivalent"; the
//! README's troubleshooting says how to move it over.)

use std::time::Duration;

use lapin::{
    Channel, ExchangeKind,
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, ShortString},
};

/// Longest a namespace may be, leaving room for queue suffixes within the
/// 255-byte AMQP name limit.
const MAX_NAMESPACE_LEN: usize = 100;
/// Dead-letter queues keep at most this many messages, then refuse more.
pub const DEAD_LETTER_MAX_LENGTH: i64 = 100_000;

/// A validated `AMQP_NAMESPACE`: 1 to 100 of `a-z A-Z 0-9 . _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace(String);

impl Namespace {
    /// Parses a namespace, refusing names that would make invalid or confusing
    /// AMQP names.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if raw.is_empty() || raw.len() > MAX_NAMESPACE_LEN || !ok_chars {
            return Err(format!(
                "AMQP_NAMESPACE must be 1 to {MAX_NAMESPACE_LEN} characters of a-z, A-Z, 0-9, '.', '_' or '-' (got {raw:?})"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The namespace itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<namespace>.<suffix>`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.0)
    }

    /// The topic exchange that carries domain events.
    pub fn events_exchange(&self) -> String {
        self.name("events")
    }

    /// The direct exchange that dead-lettered messages pass through.
    pub fn dead_letter_exchange(&self) -> String {
        self.name("dlx")
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One work queue: where it takes messages from and how often a message may be
/// delivered before it is dead-lettered.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    /// Full queue name.
    pub name: String,
    /// `(exchange, routing key)` pairs it is bound to; empty for a queue fed
    /// through the default exchange (RPC).
    pub bindings: Vec<(String, String)>,
    /// Deliveries after which the broker dead-letters a message that keeps
    /// being returned (handler failures, crashes mid-handling).
    pub delivery_limit: u32,
}

impl QueueSpec {
    /// True for a request queue (fed through the default exchange), whose
    /// messages are RPC requests with a caller waiting.
    pub fn takes_requests(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The name of this queue's dead-letter queue.
    pub fn dead_letter_queue(&self) -> String {
        dead_letter_queue_of(&self.name)
    }
}

/// `<queue>.dlq`: where the messages of `queue` go when they cannot be processed.
pub fn dead_letter_queue_of(queue: &str) -> String {
    format!("{queue}.dlq")
}

/// Everything a service declares after each (re)connection.
#[derive(Debug, Clone)]
pub struct Topology {
    namespace: Namespace,
    queues: Vec<QueueSpec>,
    dead_letter_limit: i64,
}

impl Topology {
    /// The namespace's exchanges (`<ns>.events`, `<ns>.dlx`) and no queue yet.
    pub fn new(namespace: Namespace) -> Self {
        Self {
            namespace,
            queues: Vec::new(),
            dead_letter_limit: DEAD_LETTER_MAX_LENGTH,
        }
    }

    /// Keeps at most `limit` messages in each dead-letter queue (default
    /// [`DEAD_LETTER_MAX_LENGTH`]); tests use a small one to fill it.
    pub fn with_dead_letter_limit(mut self, limit: i64) -> Self {
        self.dead_letter_limit = limit;
        self
    }

    /// How many messages each dead-letter queue keeps before it refuses more.
    pub fn dead_letter_limit(&self) -> i64 {
        self.dead_letter_limit
    }

    /// The namespace everything is declared under.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// Adds an RPC request queue, fed through the default exchange.
    pub fn with_rpc_queue(mut self, name: impl Into<String>) -> Self {
        self.queues.push(QueueSpec {
            name: name.into(),
            bindings: Vec::new(),
            delivery_limit: 5,
        });
        self
    }

    /// Adds an event queue bound to the events exchange for each routing key.
    pub fn with_event_queue(mut self, name: impl Into<String>, routing_keys: &[&str]) -> Self {
        let exchange = self.namespace.events_exchange();
        self.queues.push(QueueSpec {
            name: name.into(),
            bindings: routing_keys
                .iter()
                .map(|key| (exchange.clone(), (*key).to_owned()))
                .collect(),
            delivery_limit: 5,
        });
        self
    }

    /// The queues declared, in order.
    pub fn queues(&self) -> &[QueueSpec] {
        &self.queues
    }

    /// Declares exchanges, queues, dead-letter queues and bindings. Idempotent:
    /// every service declares the whole topology at every connection.
    pub(crate) async fn declare(
        &self,
        channel: &Channel,
        queue_expiry: Option<Duration>,
    ) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let events = self.namespace.events_exchange();
        let dlx = self.namespace.dead_letter_exchange();
        channel
            .exchange_declare(
                events.as_str().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                dlx.as_str().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await?;

        for queue in &self.queues {
            let dlq = queue.dead_letter_queue();
            let mut dlq_args = quorum_args(queue_expiry);
            dlq_args.insert(
                "x-max-length".into(),
                AMQPValue::LongLongInt(self.dead_letter_limit),
            );
            dlq_args.insert("x-overflow".into(), reject_publish());
            declare_queue(channel, &dlq, dlq_args).await?;
            bind(channel, &dlq, &dlx, &queue.name).await?;

            let mut args = quorum_args(queue_expiry);
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(dlx.as_str().into()),
            );
            args.insert(
                "x-dead-letter-routing-key".into(),
                AMQPValue::LongString(queue.name.as_str().into()),
            );
            args.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(queue.delivery_limit)),
            );
            // At-least-once dead-lettering needs the source to refuse
            // rather than drop when full (it has no length limit: never).
            args.insert(
                "x-dead-letter-strategy".into(),
                AMQPValue::LongString("at-least-once".into()),
            );
            args.insert("x-overflow".into(), reject_publish());
            declare_queue(channel, &queue.name, args).await?;
            for (exchange, key) in &queue.bindings {
                bind(channel, &queue.name, exchange, key).await?;
            }
        }
        Ok(())
    }
}

impl Topology {
    /// Deletes every queue and exchange this topology declares: tearing down a
    /// namespace (a finished test run, a retired deployment). Messages in its
    /// queues are lost.
    pub async fn delete(&self, channel: &Channel) -> lapin::Result<()> {
        for queue in &self.queues {
            for name in [queue.name.clone(), queue.dead_letter_queue()] {
                channel
                    .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                    .await?;
            }
        }
        for exchange in [
            self.namespace.events_exchange(),
            self.namespace.dead_letter_exchange(),
        ] {
            channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await?;
        }
        Ok(())
    }
}

fn quorum_args(queue_expiry: Option<Duration>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    if let Some(expiry) = queue_expiry {
        args.insert("x-expires".into(), AMQPValue::LongLongInt(millis(expiry)));
    }
    args
}

fn reject_publish() -> AMQPValue {
    AMQPValue::LongString("reject-publish".into())
}

pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

async fn declare_queue(channel: &Channel, name: &str, args: FieldTable) -> lapin::Result<()> {
    channel
        .queue_declare(name.into(), QueueDeclareOptions::durable(), args)
        .await
        .map(drop)
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> lapin::Result<()> {
    channel
        .queue_bind(
            ShortString::from(queue),
            ShortString::from(exchange),
            ShortString::from(key),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_accepts_safe_names_only() {
        assert!(Namespace::parse("commerce").is_ok());
        assert!(Namespace::parse("test_3f2a.run-1").is_ok());
        assert!(Namespace::parse("").is_err());
        assert!(Namespace::parse("has space").is_err());
        assert!(Namespace::parse("slash/no").is_err());
        assert!(Namespace::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn names_are_prefixed() {
        let ns = Namespace::parse("commerce").unwrap();
        assert_eq!(ns.events_exchange(), "commerce.events");
        assert_eq!(ns.dead_letter_exchange(), "commerce.dlx");
        let topology = Topology::new(ns).with_event_queue("commerce.q", &["order.confirmed"]);
        assert_eq!(topology.queues()[0].dead_letter_queue(), "commerce.q.dlq");
        assert_eq!(
            topology.queues()[0].bindings,
            vec![("commerce.events".to_owned(), "order.confirmed".to_owned())]
        );
    }
}
