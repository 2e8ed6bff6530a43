//! Graceful shutdown: stop taking work, finish what is in flight, then stop.

mod support;

use std::{sync::Arc, time::Duration};

use amqp::{CallOptions, RpcClient, RpcError, RpcRouter, RpcServer, Topology};
use support::*;
use tokio::sync::Notify;

#[tokio::test]
async fn shutdown_waits_for_the_handler_in_flight_and_then_takes_no_more_work() {
    init_tracing();
    let mut namespace = TestNamespace::new();
    let queue = namespace.name("svc.rpc");
    let topology = Topology::new(namespace.clone()).with_rpc_queue(&queue);
    namespace.deletes(&topology);
    let broker = connected_broker(&amqp_url(), &topology, "shutdown-test").await;
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let router = {
        let (started, release) = (started.clone(), release.clone());
        RpcRouter::new().route("slow.echo", move |_ctx, n: u64| {
            let (started, release) = (started.clone(), release.clone());
            async move {
                started.notify_one();
                release.notified().await;
                Ok(n)
            }
        })
    };
    let server = RpcServer::spawn(&broker, &queue, 8, router);
    assert!(server.wait_ready(PATIENCE).await);
    let client = RpcClient::start(&broker);

    let in_flight = {
        let (client, queue) = (client.clone(), queue.clone());
        tokio::spawn(async move {
            client
                .call::<_, u64>(&queue, "slow.echo", &7_u64, CallOptions::timeout(PATIENCE))
                .await
        })
    };
    started.notified().await;
    let mut shutdown = tokio::spawn(server.shutdown());

    // Shutdown must not complete while the handler is still working...
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut shutdown)
            .await
            .is_err(),
        "shutdown returned before the in-flight handler finished"
    );
    release.notify_one();
    tokio::time::timeout(PATIENCE, shutdown)
        .await
        .expect("shutdown completes once the handler is done")
        .expect("shutdown task");

    // ...the in-flight call got its reply, and the stopped server takes nothing new.
    assert_eq!(in_flight.await.expect("task").expect("reply"), 7);
    let after: Result<u64, _> = client
        .call(
            &queue,
            "slow.echo",
            &8_u64,
            CallOptions::timeout(Duration::from_millis(300)),
        )
        .await;
    assert!(matches!(after, Err(RpcError::Timeout(_))), "{after:?}");
    client.shutdown().await;
    broker.close().await;
}
