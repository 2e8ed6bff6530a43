//! The service's own PostgreSQL database: connecting, migrating, and one small
//! module of named queries per table.

pub mod credit;
pub mod customers;
pub mod history;
pub mod inbox;

use sqlx::PgPool;

/// The migrations in `migrations/customers`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/customers");

/// Connects (retrying while the database starts) and applies the migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(edge::database::connect_and_migrate(url, max_connections, &MIGRATOR).await?)
}

pub use edge::database::{like_pattern, lost_a_race, snapshot, violates};
