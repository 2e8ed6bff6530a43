//! Events the broker dead-letters: after bounded attempts, at once when
//! undecodable or called invalid, and into a dead-letter queue that stops at
//! its limit. Apart from the delivery tests in `events.rs`.

mod support;

use std::sync::{Arc, Mutex};

use amqp::{
    Envelope, EventPublisher, EventSubscriber, HandlerError, MessageMeta, Topology,
    lapin::BasicProperties,
};
use serde::{Deserialize, Serialize};
use support::*;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderConfirmed {
    order_id: Uuid,
}

#[tokio::test]
async fn an_event_whose_handler_keeps_failing_is_dead_lettered_after_bounded_attempts() {
    init_tracing();
    exported_metrics();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("fragile");
    let topology = Topology::new(namespace.clone()).with_event_queue(&queue, &["order.confirmed"]);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    let attempts = Arc::new(Mutex::new(0_u32));
    let subscriber = {
        let attempts = attempts.clone();
        EventSubscriber::spawn(
            &broker,
            &queue,
            4,
            move |_meta, _event: Envelope<OrderConfirmed>| {
                *attempts.lock().unwrap() += 1;
                std::future::ready(Err(HandlerError::new("db_down", "database unavailable")))
            },
        )
    };
    let event = Envelope::new(
        "order.confirmed",
        OrderConfirmed {
            order_id: Uuid::new_v4(),
        },
        MessageMeta::default(),
    );

    EventPublisher::new(&broker)
        .publish(&event)
        .await
        .expect("confirmed");

    let raw = RawChannel::open().await;
    let dead = eventually(PATIENCE, "the event in the DLQ", || async {
        raw.get(&format!("{queue}.dlq")).await
    })
    .await;
    let dead: Envelope<OrderConfirmed> = serde_json::from_slice(&dead.delivery.data).unwrap();
    assert_eq!(dead.message_id, event.message_id);
    let attempts = *attempts.lock().unwrap();
    assert!(
        (2..=6).contains(&attempts),
        "bounded retries, got {attempts}"
    );
    let counted =
        |name| testkit::exposition::value(&exported_metrics(), name, &[("queue", &queue)]);
    assert_eq!(counted("events_consumed_total"), Some(f64::from(attempts)));
    assert_eq!(
        counted("events_redelivered_total"),
        Some(f64::from(attempts - 1)),
        "every try after the first was a redelivery"
    );
    assert_eq!(
        counted("events_dead_lettered_total"),
        Some(0.0),
        "dead-lettered by the broker's delivery limit, not rejected as poison"
    );
    subscriber.shutdown().await;
    broker.close().await;
}

#[tokio::test]
async fn a_full_dead_letter_queue_keeps_its_oldest_and_refuses_more() {
    init_tracing();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("parking");
    let topology = Topology::new(namespace.clone())
        .with_event_queue(&queue, &["order.confirmed"])
        .with_dead_letter_limit(2);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    let handled = Arc::new(Mutex::new(0_u32));
    let subscriber = {
        let handled = handled.clone();
        EventSubscriber::spawn(
            &broker,
            &queue,
            1,
            move |_meta, _event: Envelope<OrderConfirmed>| {
                *handled.lock().unwrap() += 1;
                std::future::ready(Err(HandlerError::invalid_request("poison")))
            },
        )
    };
    let publisher = EventPublisher::new(&broker);
    let dlq = format!("{queue}.dlq");
    // One event at a time, each dead-lettered (or refused) before the next:
    // a quorum queue learns it is over its limit just after the enqueue that
    // crossed it, so dead letters racing in together could all be admitted.
    let mut sent = Vec::new();
    let mut depth = None;
    for n in 1..=5_u32 {
        let event = Envelope::new(
            "order.confirmed",
            OrderConfirmed {
                order_id: Uuid::new_v4(),
            },
            MessageMeta::default(),
        );
        publisher.publish(&event).await.expect("confirmed");
        sent.push(event.message_id);
        depth = Some(
            eventually(
                PATIENCE,
                "the event handled and dead-lettered, or the DLQ full",
                || async {
                    let depths = amqp::dead_letters::read_depths(&broker, &topology)
                        .await
                        .ok()?;
                    let depth = depths.into_iter().find(|d| d.queue == dlq)?;
                    let settled = depth.full || depth.messages == i64::from(n);
                    (*handled.lock().unwrap() == n && settled).then_some(depth)
                },
            )
            .await,
        );
    }
    let depth = depth.expect("five events sent");
    assert!(depth.full, "two dead letters fill the queue: {depth:?}");
    // The broker admits the one message that crosses the limit, then refuses.
    assert!(
        depth.messages <= 3,
        "a full dead-letter queue refuses more: {depth:?}"
    );
    let raw = RawChannel::open().await;
    let oldest = raw.get(&dlq).await.expect("a dead letter");
    let oldest: Envelope<OrderConfirmed> = serde_json::from_slice(&oldest.delivery.data).unwrap();
    assert_eq!(
        oldest.message_id, sent[0],
        "the oldest dead letter is kept, not dropped for a newer one"
    );
    subscriber.shutdown().await;
    broker.close().await;
}

#[tokio::test]
async fn an_undecodable_event_is_dead_lettered_at_once() {
    init_tracing();
    exported_metrics();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("strict");
    let topology = Topology::new(namespace.clone()).with_event_queue(&queue, &["order.confirmed"]);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    let handled = Arc::new(Mutex::new(0_u32));
    let subscriber = {
        let handled = handled.clone();
        EventSubscriber::spawn(
            &broker,
            &queue,
            4,
            move |_meta, _event: Envelope<OrderConfirmed>| {
                *handled.lock().unwrap() += 1;
                std::future::ready(Ok(()))
            },
        )
    };
    assert!(subscriber.wait_ready(PATIENCE).await);
    let raw = RawChannel::open().await;

    raw.publish_raw(
        &queue,
        br#"{"not":"an envelope"}"#,
        BasicProperties::default(),
    )
    .await;

    let dead = eventually(PATIENCE, "the event in the DLQ", || async {
        raw.get(&format!("{queue}.dlq")).await
    })
    .await;
    assert_eq!(dead.delivery.data, br#"{"not":"an envelope"}"#);
    assert_eq!(*handled.lock().unwrap(), 0);
    let dead_lettered = |reason| {
        testkit::exposition::value(
            &exported_metrics(),
            "events_dead_lettered_total",
            &[("queue", &queue), ("reason", reason)],
        )
    };
    assert_eq!(dead_lettered("undecodable"), Some(1.0));
    assert_eq!(dead_lettered("invalid"), Some(0.0));
    subscriber.shutdown().await;
    broker.close().await;
}

#[tokio::test]
async fn an_event_its_handler_calls_invalid_is_dead_lettered_at_once() {
    init_tracing();
    exported_metrics();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("strict");
    let topology = Topology::new(namespace.clone()).with_event_queue(&queue, &["order.confirmed"]);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    let tries = Arc::new(Mutex::new(0_u32));
    let subscriber = {
        let tries = tries.clone();
        EventSubscriber::spawn(
            &broker,
            &queue,
            4,
            move |_meta, _event: Envelope<OrderConfirmed>| {
                *tries.lock().unwrap() += 1;
                std::future::ready(Err(HandlerError::invalid_request("no such order")))
            },
        )
    };
    let event = Envelope::new(
        "order.confirmed",
        OrderConfirmed {
            order_id: Uuid::new_v4(),
        },
        MessageMeta::default(),
    );
    EventPublisher::new(&broker)
        .publish(&event)
        .await
        .expect("confirmed");
    let raw = RawChannel::open().await;
    eventually(PATIENCE, "the event in the DLQ", || async {
        raw.get(&format!("{queue}.dlq")).await
    })
    .await;
    assert_eq!(*tries.lock().unwrap(), 1, "tried once");
    let counted = |name, labels: &[(&str, &str)]| {
        let labels = [&[("queue", queue.as_str())], labels].concat();
        testkit::exposition::value(&exported_metrics(), name, &labels)
    };
    assert_eq!(
        counted("events_dead_lettered_total", &[("reason", "invalid")]),
        Some(1.0)
    );
    assert_eq!(counted("events_consumed_total", &[]), Some(1.0));
    assert_eq!(counted("events_redelivered_total", &[]), Some(0.0));
    subscriber.shutdown().await;
    broker.close().await;
}
