//! Helpers shared by the messaging integration tests: settings for a
//! namespace of the test's own on the real broker, a raw AMQP channel for what the library would never
//! send, polling with a deadline, a TCP proxy whose sockets can be cut, and
//! the process's metrics as `/metrics` would render them.
#![allow(dead_code, unused_imports)]

pub use testkit::proxy;

pub use testkit::{PATIENCE, TestNamespace, amqp_url, eventually};

use std::time::Duration;

use amqp::{
    AmqpSettings, Broker, Namespace, Topology,
    lapin::{
        BasicProperties, Channel, Connection, ConnectionProperties,
        options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions},
    },
};
use uuid::Uuid;

/// This process's metrics in the Prometheus text format, as a service's
/// `/metrics` renders them; the first call installs the recorder, so call
/// it before starting what is to be counted. Series carry their queue,
/// which is the test's own.
pub fn exported_metrics() -> String {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).expect("no other recorder in the tests");
            handle
        })
        .render()
}

/// Logs to the test output when `TEST_LOG` is set.
pub fn init_tracing() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "debug,lapin=info".into()),
            )
            .with_test_writer()
            .try_init();
    }
}

/// Settings for a test: quick reconnects, and queues that the broker deletes
/// a while after the test stops using them.
pub fn test_settings(url: &str, namespace: &Namespace, app_id: &str) -> AmqpSettings {
    let mut settings = AmqpSettings::new(url, namespace.clone(), app_id);
    settings.reconnect_min = Duration::from_millis(50);
    settings.reconnect_max = Duration::from_millis(500);
    settings.publish_wait = Duration::from_secs(2);
    // An acknowledgement caught by a cut connection can go unanswered
    // (lapin neither sends nor fails it): give up on it quickly.
    settings.answer_timeout = Duration::from_secs(5);
    settings.queue_expiry = Some(Duration::from_secs(120));
    settings
}

/// A broker connected to `url`, waited for.
pub async fn connected_broker(url: &str, topology: &Topology, app_id: &str) -> Broker {
    let settings = test_settings(url, topology.namespace(), app_id);
    let broker = Broker::start(settings, topology.clone());
    broker.wait_ready(PATIENCE).await.expect("broker reachable");
    broker
}

/// A plain lapin channel, outside the library, for raw publishes and gets.
pub struct RawChannel {
    _connection: Connection,
    pub channel: Channel,
}

impl RawChannel {
    pub async fn open() -> Self {
        let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
            .await
            .expect("raw connection");
        let channel = connection.create_channel().await.expect("raw channel");
        Self {
            _connection: connection,
            channel,
        }
    }

    /// Publishes bytes as they are, to the default exchange.
    pub async fn publish_raw(&self, queue: &str, body: &[u8], properties: BasicProperties) {
        self.channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                body,
                properties,
            )
            .await
            .expect("raw publish")
            .await
            .expect("raw publish written");
    }

    /// Takes one message from `queue`, if any, acknowledging it.
    pub async fn get(&self, queue: &str) -> Option<amqp::lapin::message::BasicGetMessage> {
        let message = self
            .channel
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .expect("basic.get")?;
        message
            .delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .expect("ack");
        Some(message)
    }
}

/// The broker's `host:port`, from `AMQP_URL`.
pub fn broker_address() -> String {
    let uri: amqp::lapin::uri::AMQPUri = amqp_url().parse().expect("valid AMQP_URL");
    format!("{}:{}", uri.authority.host, uri.authority.port)
}

/// `AMQP_URL` pointed at a local port instead (a proxy in front of the broker).
pub fn url_via_port(port: u16) -> String {
    let mut uri: amqp::lapin::uri::AMQPUri = amqp_url().parse().expect("valid AMQP_URL");
    uri.authority.host = "127.0.0.1".to_owned();
    uri.authority.port = port;
    uri.to_string()
}
