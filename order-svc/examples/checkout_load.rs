//! The load side of `scripts/bench.sh checkout`: drives `POST /api/v1/orders`
//! of an order-svc that runs as its own process (started by the script, with
//! customer-svc beside it, each on a fresh database), with `CLIENTS` clients
//! for `SECONDS`, and prints one row of figures: confirmed checkouts/s,
//! latency percentiles, failures, database commits per checkout (from
//! `pg_stat_database`), the services' CPU per checkout and memory (from
//! `/proc`), and how long a confirmed order takes to reach the customer's
//! history.
//!
//! Settings (environment): `ORDER_URL`, `ORDERS_DB_URL`, `CUSTOMERS_DB_URL`,
//! `ORDER_PID`, `CUSTOMER_PID`, `CLIENTS`, `SECONDS`, `PRODUCTS` (ids, comma
//! separated; each client orders them in turn), `CUSTOMERS` (`new`: a new
//! customer per checkout, or `returning`: one customer per client),
//! `LABEL`, `PGBENCH_TPS` (the ratio's denominator) and `MIN_RATIO` (exit
//! with status 3 when checkouts/s fall below that many times `PGBENCH_TPS`:
//! the CI guard against a collapse).
//!
//! With `TEARDOWN_NAMESPACE` set it only deletes that namespace's queues and
//! exchanges from the broker at `AMQP_URL` (the script's clean-up).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use sqlx::PgPool;

/// How long PostgreSQL may keep an idle backend's counters before it
/// publishes them (`PGSTAT_IDLE_INTERVAL` is 10 s), plus a margin.
const STATS_SETTLE: Duration = Duration::from_secs(11);

struct Settings {
    order_url: String,
    orders_db: PgPool,
    customers_db: PgPool,
    order_pid: u32,
    customer_pid: u32,
    clients: usize,
    duration: Duration,
    products: Vec<String>,
    returning: bool,
    label: String,
    pgbench_tps: Option<f64>,
    min_ratio: Option<f64>,
}

/// What clients saw: latencies of the checkouts answered, and their ends.
struct Outcomes {
    latencies: Histogram<u64>,
    confirmed: u64,
    not_confirmed: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Outcomes {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            latencies: Histogram::new(3)?,
            confirmed: 0,
            not_confirmed: 0,
            errors: 0,
            first_error: None,
        })
    }

    /// Adds what another client saw.
    fn merge(&mut self, other: Outcomes) -> anyhow::Result<()> {
        self.latencies.add(&other.latencies)?;
        self.confirmed += other.confirmed;
        self.not_confirmed += other.not_confirmed;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if let Ok(namespace) = std::env::var("TEARDOWN_NAMESPACE") {
        return teardown(&namespace).await;
    }
    let settings = settings().await?;
    for pid in [settings.order_pid, settings.customer_pid] {
        // Resets the peak RSS (VmHWM), so that it is this scenario's peak.
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
    }
    let before = Snapshot::take(&settings).await?;
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let outcomes = drive(&settings).await?;
    // Until the last answer: clients finish the checkout in flight at the deadline.
    let elapsed = started.elapsed().as_secs_f64();
    let peak = Snapshot::take(&settings).await?;
    tokio::time::sleep(STATS_SETTLE).await;
    let after = Snapshot::take(&settings).await?;
    let propagation = propagation(&settings, started_at).await?;

    let latencies = &outcomes.latencies;
    let ms = |q: f64| latencies.value_at_quantile(q) as f64 / 1000.0;
    let confirmed = outcomes.confirmed.max(1) as f64;
    let rate = outcomes.confirmed as f64 / elapsed;
    let ratio = settings
        .pgbench_tps
        .map_or("-".to_owned(), |tps| format!("{:.2}", rate / tps));
    // CPU up to the last answer (not the idle wait for the statistics).
    let cpu_ms = (peak.cpu_ticks - before.cpu_ticks) as f64 * 1000.0 / ticks_per_second()?;
    println!(
        "| {} | {} | {:.0} | {} | {:.1} / {:.1} / {:.1} / {:.1} | {} / {} | {:.2} / {:.2} | {:.2} | {} / {} | {} / {} |",
        settings.label,
        settings.clients,
        rate,
        ratio,
        ms(0.5),
        ms(0.9),
        ms(0.99),
        latencies.max() as f64 / 1000.0,
        outcomes.errors,
        outcomes.not_confirmed,
        (after.orders_commits - before.orders_commits) as f64 / confirmed,
        (after.customers_commits - before.customers_commits) as f64 / confirmed,
        cpu_ms / confirmed,
        propagation.0,
        propagation.1,
        mib(before.rss_kib),
        mib(peak.peak_kib),
    );
    if let Some(error) = outcomes.first_error {
        eprintln!("first error: {error}");
    }
    if let (Some(min), Some(tps)) = (settings.min_ratio, settings.pgbench_tps)
        && rate < min * tps
    {
        eprintln!(
            "collapse: {rate:.0} checkouts/s is below {min} × pgbench's {tps:.0} tps ({})",
            settings.label
        );
        std::process::exit(3);
    }
    Ok(())
}

/// Deletes the benchmark's topology (the services leave it for the next
/// instance, as they should).
async fn teardown(namespace: &str) -> anyhow::Result<()> {
    use amqp::lapin::{Connection, ConnectionProperties};
    let namespace = amqp::Namespace::parse(namespace).map_err(anyhow::Error::msg)?;
    let url =
        std::env::var("AMQP_URL").unwrap_or_else(|_| amqp::AmqpSettings::DEFAULT_URL.to_owned());
    let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    amqp::system::topology(&namespace).delete(&channel).await?;
    connection.close(200, "benchmark done".into()).await?;
    Ok(())
}

async fn settings() -> anyhow::Result<Settings> {
    let var = |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
    let products: Vec<String> = var("PRODUCTS")?
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if products.is_empty() {
        bail!("PRODUCTS names no product");
    }
    Ok(Settings {
        order_url: var("ORDER_URL")?,
        orders_db: PgPool::connect(&var("ORDERS_DB_URL")?).await?,
        customers_db: PgPool::connect(&var("CUSTOMERS_DB_URL")?).await?,
        order_pid: var("ORDER_PID")?.parse()?,
        customer_pid: var("CUSTOMER_PID")?.parse()?,
        clients: var("CLIENTS")?.parse()?,
        duration: Duration::from_secs(var("SECONDS")?.parse()?),
        products,
        returning: var("CUSTOMERS")? == "returning",
        label: var("LABEL")?,
        pgbench_tps: std::env::var("PGBENCH_TPS")
            .ok()
            .and_then(|v| v.parse().ok()),
        min_ratio: std::env::var("MIN_RATIO").ok().and_then(|v| v.parse().ok()),
    })
}

/// `CLIENTS` clients, each checking out one after another until the time is up.
async fn drive(settings: &Settings) -> anyhow::Result<Outcomes> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.clients)
        .build()?;
    let deadline = Instant::now() + settings.duration;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let workers: Vec<_> = (0..settings.clients)
        .map(|client| {
            let http = http.clone();
            let url = format!("{}/api/v1/orders", settings.order_url);
            let products = settings.products.clone();
            let returning = settings.returning;
            let run = run.clone();
            tokio::spawn(async move {
                let mut local = Outcomes::new()?;
                let mut n = 0_usize;
                while Instant::now() < deadline {
                    let email = if returning {
                        format!("c{client}-{run}@bench.example.com")
                    } else {
                        format!("c{client}-{n}-{run}@bench.example.com")
                    };
                    let product = &products[(client + n) % products.len()];
                    n += 1;
                    let body = json!({
                        "customer": {"email": email, "name": "Bench Shopper"},
                        "items": [{"product_id": product, "quantity": 1}],
                    });
                    let sent = Instant::now();
                    let answer = checkout(&http, &url, &body).await;
                    let took = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    if answer.is_ok() {
                        local.latencies.record(took)?;
                    }
                    match answer {
                        Ok(order) if order["status"] == "confirmed" => local.confirmed += 1,
                        Ok(_) => local.not_confirmed += 1,
                        Err(error) => {
                            local.errors += 1;
                            local.first_error.get_or_insert(error.to_string());
                        }
                    }
                }
                anyhow::Ok(local)
            })
        })
        .collect();
    let mut outcomes = Outcomes::new()?;
    for worker in workers {
        outcomes.merge(worker.await??)?;
    }
    Ok(outcomes)
}

async fn checkout(http: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Value> {
    let response = http.post(url).json(body).send().await?;
    let status = response.status();
    let order: Value = response.json().await?;
    if !status.is_success() {
        bail!("{status}: {order}");
    }
    Ok(order)
}

/// Counters read at one moment.
struct Snapshot {
    orders_commits: i64,
    customers_commits: i64,
    cpu_ticks: u64,
    rss_kib: u64,
    peak_kib: u64,
}

impl Snapshot {
    async fn take(settings: &Settings) -> anyhow::Result<Self> {
        let (order, customer) = (
            Process::read(settings.order_pid)?,
            Process::read(settings.customer_pid)?,
        );
        Ok(Self {
            orders_commits: commits(&settings.orders_db).await?,
            customers_commits: commits(&settings.customers_db).await?,
            cpu_ticks: order.cpu_ticks + customer.cpu_ticks,
            rss_kib: order.rss_kib + customer.rss_kib,
            peak_kib: order.peak_kib + customer.peak_kib,
        })
    }
}

/// Transactions ended in this database (committed or rolled back), as the
/// statistics collector last published them.
async fn commits(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

/// A service's CPU time and memory, from `/proc`.
struct Process {
    cpu_ticks: u64,
    rss_kib: u64,
    peak_kib: u64,
}

impl Process {
    fn read(pid: u32) -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("process {pid} is gone"))?;
        // Fields after the command name (which may hold spaces): utime is the
        // 14th field of the line, stime the 15th.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let tick = |index: usize| -> anyhow::Result<u64> {
            Ok(fields.get(index).context("short /proc stat")?.parse()?)
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |key: &str| -> u64 {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        Ok(Self {
            cpu_ticks: tick(11)? + tick(12)?,
            rss_kib: kib("VmRSS:"),
            peak_kib: kib("VmHWM:"),
        })
    }
}

fn ticks_per_second() -> anyhow::Result<f64> {
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()?;
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

fn mib(kib: u64) -> String {
    format!("{:.0}", kib as f64 / 1024.0)
}

/// p50 and p99 of the time from an order's confirmation (its timeline entry)
/// to its row in the customer's history, over the orders of this run.
async fn propagation(
    settings: &Settings,
    since: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(String, String)> {
    let confirmed: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT o.id, s.at FROM orders o
         JOIN sagas g ON g.order_id = o.id
         JOIN saga_steps s ON s.saga_id = g.id AND s.step = 'confirm_order' AND s.status = 'completed'
         WHERE o.created_at >= $1",
    )
    .bind(since)
    .fetch_all(&settings.orders_db)
    .await?;
    let ids: Vec<uuid::Uuid> = confirmed.iter().map(|(id, _)| *id).collect();
    let landed: std::collections::HashMap<uuid::Uuid, chrono::DateTime<chrono::Utc>> =
        sqlx::query_as("SELECT order_id, updated_at FROM order_history WHERE order_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&settings.customers_db)
            .await?
            .into_iter()
            .collect();
    let mut delays = Histogram::<u64>::new(3)?;
    let mut missing = 0;
    for (id, at) in &confirmed {
        match landed.get(id) {
            Some(landed_at) => {
                let micros = (*landed_at - *at).num_microseconds().unwrap_or(0).max(0);
                delays.record(u64::try_from(micros).unwrap_or(0))?;
            }
            None => missing += 1,
        }
    }
    if delays.is_empty() {
        return Ok(("-".into(), "-".into()));
    }
    let ms = |q: f64| format!("{:.0}", delays.value_at_quantile(q) as f64 / 1000.0);
    let p99 = if missing > 0 {
        format!("{} ({missing} not yet)", ms(0.99))
    } else {
        ms(0.99)
    };
    Ok((ms(0.5), p99))
}
