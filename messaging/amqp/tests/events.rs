//! Events against the real broker: fan-out, acknowledgement, unroutable
//! events, transient failures waited out (dead-lettering:
//! `events_dead_lettered.rs`).

mod support;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use amqp::{
    Envelope, EventPublisher, EventSubscriber, HandlerError, MessageMeta, MessagingError, Topology,
};
use serde::{Deserialize, Serialize};
use support::*;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderConfirmed {
    order_id: Uuid,
}

type Seen = Arc<Mutex<HashMap<Uuid, u32>>>;

fn counting(
    seen: Seen,
) -> impl Fn(amqp::DeliveryMeta, Envelope<OrderConfirmed>) -> std::future::Ready<Result<(), HandlerError>>
{
    move |_meta, event| {
        *seen.lock().unwrap().entry(event.message_id).or_default() += 1;
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn each_event_reaches_each_subscribing_queue_once() {
    init_tracing();
    let mut namespace = TestNamespace::new();
    let (history, audit) = (namespace.name("history"), namespace.name("audit"));
    let topology = Topology::new(namespace.clone())
        .with_event_queue(&history, &["order.confirmed"])
        .with_event_queue(&audit, &["order.*"]);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    let (seen_history, seen_audit): (Seen, Seen) = Default::default();
    let sub_history = EventSubscriber::spawn(&broker, &history, 16, counting(seen_history.clone()));
    let sub_audit = EventSubscriber::spawn(&broker, &audit, 16, counting(seen_audit.clone()));
    let publisher = EventPublisher::new(&broker);

    let mut sent = Vec::new();
    for _ in 0..20 {
        let event = Envelope::new(
            "order.confirmed",
            OrderConfirmed {
                order_id: Uuid::new_v4(),
            },
            MessageMeta::default(),
        );
        publisher.publish(&event).await.expect("confirmed");
        sent.push(event.message_id);
    }

    for seen in [&seen_history, &seen_audit] {
        eventually(PATIENCE, "all 20 events consumed", || async {
            (seen.lock().unwrap().len() == 20).then_some(())
        })
        .await;
    }
    sub_history.shutdown().await;
    sub_audit.shutdown().await;
    for seen in [&seen_history, &seen_audit] {
        let seen = seen.lock().unwrap();
        for id in &sent {
            assert_eq!(seen.get(id), Some(&1), "event {id} handled exactly once");
        }
    }
    let raw = RawChannel::open().await;
    assert!(
        raw.get(&history).await.is_none(),
        "every event was acknowledged"
    );
    broker.close().await;
}

#[tokio::test]
async fn an_event_no_queue_wants_is_reported_unroutable() {
    init_tracing();
    let mut namespace = TestNamespace::new();
    let topology = Topology::new(namespace.clone());
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    let publisher = EventPublisher::new(&broker);

    let event = Envelope::new(
        "order.shipped",
        OrderConfirmed {
            order_id: Uuid::new_v4(),
        },
        MessageMeta::default(),
    );
    let outcome = publisher.publish(&event).await;

    assert!(
        matches!(outcome, Err(MessagingError::Unroutable { .. })),
        "{outcome:?}"
    );
    broker.close().await;
}

#[tokio::test]
async fn a_transient_failure_is_waited_out_past_the_delivery_limit_and_applied_once() {
    init_tracing();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("patient");
    let topology = Topology::new(namespace.clone()).with_event_queue(&queue, &["order.confirmed"]);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "events-test").await;
    // More transient failures than the queue's delivery limit (5), then success.
    const OUTAGE: u32 = 6;
    let tries = Arc::new(Mutex::new(0_u32));
    let redelivered = Arc::new(Mutex::new(false));
    let subscriber = {
        let (tries, redelivered) = (tries.clone(), redelivered.clone());
        EventSubscriber::spawn(
            &broker,
            &queue,
            4,
            move |meta: amqp::DeliveryMeta, _event: Envelope<OrderConfirmed>| {
                let mut tries = tries.lock().unwrap();
                *tries += 1;
                *redelivered.lock().unwrap() |= meta.redelivered;
                std::future::ready(if *tries <= OUTAGE {
                    Err(HandlerError::transient("the database is unreachable"))
                } else {
                    Ok(())
                })
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

    eventually(PATIENCE, "the event applied after the outage", || async {
        (*tries.lock().unwrap() > OUTAGE).then_some(())
    })
    .await;
    subscriber.shutdown().await;
    let raw = RawChannel::open().await;
    assert!(
        raw.get(&format!("{queue}.dlq")).await.is_none(),
        "nothing dead-lettered"
    );
    assert!(
        raw.get(&queue).await.is_none(),
        "acknowledged, not requeued"
    );
    assert_eq!(*tries.lock().unwrap(), OUTAGE + 1, "applied once");
    assert!(
        !*redelivered.lock().unwrap(),
        "never returned to the queue meanwhile"
    );
    broker.close().await;
}
