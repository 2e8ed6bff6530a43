//! Resumes or compensates sagas nobody drives: at start-up and then every
//! `RECOVERY_INTERVAL`, unfinished sagas whose lease ran out (their instance
//! crashed, or a compensation is due for another try) are leased to this
//! instance and driven. `FOR UPDATE SKIP LOCKED` and the lease keep two
//! instances from driving one saga at once. Each round first compensates
//! the sagas still short of a confirmation past `SAGA_AUTO_COMPENSATE_AFTER`
//! (`super::repair`), whatever holds them. Each round also samples the
//! operator's gauges (`db::backlog`); at most once a minute a round also
//! removes what outlived its retention (`db::retention`).

use std::time::Duration;

use sqlx::PgPool;
use tokio::{task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Coordinator, repair};
use crate::db::{
    backlog,
    retention::{self, Retention},
    sagas,
};

/// Sagas taken per round.
const BATCH: i64 = 100;
/// How often the retention sweep runs at most (the outbox and timeline
/// deletes scan), unless a retention is shorter still.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Runs recovery rounds every `every` until `stop`, compensating sagas older
/// than `auto_compensate_after` and sweeping by `retention` as it goes.
pub fn spawn(
    pool: PgPool,
    coordinator: Coordinator,
    every: Duration,
    auto_compensate_after: Duration,
    retention: Retention,
    stop: CancellationToken,
) -> JoinHandle<()> {
    // Exported from the start (at 0), so that a dashboard and an alert
    // see the series before the first automatic compensation.
    metrics::counter!("sagas_auto_compensated_total").increment(0);
    tokio::spawn(async move {
        let mut last_sweep: Option<Instant> = None;
        let sweep_every = SWEEP_EVERY
            .min(retention.idempotency_keys)
            .min(retention.sent_events)
            .min(retention.finished_timelines);
        loop {
            if let Err(error) =
                repair::compensate_overdue(&coordinator, &pool, auto_compensate_after, BATCH).await
            {
                warn!(%error, "automatic compensation failed; will retry");
            }
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
            match backlog::read(&pool).await {
                Ok(backlog) => record(backlog),
                Err(error) => {
                    warn!(%error, "reading the backlog for the gauges failed; will retry")
                }
            }
            if last_sweep.is_none_or(|at| at.elapsed() >= sweep_every) {
                match retention::sweep(&pool, &retention).await {
                    Ok(swept) => {
                        last_sweep = Some(Instant::now());
                        metrics::counter!("retention_swept_total", "what" => "idempotency_keys")
                            .increment(swept.keys);
                        metrics::counter!("retention_swept_total", "what" => "sent_events")
                            .increment(swept.events);
                        metrics::counter!("retention_swept_total", "what" => "saga_steps")
                            .increment(swept.steps);
                    }
                    Err(error) => warn!(%error, "retention sweep failed; will retry"),
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Sets the gauges of the contract's "Operating it" from one reading.
fn record(backlog: backlog::Backlog) {
    metrics::gauge!("sagas_in_flight").set(backlog.sagas_in_flight as f64);
    metrics::gauge!("saga_oldest_in_flight_seconds").set(backlog.saga_oldest_seconds);
    metrics::gauge!("outbox_backlog").set(backlog.outbox_backlog as f64);
    metrics::gauge!("outbox_oldest_unsent_seconds").set(backlog.outbox_oldest_seconds);
}
