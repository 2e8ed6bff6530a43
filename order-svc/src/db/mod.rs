//! The service's own PostgreSQL database: one small module of named queries
//! per concern.

pub mod orders;
pub mod outbox;
pub mod products;
pub mod sagas;

use sqlx::PgPool;

pub use messaging::edge::database::{lost_a_race, violates};

/// The migrations in `migrations/orders`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/orders");

/// Connects (retrying while the database starts) and applies the migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(messaging::edge::database::connect_and_migrate(url, max_connections, &MIGRATOR).await?)
}

/// `%text%`, lower-cased, with LIKE's wildcards escaped.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
