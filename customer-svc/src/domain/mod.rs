//! The customer's domain types. Requests become these at the HTTP edge; past
//! the edge an invalid email, name, status or credit limit cannot exist.

mod customer;
pub mod password;

pub use customer::{CreditLimit, CustomerStatus};
pub use messaging::contract::{Email, Money, PersonName, ValueError};
pub use password::Password;
