//! The checkout saga's persisted state. Every transition is decided by
//! `crate::domain::saga::transition` and written by [`apply_all`] (or
//! [`apply()`] for one saga), the one compare-and-set on `(step, attempt)`,
//! committed together with the order's status and the timeline, before any
//! side effect of the next step is requested; an outcome that arrives for a
//! superseded attempt matches no row and changes nothing.
//!
//! Here: `row` (the saga as stored), `leases` (who drives a saga until
//! when), `apply` (the one write of a transition, and of the timeline),
//! `moves` (each move outside the batch path, in a transaction of its own),
//! `inspection` (sagas as an operator sees them) and `repair` (an
//! operator's resume and compensation).

mod apply;
mod inspection;
mod leases;
mod moves;
mod repair;
mod row;

pub(crate) use apply::plan;
pub use apply::{apply, apply_all, log_step};
pub use inspection::{SagaReport, overdue, report, stuck};
pub use leases::{SagaLease, claim, claim_orphans, release_lease};
pub(crate) use moves::reject_order;
pub use moves::{compensated, next_attempt, postpone, refused, start_compensation};
pub use repair::{Ordered, Resumed, order_compensation, resume};
pub use row::SagaRow;
pub(crate) use row::{SAGA_COLUMNS, seconds};
