//! The customer's domain types, and the requests that carry them. Requests
//! become these at the HTTP edge; past the edge an invalid email, name,
//! status, credit limit or password cannot exist.

mod customer;
pub mod password;
mod requests;

pub use contract::{Email, Money, PersonName, ValueError};
pub use customer::{CreditLimit, CustomerStatus};
pub use password::Password;
pub use requests::{CustomerChanges, NewCustomer};
