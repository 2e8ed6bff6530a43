//! The checkout saga's credit, this service's part as its participant:
//! verifying (finding or creating) the customer and holding the amount, and
//! releasing what a saga holds when it compensates. Credit is kept in the
//! shop's one currency. Verifications that arrive together are decided in
//! one transaction (a [`Batcher`]): one commit for every request that came
//! in while the previous batch was written.

use std::time::Duration;

use contract::{Currency, Money, VerifyOrCreateReply, VerifyOrCreateRequest};
use edge::batch::{BatchError, Batcher};
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;

/// The most verifications decided in one transaction.
const MAX_BATCH: usize = 64;

/// What a credit use case can run into.
#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    /// The order is in another currency than the one credit is kept in:
    /// adding it would make the credit meaningless. Permanent.
    #[error("credit is kept in {kept}; this order is in {asked}")]
    ForeignCurrency {
        /// The shop's currency.
        kept: Currency,
        /// The order's.
        asked: Currency,
    },
    /// The service is shutting down and decides nothing more.
    #[error("the customer service is shutting down")]
    ShuttingDown,
    /// The database was not there for the batch the request was written in.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<BatchError<sqlx::Error>> for CreditError {
    fn from(error: BatchError<sqlx::Error>) -> Self {
        match error {
            BatchError::Failed(cause) => Self::Db(cause),
            BatchError::Unavailable(cause) => Self::Unavailable(cause),
            BatchError::Stopped => Self::ShuttingDown,
        }
    }
}

/// The credit use cases. Cheap to clone.
#[derive(Clone)]
pub struct CreditDesk {
    pool: PgPool,
    currency: Currency,
    verifications: Batcher<VerifyOrCreateRequest, VerifyOrCreateReply, sqlx::Error>,
}

impl CreditDesk {
    /// Credit over `pool`, creating customers with `default_limit` and
    /// holding credit for `lease`, in `currency` only. Starts the
    /// verification writer.
    pub fn new(pool: PgPool, default_limit: Money, lease: Duration, currency: Currency) -> Self {
        db::credit::Overdrafts::register();
        let writer = pool.clone();
        let verifications = Batcher::spawn("verify_or_create", MAX_BATCH, move |batch| {
            let pool = writer.clone();
            async move { db::credit::verify_or_create_all(&pool, &batch, default_limit, lease).await }
        });
        Self {
            pool,
            currency,
            verifications,
        }
    }

    /// Finds or creates the customer and holds the amount, or says why not.
    /// The same saga always gets the answer it got the first time.
    pub async fn verify_or_create(
        &self,
        request: VerifyOrCreateRequest,
    ) -> Result<VerifyOrCreateReply, CreditError> {
        if request.currency != self.currency {
            return Err(CreditError::ForeignCurrency {
                kept: self.currency.clone(),
                asked: request.currency,
            });
        }
        Ok(self.verifications.submit(request).await?)
    }

    /// Gives back what the saga holds; returns the amount (nothing the
    /// second time, nor for a saga that held nothing).
    pub async fn release_credit(&self, saga_id: Uuid) -> Result<Money, CreditError> {
        Ok(db::credit::release(&self.pool, saga_id).await?)
    }
}
