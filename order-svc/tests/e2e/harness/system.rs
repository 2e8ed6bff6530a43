//! The system's start-up and shutdown: both databases, one namespace, the
//! services running in this process on ports the OS picks.

use std::collections::HashMap;

use edge::service::Configuration;
use testkit::{TestNamespace, database::TestDatabase};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{
    ADMIN_TOKEN, DATABASE_MAX_CONNECTIONS, PATIENCE, QUEUE_EXPIRY_MS, RPC_TIMEOUT_MS, TOKEN_SECRET,
    amqp_url, eventually,
};

/// A running service: its base URL and how to stop it. Dropped without
/// [`Running::stop`] (a test that panicked), it still tells the service to stop.
pub struct Running {
    pub base: String,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        self.stop.cancel();
        (&mut self.task)
            .await
            .expect("service task")
            .expect("clean shutdown");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Both databases, one namespace, and the services running on them. Fields
/// drop in order: the services are told to stop, then the databases are
/// dropped and the namespace deleted, also when the test panics.
pub struct System {
    pub orders: Vec<Running>,
    pub customers: Option<Running>,
    pub http: reqwest::Client,
    pub orders_db: TestDatabase,
    pub customers_db: TestDatabase,
    pub namespace: TestNamespace,
}

impl System {
    /// order-svc and customer-svc, ready.
    pub async fn start() -> Self {
        let mut system = Self::without_services().await;
        system.start_customer_svc().await;
        system.start_order_svc(&[]).await;
        system
    }

    /// The databases and namespace, nothing running yet.
    pub async fn without_services() -> Self {
        edge::telemetry::init_for_tests();
        let mut namespace = TestNamespace::new();
        namespace.deletes(&amqp::system::topology(&namespace));
        Self {
            namespace,
            orders_db: TestDatabase::create("orders_test")
                .await
                .expect("PostgreSQL reachable"),
            customers_db: TestDatabase::create("customers_test")
                .await
                .expect("PostgreSQL reachable"),
            orders: Vec::new(),
            customers: None,
            http: reqwest::Client::new(),
        }
    }

    /// The environment an order-svc of this system runs with.
    pub fn order_env(&self) -> HashMap<String, String> {
        [
            ("DATABASE_URL", self.orders_db.url()),
            ("AMQP_URL", &amqp_url()),
            ("AMQP_NAMESPACE", self.namespace.as_str()),
            ("AMQP_QUEUE_EXPIRY_MS", QUEUE_EXPIRY_MS),
            ("HTTP_ADDR", "127.0.0.1:0"),
            ("ADMIN_TOKEN", ADMIN_TOKEN),
            ("ACCESS_TOKEN_SECRET", TOKEN_SECRET),
            ("RPC_TIMEOUT_MS", RPC_TIMEOUT_MS),
            // Small pools: several systems run at once (and a second copy of
            // the suite beside them) within PostgreSQL's 100 connections.
            ("DATABASE_MAX_CONNECTIONS", DATABASE_MAX_CONNECTIONS),
            // A checkout answers with the saga's end, not 202, however slow the machine.
            ("CHECKOUT_WAIT_MS", "60000"),
            ("SAGA_LEASE", "20s"),
            ("RECOVERY_INTERVAL", "200ms"),
            ("UI_DIR", "/nonexistent"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Starts (another) order-svc in this process, with extra settings.
    pub async fn start_order_svc(&mut self, overrides: &[(&str, &str)]) -> usize {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        self.start_order_svc_on(listener, overrides).await
    }

    /// Starts an order-svc on a listener the test bound (its address known in advance).
    pub async fn start_order_svc_on(
        &mut self,
        listener: tokio::net::TcpListener,
        overrides: &[(&str, &str)],
    ) -> usize {
        let mut env = self.order_env();
        for (key, value) in overrides {
            env.insert((*key).to_owned(), (*value).to_owned());
        }
        let config = order_svc::Config::from_lookup(|name| env.get(name).cloned())
            .expect("order-svc config");
        let app = order_svc::Application::build_with_listener(config, listener)
            .await
            .expect("order-svc starts");
        let base = format!("http://{}", app.address());
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until({
            let stop = stop.clone();
            async move { stop.cancelled().await }
        }));
        self.orders.push(Running { base, stop, task });
        self.wait_ready(&self.orders.last().expect("just pushed").base.clone())
            .await;
        self.orders.len() - 1
    }

    /// Starts customer-svc in this process.
    pub async fn start_customer_svc(&mut self) {
        self.start_customer_svc_with(&[]).await;
    }

    /// Starts customer-svc in this process, with extra settings.
    pub async fn start_customer_svc_with(&mut self, overrides: &[(&str, &str)]) {
        let mut env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", self.customers_db.url().to_owned()),
            ("AMQP_URL", amqp_url()),
            ("AMQP_NAMESPACE", self.namespace.to_string()),
            ("AMQP_QUEUE_EXPIRY_MS", QUEUE_EXPIRY_MS.to_owned()),
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("ACCESS_TOKEN_SECRET", TOKEN_SECRET.to_owned()),
            (
                "DATABASE_MAX_CONNECTIONS",
                DATABASE_MAX_CONNECTIONS.to_owned(),
            ),
        ]);
        for (key, value) in overrides {
            env.insert(key, (*value).to_owned());
        }
        let config = customer_svc::Config::from_lookup(|name| env.get(name).cloned())
            .expect("customer-svc config");
        let app = customer_svc::Application::build(config)
            .await
            .expect("customer-svc starts");
        assert!(app.wait_consuming(PATIENCE).await, "customer-svc consumes");
        let base = format!("http://{}", app.address());
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until({
            let stop = stop.clone();
            async move { stop.cancelled().await }
        }));
        self.customers = Some(Running { base, stop, task });
    }

    async fn wait_ready(&self, base: &str) {
        let url = format!("{base}/readyz");
        eventually(PATIENCE, "order-svc ready", || async {
            let response = self.http.get(&url).send().await.ok()?;
            (response.status() == 200).then_some(())
        })
        .await;
    }

    pub fn order_url(&self, path: &str) -> String {
        format!("{}{path}", self.orders[0].base)
    }

    pub fn customer_url(&self, path: &str) -> String {
        let base = &self.customers.as_ref().expect("customer-svc running").base;
        format!("{base}{path}")
    }

    /// Runs SQL against the customers database.
    pub async fn customers_db(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(self.customers_db.url())
            .await
            .expect("customers database")
    }

    /// Runs SQL against the orders database.
    pub async fn orders_db(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(self.orders_db.url())
            .await
            .expect("orders database")
    }

    /// Stops every service cleanly (asserting that each shuts down well);
    /// dropping the system then drops the databases and the namespace.
    pub async fn stop(mut self) {
        for order in self.orders.drain(..) {
            order.stop().await;
        }
        if let Some(customers) = self.customers.take() {
            customers.stop().await;
        }
    }
}
