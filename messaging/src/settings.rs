//! How to reach the broker and how patient to be with it.

use std::time::Duration;

use crate::topology::Namespace;

/// Connection settings shared by every component of this crate.
#[derive(Debug, Clone)]
pub struct AmqpSettings {
    /// `amqp://user:pass@host:port/vhost`, as in `AMQP_URL`.
    pub url: String,
    /// Prefix of every exchange and queue, as in `AMQP_NAMESPACE`.
    pub namespace: Namespace,
    /// Put in the `app_id` property of every message and in the connection name.
    pub app_id: String,
    /// How long a publish waits for a connection before it fails with
    /// [`crate::MessagingError::NotConnected`].
    pub publish_wait: Duration,
    /// How long a publish waits for the broker's confirm.
    pub confirm_timeout: Duration,
    /// First delay between connection attempts; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest delay between connection attempts.
    pub reconnect_max: Duration,
    /// When set, every declared queue is deleted by the broker after being
    /// unused this long (`x-expires`). Tests use it so that their namespaces
    /// clean themselves up; production leaves it unset.
    pub queue_expiry: Option<Duration>,
}

impl AmqpSettings {
    /// The default URL, a local broker with the guest account.
    pub const DEFAULT_URL: &'static str = "amqp://guest:guest@127.0.0.1:5672/%2f";

    /// Settings with the crate's defaults for everything but the essentials.
    pub fn new(url: impl Into<String>, namespace: Namespace, app_id: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            namespace,
            app_id: app_id.into(),
            publish_wait: Duration::from_secs(5),
            confirm_timeout: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            queue_expiry: None,
        }
    }

    /// Reads `AMQP_URL` and `AMQP_NAMESPACE`, with the contract's defaults.
    pub fn from_env(app_id: impl Into<String>) -> Result<Self, String> {
        let url = std::env::var("AMQP_URL").unwrap_or_else(|_| Self::DEFAULT_URL.to_owned());
        let namespace = std::env::var("AMQP_NAMESPACE").unwrap_or_else(|_| "commerce".to_owned());
        let namespace = Namespace::parse(&namespace)?;
        Ok(Self::new(url, namespace, app_id))
    }
}
