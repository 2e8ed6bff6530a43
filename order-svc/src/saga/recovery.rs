//! Resumes or compensates sagas nobody drives: at start-up and then every
//! `RECOVERY_INTERVAL`, unfinished sagas whose lease ran out (their instance
//! crashed, or a compensation is due for another try) are leased to this
//! instance and driven. `FOR UPDATE SKIP LOCKED` and the lease keep two
//! instances from driving one saga at once. Each round also forgets
//! `Idempotency-Key`s older than `IDEMPOTENCY_KEY_TTL`.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Coordinator;
use crate::db::sagas;

/// Sagas taken per round.
const BATCH: i64 = 100;

/// Runs recovery rounds every `every` until `stop`, forgetting idempotency
/// keys older than `key_ttl` as it goes.
pub fn spawn(
    pool: PgPool,
    coordinator: Coordinator,
    every: Duration,
    key_ttl: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let settings = coordinator.settings();
            match sagas::claim_orphans(&pool, &settings.instance_id, settings.lease, BATCH).await {
                Ok(ids) => {
                    if !ids.is_empty() {
                        info!(count = ids.len(), "resuming unfinished sagas");
                    }
                    for id in ids {
                        coordinator.drive_in_background(id);
                    }
                }
                Err(error) => warn!(%error, "saga recovery round failed; will retry"),
            }
            if let Err(error) = crate::db::orders::forget_idempotency_keys(&pool, key_ttl).await {
                warn!(%error, "idempotency key sweep failed; will retry");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}
