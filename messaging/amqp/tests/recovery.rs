//! Connection loss: every socket to the broker cut mid-traffic by a proxy.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use amqp::{
    Broker, CallOptions, MessagingError, Publisher, RpcClient, RpcError, RpcRouter, RpcServer,
    Topology, lapin::BasicProperties,
};
use support::{proxy::TcpProxy, *};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_succeed_again_after_every_connection_is_cut_mid_traffic() {
    init_tracing();
    let proxy = TcpProxy::start(broker_address()).await;
    let url = url_via_port(proxy.port());
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("svc.rpc");
    let topology = Topology::new(namespace.clone()).with_rpc_queue(&queue);
    namespace.deletes(&topology);
    let server_broker = connected_broker(&url, &topology, "recovery-server").await;
    let client_broker = connected_broker(&url, &topology, "recovery-client").await;
    let router = RpcRouter::new().route("echo", |_ctx, n: u64| async move { Ok(n) });
    let server = RpcServer::spawn(&server_broker, &queue, 32, router);
    let client = RpcClient::start(&client_broker);

    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let traffic: Vec<_> = (0..8)
        .map(|worker| {
            let (client, queue) = (client.clone(), queue.clone());
            let (ok, failed, stop) = (ok.clone(), failed.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = worker * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let reply: Result<u64, RpcError> = client
                        .call(
                            &queue,
                            "echo",
                            &n,
                            CallOptions::timeout(Duration::from_secs(2)),
                        )
                        .await;
                    match reply {
                        Ok(echoed) => {
                            assert_eq!(echoed, n, "a reply reached the wrong caller");
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    eventually(PATIENCE, "traffic flowing", || async {
        (ok.load(Ordering::Relaxed) >= 200).then_some(())
    })
    .await;

    let cut = proxy.cut();
    assert!(cut >= 2, "both services' connections were cut (cut {cut})");
    let ok_at_cut = ok.load(Ordering::Relaxed);

    eventually(PATIENCE, "calls succeeding again after the cut", || async {
        (ok.load(Ordering::Relaxed) >= ok_at_cut + 200).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for worker in traffic {
        worker
            .await
            .expect("no reply ever reached the wrong caller");
    }

    // After recovery, fresh calls all succeed.
    for n in 0..50_u64 {
        let reply: u64 = client
            .call(&queue, "echo", &n, CallOptions::timeout(PATIENCE))
            .await
            .expect("call after recovery");
        assert_eq!(reply, n);
    }
    assert!(server_broker.is_ready() && client_broker.is_ready());
    server.shutdown().await;
    client.shutdown().await;
    server_broker.close().await;
    client_broker.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_made_as_the_connection_drops_waits_for_its_new_reply_queue() {
    init_tracing();
    let proxy = TcpProxy::start(broker_address()).await;
    let url = url_via_port(proxy.port());
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("svc.rpc");
    let topology = Topology::new(namespace.clone()).with_rpc_queue(&queue);
    namespace.deletes(&topology);
    // The server on a direct connection: only the client's is cut.
    let server_broker = connected_broker(&amqp_url(), &topology, "recovery-server").await;
    let client_broker = connected_broker(&url, &topology, "recovery-client").await;
    let router = RpcRouter::new().route("echo", |_ctx, n: u64| async move { Ok(n) });
    let server = RpcServer::spawn(&server_broker, &queue, 32, router);
    let client = RpcClient::start(&client_broker);

    for n in 0..5_u64 {
        assert!(proxy.cut() >= 1, "the client's connection was cut");
        // At once, before the client noticed: the reply consumer's old queue
        // died with the connection, and the call must not go out naming it.
        // (The window where the old code did is too narrow to hit on
        // purpose; this shows calls across cuts are answered, not that race.)
        // A publish on the dying connection may fail (the request did not
        // leave; the saga retries those): try again. A timeout would mean a
        // request went out whose reply had nowhere to go.
        let mut timeouts = 0;
        let reply = eventually(PATIENCE, "the call answered after the cut", || {
            let (client, queue) = (client.clone(), queue.clone());
            async move {
                match client
                    .call::<u64, u64>(
                        &queue,
                        "echo",
                        &n,
                        CallOptions::timeout(Duration::from_secs(20)),
                    )
                    .await
                {
                    Ok(reply) => Some(Ok(reply)),
                    Err(RpcError::Timeout(_)) => Some(Err(())),
                    Err(_) => None,
                }
            }
        })
        .await;
        match reply {
            Ok(reply) => assert_eq!(reply, n),
            Err(()) => timeouts += 1,
        }
        assert_eq!(timeouts, 0, "call {n} timed out: its reply went nowhere");
    }
    server.shutdown().await;
    client.shutdown().await;
    server_broker.close().await;
    client_broker.close().await;
}

#[tokio::test]
async fn a_publish_while_the_broker_is_unreachable_fails_within_its_bound() {
    init_tracing();
    // A port with nothing behind it: the proxy is started and dropped at once.
    let port = TcpProxy::start("127.0.0.1:9".to_owned()).await.port();
    let namespace = TestNamespace::new();
    let mut settings = test_settings(&url_via_port(port), &namespace, "unreachable");
    settings.publish_wait = Duration::from_millis(300);
    let broker = Broker::start(settings, Topology::new(namespace.clone()));
    let publisher = Publisher::new(&broker);
    assert!(!broker.is_ready());

    let started = std::time::Instant::now();
    let outcome = publisher
        .publish("", "anything", b"{}", BasicProperties::default())
        .await;

    assert!(
        matches!(outcome, Err(MessagingError::NotConnected { .. })),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    broker.close().await;
}

#[tokio::test]
async fn a_broker_that_goes_silent_fails_publishes_and_shutdowns_within_their_bounds() {
    init_tracing();
    let proxy = TcpProxy::start(broker_address()).await;
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("svc.rpc");
    let topology = Topology::new(namespace.clone()).with_rpc_queue(&queue);
    namespace.deletes(&topology);
    let mut settings = test_settings(&url_via_port(proxy.port()), &namespace, "silent");
    settings.publish_wait = Duration::from_millis(500);
    settings.confirm_timeout = Duration::from_millis(500);
    settings.answer_timeout = Duration::from_millis(500);
    let broker = Broker::start(settings, topology.clone());
    broker.wait_ready(PATIENCE).await.expect("broker reachable");
    let server = RpcServer::spawn(&broker, &queue, 4, RpcRouter::new());
    assert!(server.wait_ready(PATIENCE).await, "server consuming");
    let publisher = Publisher::new(&broker);
    let publish = || publisher.publish("", "nowhere", b"{}", BasicProperties::default());
    let unroutable = |outcome: &Result<(), MessagingError>| {
        matches!(outcome, Err(MessagingError::Unroutable { .. }))
    };
    let answered = publish().await;
    assert!(unroutable(&answered), "the broker answers: {answered:?}");

    proxy.freeze();
    let outcome = tokio::time::timeout(PATIENCE, publish())
        .await
        .expect("a publish to a silent broker ends instead of hanging");
    assert!(
        matches!(
            outcome,
            Err(MessagingError::ConfirmTimeout(_) | MessagingError::NotConnected { .. })
        ),
        "{outcome:?}"
    );

    proxy.thaw();
    eventually(PATIENCE, "the broker answering publishes again", || async {
        unroutable(&publish().await).then_some(())
    })
    .await;

    proxy.freeze();
    tokio::time::timeout(PATIENCE, server.shutdown())
        .await
        .expect("a consumer stops even when the broker does not answer its cancel");
    tokio::time::timeout(PATIENCE, broker.close())
        .await
        .expect("the connection closes even when the broker does not answer");
}
