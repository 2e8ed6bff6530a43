//! Benchmark of the whole checkout saga: order-svc and customer-svc running
//! in this process on fresh databases of the local PostgreSQL and a fresh
//! namespace of the local RabbitMQ, driven over HTTP. Prints confirmed
//! checkouts per second and p50/p99 latency at 1 and at 16 checkouts in
//! flight. Run through `scripts/bench.sh checkout`; `BENCH_SECONDS` sets how
//! long each scenario runs (default 5).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use messaging::{AmqpSettings, edge::test_database::TestDatabase};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

const ADMIN_TOKEN: &str = "bench-admin-token";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let amqp_url =
        std::env::var("AMQP_URL").unwrap_or_else(|_| AmqpSettings::DEFAULT_URL.to_owned());
    let namespace = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let orders_db = TestDatabase::create("orders_bench").await?;
    let customers_db = TestDatabase::create("customers_bench").await?;
    let stop = CancellationToken::new();

    let common = |url: &str| -> HashMap<&'static str, String> {
        HashMap::from([
            ("DATABASE_URL", url.to_owned()),
            ("AMQP_URL", amqp_url.clone()),
            ("AMQP_NAMESPACE", namespace.clone()),
            ("AMQP_QUEUE_EXPIRY_MS", "60000".to_owned()),
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("CHECKOUT_RATE_PER_MINUTE", "1000000".to_owned()),
            ("DEFAULT_CREDIT_LIMIT", "1000000.00".to_owned()),
        ])
    };
    let customer_env = common(customers_db.url());
    let customers = customer_svc::Application::build(customer_svc::Config::from_lookup(|n| {
        customer_env.get(n).cloned()
    })?)
    .await?;
    customers.wait_consuming(Duration::from_secs(30)).await;
    let customers_task = tokio::spawn(customers.run_until({
        let stop = stop.clone();
        async move { stop.cancelled().await }
    }));
    let order_env = common(orders_db.url());
    let orders = order_svc::Application::build(order_svc::Config::from_lookup(|n| {
        order_env.get(n).cloned()
    })?)
    .await?;
    let base = format!("http://{}", orders.address());
    let orders_task = tokio::spawn(orders.run_until({
        let stop = stop.clone();
        async move { stop.cancelled().await }
    }));
    let http = reqwest::Client::new();
    while http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let product: Value = http
        .post(format!("{base}/api/v1/products"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"sku": "BENCH-1", "name": "Bench", "price": "1.00", "currency": "EUR", "stock": 1_000_000, "category": "Bench"}))
        .send()
        .await?
        .json()
        .await?;
    let product_id = product["id"].as_str().unwrap_or_default().to_owned();

    // Warm up connections, pools and caches.
    run(&http, &base, &product_id, 4, Duration::from_secs(1)).await?;
    println!(
        "checkout saga benchmark: order-svc + customer-svc in one process ({seconds} s per scenario, release build)"
    );
    println!(
        "{:<34} {:>12} {:>10} {:>10} {:>10}",
        "scenario", "orders/s", "p50 ms", "p99 ms", "orders"
    );
    for in_flight in [1, 16] {
        let (count, elapsed, latencies) = run(
            &http,
            &base,
            &product_id,
            in_flight,
            Duration::from_secs(seconds),
        )
        .await?;
        let ms = |q: f64| latencies.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{:<34} {:>12.0} {:>10.2} {:>10.2} {:>10}",
            format!("confirmed checkout, {in_flight} in flight"),
            count as f64 / elapsed.as_secs_f64(),
            ms(0.5),
            ms(0.99),
            count
        );
    }

    stop.cancel();
    let _ = orders_task.await;
    let _ = customers_task.await;
    orders_db.drop_now().await;
    customers_db.drop_now().await;
    Ok(())
}

/// Checkouts by `in_flight` workers for `duration`, each a new customer
/// ordering one unit; every one must be confirmed.
async fn run(
    http: &reqwest::Client,
    base: &str,
    product_id: &str,
    in_flight: usize,
    duration: Duration,
) -> anyhow::Result<(u64, Duration, Histogram<u64>)> {
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let (http, base, product_id, histogram) = (http.clone(), base.to_owned(), product_id.to_owned(), histogram.clone());
            tokio::spawn(async move {
                let mut local = Histogram::<u64>::new(3)?;
                let mut n = 0_u64;
                while Instant::now() < deadline {
                    n += 1;
                    let body = json!({
                        "customer": {"email": format!("b{worker}-{n}-{}@bench.example.com", uuid::Uuid::new_v4().simple()), "name": "Bench"},
                        "items": [{"product_id": product_id, "quantity": 1}],
                    });
                    let t = Instant::now();
                    let order: Value = http.post(format!("{base}/api/v1/orders")).json(&body).send().await?.json().await?;
                    anyhow::ensure!(order["status"] == "confirmed", "checkout not confirmed: {order}");
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
    let histogram = Arc::try_unwrap(histogram)
        .map_err(|_| anyhow::anyhow!("workers still running"))?
        .into_inner();
    Ok((histogram.len(), elapsed, histogram))
}
