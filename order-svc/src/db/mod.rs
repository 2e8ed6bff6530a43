//! The service's own PostgreSQL database: one small module of named queries
//! per concern.

pub mod backlog;
pub mod confirmation;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod retention;
pub mod sagas;

pub use edge::database::{like_pattern, lost_a_race, snapshot, violates};

/// A row that breaks what the schema and the saga promise (a confirmed
/// order without its customer, a total that is not an amount): an error
/// that fails the transaction and says what, never a silent default.
pub fn inconsistent(what: impl Into<String>) -> sqlx::Error {
    sqlx::Error::Decode(what.into().into())
}

/// The migrations in `migrations/orders`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/orders");
