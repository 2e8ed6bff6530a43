//! Delivers every message twice: with RabbitMQ's firehose on, each message
//! published on the node (events, RPC requests, RPC replies) is copied to
//! `amq.rabbitmq.trace`; the duplicator reads those copies and publishes each
//! again, to the same exchange and routing key, with the same body and
//! properties (correlation id, reply-to, message id, headers), marked only by
//! one header so that it does not copy its own copies.

use amqp::lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
        QueueBindOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, ShortString},
};
use futures_util::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cluster::Cluster;

/// The header that marks a copy.
const COPY_HEADER: &str = "x-chaos-copy";

/// A running duplicator.
pub struct Duplicator {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<u64>>,
}

impl Duplicator {
    /// Turns the firehose on and starts copying.
    pub async fn start(cluster: &Cluster) -> anyhow::Result<Self> {
        let connection =
            Connection::connect(&cluster.url(0), ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                queue.name().clone(),
                "amq.rabbitmq.trace".into(),
                "publish.#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let consumer = channel
            .basic_consume(
                queue.name().clone(),
                "duplicator".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let publish = connection.create_channel().await?;
        publish
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        cluster.ctl(0, &["trace_on"]).await?;
        let stop = CancellationToken::new();
        let until = stop.clone();
        let task = tokio::spawn(async move {
            let mut consumer = consumer;
            let mut copies = 0_u64;
            loop {
                let delivery = tokio::select! {
                    _ = until.cancelled() => break,
                    delivery = consumer.next() => match delivery {
                        Some(delivery) => delivery?,
                        None => break,
                    },
                };
                if let Some((exchange, key, properties)) = original(&delivery.properties) {
                    publish
                        .basic_publish(
                            exchange.as_str().into(),
                            key.as_str().into(),
                            BasicPublishOptions::default(),
                            &delivery.data,
                            properties,
                        )
                        .await?
                        .await?;
                    copies += 1;
                }
                delivery.ack(BasicAckOptions::default()).await?;
            }
            connection.close(200, "duplicator done".into()).await?;
            Ok(copies)
        });
        Ok(Self { stop, task })
    }

    /// Turns the firehose off, stops copying; how many messages were copied.
    pub async fn stop(self, cluster: &Cluster) -> anyhow::Result<u64> {
        cluster.ctl(0, &["trace_off"]).await?;
        self.stop.cancel();
        self.task.await?
    }
}

/// Where a traced message went and with which properties, marked as a copy;
/// `None` for a copy of a copy.
fn original(trace: &BasicProperties) -> Option<(String, String, BasicProperties)> {
    let headers = trace.headers().as_ref()?.inner();
    let exchange = text(headers.get("exchange_name")?)?;
    let key = match headers.get("routing_keys")? {
        AMQPValue::FieldArray(keys) => text(keys.as_slice().first()?)?,
        _ => return None,
    };
    let AMQPValue::FieldTable(sent) = headers.get("properties")? else {
        return None;
    };
    let sent = sent.inner();
    let mut message_headers = match sent.get("headers") {
        Some(AMQPValue::FieldTable(table)) => table.clone(),
        _ => FieldTable::default(),
    };
    if message_headers.inner().contains_key(COPY_HEADER) {
        return None;
    }
    message_headers.insert(COPY_HEADER.into(), AMQPValue::Boolean(true));
    let field = |name: &str| sent.get(name).and_then(text).map(ShortString::from);
    let mut properties = BasicProperties::default().with_headers(message_headers);
    if let Some(value) = field("content_type") {
        properties = properties.with_content_type(value);
    }
    if let Some(value) = field("correlation_id") {
        properties = properties.with_correlation_id(value);
    }
    if let Some(value) = field("reply_to") {
        properties = properties.with_reply_to(value);
    }
    if let Some(value) = field("expiration") {
        properties = properties.with_expiration(value);
    }
    if let Some(value) = field("message_id") {
        properties = properties.with_message_id(value);
    }
    if let Some(value) = field("type") {
        properties = properties.with_type(value);
    }
    if let Some(value) = field("app_id") {
        properties = properties.with_app_id(value);
    }
    if let Some(mode) = sent.get("delivery_mode").and_then(number) {
        properties = properties.with_delivery_mode(u8::try_from(mode).unwrap_or(2));
    }
    if let Some(at) = sent.get("timestamp").and_then(number) {
        properties = properties.with_timestamp(at);
    }
    Some((exchange, key, properties))
}

fn text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

fn number(value: &AMQPValue) -> Option<u64> {
    match value {
        AMQPValue::Timestamp(n) => Some(*n),
        AMQPValue::LongLongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(u64::from(*n)),
        _ => None,
    }
}
