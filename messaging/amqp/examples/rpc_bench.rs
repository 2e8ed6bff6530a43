//! Benchmark of the messaging library against the real broker (`AMQP_URL`):
//! RPC round trips per second with p50/p99 latency at 1 and 64 calls in flight,
//! and events published per second with publisher confirms.
//!
//! Run through `scripts/bench.sh rpc` (release mode). `BENCH_SECONDS` sets how
//! long each scenario runs (default 5).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use amqp::{
    AmqpSettings, Broker, CallOptions, Envelope, EventPublisher, EventSubscriber, MessageMeta,
    Namespace, RpcClient, RpcRouter, RpcServer, Topology,
};
use hdrhistogram::Histogram;
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let url = std::env::var("AMQP_URL").unwrap_or_else(|_| AmqpSettings::DEFAULT_URL.to_owned());
    let namespace = Namespace::parse(&format!("bench_{}", uuid::Uuid::new_v4().simple()))
        .map_err(anyhow::Error::msg)?;
    let queue = namespace.name("bench.rpc");
    let events_queue = namespace.name("bench.events");
    let topology = Topology::new(namespace.clone())
        .with_rpc_queue(&queue)
        .with_event_queue(&events_queue, &["bench.event"]);
    let mut settings = AmqpSettings::new(&url, namespace, "rpc-bench");
    settings.queue_expiry = Some(Duration::from_secs(60));

    let server_broker = Broker::start(settings.clone(), topology.clone());
    let client_broker = Broker::start(settings, topology);
    server_broker.wait_ready(Duration::from_secs(10)).await?;
    client_broker.wait_ready(Duration::from_secs(10)).await?;
    let router = RpcRouter::new().route("bench.echo", |_ctx, n: u64| async move { Ok(n) });
    let server = RpcServer::spawn(&server_broker, &queue, 128, router);
    server.wait_ready(Duration::from_secs(10)).await;
    let client = RpcClient::start(&client_broker);
    // Events must land somewhere; a subscriber drains them as the service would.
    let drain = EventSubscriber::spawn(
        &server_broker,
        &events_queue,
        256,
        |_m, _e: Envelope<u64>| std::future::ready(Ok(())),
    );

    // Warm up: connections, channels, reply queue, JIT-free but caches warm.
    rpc_scenario(&client, &queue, 8, Duration::from_secs(1)).await?;

    println!(
        "messaging benchmark against {} ({seconds} s per scenario, release build)",
        redact(&url)
    );
    println!(
        "{:<34} {:>12} {:>10} {:>10} {:>10}",
        "scenario", "ops/s", "p50 ms", "p99 ms", "ops"
    );
    for in_flight in [1, 64] {
        let r = rpc_scenario(&client, &queue, in_flight, Duration::from_secs(seconds)).await?;
        r.print(&format!("rpc round trip, {in_flight} in flight"));
    }
    let publisher = EventPublisher::new(&client_broker);
    for in_flight in [1, 64] {
        let r = publish_scenario(&publisher, in_flight, Duration::from_secs(seconds)).await?;
        r.print(&format!("event publish+confirm, {in_flight} in flight"));
    }

    drain.shutdown().await;
    server.shutdown().await;
    client.shutdown().await;
    server_broker.close().await;
    client_broker.close().await;
    Ok(())
}

struct Report {
    ops: u64,
    elapsed: Duration,
    latencies: Histogram<u64>,
}

impl Report {
    fn print(&self, name: &str) {
        let rate = self.ops as f64 / self.elapsed.as_secs_f64();
        let ms = |q: f64| self.latencies.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{name:<34} {rate:>12.0} {:>10.2} {:>10.2} {:>10}",
            ms(0.5),
            ms(0.99),
            self.ops
        );
    }
}

async fn run_workers<F, Fut>(in_flight: usize, duration: Duration, op: F) -> anyhow::Result<Report>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let (op, histogram) = (op.clone(), histogram.clone());
            tokio::spawn(async move {
                let mut local = Histogram::<u64>::new(3)?;
                let mut n = (worker as u64) << 32;
                while Instant::now() < deadline {
                    n += 1;
                    let t = Instant::now();
                    op(n).await?;
                    local.record(t.elapsed().as_micros() as u64)?;
                }
                histogram.lock().await.add(&local)?;
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed();
    let latencies = Arc::try_unwrap(histogram)
        .map_err(|_| anyhow::anyhow!("workers still hold the histogram"))?
        .into_inner();
    Ok(Report {
        ops: latencies.len(),
        elapsed,
        latencies,
    })
}

async fn rpc_scenario(
    client: &RpcClient,
    queue: &str,
    in_flight: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let (client, queue) = (client.clone(), queue.to_owned());
    run_workers(in_flight, duration, move |n| {
        let (client, queue) = (client.clone(), queue.clone());
        async move {
            let echoed: u64 = client
                .call(
                    &queue,
                    "bench.echo",
                    &n,
                    CallOptions::timeout(Duration::from_secs(10)),
                )
                .await?;
            anyhow::ensure!(echoed == n, "reply mismatch");
            Ok(())
        }
    })
    .await
}

async fn publish_scenario(
    publisher: &EventPublisher,
    in_flight: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let publisher = publisher.clone();
    run_workers(in_flight, duration, move |n| {
        let publisher = publisher.clone();
        async move {
            let event = Envelope::new("bench.event", n, MessageMeta::default());
            publisher.publish(&event).await?;
            Ok(())
        }
    })
    .await
}

fn redact(url: &str) -> String {
    match url.rfind('@') {
        Some(at) => format!("amqp://…{}", &url[at..]),
        None => url.to_owned(),
    }
}
