//! One supervised connection to the broker.
//!
//! A background task connects with backoff (tokio-retry), declares the
//! [`Topology`], publishes the live connection on a `watch` channel, and waits
//! for the connection to fail. Then it marks the link down and starts over.
//! Consumers and publishers never hold a connection across a failure: they watch
//! the link, and a new *generation* tells them to open fresh channels and
//! re-create their consumers.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use lapin::{Connection, ConnectionProperties, Event};
use tokio::{sync::watch, task::JoinHandle};
use tokio_retry::{
    Retry,
    strategy::{ExponentialBackoff, jitter},
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    error::MessagingError, patience::answered, settings::AmqpSettings, topology::Topology,
};

/// Longest wait for TCP connect plus the AMQP handshake plus the topology. A
/// busy broker can take seconds to create quorum queues; an attempt that
/// takes longer than this is abandoned and retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the supervisor double-checks the connection's own status, in case
/// a failure produced no error event.
const STATUS_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// The connection of one generation, or none while reconnecting.
#[derive(Clone, Default)]
pub(crate) struct Link {
    pub(crate) generation: u64,
    pub(crate) connection: Option<Arc<Connection>>,
}

/// A supervised, self-healing connection to RabbitMQ. Cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    settings: AmqpSettings,
    link: watch::Sender<Link>,
    stop: CancellationToken,
    supervisor: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Broker {
    /// Starts connecting in the background and returns at once; use
    /// [`Broker::wait_ready`] to wait for the first connection.
    pub fn start(settings: AmqpSettings, topology: Topology) -> Self {
        let (link, _) = watch::channel(Link::default());
        let inner = Arc::new(Inner {
            settings,
            link,
            stop: CancellationToken::new(),
            supervisor: std::sync::Mutex::new(None),
        });
        let task = tokio::spawn(supervise(inner.clone(), topology));
        *lock(&inner.supervisor) = Some(task);
        Self { inner }
    }

    /// The settings this broker was started with.
    pub fn settings(&self) -> &AmqpSettings {
        &self.inner.settings
    }

    /// True while a connection is up and the topology is declared (`/readyz`).
    pub fn is_ready(&self) -> bool {
        self.inner
            .link
            .borrow()
            .connection
            .as_ref()
            .is_some_and(|connection| connection.status().connected())
    }

    /// Waits until the broker is connected, at most `within`.
    pub async fn wait_ready(&self, within: Duration) -> Result<(), MessagingError> {
        self.connection(within).await.map(drop)
    }

    /// The current connection and its generation, waiting at most `within` for one.
    pub(crate) async fn connection(
        &self,
        within: Duration,
    ) -> Result<(u64, Arc<Connection>), MessagingError> {
        if self.inner.stop.is_cancelled() {
            return Err(MessagingError::ShuttingDown);
        }
        let mut link = self.subscribe();
        let wait = link.wait_for(|link| {
            link.connection
                .as_ref()
                .is_some_and(|c| c.status().connected())
        });
        match tokio::time::timeout(within, wait).await {
            Ok(Ok(link)) => match &link.connection {
                Some(connection) => Ok((link.generation, connection.clone())),
                None => Err(MessagingError::NotConnected { waited: within }),
            },
            Ok(Err(_)) => Err(MessagingError::ShuttingDown),
            Err(_) => Err(MessagingError::NotConnected { waited: within }),
        }
    }

    /// Watches the link: every change is a new generation or a loss.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Link> {
        self.inner.link.subscribe()
    }

    /// Tells the supervisor that `generation` is broken (a channel failed in a
    /// way that shows the connection is gone), so it reconnects without waiting
    /// for the next status check. A connection lapin still reports as
    /// connected is kept: the failure was the channel's own.
    pub(crate) fn report_broken(&self, generation: u64) {
        self.drop_link(generation, false);
    }

    /// Tells the supervisor what a failure on `generation` says about the
    /// connection: a broker that stopped answering (whatever lapin's status
    /// says) is replaced with a fresh connection; any other failure is
    /// [`Broker::report_broken`].
    pub(crate) fn report_failure(&self, generation: u64, error: &MessagingError) {
        let silent = matches!(error, MessagingError::BrokerSilent { .. });
        self.drop_link(generation, silent);
    }

    fn drop_link(&self, generation: u64, even_if_connected: bool) {
        self.inner.link.send_if_modified(|link| {
            let Some(connection) = &link.connection else {
                return false;
            };
            if link.generation != generation
                || (connection.status().connected() && !even_if_connected)
            {
                return false;
            }
            link.connection = None;
            true
        });
    }

    /// Deletes every queue and exchange of `topology` over the current
    /// connection (see [`Topology::delete`]).
    pub async fn delete_topology(&self, topology: &Topology) -> Result<(), MessagingError> {
        let (_, connection) = self.connection(self.inner.settings.publish_wait).await?;
        let within = self.inner.settings.answer_timeout;
        let channel = answered(within, "channel.open", connection.create_channel()).await?;
        answered(within, "topology deletion", topology.delete(&channel)).await?;
        let close = channel.close(200, "topology deleted".into());
        let _ = answered(within, "channel.close", close).await;
        Ok(())
    }

    /// Stops reconnecting and closes the connection. Shut consumers down first:
    /// they need the connection to acknowledge what they drain.
    pub async fn close(&self) {
        self.inner.stop.cancel();
        let task = lock(&self.inner.supervisor).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn supervise(inner: Arc<Inner>, topology: Topology) {
    let settings = &inner.settings;
    let urls = settings.urls();
    // The cluster node the next attempt goes to: a failed attempt or a lost
    // connection moves on to the next one.
    let next_node = std::sync::atomic::AtomicUsize::new(0);
    let mut generation = 0_u64;
    loop {
        let min_ms = u64::try_from(settings.reconnect_min.as_millis()).unwrap_or(100);
        let backoff = ExponentialBackoff::from_millis(2)
            .factor(min_ms.max(2) / 2)
            .max_delay(settings.reconnect_max)
            .map(jitter);
        let connect = Retry::start(backoff, || async {
            let node = next_node.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let url = urls
                .get(node % urls.len().max(1))
                .copied()
                .unwrap_or_default();
            connect_once(settings, url, &topology)
                .await
                .map(|connection| (connection, url))
                .inspect_err(|error| {
                    warn!(%error, url = %redact(url), "broker connection attempt failed");
                })
        });
        let (connection, url) = tokio::select! {
            _ = inner.stop.cancelled() => return,
            connection = connect => match connection {
                Ok((connection, url)) => (Arc::new(connection), url),
                Err(_) => continue,
            },
        };
        generation += 1;
        let mut events = connection.events_listener();
        inner.link.send_replace(Link {
            generation,
            connection: Some(connection.clone()),
        });
        info!(generation, url = %redact(url), "connected to the broker");

        let mut status_check = tokio::time::interval(STATUS_CHECK_INTERVAL);
        let mut link = inner.link.subscribe();
        loop {
            tokio::select! {
                _ = inner.stop.cancelled() => {
                    inner.link.send_replace(Link { generation, connection: None });
                    let close = connection.close(200, "shutting down".into());
                    let _ = answered(settings.answer_timeout, "connection.close", close).await;
                    info!("broker connection closed");
                    return;
                }
                event = events.next() => match event {
                    Some(Event::Error(error)) => {
                        warn!(%error, generation, "broker connection lost");
                        break;
                    }
                    Some(_) => {}
                    None => break,
                },
                _ = status_check.tick() => {
                    if !connection.status().connected() {
                        warn!(generation, "broker connection no longer connected");
                        break;
                    }
                }
                _ = link.changed() => {
                    if link.borrow_and_update().connection.is_none() {
                        warn!(generation, "broker connection reported broken");
                        break;
                    }
                }
            }
        }
        inner.link.send_replace(Link {
            generation,
            connection: None,
        });
        let close = connection.close(320, "reconnecting".into());
        let _ = answered(settings.answer_timeout, "connection.close", close).await;
    }
}

async fn connect_once(
    settings: &AmqpSettings,
    url: &str,
    topology: &Topology,
) -> Result<Connection, MessagingError> {
    let attempt = async {
        let properties =
            ConnectionProperties::default().with_connection_name(settings.app_id.as_str().into());
        let tls = lapin::tcp::OwnedTLSConfig {
            identity: None,
            cert_chain: settings.tls_ca_pem.clone(),
        };
        let connection = lapin::DefaultConnectionBuilder::new()?
            .with_uri_str(url.to_owned())
            .with_properties(properties)
            .with_tls_config(tls)
            .connect()
            .await?;
        let channel = connection.create_channel().await?;
        topology.declare(&channel, settings.queue_expiry).await?;
        let _ = channel.close(200, "topology declared".into()).await;
        Ok::<_, lapin::Error>(connection)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(MessagingError::NotConnected {
            waited: CONNECT_TIMEOUT,
        }),
    }
}

/// The URL without its password, for logs.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://127.0.0.1:5672"), "amqp://127.0.0.1:5672");
    }
}
