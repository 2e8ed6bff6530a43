//! The checkout saga: a persisted state machine (`crate::db::sagas`) driven by
//! a [`Coordinator`], resumed by [`recovery`] after a crash, talking to
//! customer-svc through a [`CustomerGateway`].
//!
//! Steps: 1 record the order (`crate::db::orders::record_checkout`); 2 verify
//! the customer and reserve credit (RPC); 3 reserve stock and 4 confirm with
//! `order.confirmed` queued (one transaction); 5 publish (`crate::outbox`).
//! Compensation: `customer.release_credit` after a timeout at step 2 or a
//! shortage at step 3.

mod coordinator;
mod decisions;
mod gateway;
pub mod recovery;
mod waiters;

pub use coordinator::{Coordinator, SagaSettings};
pub use decisions::{VerifyDecision, decide_verification};
pub use gateway::{AmqpCustomerGateway, CustomerGateway};
pub use waiters::OrderWaiters;
