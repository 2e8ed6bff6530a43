//! Gathers the sagas whose customer-svc answer arrived into batches for
//! steps 3 and 4 (`crate::db::confirmation`): one transaction and one commit
//! for every answer that came in while the previous batch was being written
//! (a [`Batcher`]).
//!
//! At one client a batch is one saga and costs what the single-saga path
//! did; at 64 clients the stock of a popular product is locked once per batch
//! instead of once per order. A batch that fails as a whole (one bad saga
//! must not sink the others) is retried saga by saga.

use edge::batch::{BatchError, Batcher};
use sqlx::PgPool;

use crate::db::confirmation::{self, Confirmation, Verified};

/// The most sagas written in one transaction.
const MAX_BATCH: usize = 64;

/// Hands verified sagas to the batch writer. Cheap to clone.
#[derive(Clone)]
pub struct Confirmer {
    batcher: Batcher<Verified, Confirmation, sqlx::Error>,
}

impl Confirmer {
    /// Starts the batch writer for sagas leased to `owner`.
    pub fn spawn(pool: PgPool, owner: String) -> Self {
        let batcher = Batcher::spawn("saga_confirmation", MAX_BATCH, move |batch| {
            let (pool, owner) = (pool.clone(), owner.clone());
            async move { confirmation::verified_then_reserve_stock(&pool, &batch, &owner).await }
        });
        Self { batcher }
    }

    /// Steps 3 and 4 for one verified saga, written with whatever else is
    /// waiting; returns when its batch is committed.
    pub async fn confirm(&self, verified: Verified) -> anyhow::Result<Confirmation> {
        match self.batcher.submit(verified).await {
            Ok(confirmation) => Ok(confirmation),
            Err(BatchError::Failed(error)) => Err(error.into()),
            Err(BatchError::Unavailable(cause)) => Err(anyhow::anyhow!(
                "the confirmation was not written, the database is unavailable: {cause}"
            )),
            Err(BatchError::Stopped) => Err(anyhow::anyhow!("the confirmation writer has stopped")),
        }
    }
}
