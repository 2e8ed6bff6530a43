//! Publishing that either succeeds, or says why, within a bound.
//!
//! Every publish is `mandatory` and waits for its publisher confirm, so a
//! message the broker cannot route comes back at once as
//! [`MessagingError::Unroutable`] instead of vanishing. One confirm channel is
//! shared by all callers of a publisher and replaced after a failure or a
//! reconnection.

use std::{sync::Arc, time::Duration};

use lapin::{
    BasicProperties, Channel, Confirmation, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions},
};
use tokio::{sync::Mutex, time::Instant};
use tracing::debug;

use crate::{connection::Broker, error::MessagingError, patience::answered};

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
    /// Getting a channel and handing the message over take at most the
    /// settings' `publish_wait` (a connection being re-established is waited
    /// for within it); the confirm then takes at most `confirm_timeout`. A
    /// message that never left (the channel was already broken) is sent again
    /// on the next connection within that bound; a message whose confirm is
    /// lost is *not* re-sent here, so consumers must deduplicate by message id
    /// anyway.
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), MessagingError> {
        self.publish_within(None, exchange, routing_key, body, properties)
            .await
    }

    /// [`Publisher::publish`], but only on the connection of `generation`:
    /// when that connection is gone, fails with
    /// [`MessagingError::NotConnected`] instead of sending on the next one.
    /// For a request whose `reply_to` queue lives on that connection.
    pub(crate) async fn publish_on(
        &self,
        generation: u64,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), MessagingError> {
        self.publish_within(Some(generation), exchange, routing_key, body, properties)
            .await
    }

    async fn publish_within(
        &self,
        only_on: Option<u64>,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), MessagingError> {
        let settings = self.inner.broker.settings();
        let deadline = Instant::now() + settings.publish_wait;
        let send = self.send(deadline, only_on, exchange, routing_key, body, properties);
        let (generation, channel, confirm) = tokio::time::timeout_at(deadline, send)
            .await
            .map_err(|_| MessagingError::NotConnected {
                waited: settings.publish_wait,
            })??;
        let confirmation = tokio::time::timeout(settings.confirm_timeout, confirm)
            .await
            .map_err(|_| MessagingError::ConfirmTimeout(settings.confirm_timeout))?
            .inspect_err(|_| self.inner.broker.report_broken(generation))?;
        match confirmation {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_)) => {
                Err(MessagingError::Unroutable {
                    exchange: exchange.to_owned(),
                    routing_key: routing_key.to_owned(),
                })
            }
            Confirmation::Nack(None) => {
                // A channel that published while a quorum queue was electing
                // its leader (its node died) can keep being refused; the
                // next message goes out on a fresh channel.
                self.forget_channel(generation, &channel).await;
                Err(MessagingError::Nacked)
            }
        }
    }

    /// Hands the message to a live channel, retrying on a fresh one until
    /// `deadline` (but never on another generation than `only_on`); returns
    /// the generation it went out on and its confirm.
    async fn send(
        &self,
        deadline: Instant,
        only_on: Option<u64>,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(u64, Channel, PublisherConfirm), MessagingError> {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let (generation, channel) = self.channel(wait).await?;
            if only_on.is_some_and(|wanted| wanted != generation) {
                return Err(MessagingError::NotConnected {
                    waited: self.inner.broker.settings().publish_wait,
                });
            }
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
            match sent {
                Ok(confirm) => return Ok((generation, channel, confirm)),
                Err(error) if Instant::now() < deadline => {
                    debug!(%error, "publish failed before sending; retrying on a fresh channel");
                    self.discard(generation, &channel).await;
                }
                Err(error) => return Err(error.into()),
            }
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
        let opened = async {
            let within = self.inner.broker.settings().answer_timeout;
            let channel = answered(within, "channel.open", connection.create_channel()).await?;
            answered(
                within,
                "confirm.select",
                channel.confirm_select(ConfirmSelectOptions::default()),
            )
            .await?;
            Ok(channel)
        };
        let channel = opened
            .await
            .inspect_err(|error| self.inner.broker.report_failure(generation, error))?;
        *slot = Some((generation, channel.clone()));
        Ok((generation, channel))
    }

    /// Stops using `channel`; the next message opens another. The channel
    /// is closed once every publish that may still hold it had its time.
    async fn forget_channel(&self, generation: u64, channel: &Channel) {
        let forgotten = {
            let mut slot = self.inner.channel.lock().await;
            let current = slot.as_ref().is_some_and(|(slot_generation, current)| {
                *slot_generation == generation && current.id() == channel.id()
            });
            if current { slot.take() } else { None }
        };
        if let Some((_, channel)) = forgotten {
            // A publish that took the channel just before this one was
            // refused has at most `publish_wait` to send and
            // `confirm_timeout` to be confirmed: close after both.
            let settings = self.inner.broker.settings();
            let linger = settings.publish_wait + settings.confirm_timeout;
            let within = settings.answer_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(linger).await;
                let close = channel.close(200, "refused a message".into());
                let _ = answered(within, "channel.close", close).await;
            });
        }
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
