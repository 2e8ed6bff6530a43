//! Repairing dead letters on the real broker: listed without being taken,
//! replayed into their source queue once they can be handled (and handled
//! once), discarded one by one or all together.

mod support;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use amqp::{
    Broker, ConsumerHandle, Envelope, EventPublisher, EventSubscriber, HandlerError, MessageMeta,
    Topology,
    dead_letters::{Body, DeadLetterError, DeadLetters, QueueLetters, Target},
    lapin::BasicProperties,
};
use serde::{Deserialize, Serialize};
use support::*;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderConfirmed {
    order_id: Uuid,
}

/// A queue whose handler refuses every event as invalid while `broken`
/// (so each is dead-lettered at once), and counts what it applies.
struct Fixture {
    queue: String,
    topology: Topology,
    broker: Broker,
    subscriber: ConsumerHandle,
    broken: Arc<AtomicBool>,
    applied: Arc<Mutex<HashMap<Uuid, u32>>>,
    letters: DeadLetters,
    _namespace: TestNamespace,
}

impl Fixture {
    async fn start() -> Self {
        Self::start_with_limit(100_000).await
    }

    /// With dead-letter queues that keep at most `limit` messages.
    async fn start_with_limit(limit: i64) -> Self {
        init_tracing();
        let mut namespace = TestNamespace::new();
        let queue = namespace.name("history");
        let topology = Topology::new(namespace.clone())
            .with_event_queue(&queue, &["order.confirmed", "poison.#"])
            .with_dead_letter_limit(limit);
        namespace.deletes(&topology);
        let broker = connected_broker(&amqp_url(), &topology, "dead-letters-test").await;
        let broken = Arc::new(AtomicBool::new(true));
        let applied: Arc<Mutex<HashMap<Uuid, u32>>> = Arc::default();
        let subscriber = {
            let (broken, applied) = (broken.clone(), applied.clone());
            EventSubscriber::spawn(
                &broker,
                &queue,
                8,
                move |_meta, event: Envelope<serde_json::Value>| {
                    let outcome = match event.kind.as_str() {
                        "poison.failing" => Err(HandlerError::new("bug", "always fails")),
                        _ if broken.load(Ordering::SeqCst) => {
                            Err(HandlerError::invalid_request("cannot be handled yet"))
                        }
                        _ => {
                            *applied.lock().unwrap().entry(event.message_id).or_default() += 1;
                            Ok(())
                        }
                    };
                    std::future::ready(outcome)
                },
            )
        };
        assert!(subscriber.wait_ready(PATIENCE).await);
        let letters = DeadLetters::new(&broker, &topology);
        Self {
            queue,
            topology,
            broker,
            subscriber,
            broken,
            applied,
            letters,
            _namespace: namespace,
        }
    }

    /// Publishes an event as order-svc would, with a request id.
    async fn publish(&self, kind: &str) -> Uuid {
        let event = Envelope::new(
            kind,
            OrderConfirmed {
                order_id: Uuid::new_v4(),
            },
            MessageMeta {
                request_id: Some("req-dead-letters".into()),
                ..MessageMeta::default()
            },
        );
        EventPublisher::new(&self.broker)
            .publish(&event)
            .await
            .expect("confirmed");
        event.message_id
    }

    async fn depth(&self) -> i64 {
        let depths = amqp::dead_letters::read_depths(&self.broker, &self.topology)
            .await
            .expect("depths read");
        depths.into_iter().map(|d| d.messages).sum()
    }

    async fn depth_reaches(&self, wanted: i64) {
        eventually(PATIENCE, &format!("{wanted} dead letters"), || async {
            (self.depth().await == wanted).then_some(())
        })
        .await;
    }

    async fn listed(&self) -> QueueLetters {
        let mut queues = self.letters.browse(None, 0, 100).await.expect("listed");
        assert_eq!(queues.len(), 1);
        queues.remove(0)
    }

    fn applied(&self, id: Uuid) -> u32 {
        self.applied.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    async fn stop(self) {
        self.subscriber.shutdown().await;
        self.broker.close().await;
    }
}

fn ids(listed: &QueueLetters) -> Vec<String> {
    listed
        .letters
        .iter()
        .map(|l| l.message_id.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn dead_letters_are_listed_with_their_reason_and_listing_takes_nothing() {
    let fixture = Fixture::start().await;
    let refused = fixture.publish("order.confirmed").await;
    fixture.depth_reaches(1).await;
    let failing = fixture.publish("poison.failing").await;
    fixture.depth_reaches(2).await;
    RawChannel::open()
        .await
        .publish_raw(
            &fixture.queue,
            b"not json at all",
            BasicProperties::default().with_message_id("raw-1".into()),
        )
        .await;
    fixture.depth_reaches(3).await;

    let first = fixture.listed().await;
    let second = fixture.listed().await;

    assert_eq!(first.queue, fixture.queue);
    assert_eq!(first.dead_letter_queue, format!("{}.dlq", fixture.queue));
    assert_eq!(first.depth, 3);
    assert!(!first.full);
    assert_eq!(
        ids(&first),
        vec![refused.to_string(), failing.to_string(), "raw-1".into()]
    );
    let [invalid, over_limit, raw] = &first.letters[..] else {
        panic!("three letters: {first:?}")
    };
    assert_eq!(invalid.reason.as_deref(), Some("rejected"));
    assert_eq!(invalid.kind.as_deref(), Some("order.confirmed"));
    assert_eq!(invalid.routing_key.as_deref(), Some("order.confirmed"));
    assert_eq!(invalid.count, 1);
    assert!(invalid.first_dead_lettered_at.is_some());
    assert_eq!(invalid.request_id.as_deref(), Some("req-dead-letters"));
    let Body::Json(body) = &invalid.body else {
        panic!("a JSON body: {invalid:?}")
    };
    assert_eq!(body["message_id"], refused.to_string());
    assert_eq!(over_limit.reason.as_deref(), Some("delivery_limit"));
    assert_eq!(raw.reason.as_deref(), Some("rejected"));
    assert_eq!(
        raw.body,
        Body::Text {
            preview: "not json at all".into(),
            truncated: false
        }
    );
    assert_eq!(ids(&second), ids(&first), "the same messages, twice");
    assert_eq!(fixture.depth().await, 3, "listing took nothing");
    fixture.stop().await;
}

#[tokio::test]
async fn a_page_of_dead_letters_skips_the_ones_before_it() {
    let fixture = Fixture::start().await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        sent.push(fixture.publish("order.confirmed").await.to_string());
        fixture.depth_reaches(n).await;
    }

    let page = fixture.letters.browse(Some(&fixture.queue), 1, 1).await;

    let page = page.expect("listed").remove(0);
    assert_eq!(ids(&page), vec![sent[1].clone()]);
    assert_eq!(page.depth, 3);
    assert_eq!(fixture.depth().await, 3);
    fixture.stop().await;
}

#[tokio::test]
async fn a_replayed_dead_letter_is_handled_once_and_leaves_the_queue() {
    let fixture = Fixture::start().await;
    let (one, two, three) = (
        fixture.publish("order.confirmed").await,
        fixture.publish("order.confirmed").await,
        fixture.publish("order.confirmed").await,
    );
    fixture.depth_reaches(3).await;
    fixture.broken.store(false, Ordering::SeqCst);

    let replayed = fixture
        .letters
        .replay(Target::Message(&one.to_string()))
        .await;

    assert_eq!(replayed.expect("replayed"), 1);
    eventually(PATIENCE, "the replayed event applied", || async {
        (fixture.applied(one) == 1).then_some(())
    })
    .await;
    assert_eq!(fixture.depth().await, 2);
    let again = fixture
        .letters
        .replay(Target::Message(&one.to_string()))
        .await;
    assert!(
        matches!(again, Err(DeadLetterError::NotFound(_))),
        "{again:?}"
    );

    let all = fixture
        .letters
        .replay(Target::All(Some(&fixture.queue)))
        .await;

    assert_eq!(all.expect("replayed"), 2);
    eventually(PATIENCE, "every replayed event applied", || async {
        (fixture.applied(two) == 1 && fixture.applied(three) == 1).then_some(())
    })
    .await;
    assert_eq!(fixture.depth().await, 0);
    assert_eq!(fixture.applied(one), 1, "each applied once");
    fixture.stop().await;
}

#[tokio::test]
async fn dead_letters_are_discarded_one_by_one_or_all_together() {
    let fixture = Fixture::start().await;
    let one = fixture.publish("order.confirmed").await;
    for _ in 0..2 {
        fixture.publish("order.confirmed").await;
    }
    fixture.depth_reaches(3).await;

    let discarded = fixture
        .letters
        .discard(Target::Message(&one.to_string()))
        .await;

    assert_eq!(discarded.expect("discarded"), 1);
    assert_eq!(fixture.depth().await, 2);
    assert!(!ids(&fixture.listed().await).contains(&one.to_string()));
    let unknown = fixture.letters.discard(Target::Message("no-such-id")).await;
    assert!(
        matches!(unknown, Err(DeadLetterError::NotFound(_))),
        "{unknown:?}"
    );

    let all = fixture.letters.discard(Target::All(None)).await;

    assert_eq!(all.expect("discarded"), 2);
    assert_eq!(fixture.depth().await, 0);
    assert_eq!(fixture.applied(one), 0, "discarded, never applied");
    fixture.stop().await;
}

#[tokio::test]
async fn a_queue_the_topology_does_not_have_is_refused() {
    let fixture = Fixture::start().await;

    let listed = fixture.letters.browse(Some("elsewhere.queue"), 0, 10).await;
    let replayed = fixture.letters.replay(Target::All(Some("elsewhere"))).await;

    assert!(
        matches!(listed, Err(DeadLetterError::UnknownQueue(_))),
        "{listed:?}"
    );
    assert!(
        matches!(replayed, Err(DeadLetterError::UnknownQueue(_))),
        "{replayed:?}"
    );
    let by_dlq_name = fixture
        .letters
        .browse(Some(&format!("{}.dlq", fixture.queue)), 0, 10)
        .await;
    assert_eq!(by_dlq_name.expect("listed")[0].queue, fixture.queue);
    fixture.stop().await;
}

#[tokio::test]
async fn a_dead_letter_whose_replay_is_not_confirmed_stays_a_dead_letter() {
    let fixture = Fixture::start().await;
    let event = fixture.publish("order.confirmed").await;
    fixture.depth_reaches(1).await;
    // Nowhere to replay to: the broker returns the copy as unroutable.
    let raw = RawChannel::open().await;
    raw.channel
        .queue_delete(
            fixture.queue.as_str().into(),
            amqp::lapin::options::QueueDeleteOptions::default(),
        )
        .await
        .expect("source queue deleted");

    let replayed = fixture
        .letters
        .replay(Target::Message(&event.to_string()))
        .await;

    assert!(
        matches!(replayed, Err(DeadLetterError::Broker { done: 0, .. })),
        "{replayed:?}"
    );
    assert_eq!(fixture.depth().await, 1, "still a dead letter");
    let listed = fixture.letters.browse(None, 0, 10).await.expect("listed");
    assert_eq!(ids(&listed[0]), vec![event.to_string()]);
    fixture.stop().await;
}

#[tokio::test]
async fn listings_at_the_same_moment_each_see_every_dead_letter() {
    let fixture = Fixture::start().await;
    for n in 1..=3 {
        fixture.publish("order.confirmed").await;
        fixture.depth_reaches(n).await;
    }

    let (first, second) = tokio::join!(
        fixture.letters.browse(None, 0, 10),
        fixture.letters.browse(None, 0, 10)
    );

    let (first, second) = (first.expect("listed"), second.expect("listed"));
    assert_eq!(ids(&first[0]).len(), 3);
    assert_eq!(ids(&first[0]), ids(&second[0]));
    assert_eq!(fixture.depth().await, 3);
    fixture.stop().await;
}

#[tokio::test]
async fn a_full_dead_letter_queue_is_listed_as_full() {
    let fixture = Fixture::start_with_limit(2).await;
    for n in 1..=2 {
        fixture.publish("order.confirmed").await;
        fixture.depth_reaches(n).await;
    }

    let listed = fixture.listed().await;

    assert_eq!((listed.depth, listed.limit), (2, 2));
    assert!(listed.full, "{listed:?}");
    fixture.stop().await;
}
