//! The service's own PostgreSQL database: one small module of named queries
//! per concern.

pub mod confirmation;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod retention;
pub mod sagas;

use sqlx::PgPool;

pub use messaging::edge::database::{like_pattern, lost_a_race, snapshot, violates};

/// The migrations in `migrations/orders`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/orders");

/// Connects (retrying while the database starts) and applies the migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(messaging::edge::database::connect_and_migrate(url, max_connections, &MIGRATOR).await?)
}
