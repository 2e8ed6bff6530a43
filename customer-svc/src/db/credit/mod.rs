//! Credit reservations: one row per saga, and the customer's `credit_used`
//! moved in the same transaction. Every function here is idempotent per saga.
//!
//! A reservation is `held` (with a lease) until `order.confirmed` settles it,
//! a release gives it back, or its lease lapses. A release that finds no row
//! leaves a `released` row behind, which fences a reserve that arrives later.
//!
//! One lock order for every writer in this service: existing reservations by
//! saga id, then customers by id. Event batches and the lapse sweep take all
//! their locks up front that way ([`lock_in_order`]); a verification batch
//! locks its reservations sorted, then its customers sorted; a release locks
//! its one reservation, then its one customer. New reservation rows come last
//! and wait only on the same saga's row. So no two writers ever wait on each
//! other in a circle.
//!
//! One module per way a reservation is written: created by a verification,
//! given back by a release, settled by a confirmed order, lapsed by the sweep.

mod lapse;
mod lock_order;
mod release;
mod reservation;
mod settlement;
mod verification;

pub use lapse::lapse_expired;
pub(crate) use lock_order::lock_in_order;
pub use release::release;
pub(crate) use release::release_held;
pub(crate) use settlement::{Overdrafts, settle_all};
pub use verification::verify_or_create_all;
