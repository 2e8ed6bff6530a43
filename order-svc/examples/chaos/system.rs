//! One scenario's system: fresh databases, customer-svc and order-svc as
//! their own processes (so that they can be killed and frozen), each reaching
//! its database and the broker through a TCP proxy of the suite's (so that
//! the database can refuse it and the broker connection can be cut), and the
//! products the shoppers buy, with the stock each started with.

use std::{collections::HashMap, path::PathBuf, process::Stdio, time::Duration};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sqlx::PgPool;
use testkit::proxy::TcpProxy;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::{
    Settings,
    cluster::Cluster,
    database::{Server, ServiceDatabase},
    load::Shop,
};

/// The admin token both services are started with.
pub const ADMIN_TOKEN: &str = "chaos-admin-token";
/// How long a service may take to start and become ready.
const READY_WITHIN: Duration = Duration::from_secs(90);
/// The products: two plentiful, two that run short during a scenario (as
/// the shoppers' credit, `DEFAULT_CREDIT_LIMIT` below, does towards its end).
const PRODUCTS: [(&str, &str, i64); 4] = [
    ("PLENTY-A", "3.00", 1_000_000),
    ("PLENTY-B", "7.00", 1_000_000),
    ("SCARCE-A", "5.00", 150),
    ("SCARCE-B", "4.00", 100),
];

/// The system under test.
pub struct System {
    pub order: Service,
    pub customer: Service,
    pub order_database: TcpProxy,
    pub customer_database: TcpProxy,
    pub order_broker: TcpProxy,
    pub customer_broker: TcpProxy,
    /// Each service's database, to refuse it the ways an administrator does.
    pub orders_db: ServiceDatabase,
    pub customers_db: ServiceDatabase,
    /// Direct pools (not through the proxies), for the checker.
    pub orders: PgPool,
    pub customers: PgPool,
    pub initial_stock: HashMap<Uuid, i64>,
    products: Vec<Uuid>,
    http: reqwest::Client,
}

/// Where each service's database lives.
pub struct Placement {
    pub orders: Server,
    pub customers: Server,
}

impl System {
    /// Creates the databases, starts both services and the products.
    pub async fn start(
        settings: &Settings,
        scenario: &str,
        cluster: &Cluster,
        placement: &Placement,
    ) -> anyhow::Result<Self> {
        let run = format!("chaos_{}_{}", settings.run, scenario.replace('-', "_"));
        let orders_db =
            ServiceDatabase::create(&placement.orders, &format!("{run}_orders")).await?;
        let customers_db =
            ServiceDatabase::create(&placement.customers, &format!("{run}_customers")).await?;
        let order_database = TcpProxy::start(placement.orders.address.clone()).await;
        let customer_database = TcpProxy::start(placement.customers.address.clone()).await;
        let first_node = cluster.url(0);
        let first_host = first_node
            .rsplit('@')
            .next()
            .and_then(|rest| rest.split('/').next())
            .context("node URL")?
            .to_owned();
        let order_broker = TcpProxy::start(first_host.clone()).await;
        let customer_broker = TcpProxy::start(first_host).await;
        // Through the proxy to the first node, then straight to the others:
        // a service whose node dies moves on to the next.
        let broker_urls = |proxy: &TcpProxy| {
            let mut urls = vec![format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port())];
            urls.extend((1..cluster.len()).map(|index| cluster.url(index)));
            urls.join(",")
        };
        let database_url = |proxy: &TcpProxy, database: &ServiceDatabase| {
            format!(
                "postgres://{}@127.0.0.1:{}/{}",
                database.server.service_user,
                proxy.port(),
                database.name
            )
        };
        let logs = settings.work.join(&run);
        std::fs::create_dir_all(&logs)?;
        let common = |http_port: u16| {
            vec![
                ("AMQP_NAMESPACE".to_owned(), run.clone()),
                ("ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned()),
                ("LOG_FORMAT".to_owned(), "json".to_owned()),
                ("HTTP_ADDR".to_owned(), format!("127.0.0.1:{http_port}")),
            ]
        };
        let customer_port = crate::cluster::free_port()?;
        let mut customer_env = common(customer_port);
        customer_env.extend([
            ("AMQP_URL".to_owned(), broker_urls(&customer_broker)),
            (
                "DATABASE_URL".to_owned(),
                database_url(&customer_database, &customers_db),
            ),
            ("DEFAULT_CREDIT_LIMIT".to_owned(), "250.00".to_owned()),
        ]);
        let mut customer = Service::new(
            "customer-svc",
            settings.bin.join("customer-svc"),
            customer_env,
            customer_port,
            logs.join("customer-svc.log"),
        );
        let order_port = crate::cluster::free_port()?;
        let mut order_env = common(order_port);
        order_env.extend([
            ("AMQP_URL".to_owned(), broker_urls(&order_broker)),
            (
                "DATABASE_URL".to_owned(),
                database_url(&order_database, &orders_db),
            ),
            (
                "CHECKOUT_RATE_PER_MINUTE".to_owned(),
                "100000000".to_owned(),
            ),
            ("RECOVERY_INTERVAL".to_owned(), "2s".to_owned()),
            (
                "CUSTOMER_API_URL".to_owned(),
                format!("http://127.0.0.1:{customer_port}"),
            ),
            ("UI_DIR".to_owned(), "/nonexistent".to_owned()),
        ]);
        let mut order = Service::new(
            "order-svc",
            settings.bin.join("order-svc"),
            order_env,
            order_port,
            logs.join("order-svc.log"),
        );
        customer.start().await?;
        order.start().await?;

        let mut system = Self {
            orders: orders_db.direct_pool().await?,
            customers: customers_db.direct_pool().await?,
            orders_db,
            customers_db,
            order,
            customer,
            order_database,
            customer_database,
            order_broker,
            customer_broker,
            initial_stock: HashMap::new(),
            products: Vec::new(),
            http: reqwest::Client::new(),
        };
        for (sku, price, stock) in PRODUCTS {
            let id = system.create_product(sku, price, stock).await?;
            system.products.push(id);
            system.initial_stock.insert(id, stock);
        }
        Ok(system)
    }

    async fn create_product(&self, sku: &str, price: &str, stock: i64) -> anyhow::Result<Uuid> {
        let body = json!({
            "sku": sku, "name": format!("Chaos {sku}"), "price": price, "currency": "EUR",
            "stock": stock, "category": "Chaos",
        });
        let response = self
            .http
            .post(format!("{}/api/v1/products", self.order.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let product: Value = response.json().await?;
        if !status.is_success() {
            bail!("creating product {sku}: {status} {product}");
        }
        Ok(product["id"]
            .as_str()
            .context("product without id")?
            .parse()?)
    }

    /// What the shoppers need.
    pub fn shop(&self) -> Shop {
        Shop {
            http: self.http.clone(),
            order_url: self.order.url.clone(),
            products: self.products.clone(),
        }
    }

    /// What customer-svc's dead-letter queues hold: per queue, how many
    /// and why (`GET /api/v1/admin/dead-letters`).
    pub async fn dead_letters(&self) -> anyhow::Result<Vec<(String, u64, Vec<String>)>> {
        let response = self
            .http
            .get(format!(
                "{}/api/v1/admin/dead-letters?per_page=100",
                self.customer.url
            ))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        let status = response.status();
        let listed: Value = response.json().await?;
        if !status.is_success() {
            bail!("listing dead letters: {status} {listed}");
        }
        let queues = listed["queues"].as_array().context("no queues listed")?;
        Ok(queues
            .iter()
            .map(|queue| {
                let reasons = queue["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|item| item["reason"].as_str().unwrap_or("?").to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    queue["dead_letter_queue"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned(),
                    queue["depth"].as_u64().unwrap_or(0),
                    reasons,
                )
            })
            .collect())
    }

    /// Stops both services and drops the databases.
    pub async fn stop(mut self) {
        self.order.stop().await;
        self.customer.stop().await;
        self.orders.close().await;
        self.customers.close().await;
        for database in [&self.orders_db, &self.customers_db] {
            let _ = database.drop_it().await;
        }
    }
}

/// A service process that can be killed, frozen and started again on the
/// same port with the same settings.
pub struct Service {
    name: &'static str,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    pub url: String,
    process: Option<Child>,
}

impl Service {
    fn new(
        name: &'static str,
        binary: PathBuf,
        env: Vec<(String, String)>,
        port: u16,
        log: PathBuf,
    ) -> Self {
        Self {
            name,
            binary,
            env,
            log,
            url: format!("http://127.0.0.1:{port}"),
            process: None,
        }
    }

    /// Starts it and waits until `/readyz` says it is ready.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let process = Command::new(&self.binary)
            .env_remove("RUST_LOG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", self.binary.display()))?;
        self.process = Some(process);
        let http = reqwest::Client::new();
        let ready = format!("{}/readyz", self.url);
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Ok(answer) = http.get(&ready).send().await
                && answer.status().is_success()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{} did not get ready (see {})",
                    self.name,
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, no draining, whatever was in flight.
    pub async fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill().await;
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`).
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self
            .process
            .as_ref()
            .and_then(Child::id)
            .context("the service is not running")?;
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()?;
        if !status.success() {
            bail!("kill -{signal} {pid} failed");
        }
        Ok(())
    }

    /// SIGTERM and wait: a clean shutdown.
    async fn stop(&mut self) {
        if self.process.is_some() {
            let _ = self.signal("CONT");
            let _ = self.signal("TERM");
        }
        if let Some(mut process) = self.process.take() {
            let ended = tokio::time::timeout(Duration::from_secs(30), process.wait()).await;
            if ended.is_err() {
                let _ = process.kill().await;
            }
        }
    }
}
