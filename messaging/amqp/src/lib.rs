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
//! * [`dead_letters`] watches how full the dead-letter queues are, and lists,
//!   replays or discards what is in them without losing any of it.
//! * [`system`] names the checkout system's queues and its whole topology,
//!   from the routing keys of the `contract` crate.
//!
//! It carries no HTTP and no test code: the `edge` crate holds what the
//! services share at their HTTP edge, the `testkit` crate what their tests
//! share.
#![warn(missing_docs)]

mod connection;
mod consumer;
pub mod dead_letters;
mod delivery_counts;
mod envelope;
mod error;
mod events;
mod patience;
mod publisher;
mod rpc;
mod settings;
pub mod system;
mod topology;

pub use connection::Broker;
pub use consumer::{ConsumerHandle, WaitingOut};
pub use envelope::{DeliveryMeta, Envelope, MessageMeta};
pub use error::{HandlerError, MessagingError, RpcError};
pub use events::{EventPublisher, EventSubscriber};
pub use publisher::Publisher;
pub use rpc::{CallOptions, RpcClient, RpcContext, RpcRouter, RpcServer};
pub use settings::AmqpSettings;
pub use topology::{Namespace, QueueSpec, Topology};

/// Re-exported so that callers can use the exact `lapin` version this crate speaks.
pub use lapin;
