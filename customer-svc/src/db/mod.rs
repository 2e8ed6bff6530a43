//! The service's own PostgreSQL database: its migrations, and one small
//! module of named queries per table.

pub mod credit;
pub mod customers;
pub mod history;
pub mod inbox;

/// The migrations in `migrations/customers`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/customers");

pub use edge::database::{like_pattern, lost_a_race, snapshot, violates};
