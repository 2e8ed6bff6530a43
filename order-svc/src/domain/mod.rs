//! The order service's domain: products and their fields, checkout requests,
//! order statuses and rejection reasons, and the checkout saga's state
//! machine. Requests become these at the HTTP edge; past the edge an invalid
//! value cannot exist.

pub mod checkout;
pub mod order;
#[cfg(test)]
mod parsing_props;
pub mod product;
pub mod saga;

pub use contract::{Email, Money, PersonName, ValueError};
