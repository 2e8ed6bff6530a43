//! The one JSON shape of every message, and its mirror in AMQP properties.
//!
//! The body is self-describing (a message read from a dead-letter queue says
//! what it is and where it came from); the properties carry the same ids so
//! that the broker, its management UI and other clients see them too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use lapin::{
    BasicProperties,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Header carrying the schema version of the payload.
pub(crate) const HEADER_SCHEMA_VERSION: &str = "x-schema-version";
/// Header carrying the id of the message that caused this one.
pub(crate) const HEADER_CAUSATION_ID: &str = "x-causation-id";
/// Header carrying the request (trace) id of the HTTP request that started it all.
pub(crate) const HEADER_REQUEST_ID: &str = "x-request-id";
/// Header carrying the caller's deadline, in milliseconds since the Unix epoch.
pub(crate) const HEADER_DEADLINE_MS: &str = "x-deadline-ms";
/// Header that quorum queues set to the number of earlier deliveries.
pub(crate) const HEADER_DELIVERY_COUNT: &str = "x-delivery-count";

/// A message: metadata plus a typed payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Unique per message; consumers deduplicate on it.
    pub message_id: Uuid,
    /// What the message is: `customer.verify_or_create`, `order.confirmed`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Version of the payload's schema, bumped on incompatible changes.
    pub schema_version: u32,
    /// Ties together every message of one conversation (a saga, a call).
    pub correlation_id: String,
    /// The message (or request) that caused this one.
    pub causation_id: Option<String>,
    /// The id of the HTTP request that started the conversation, for tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When the message was created.
    pub timestamp: DateTime<Utc>,
    /// The message itself.
    pub payload: T,
}

/// The metadata a sender chooses for a new message.
#[derive(Debug, Clone, Default)]
pub struct MessageMeta {
    /// The conversation id; a fresh one is made when `None`.
    pub correlation_id: Option<String>,
    /// The message or request that caused this one.
    pub causation_id: Option<String>,
    /// The HTTP request id to carry along.
    pub request_id: Option<String>,
}

impl<T> Envelope<T> {
    /// A new message of `kind`, schema version 1, with a fresh id.
    pub fn new(kind: impl Into<String>, payload: T, meta: MessageMeta) -> Self {
        let message_id = Uuid::now_v7();
        Self {
            message_id,
            kind: kind.into(),
            schema_version: 1,
            correlation_id: meta
                .correlation_id
                .unwrap_or_else(|| message_id.to_string()),
            causation_id: meta.causation_id,
            request_id: meta.request_id,
            timestamp: Utc::now(),
            payload,
        }
    }

    /// The same envelope with the message id fixed (an outbox row's id, so that
    /// a message published twice is recognised as one).
    pub fn with_message_id(mut self, message_id: Uuid) -> Self {
        self.message_id = message_id;
        self
    }

    /// The AMQP properties that mirror this envelope.
    pub(crate) fn properties(&self, app_id: &str, persistent: bool) -> BasicProperties {
        let mut headers = FieldTable::default();
        headers.insert(
            HEADER_SCHEMA_VERSION.into(),
            AMQPValue::LongUInt(self.schema_version),
        );
        if let Some(causation_id) = &self.causation_id {
            headers.insert(HEADER_CAUSATION_ID.into(), long_string(causation_id));
        }
        if let Some(request_id) = &self.request_id {
            headers.insert(HEADER_REQUEST_ID.into(), long_string(request_id));
        }
        let timestamp = u64::try_from(self.timestamp.timestamp()).unwrap_or(0);
        BasicProperties::default()
            .with_message_id(self.message_id.to_string().into())
            .with_correlation_id(self.correlation_id.as_str().into())
            .with_type(self.kind.as_str().into())
            .with_timestamp(timestamp)
            .with_content_type("application/json".into())
            .with_app_id(app_id.into())
            .with_delivery_mode(if persistent { 2 } else { 1 })
            .with_headers(headers)
    }
}

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

/// What a consumer learns about a delivery from its AMQP properties, before
/// (and even without) decoding the body.
#[derive(Debug, Clone, Default)]
pub struct DeliveryMeta {
    /// `message_id` property.
    pub message_id: Option<String>,
    /// `type` property.
    pub kind: Option<String>,
    /// `correlation_id` property.
    pub correlation_id: Option<String>,
    /// `reply_to` property (requests only).
    pub reply_to: Option<String>,
    /// `x-request-id` header.
    pub request_id: Option<String>,
    /// `x-causation-id` header.
    pub causation_id: Option<String>,
    /// `x-deadline-ms` header: when the caller stops waiting.
    pub deadline: Option<SystemTime>,
    /// Earlier deliveries of this message (`x-delivery-count`, quorum queues).
    pub delivery_count: u32,
    /// The broker's redelivered flag.
    pub redelivered: bool,
}

impl DeliveryMeta {
    pub(crate) fn from_delivery(properties: &BasicProperties, redelivered: bool) -> Self {
        let headers = properties.headers().as_ref();
        let header = |name: &str| headers.and_then(|h| h.inner().get(name));
        let text = |name: &str| header(name).and_then(amqp_text);
        Self {
            message_id: properties.message_id().as_ref().map(ShortString::to_string),
            kind: properties.kind().as_ref().map(ShortString::to_string),
            correlation_id: properties
                .correlation_id()
                .as_ref()
                .map(ShortString::to_string),
            reply_to: properties.reply_to().as_ref().map(ShortString::to_string),
            request_id: text(HEADER_REQUEST_ID),
            causation_id: text(HEADER_CAUSATION_ID),
            deadline: header(HEADER_DEADLINE_MS)
                .and_then(amqp_u64)
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
            delivery_count: header(HEADER_DELIVERY_COUNT)
                .and_then(amqp_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            redelivered,
        }
    }

    /// True when the caller's deadline has passed.
    pub fn is_expired(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| SystemTime::now() >= deadline)
    }
}

/// A header's text, whether sent as a long or a short string.
pub(crate) fn amqp_text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

/// A header's non-negative number, whichever integer type carried it.
pub(crate) fn amqp_u64(value: &AMQPValue) -> Option<u64> {
    match value {
        AMQPValue::LongLongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::Timestamp(n) => Some(*n),
        _ => None,
    }
}

/// Milliseconds since the Unix epoch, for the deadline header.
pub(crate) fn epoch_millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_mirror_the_envelope_and_read_back() {
        let envelope = Envelope::new(
            "order.confirmed",
            serde_json::json!({"x": 1}),
            MessageMeta {
                correlation_id: Some("saga-1".into()),
                causation_id: Some("cause-1".into()),
                request_id: Some("req-1".into()),
            },
        );
        let properties = envelope.properties("order-svc", true);
        let meta = DeliveryMeta::from_delivery(&properties, false);
        assert_eq!(meta.message_id, Some(envelope.message_id.to_string()));
        assert_eq!(meta.kind.as_deref(), Some("order.confirmed"));
        assert_eq!(meta.correlation_id.as_deref(), Some("saga-1"));
        assert_eq!(meta.causation_id.as_deref(), Some("cause-1"));
        assert_eq!(meta.request_id.as_deref(), Some("req-1"));
        assert_eq!(
            properties.app_id().as_ref().map(|s| s.as_str()),
            Some("order-svc")
        );
        assert_eq!(
            properties.content_type().as_ref().map(|s| s.as_str()),
            Some("application/json")
        );
        assert!(properties.timestamp().is_some());
        assert!(!meta.is_expired());
    }

    #[test]
    fn envelope_json_round_trips_with_type_field() {
        let envelope = Envelope::new("t", 5_u32, MessageMeta::default());
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["type"], "t");
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["correlation_id"], envelope.message_id.to_string());
        let back: Envelope<u32> = serde_json::from_value(json).unwrap();
        assert_eq!(back, envelope);
    }
}

#[cfg(test)]
mod props {
    //! A delivery's properties and headers, whatever a publisher put there:
    //! read without a panic, numbers only where they fit.

    use proptest::prelude::*;

    use super::*;
    use testkit::hostile::{config, hostile_text};

    /// Any header value a publisher can send, of the types AMQP has.
    fn amqp_value() -> impl Strategy<Value = AMQPValue> {
        prop_oneof![
            any::<i64>().prop_map(AMQPValue::LongLongInt),
            any::<i32>().prop_map(AMQPValue::LongInt),
            any::<u32>().prop_map(AMQPValue::LongUInt),
            any::<i16>().prop_map(AMQPValue::ShortInt),
            any::<u16>().prop_map(AMQPValue::ShortUInt),
            any::<u64>().prop_map(AMQPValue::Timestamp),
            any::<f64>().prop_map(AMQPValue::Double),
            any::<bool>().prop_map(AMQPValue::Boolean),
            prop::collection::vec(any::<u8>(), 0..300)
                .prop_map(|bytes| AMQPValue::LongString(LongString::from(bytes))),
            hostile_text().prop_map(|text| AMQPValue::LongString(LongString::from(text))),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_headers_are_read_without_a_panic(
            deadline in amqp_value(),
            count in amqp_value(),
            request_id in amqp_value(),
            causation_id in amqp_value(),
            correlation_id in prop::option::of("[ -~]{0,255}"),
            redelivered in any::<bool>(),
        ) {
            let mut headers = FieldTable::default();
            headers.insert(HEADER_DEADLINE_MS.into(), deadline.clone());
            headers.insert(HEADER_DELIVERY_COUNT.into(), count.clone());
            headers.insert(HEADER_REQUEST_ID.into(), request_id);
            headers.insert(HEADER_CAUSATION_ID.into(), causation_id);
            let mut properties = BasicProperties::default().with_headers(headers);
            if let Some(id) = &correlation_id {
                properties = properties.with_correlation_id(id.as_str().into());
            }
            let meta = DeliveryMeta::from_delivery(&properties, redelivered);
            let _ = meta.is_expired();
            prop_assert_eq!(meta.correlation_id, correlation_id);
            prop_assert_eq!(meta.redelivered, redelivered);
            let expected_count = amqp_u64(&count).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
            prop_assert_eq!(meta.delivery_count, expected_count);
            prop_assert_eq!(meta.deadline.is_some(), amqp_u64(&deadline).is_some());
        }
    }
}
