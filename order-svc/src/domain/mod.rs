//! The order service's domain: products and their fields, checkout requests,
//! their idempotency keys and their pricing, order statuses, and the checkout
//! saga's state machine. Requests become these at the HTTP edge; past the
//! edge an invalid value cannot exist.

pub mod checkout;
pub mod idempotency;
pub mod order;
#[cfg(test)]
mod parsing_props;
pub mod pricing;
pub mod product;
pub mod saga;

pub use contract::{Email, Money, PersonName, ValueError};
