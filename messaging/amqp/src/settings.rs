//! How to reach the broker and how patient to be with it.

use std::time::Duration;

use crate::topology::Namespace;

/// Connection settings shared by every component of this crate.
#[derive(Debug, Clone)]
pub struct AmqpSettings {
    /// `amqp://user:pass@host:port/vhost`, as in `AMQP_URL`; `amqps://`
    /// for TLS (rustls, the system's trusted roots plus [`Self::tls_ca_pem`]).
    /// Several URLs separated by commas name the nodes of a cluster: each
    /// connection attempt takes the next one, so that a service moves to
    /// another node when its node goes away (see [`Self::urls`]).
    pub url: String,
    /// Extra certificate authorities (PEM) to trust for `amqps://`, read
    /// from the file `AMQP_TLS_CA_FILE` names: for a broker whose
    /// certificate a private CA signed.
    pub tls_ca_pem: Option<String>,
    /// Prefix of every exchange and queue, as in `AMQP_NAMESPACE`.
    pub namespace: Namespace,
    /// Put in the `app_id` property of every message and in the connection name.
    pub app_id: String,
    /// How long a publish waits for a connection before it fails with
    /// [`crate::MessagingError::NotConnected`].
    pub publish_wait: Duration,
    /// How long a publish waits for the broker's confirm.
    pub confirm_timeout: Duration,
    /// How long any other AMQP method (open a channel, set the prefetch,
    /// declare, consume, cancel, acknowledge, close) waits for the broker. A
    /// broker that does not answer in time is treated like a lost connection.
    pub answer_timeout: Duration,
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
            tls_ca_pem: None,
            namespace,
            app_id: app_id.into(),
            publish_wait: Duration::from_secs(5),
            confirm_timeout: Duration::from_secs(5),
            // A healthy broker answers in milliseconds; a busy one creating
            // quorum queues, in seconds.
            answer_timeout: Duration::from_secs(30),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            queue_expiry: None,
        }
    }

    /// The URLs of [`Self::url`], in the order they are tried.
    pub fn urls(&self) -> Vec<&str> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .collect()
    }

    /// Reads `AMQP_URL`, `AMQP_NAMESPACE` (defaults: the local broker,
    /// `commerce`), `AMQP_TLS_CA_FILE` (unset: the system's roots only) and
    /// `AMQP_QUEUE_EXPIRY_MS` (unset: queues never expire; for throw-away
    /// environments such as tests) through `lookup`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        app_id: impl Into<String>,
    ) -> Result<Self, String> {
        let url = lookup("AMQP_URL").unwrap_or_else(|| Self::DEFAULT_URL.to_owned());
        let namespace = lookup("AMQP_NAMESPACE").unwrap_or_else(|| "commerce".to_owned());
        let mut settings = Self::new(url, Namespace::parse(&namespace)?, app_id);
        if let Some(path) = lookup("AMQP_TLS_CA_FILE").filter(|p| !p.trim().is_empty()) {
            let pem = std::fs::read_to_string(path.trim())
                .map_err(|e| format!("AMQP_TLS_CA_FILE {path:?} cannot be read: {e}"))?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "AMQP_TLS_CA_FILE {path:?} holds no PEM certificate"
                ));
            }
            settings.tls_ca_pem = Some(pem);
        }
        if let Some(raw) = lookup("AMQP_QUEUE_EXPIRY_MS").filter(|raw| !raw.is_empty()) {
            let ms: u64 = raw
                .parse()
                .map_err(|_| format!("AMQP_QUEUE_EXPIRY_MS must be milliseconds, not {raw:?}"))?;
            settings.queue_expiry = Some(Duration::from_millis(ms));
        }
        Ok(settings)
    }
}
