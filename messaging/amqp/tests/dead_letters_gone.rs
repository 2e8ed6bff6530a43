//! A dead-letter queue that is not there (deleted by an operator, or
//! expired unused in a throw-away namespace) holds nothing: the repairs
//! answer it as empty instead of failing as if the broker were down.

mod support;

use amqp::{
    Topology,
    dead_letters::{DeadLetters, Target},
    lapin::options::QueueDeleteOptions,
};
use support::*;

#[tokio::test]
async fn a_missing_dead_letter_queue_is_listed_replayed_and_discarded_as_empty() {
    init_tracing();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("orders");
    let topology = Topology::new(namespace.clone()).with_event_queue(&queue, &["order.confirmed"]);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "dead-letters-gone-test").await;
    let dlq = format!("{queue}.dlq");
    let raw = RawChannel::open().await;
    raw.channel
        .queue_delete(dlq.as_str().into(), QueueDeleteOptions::default())
        .await
        .expect("the dead-letter queue deleted");
    let letters = DeadLetters::new(&broker, &topology);

    let listed = letters.browse(None, 0, 10).await.expect("listed");
    let replayed = letters.replay(Target::All(None)).await.expect("replayed");
    let discarded = letters
        .discard(Target::All(Some(&queue)))
        .await
        .expect("discarded");

    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].depth, listed[0].letters.len()), (0, 0));
    assert_eq!((replayed, discarded), (0, 0));
    broker.close().await;
}
