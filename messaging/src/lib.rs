//! RPC and events over RabbitMQ for the checkout platform.
//!
//! The saga is only as reliable as its plumbing, so this crate owns every
//! guarantee the services rely on:
//!
//! * [`Broker`] keeps one connection alive: it connects with backoff, notices a
//!   lost connection, reconnects, re-declares the [`Topology`] and tells every
//!   consumer to start again. Its [`Broker::is_ready`] backs `/readyz`.
//! * [`Publisher`] publishes with `mandatory` and publisher confirms, so a
//!   message is either accepted by the broker, returned at once as unroutable, or
//!   reported as failed; it never hangs past its bound.
//! * [`RpcClient`] / [`RpcServer`] implement request/reply with correlation ids,
//!   a client-owned reply queue, per-call timeouts and AMQP expirations.
//! * [`EventPublisher`] / [`EventSubscriber`] implement confirmed events and
//!   acknowledged, dead-lettering consumers.
//! * [`Envelope`] is the JSON shape of every message, mirrored into the AMQP
//!   properties.
//! * [`contract`] holds what the services agree on: names, payloads, values
//!   (without the default `amqp` feature it is all the crate is, which is what
//!   the WASM UI uses).
//! * [`testing`] holds what every test suite needs: waiting with a deadline.
//! * With the `edge` feature, [`edge`] holds the HTTP conventions of the
//!   contract that both services implement the same way (error shape, paging,
//!   admin auth, health and metrics endpoints, logging). They live here, beside
//!   the message contract, because the services share nothing else.
#![warn(missing_docs)]

#[cfg(feature = "amqp")]
mod connection;
#[cfg(feature = "amqp")]
mod consumer;
pub mod contract;
#[cfg(feature = "amqp")]
pub mod dead_letters;
#[cfg(feature = "edge")]
pub mod edge;
#[cfg(feature = "amqp")]
mod envelope;
#[cfg(feature = "amqp")]
mod error;
#[cfg(feature = "amqp")]
mod events;
#[cfg(test)]
#[cfg_attr(not(feature = "amqp"), allow(dead_code))]
mod hostile;
#[cfg(feature = "amqp")]
mod patience;
#[cfg(feature = "amqp")]
mod publisher;
#[cfg(feature = "amqp")]
mod rpc;
#[cfg(feature = "amqp")]
mod settings;
#[cfg(feature = "amqp")]
pub mod testing;
#[cfg(feature = "amqp")]
mod topology;

#[cfg(feature = "amqp")]
pub use connection::Broker;
#[cfg(feature = "amqp")]
pub use consumer::{ConsumerHandle, WaitingOut};
#[cfg(feature = "amqp")]
pub use envelope::{DeliveryMeta, Envelope, MessageMeta};
#[cfg(feature = "amqp")]
pub use error::{HandlerError, MessagingError, RpcError, codes};
#[cfg(feature = "amqp")]
pub use events::{EventPublisher, EventSubscriber};
#[cfg(feature = "amqp")]
pub use publisher::Publisher;
#[cfg(feature = "amqp")]
pub use rpc::{CallOptions, RpcClient, RpcContext, RpcRouter, RpcServer};
#[cfg(feature = "amqp")]
pub use settings::AmqpSettings;
#[cfg(feature = "amqp")]
pub use topology::{Namespace, QueueSpec, Topology};

/// Re-exported so that callers can use the exact `lapin` version this crate speaks.
#[cfg(feature = "amqp")]
pub use lapin;
