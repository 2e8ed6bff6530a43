//! The checkout saga's state machine, as types: where a saga stands
//! ([`Step`], [`Phase`]), what can happen to it ([`Event`]), and the one pure
//! function, [`transition()`], that says what an event does from a step, or
//! refuses it. It lives in the domain, beneath both the database and the saga
//! engine: `crate::db::sagas::apply` is the one place a transition is written
//! (a compare-and-set on step and attempt, with its timeline entries), and
//! `crate::saga` drives sagas through it; what a transition means for the
//! order is written beside it, in the same transaction.
//!
//! ```text
//! verify_customer ──Verified──────────────▶ reserve_stock ──Confirmed──▶ done (confirmed)
//!        │ ├──Refused──────────────────────────────────────────────────▶ done (rejected)
//!        │ └──Retried (same step, next attempt)        │
//!        └──CompensationStarted──▶ release_credit ◀──CompensationStarted (short of stock)
//!          (or CompensationOrdered, from either step, by an operator or past an age)
//!                                      ├──Postponed (same step, next attempt, lease lapses later)
//!                                      └──Compensated──────────────────▶ done (rejected)
//! ```

mod event;
mod step;
#[cfg(test)]
mod tests;
mod transition;

pub use event::Event;
pub use step::{Phase, Step};
pub use transition::{Attempt, Deadline, Entry, IllegalMove, Lease, Transition, transition};
