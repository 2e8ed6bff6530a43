//! The checkout saga: a state machine (`crate::domain::saga`) persisted by
//! `crate::db::sagas`, driven by a [`Coordinator`], resumed by [`recovery`]
//! after a crash, talking to customer-svc through a [`CustomerGateway`].
//!
//! Steps: 1 price and record the order, with the checkouts that arrive
//! together (`recorder`, `crate::db::orders::record_checkouts`);
//! 2 verify the customer and reserve credit (RPC); its answer, 3 reserve
//! stock and 4 confirm with `order.confirmed` queued are one transaction,
//! shared by every answer that arrived meanwhile (`confirmer`,
//! `crate::db::confirmation`); 5 publish (`crate::relay`).
//! Compensation: `customer.release_credit` after a timeout at step 2 or a
//! shortage at step 3, or when ordered from outside (`repair`: an operator,
//! or recovery past `SAGA_AUTO_COMPENSATE_AFTER`).

mod confirmer;
mod coordinator;
mod decisions;
mod duration;
mod gateway;
mod recorder;
pub mod recovery;
pub mod repair;
mod settings;
mod steps;
mod waiters;

pub use coordinator::Coordinator;
pub use decisions::{VerifyDecision, decide_verification};
pub use gateway::{AmqpCustomerGateway, CustomerGateway};
pub use recorder::{RecordError, Recorded, Recorder};
pub use settings::SagaSettings;
pub(crate) use steps::MAX_VERIFY_ATTEMPTS;
pub use waiters::{OrderWaiters, Signal};
