//! Starting the real service for a test, and talking to it over HTTP (its
//! queues: `helpers/messaging.rs`).
#![allow(dead_code)]

mod messaging;

use std::{collections::HashMap, time::Duration};

use amqp::{AmqpSettings, Broker, EventPublisher, RpcClient};
use customer_svc::{Application, Config};
use edge::service::Configuration;
use serde_json::Value;
use testkit::{TestNamespace, database::TestDatabase};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use testkit::{PATIENCE, amqp_url, eventually};

pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The service's access-token secret in tests (tests mint tokens with it).
pub const TOKEN_SECRET: &str = "test-access-token-secret-of-32-bytes-or-more";
/// How long the test's own RPC calls wait for the service: wide, as no test
/// here is about that timeout.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// Seeded customers (see `migrations/customers/*_seed_demo_customers.sql`).
pub const ADA: &str = "0193a000-0000-7000-8000-000000000001";
pub const BLOCKED_EMAIL: &str = "blocked@example.com";
pub const LOW_CREDIT_EMAIL: &str = "lowcredit@example.com";

/// A running customer-svc and clients for its HTTP API and its queues.
/// Fields drop in order: dropped without [`TestApp::stop`] (a test that
/// panicked), it tells the service to stop, then drops the database and
/// deletes the namespace.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub database_url: String,
    stop: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    pub broker: Broker,
    pub rpc: RpcClient,
    pub events: EventPublisher,
    database: TestDatabase,
    pub namespace: TestNamespace,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts the service with extra environment settings.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        Self::spawn_configured(overrides, str::to_owned).await
    }

    /// Starts the service reaching its database through a proxy the test
    /// can close (an outage), and returns both.
    pub async fn spawn_behind_database_proxy() -> (Self, testkit::proxy::TcpProxy) {
        let proxy =
            testkit::proxy::TcpProxy::start(host_and_port(&testkit::database::admin_url())).await;
        let through = format!("127.0.0.1:{}", proxy.port());
        let app =
            Self::spawn_configured(&[], |url| url.replacen(&host_and_port(url), &through, 1)).await;
        (app, proxy)
    }

    /// Starts the service with extra environment settings, its
    /// `DATABASE_URL` made from the fresh database's by `database_url` (to
    /// add `sslmode`, or to go through a proxy).
    pub async fn spawn_configured(
        overrides: &[(&str, &str)],
        database_url_for: impl FnOnce(&str) -> String,
    ) -> Self {
        edge::telemetry::init_for_tests();
        let database = TestDatabase::create("customers_test")
            .await
            .expect("PostgreSQL reachable (DATABASE_ADMIN_URL)");
        let database_url = database.url().to_owned();
        let service_database_url = database_url_for(&database_url);
        let mut namespace = TestNamespace::new();
        namespace.deletes(&amqp::system::topology(&namespace));

        let mut env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", service_database_url),
            ("AMQP_URL", amqp_url()),
            ("AMQP_NAMESPACE", namespace.to_string()),
            ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("ACCESS_TOKEN_SECRET", TOKEN_SECRET.to_owned()),
            ("DATABASE_MAX_CONNECTIONS", "5".to_owned()),
        ]);
        for (key, value) in overrides {
            env.insert(key, (*value).to_owned());
        }
        let mut config = Config::from_lookup(|name| env.get(name).cloned()).expect("config");
        config.service.amqp.queue_expiry = Some(Duration::from_secs(120));
        let app = Application::build(config).await.expect("service starts");
        assert!(
            app.wait_consuming(PATIENCE).await,
            "service consumes its queues"
        );
        let base = format!("http://{}", app.address());
        let stop = CancellationToken::new();
        let server = tokio::spawn(app.run_until({
            let stop = stop.clone();
            async move { stop.cancelled().await }
        }));

        let mut settings = AmqpSettings::new(amqp_url(), namespace.clone(), "test-client");
        settings.queue_expiry = Some(Duration::from_secs(120));
        let broker = Broker::start(settings, amqp::system::topology(&namespace));
        broker.wait_ready(PATIENCE).await.expect("broker reachable");
        let rpc = RpcClient::start(&broker);
        let events = EventPublisher::new(&broker);
        Self {
            base,
            http: reqwest::Client::new(),
            database_url,
            database,
            namespace,
            stop,
            server: Some(server),
            broker,
            rpc,
            events,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A GET as the admin (most tests look at what the service holds).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(path, Some(ADMIN_TOKEN)).await
    }

    /// A GET with `token` as the bearer (`None`: anonymous).
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        send(with_bearer(self.http.get(self.url(path)), token)).await
    }

    /// Any request with `token` as the bearer (`None`: anonymous).
    pub async fn call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        send(with_bearer(request, token)).await
    }

    /// Signs up `email` with `password` and signs in: the customer's id and
    /// access token.
    pub async fn sign_up(&self, email: &str, password: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/v1/customers",
                &serde_json::json!({"email": email, "name": "Account Holder", "password": password}),
                false,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, session) = self
            .post(
                "/api/v1/sessions",
                &serde_json::json!({"email": email, "password": password}),
                false,
            )
            .await;
        assert_eq!(status, 200, "{session}");
        (
            session["customer_id"]
                .as_str()
                .expect("customer_id")
                .to_owned(),
            session["access_token"].as_str().expect("token").to_owned(),
        )
    }

    pub async fn post(&self, path: &str, body: &Value, admin: bool) -> (u16, Value) {
        let mut request = self.http.post(self.url(path)).json(body);
        if admin {
            request = request.bearer_auth(ADMIN_TOKEN);
        }
        send(request).await
    }

    pub async fn patch(&self, path: &str, body: &Value, admin: bool) -> (u16, Value) {
        let mut request = self.http.patch(self.url(path)).json(body);
        if admin {
            request = request.bearer_auth(ADMIN_TOKEN);
        }
        send(request).await
    }

    pub async fn create_customer(&self, email: &str, name: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/customers",
                &serde_json::json!({"email": email, "name": name}),
                false,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn customer_by_email(&self, email: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/api/v1/customers?email={email}")).await;
        assert_eq!(status, 200, "{body}");
        body["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
    }

    pub async fn credit_available(&self, email: &str) -> String {
        let customer = self
            .customer_by_email(email)
            .await
            .expect("customer exists");
        customer["credit_available"]
            .as_str()
            .expect("string")
            .to_owned()
    }

    /// The service's `/metrics`, as text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics answered")
            .text()
            .await
            .expect("metrics text")
    }

    /// The value of a counter in the service's `/metrics` (0 when absent).
    pub async fn counter(&self, name: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .filter(|line| line.starts_with(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Stops the service (asserting a clean shutdown) and the test's clients;
    /// dropping the app then drops the database and deletes the namespace.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("clean shutdown");
        }
        self.rpc.shutdown().await;
        self.broker.close().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `url` with `params` added to its query.
pub fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// The `host:port` of a database URL.
fn host_and_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}

fn with_bearer(request: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}
