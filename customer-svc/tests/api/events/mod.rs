//! The order history, kept from events: exactly once, in any order.

mod credit;
mod delivery;
mod history;
pub(crate) mod orders;
