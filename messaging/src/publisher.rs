//! Publishing that either succeeds, or says why, within a bound.
//!
//! Every publish is `mandatory` and waits for its publisher confirm, so a
//! message the broker cannot route comes back at once as
//! [`MessagingError::Unroutable`] instead of vanishing. One confirm channel is
//! shared by all callers of a publisher and replaced after a failure or a
//! reconnection.

use std::{sync::Arc, time::Duration};

use lapin::{
    BasicProperties, Channel, Confirmation,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use tokio::{sync::Mutex, time::Instant};
use tracing::debug;

use crate::{connection::Broker, error::MessagingError};

/// A confirmed, `mandatory` publisher. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

struct Inner {
    broker: Broker,
    channel: Mutex<Option<(u64, Channel)>>,
}

impl Publisher {
    /// A publisher on `broker`'s connection.
    pub fn new(broker: &Broker) -> Self {
        Self {
            inner: Arc::new(Inner {
                broker: broker.clone(),
                channel: Mutex::new(None),
            }),
        }
    }

    /// The broker this publisher publishes through.
    pub fn broker(&self) -> &Broker {
        &self.inner.broker
    }

    /// Publishes one message and waits for the broker's confirm.
    ///
    /// While disconnected it waits up to the settings' `publish_wait` for a
    /// connection. A message that never left (the channel was already broken)
    /// is sent again on the next connection within that bound; a message whose
    /// confirm is lost is *not* re-sent here, so consumers must deduplicate by
    /// message id anyway.
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), MessagingError> {
        let settings = self.inner.broker.settings();
        let deadline = Instant::now() + settings.publish_wait;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let (generation, channel) = self.channel(wait).await?;
            let sent = channel
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    BasicPublishOptions {
                        mandatory: true,
                        immediate: false,
                    },
                    body,
                    properties.clone(),
                )
                .await;
            let confirm = match sent {
                Ok(confirm) => confirm,
                Err(error) if Instant::now() < deadline => {
                    debug!(%error, "publish failed before sending; retrying on a fresh channel");
                    self.discard(generation, &channel).await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let confirmation = tokio::time::timeout(settings.confirm_timeout, confirm)
                .await
                .map_err(|_| MessagingError::ConfirmTimeout(settings.confirm_timeout))?
                .inspect_err(|_| self.inner.broker.report_broken(generation))?;
            return match confirmation {
                Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
                Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_)) => {
                    Err(MessagingError::Unroutable {
                        exchange: exchange.to_owned(),
                        routing_key: routing_key.to_owned(),
                    })
                }
                Confirmation::Nack(None) => Err(MessagingError::Nacked),
            };
        }
    }

    /// The shared confirm channel of the current generation, opened if needed.
    async fn channel(&self, wait: Duration) -> Result<(u64, Channel), MessagingError> {
        let (generation, connection) = self.inner.broker.connection(wait).await?;
        let mut slot = self.inner.channel.lock().await;
        if let Some((slot_generation, channel)) = slot.as_ref()
            && *slot_generation == generation
            && channel.status().connected()
        {
            return Ok((generation, channel.clone()));
        }
        let channel = connection.create_channel().await.inspect_err(|_| {
            self.inner.broker.report_broken(generation);
        })?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        *slot = Some((generation, channel.clone()));
        Ok((generation, channel))
    }

    async fn discard(&self, generation: u64, broken: &Channel) {
        let mut slot = self.inner.channel.lock().await;
        if let Some((slot_generation, channel)) = slot.as_ref()
            && *slot_generation == generation
            && channel.id() == broken.id()
        {
            *slot = None;
        }
        drop(slot);
        self.inner.broker.report_broken(generation);
        // Give the supervisor a moment to notice, without spinning.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
