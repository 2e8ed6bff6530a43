//! What both services agree on: queues, routing keys, message types, the
//! topology each of them declares, the payloads of requests, replies and
//! events, and the values those carry (email, name, money), validated the same
//! way on both sides. One place, so they cannot drift apart.

mod currency;
mod customer_rpc;
mod order_events;
mod values;

pub use currency::Currency;
pub use customer_rpc::{
    RefusalReason, ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply,
    VerifyOrCreateRequest,
};
pub use order_events::{OrderCancelled, OrderConfirmed};
pub use values::{Email, Money, PersonName, ValueError};

#[cfg(feature = "amqp")]
use crate::topology::{Namespace, Topology};

/// RPC: find or create a customer and reserve credit for a saga.
pub const CUSTOMER_VERIFY_OR_CREATE: &str = "customer.verify_or_create";
/// RPC: release a saga's credit reservation.
pub const CUSTOMER_RELEASE_CREDIT: &str = "customer.release_credit";
/// Event: an order was confirmed.
pub const ORDER_CONFIRMED: &str = "order.confirmed";
/// Event: a confirmed order was cancelled.
pub const ORDER_CANCELLED: &str = "order.cancelled";

/// `<ns>.customer.rpc`: customer-svc's request queue.
#[cfg(feature = "amqp")]
pub fn customer_rpc_queue(namespace: &Namespace) -> String {
    namespace.name("customer.rpc")
}

#[cfg(feature = "amqp")]
/// `<ns>.customer.order-events`: the order events customer-svc keeps its
/// order history from.
pub fn customer_order_events_queue(namespace: &Namespace) -> String {
    namespace.name("customer.order-events")
}

#[cfg(feature = "amqp")]
/// The whole system's topology. Both services declare all of it, so that an
/// event published before its subscriber first started is queued, not lost.
pub fn system_topology(namespace: &Namespace) -> Topology {
    Topology::new(namespace.clone())
        .with_rpc_queue(customer_rpc_queue(namespace))
        .with_event_queue(
            customer_order_events_queue(namespace),
            &[ORDER_CONFIRMED, ORDER_CANCELLED],
        )
}
