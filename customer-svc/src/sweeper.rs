//! The periodic sweep. Lets lapsed credit reservations go: a saga that no `order.confirmed`
//! settles within `RESERVATION_TTL` (its order-svc crashed for good, say) must
//! not hold a customer's credit for ever. Each round also forgets inbox rows
//! older than `INBOX_RETENTION`.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::db;

/// Releases lapsed reservations, and forgets inbox rows older than
/// `inbox_retention`, every `every` until `stop`.
pub fn spawn(
    pool: PgPool,
    every: Duration,
    inbox_retention: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {
                    match db::credit::lapse_expired(&pool).await {
                        Ok(lapsed) if lapsed > 0 => {
                            metrics::counter!("credit_reservations_lapsed_total").increment(lapsed);
                        }
                        Ok(_) => {}
                        Err(error) => warn!(%error, "lease sweep failed; will retry"),
                    }
                    match db::inbox::forget_older_than(&pool, inbox_retention).await {
                        Ok(forgotten) => {
                            metrics::counter!("retention_swept_total", "what" => "inbox").increment(forgotten);
                        }
                        Err(error) => warn!(%error, "inbox sweep failed; will retry"),
                    }
                }
            }
        }
    })
}
