//! Request/reply against the real broker: each test in its own namespace.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use amqp::{
    Broker, CallOptions, HandlerError, MessagingError, RpcClient, RpcError, RpcRouter, RpcServer,
    Topology,
    lapin::{
        BasicProperties,
        types::{AMQPValue, FieldTable},
    },
};
use serde::{Deserialize, Serialize};
use support::*;
use tokio::sync::Notify;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Double {
    n: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Doubled {
    n: u64,
    doubled: u64,
}

const QUEUE: &str = "svc.rpc";

struct Fixture {
    broker: Broker,
    client: RpcClient,
    queue: String,
    /// Last, so that it is dropped (and the namespace deleted) last.
    _namespace: TestNamespace,
}

impl Fixture {
    async fn new() -> Self {
        init_tracing();
        let mut namespace = TestNamespace::new();
        let queue = namespace.name(QUEUE);
        let topology = Topology::new(namespace.clone()).with_rpc_queue(&queue);
        namespace.deletes(&topology);
        let broker = connected_broker(&amqp_url(), &topology, "rpc-test").await;
        let client = RpcClient::start(&broker);
        Self {
            broker,
            client,
            queue,
            _namespace: namespace,
        }
    }

    fn serve(&self, prefetch: u16, router: RpcRouter) -> amqp::ConsumerHandle {
        RpcServer::spawn(&self.broker, &self.queue, prefetch, router)
    }

    async fn call(&self, n: u64, timeout: Duration) -> Result<Doubled, RpcError> {
        self.client
            .call(
                &self.queue,
                "math.double",
                &Double { n },
                CallOptions::timeout(timeout),
            )
            .await
    }
}

fn doubling_router() -> RpcRouter {
    RpcRouter::new().route("math.double", |_ctx, req: Double| async move {
        Ok(Doubled {
            n: req.n,
            doubled: req.n * 2,
        })
    })
}

async fn ready(handle: &amqp::ConsumerHandle) {
    assert!(handle.wait_ready(PATIENCE).await, "server consuming");
}

#[tokio::test]
async fn a_call_gets_its_reply() {
    let fx = Fixture::new().await;
    let server = fx.serve(8, doubling_router());
    ready(&server).await;

    let reply = fx.call(21, PATIENCE).await.expect("reply");

    assert_eq!(reply, Doubled { n: 21, doubled: 42 });
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_calls_each_get_their_own_reply() {
    let fx = Fixture::new().await;
    let server = fx.serve(64, doubling_router());
    ready(&server).await;
    let fx = Arc::new(fx);

    let calls: Vec<_> = (0..500_u64)
        .map(|n| {
            let fx = fx.clone();
            tokio::spawn(async move { (n, fx.call(n, PATIENCE).await) })
        })
        .collect();

    for call in calls {
        let (n, reply) = call.await.expect("task");
        assert_eq!(reply.expect("reply"), Doubled { n, doubled: n * 2 });
    }
    assert_eq!(fx.client.dropped_replies(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_call_with_no_server_times_out() {
    let fx = Fixture::new().await;

    let started = std::time::Instant::now();
    let outcome = fx.call(1, Duration::from_millis(300)).await;

    assert!(matches!(outcome, Err(RpcError::Timeout(_))), "{outcome:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_late_reply_is_dropped_and_the_next_call_gets_its_own() {
    let fx = Fixture::new().await;
    let release = Arc::new(Notify::new());
    let started = Arc::new(Notify::new());
    let router = {
        let (release, started) = (release.clone(), started.clone());
        RpcRouter::new().route("math.double", move |_ctx, req: Double| {
            let (release, started) = (release.clone(), started.clone());
            async move {
                if req.n == 1 {
                    started.notify_one();
                    release.notified().await;
                }
                Ok(Doubled {
                    n: req.n,
                    doubled: req.n * 2,
                })
            }
        })
    };
    let server = fx.serve(8, router);
    ready(&server).await;

    // The handler holds the first call until released, so it can only time
    // out; 2 s leaves the request ample time to reach the handler first.
    let first = fx.call(1, Duration::from_secs(2)).await;
    assert!(matches!(first, Err(RpcError::Timeout(_))), "{first:?}");
    tokio::time::timeout(PATIENCE, started.notified())
        .await
        .expect("the handler received the first call");
    release.notify_one();
    eventually(PATIENCE, "the late reply to be dropped", || async {
        (fx.client.dropped_replies() == 1).then_some(())
    })
    .await;

    let second = fx.call(2, PATIENCE).await.expect("reply");
    assert_eq!(second, Doubled { n: 2, doubled: 4 });
    assert_eq!(fx.client.dropped_replies(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn an_unroutable_request_fails_at_once() {
    let fx = Fixture::new().await;
    let missing = fx.queue.replace(QUEUE, "no.such.queue");

    let started = std::time::Instant::now();
    let outcome: Result<Doubled, _> = fx
        .client
        .call(
            &missing,
            "math.double",
            &Double { n: 1 },
            CallOptions::timeout(Duration::from_secs(20)),
        )
        .await;

    assert!(
        matches!(
            outcome,
            Err(RpcError::Transport(MessagingError::Unroutable { .. }))
        ),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "failed fast, not at the timeout"
    );
}

#[tokio::test]
async fn a_handler_error_comes_back_as_a_typed_error() {
    let fx = Fixture::new().await;
    let router = RpcRouter::new().route("math.double", |_ctx, _req: Double| async move {
        Err::<Doubled, _>(HandlerError::new("too_big", "that number is too big"))
    });
    let server = fx.serve(8, router);
    ready(&server).await;

    let outcome = fx.call(7, PATIENCE).await;
    match outcome {
        Err(RpcError::Remote { code, message }) => {
            assert_eq!(code, contract::ErrorCode::Other("too_big".into()));
            assert_eq!(message, "that number is too big");
        }
        other => panic!("expected a remote error, got {other:?}"),
    }

    let unknown: Result<Doubled, _> = fx
        .client
        .call(
            &fx.queue,
            "math.triple",
            &Double { n: 1 },
            CallOptions::timeout(PATIENCE),
        )
        .await;
    assert!(
        matches!(&unknown, Err(RpcError::Remote { code, .. }) if *code == contract::ErrorCode::UnknownMethod),
        "{unknown:?}"
    );

    let wrong_shape: Result<Doubled, _> = fx
        .client
        .call(
            &fx.queue,
            "math.double",
            &"not an object",
            CallOptions::timeout(PATIENCE),
        )
        .await;
    assert!(
        matches!(&wrong_shape, Err(RpcError::Remote { code, .. }) if *code == contract::ErrorCode::InvalidRequest),
        "{wrong_shape:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_poison_request_is_dead_lettered_not_redelivered() {
    exported_metrics();
    let fx = Fixture::new().await;
    let handled = Arc::new(AtomicU32::new(0));
    let router = {
        let handled = handled.clone();
        RpcRouter::new().route("math.double", move |_ctx, req: Double| {
            handled.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(Doubled {
                    n: req.n,
                    doubled: req.n * 2,
                })
            }
        })
    };
    let server = fx.serve(8, router);
    ready(&server).await;
    let raw = RawChannel::open().await;

    raw.publish_raw(
        &fx.queue,
        b"{ this is not json",
        BasicProperties::default()
            .with_reply_to("nobody".into())
            .with_correlation_id("poison-1".into()),
    )
    .await;

    let dlq = format!("{}.dlq", fx.queue);
    let dead = eventually(PATIENCE, "the poison message in the DLQ", || async {
        raw.get(&dlq).await
    })
    .await;
    assert_eq!(dead.delivery.data, b"{ this is not json");
    // The server still serves, and the poison message reached no handler.
    let reply = fx.call(3, PATIENCE).await.expect("reply");
    assert_eq!(reply.doubled, 6);
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    assert!(
        raw.get(&fx.queue).await.is_none(),
        "nothing left to redeliver"
    );
    let counted = |name, labels: &[(&str, &str)]| {
        let labels = [&[("queue", fx.queue.as_str())], labels].concat();
        testkit::exposition::value(&exported_metrics(), name, &labels)
    };
    assert_eq!(
        counted(
            "rpc_server_dead_lettered_total",
            &[("reason", "undecodable")]
        ),
        Some(1.0)
    );
    assert_eq!(
        counted(
            "rpc_server_dead_lettered_total",
            &[("reason", "no_reply_to")]
        ),
        Some(0.0)
    );
    assert_eq!(counted("rpc_server_consumed_total", &[]), Some(2.0));
    assert_eq!(counted("rpc_server_redelivered_total", &[]), Some(0.0));
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_past_its_deadline_is_dropped_without_running_the_handler() {
    let fx = Fixture::new().await;
    let handled = Arc::new(AtomicU32::new(0));
    let router = {
        let handled = handled.clone();
        RpcRouter::new().route("math.double", move |_ctx, req: Double| {
            handled.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(Doubled {
                    n: req.n,
                    doubled: req.n * 2,
                })
            }
        })
    };
    // One request at a time, so the stale request is settled before the fresh one.
    let server = fx.serve(1, router);
    ready(&server).await;
    let raw = RawChannel::open().await;
    let past = SystemTime::now() - Duration::from_secs(1);
    let mut headers = FieldTable::default();
    headers.insert(
        "x-deadline-ms".into(),
        AMQPValue::LongLongInt(past.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64),
    );
    let stale = serde_json::json!({
        "message_id": uuid::Uuid::new_v4(), "type": "math.double", "schema_version": 1,
        "correlation_id": "stale", "causation_id": null,
        "timestamp": "2026-01-01T00:00:00Z", "payload": {"n": 99}
    });

    raw.publish_raw(
        &fx.queue,
        stale.to_string().as_bytes(),
        BasicProperties::default()
            .with_reply_to(fx.client.reply_queue().into())
            .with_correlation_id("stale-call".into())
            .with_headers(headers),
    )
    .await;
    let fresh = fx.call(4, PATIENCE).await.expect("reply");

    assert_eq!(fresh.doubled, 8);
    assert_eq!(
        handled.load(Ordering::SeqCst),
        1,
        "only the fresh request ran"
    );
    server.shutdown().await;
}
