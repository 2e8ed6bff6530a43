//! Gathers the sagas whose customer-svc answer arrived into batches for
//! steps 3 and 4 (`crate::db::confirmation`): one transaction and one commit
//! for every answer that came in while the previous batch was being written.
//!
//! Batches form on their own: the first answer is written at once, and the
//! answers that arrive meanwhile wait and go together in the next batch. At
//! one client a batch is one saga and costs what the single-saga path did;
//! at 64 clients the stock of a popular product is locked once per batch
//! instead of once per order. A batch that fails as a whole (one bad saga
//! must not sink the others) is retried saga by saga.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::db::confirmation::{self, StockOutcome, Verified};

/// The most sagas written in one transaction.
const MAX_BATCH: usize = 64;

struct Job {
    verified: Verified,
    done: oneshot::Sender<sqlx::Result<StockOutcome>>,
}

/// Hands verified sagas to the batch writer. Cheap to clone; the writer
/// stops when the last clone is dropped, after writing what it was given.
#[derive(Clone)]
pub struct Confirmer {
    jobs: mpsc::Sender<Job>,
}

impl Confirmer {
    /// Starts the batch writer for sagas leased to `owner`.
    pub fn spawn(pool: PgPool, owner: String) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(pool, Arc::from(owner), queue));
        Self { jobs }
    }

    /// Steps 3 and 4 for one verified saga, written with whatever else is
    /// waiting; returns when its batch is committed.
    pub async fn confirm(&self, verified: Verified) -> anyhow::Result<StockOutcome> {
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job { verified, done })
            .await
            .map_err(|_| anyhow::anyhow!("the confirmation writer has stopped"))?;
        Ok(outcome
            .await
            .map_err(|_| anyhow::anyhow!("the confirmation writer has stopped"))??)
    }
}

async fn write_batches(pool: PgPool, owner: Arc<str>, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let verified: Vec<Verified> = jobs.iter().map(|job| job.verified.clone()).collect();
        metrics::histogram!("saga_confirmation_batch_size").record(verified.len() as f64);
        match confirmation::verified_then_reserve_stock(&pool, &verified, &owner).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.done.send(Ok(outcome));
                }
            }
            Err(error) if jobs.len() > 1 => {
                warn!(%error, sagas = jobs.len(), "confirmation batch failed: writing its sagas one by one");
                for job in jobs {
                    let alone = std::slice::from_ref(&job.verified);
                    let outcome = confirmation::verified_then_reserve_stock(&pool, alone, &owner)
                        .await
                        .map(|mut outcomes| outcomes.pop().unwrap_or(StockOutcome::Superseded));
                    let _ = job.done.send(outcome);
                }
            }
            Err(error) => {
                if let Some(job) = jobs.into_iter().next() {
                    let _ = job.done.send(Err(error));
                }
            }
        }
    }
}
