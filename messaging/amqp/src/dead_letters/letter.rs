//! One dead letter as an operator reads it: where it came from, what it
//! is, why and how often the broker dead-lettered it (its `x-death`
//! header), and its body (the JSON envelope, or a short preview of bytes
//! that are not JSON). Pure: read from a delivery, no I/O.

use base64::Engine;
use chrono::{DateTime, Utc};
use lapin::{
    BasicProperties,
    types::{AMQPValue, FieldTable, ShortString},
};

use crate::envelope::{HEADER_REQUEST_ID, amqp_text, amqp_u64};

/// Longest text preview of a body that is not JSON, in characters.
const TEXT_PREVIEW_CHARS: usize = 256;
/// Longest preview of a binary body, in bytes (before base64).
const BINARY_PREVIEW_BYTES: usize = 192;

/// A dead-lettered message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The queue it was dead-lettered from.
    pub queue: String,
    /// Its `message_id` property.
    pub message_id: Option<String>,
    /// Its `type` property (`order.confirmed`, `customer.verify_or_create`).
    pub kind: Option<String>,
    /// The routing key it was first published with (`x-death`).
    pub routing_key: Option<String>,
    /// Why the broker dead-lettered it, the last time: `rejected` (the
    /// consumer refused it: undecodable or invalid), `delivery_limit`
    /// (redelivered too often), `expired`, `maxlen`.
    pub reason: Option<String>,
    /// How many times it was dead-lettered in all.
    pub count: u64,
    /// When it was first dead-lettered.
    pub first_dead_lettered_at: Option<DateTime<Utc>>,
    /// The `x-request-id` header: the HTTP request that started it.
    pub request_id: Option<String>,
    /// Its `correlation_id` property (the saga, the call).
    pub correlation_id: Option<String>,
    /// Its body's size in bytes.
    pub size: usize,
    /// Its body.
    pub body: Body,
}

/// A dead letter's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// The body parsed as JSON (every message the services send).
    Json(serde_json::Value),
    /// UTF-8 text that is not JSON: its first characters.
    Text {
        /// The first 256 characters.
        preview: String,
        /// True when there is more.
        truncated: bool,
    },
    /// Bytes that are not text: the first of them, in base64.
    Binary {
        /// The first 192 bytes, base64 (standard alphabet, padded).
        base64: String,
        /// True when there is more.
        truncated: bool,
    },
}

impl DeadLetter {
    /// Reads a message consumed from the dead-letter queue of `queue`.
    pub(crate) fn read(queue: &str, properties: &BasicProperties, data: &[u8]) -> Self {
        let headers = properties.headers().as_ref();
        let deaths = headers.map(deaths).unwrap_or_default();
        let latest = deaths.first();
        Self {
            queue: queue.to_owned(),
            message_id: properties.message_id().as_ref().map(ShortString::to_string),
            kind: properties.kind().as_ref().map(ShortString::to_string),
            routing_key: latest.and_then(|d| d.routing_key.clone()),
            reason: latest.and_then(|d| d.reason.clone()),
            count: deaths.iter().map(|d| d.count).sum(),
            first_dead_lettered_at: deaths.iter().filter_map(|d| d.time).min(),
            request_id: headers
                .and_then(|h| h.inner().get(HEADER_REQUEST_ID))
                .and_then(amqp_text),
            correlation_id: properties
                .correlation_id()
                .as_ref()
                .map(ShortString::to_string),
            size: data.len(),
            body: Body::read(data),
        }
    }
}

impl Body {
    fn read(data: &[u8]) -> Self {
        if let Ok(json) = serde_json::from_slice(data) {
            return Self::Json(json);
        }
        match std::str::from_utf8(data) {
            Ok(text) => {
                let preview: String = text.chars().take(TEXT_PREVIEW_CHARS).collect();
                Self::Text {
                    truncated: preview.len() < text.len(),
                    preview,
                }
            }
            Err(_) => Self::Binary {
                base64: base64::engine::general_purpose::STANDARD
                    .encode(&data[..data.len().min(BINARY_PREVIEW_BYTES)]),
                truncated: data.len() > BINARY_PREVIEW_BYTES,
            },
        }
    }
}

/// One entry of `x-death`: the broker keeps one per (queue, reason), the
/// most recent first.
#[derive(Debug, Default)]
struct Death {
    reason: Option<String>,
    count: u64,
    time: Option<DateTime<Utc>>,
    routing_key: Option<String>,
}

fn deaths(headers: &FieldTable) -> Vec<Death> {
    let Some(AMQPValue::FieldArray(entries)) = headers.inner().get("x-death") else {
        return Vec::new();
    };
    entries
        .as_slice()
        .iter()
        .filter_map(|entry| match entry {
            AMQPValue::FieldTable(entry) => Some(death(entry)),
            _ => None,
        })
        .collect()
}

fn death(entry: &FieldTable) -> Death {
    let field = |name: &str| entry.inner().get(name);
    Death {
        reason: field("reason").and_then(amqp_text),
        count: field("count").and_then(amqp_u64).unwrap_or(1),
        time: field("time")
            .and_then(amqp_u64)
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0)),
        routing_key: match field("routing-keys") {
            Some(AMQPValue::FieldArray(keys)) => keys.as_slice().first().and_then(amqp_text),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use lapin::types::{FieldArray, LongString};

    use super::*;

    fn long(s: &str) -> AMQPValue {
        AMQPValue::LongString(LongString::from(s))
    }

    fn x_death(entries: Vec<(&str, i64, u64)>) -> FieldTable {
        let entries = entries
            .into_iter()
            .map(|(reason, count, time)| {
                let mut entry = FieldTable::default();
                entry.insert("reason".into(), long(reason));
                entry.insert("count".into(), AMQPValue::LongLongInt(count));
                entry.insert("time".into(), AMQPValue::Timestamp(time));
                entry.insert("queue".into(), long("ns.q"));
                entry.insert(
                    "routing-keys".into(),
                    AMQPValue::FieldArray(FieldArray::from(vec![long("order.confirmed")])),
                );
                AMQPValue::FieldTable(entry)
            })
            .collect::<Vec<_>>();
        let mut headers = FieldTable::default();
        headers.insert("x-death".into(), AMQPValue::FieldArray(entries.into()));
        headers.insert(HEADER_REQUEST_ID.into(), long("req-1"));
        headers
    }

    #[test]
    fn reads_why_how_often_and_since_when_from_x_death() {
        let properties = BasicProperties::default()
            .with_message_id("m-1".into())
            .with_type("order.confirmed".into())
            .with_headers(x_death(vec![
                ("delivery_limit", 1, 1_800_000_100),
                ("rejected", 2, 1_800_000_000),
            ]));
        let letter = DeadLetter::read("ns.q", &properties, br#"{"a":1}"#);
        assert_eq!(letter.queue, "ns.q");
        assert_eq!(letter.message_id.as_deref(), Some("m-1"));
        assert_eq!(letter.kind.as_deref(), Some("order.confirmed"));
        assert_eq!(letter.routing_key.as_deref(), Some("order.confirmed"));
        assert_eq!(letter.reason.as_deref(), Some("delivery_limit"));
        assert_eq!(letter.count, 3);
        assert_eq!(
            letter.first_dead_lettered_at,
            DateTime::from_timestamp(1_800_000_000, 0)
        );
        assert_eq!(letter.request_id.as_deref(), Some("req-1"));
        assert_eq!(letter.body, Body::Json(serde_json::json!({"a": 1})));
    }

    #[test]
    fn a_message_without_headers_is_still_read() {
        let letter = DeadLetter::read("ns.q", &BasicProperties::default(), b"");
        assert_eq!(letter.reason, None);
        assert_eq!(letter.count, 0);
        assert_eq!(letter.message_id, None);
    }

    #[test]
    fn bodies_that_are_not_json_are_previewed() {
        let long_text = "x".repeat(300);
        assert_eq!(
            Body::read(long_text.as_bytes()),
            Body::Text {
                preview: "x".repeat(256),
                truncated: true
            }
        );
        assert_eq!(
            Body::read(b"not json"),
            Body::Text {
                preview: "not json".into(),
                truncated: false
            }
        );
        assert_eq!(
            Body::read(&[0xff, 0xfe, 0x00]),
            Body::Binary {
                base64: "//4A".into(),
                truncated: false
            }
        );
        let Body::Binary { base64, truncated } = Body::read(&[0xff; 500]) else {
            panic!("binary")
        };
        assert!(truncated);
        assert_eq!(base64.len(), 256, "192 bytes in base64");
    }
}
