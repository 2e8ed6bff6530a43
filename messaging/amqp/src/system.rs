//! The checkout system's queues, named in the contract, as a [`Topology`]:
//! both services declare all of it, so that an event published before its
//! subscriber first started is queued, not lost.

use contract::{ORDER_CANCELLED, ORDER_CONFIRMED};

use crate::topology::{Namespace, Topology};

/// `<ns>.customer.rpc`: customer-svc's request queue.
pub fn customer_rpc_queue(namespace: &Namespace) -> String {
    namespace.name("customer.rpc")
}

/// `<ns>.customer.order-events`: the order events customer-svc keeps its
/// order history from.
pub fn customer_order_events_queue(namespace: &Namespace) -> String {
    namespace.name("customer.order-events")
}

/// The whole system's topology.
pub fn topology(namespace: &Namespace) -> Topology {
    Topology::new(namespace.clone())
        .with_rpc_queue(customer_rpc_queue(namespace))
        .with_event_queue(
            customer_order_events_queue(namespace),
            &[ORDER_CONFIRMED, ORDER_CANCELLED],
        )
}
