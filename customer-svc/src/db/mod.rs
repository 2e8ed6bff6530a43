//! The service's own PostgreSQL database: connecting, migrating, and one small
//! module of named queries per table.

pub mod credit;
pub mod customers;
pub mod history;
mod inbox;

use std::time::Duration;

use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio_retry::{
    Retry,
    strategy::{ExponentialBackoff, jitter},
};
use tracing::warn;

/// The migrations in `migrations/customers`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/customers");

/// Connects, retrying with backoff for about half a minute (the database may
/// still be starting), then applies the migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let backoff = ExponentialBackoff::from_millis(2)
        .factor(100)
        .max_delay(Duration::from_secs(5))
        .map(jitter)
        .take(10);
    let pool = Retry::start(backoff, || async {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .inspect_err(|error| warn!(%error, "database not reachable yet"))
    })
    .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// True when `error` is the violation of the named constraint.
pub fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some(constraint))
}

/// True when `error` is a serialisation failure or a deadlock: the
/// transaction lost a race and may simply be run again.
pub fn lost_a_race(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}
