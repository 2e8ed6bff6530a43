//! Starting the system for one test, and talking to it as a browser would.
#![allow(dead_code)]

use std::collections::HashMap;

use edge::service::Configuration;
use serde_json::{Value, json};
use testkit::{TestNamespace, database::TestDatabase};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use testkit::{PATIENCE, amqp_url, eventually};

pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The access-token secret both services of a test system share.
pub const TOKEN_SECRET: &str = "test-access-token-secret-of-32-bytes-or-more";
/// How long the saga waits for customer-svc in tests that are not about
/// that timeout: wide enough for a debug build on a loaded two-core machine
/// (the default is 3 s). Tests about the timeout set a short one themselves.
pub const RPC_TIMEOUT_MS: &str = "10000";
/// Each service's database pool in tests.
pub const DATABASE_MAX_CONNECTIONS: &str = "4";
/// Test queues vanish two minutes after their last use.
pub const QUEUE_EXPIRY_MS: &str = "120000";

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

    /// A GET as the admin (most tests look at what the services hold).
    pub async fn get(&self, url: &str) -> (u16, Value) {
        self.get_as(url, Some(ADMIN_TOKEN)).await
    }

    /// A GET with `token` as the bearer (`None`: anonymous).
    pub async fn get_as(&self, url: &str, token: Option<&str>) -> (u16, Value) {
        self.call_as(reqwest::Method::GET, url, None, token).await
    }

    /// Any request with `token` as the bearer (`None`: anonymous).
    pub async fn call_as(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        send(request).await
    }

    pub async fn post(&self, url: &str, body: &Value) -> (u16, Value) {
        send(self.http.post(url).json(body)).await
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url).bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        send(request).await
    }

    /// Creates a product with `stock` units at `price`; returns its id.
    pub async fn product(&self, price: &str, stock: i64) -> String {
        let sku = format!("T-{}", &Uuid::new_v4().simple().to_string()[..12]);
        let body = json!({"sku": sku, "name": format!("Test {sku}"), "price": price, "currency": "EUR",
                          "stock": stock, "category": "Test"});
        let (status, created) = self
            .admin(
                reqwest::Method::POST,
                &self.order_url("/api/v1/products"),
                Some(&body),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().expect("id").to_owned()
    }

    pub async fn stock_of(&self, product_id: &str) -> i64 {
        let (_, product) = self
            .get(&self.order_url(&format!("/api/v1/products/{product_id}")))
            .await;
        product["stock"].as_i64().expect("stock")
    }

    /// `POST /api/v1/orders` on instance `instance`.
    pub async fn checkout_on(
        &self,
        instance: usize,
        email: &str,
        lines: &[(&str, u32)],
        key: Option<&str>,
    ) -> (u16, Value) {
        let body = checkout_body(email, lines);
        let mut request = self
            .http
            .post(format!("{}/api/v1/orders", self.orders[instance].base))
            .json(&body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        send(request).await
    }

    /// Signs up `email` at customer-svc with a password and signs in: the
    /// customer's id and access token.
    pub async fn sign_up(&self, email: &str) -> (String, String) {
        let password = "a passphrase long enough";
        let (status, created) = self
            .post(
                &self.customer_url("/api/v1/customers"),
                &json!({"email": email, "name": "Account Holder", "password": password}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let (status, session) = self
            .post(
                &self.customer_url("/api/v1/sessions"),
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{session}");
        (
            session["customer_id"].as_str().expect("id").to_owned(),
            session["access_token"].as_str().expect("token").to_owned(),
        )
    }

    /// `POST /api/v1/orders` with `token` as the bearer.
    pub async fn checkout_as(
        &self,
        token: Option<&str>,
        email: &str,
        lines: &[(&str, u32)],
    ) -> (u16, Value) {
        let body = checkout_body(email, lines);
        self.call_as(
            reqwest::Method::POST,
            &self.order_url("/api/v1/orders"),
            Some(&body),
            token,
        )
        .await
    }

    /// `POST /api/v1/orders/{id}/cancel` for a checkout's answer, with the
    /// order token it carries.
    pub async fn cancel(&self, checkout_answer: &Value) -> (u16, Value) {
        let id = checkout_answer["id"].as_str().expect("an order id");
        self.call_as(
            reqwest::Method::POST,
            &self.order_url(&format!("/api/v1/orders/{id}/cancel")),
            None,
            checkout_answer["access_token"].as_str(),
        )
        .await
    }

    pub async fn checkout(&self, email: &str, lines: &[(&str, u32)]) -> (u16, Value) {
        self.checkout_on(0, email, lines, None).await
    }

    pub async fn order(&self, id: &str) -> Value {
        let (status, order) = self
            .get(&self.order_url(&format!("/api/v1/orders/{id}")))
            .await;
        assert_eq!(status, 200, "{order}");
        order
    }

    /// Polls the order until `done` holds for it.
    pub async fn order_when(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        eventually(PATIENCE, what, || async {
            let order = self.order(id).await;
            done(&order).then_some(order)
        })
        .await
    }

    pub async fn customer(&self, email: &str) -> Option<Value> {
        let (status, list) = self
            .get(&self.customer_url(&format!("/api/v1/customers?email={email}")))
            .await;
        assert_eq!(status, 200, "{list}");
        list["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
    }

    pub async fn history(&self, customer_id: &str) -> Value {
        let (status, history) = self
            .get(&self.customer_url(&format!("/api/v1/customers/{customer_id}/orders")))
            .await;
        assert_eq!(status, 200, "{history}");
        history
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

pub fn checkout_body(email: &str, lines: &[(&str, u32)]) -> Value {
    json!({
        "customer": {"email": email, "name": "Test Shopper"},
        "items": lines.iter().map(|(id, qty)| json!({"product_id": id, "quantity": qty})).collect::<Vec<_>>(),
    })
}

pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// The timeline entries of an order's saga, as `step:status`.
pub fn timeline(order: &Value) -> Vec<String> {
    order["saga"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}",
                        s["step"].as_str().unwrap_or(""),
                        s["status"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
