//! Step 1 of the saga for the checkouts that arrive together: each is priced
//! and recorded with every other checkout that came in while the previous
//! batch was written, in one transaction (a [`Batcher`];
//! `crate::db::orders::record_checkouts`). The recording instance holds the
//! sagas it records, so it drives them without claiming them.

use contract::Currency;
use edge::batch::{BatchError, Batcher};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db::{
        self,
        orders::{self, KeyReused, NewCheckout},
        sagas::{SagaLease, SagaRow},
    },
    domain::{
        checkout::CheckoutRequest,
        pricing::{Priced, PricingError},
    },
};

/// The most checkouts recorded in one transaction.
const MAX_BATCH: usize = 64;

type Job = (NewCheckout, CheckoutRequest);
type Pricing = Result<(SagaRow, Priced), PricingError>;

/// What recording a checkout found.
#[derive(Debug)]
pub enum Recorded {
    /// A new order: its saga as recorded (leased to this instance), and its prices.
    New(SagaRow, Priced),
    /// The `Idempotency-Key` was used before with the same request: that order.
    Existing(Uuid),
}

/// Why a checkout was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The `Idempotency-Key` was used before with another request.
    #[error(transparent)]
    KeyReused(#[from] KeyReused),
    /// The lines could not be priced (unknown products, for example).
    #[error(transparent)]
    Unpriceable(PricingError),
    /// The database was not there for the batch: nothing was recorded.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The service is shutting down.
    #[error("the checkout writer has stopped")]
    Stopped,
}

/// Records checkouts in batches. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    pool: PgPool,
    batcher: Batcher<Job, Pricing, sqlx::Error>,
}

impl Recorder {
    /// Starts the batch writer; its sagas are leased as `lease` says, and
    /// its orders priced in `currency`.
    pub fn spawn(pool: PgPool, lease: SagaLease, currency: Currency) -> Self {
        let writer = pool.clone();
        let batcher = Batcher::spawn("checkout_recording", MAX_BATCH, move |batch: Vec<Job>| {
            let (pool, lease, currency) = (writer.clone(), lease.clone(), currency.clone());
            async move {
                orders::record_checkouts(&pool, &lease, &batch, |request, catalogue| {
                    request.price(catalogue, &currency)
                })
                .await
            }
        });
        Self { pool, batcher }
    }

    /// Step 1 for one checkout: answers the order an `Idempotency-Key`
    /// recorded before, or prices and records a new one.
    pub async fn record(
        &self,
        new: NewCheckout,
        request: CheckoutRequest,
    ) -> Result<Recorded, RecordError> {
        let idempotency = new.idempotency.clone();
        if let Some((key, fingerprint)) = &idempotency
            && let Some(existing) = orders::order_for_key(&self.pool, key, fingerprint).await??
        {
            return Ok(Recorded::Existing(existing));
        }
        match self.batcher.submit((new, request)).await {
            Ok(Ok((saga, priced))) => Ok(Recorded::New(saga, priced)),
            Ok(Err(refusal)) => Err(RecordError::Unpriceable(refusal)),
            Err(BatchError::Failed(error)) if db::violates(&error, "idempotency_keys_pkey") => {
                // The same key raced us and won: answer with its order.
                let (key, fingerprint) = idempotency.unwrap_or_default();
                match orders::order_for_key(&self.pool, &key, &fingerprint).await?? {
                    Some(existing) => Ok(Recorded::Existing(existing)),
                    None => Err(RecordError::Db(error)),
                }
            }
            Err(BatchError::Failed(error)) => Err(RecordError::Db(error)),
            Err(BatchError::Unavailable(cause)) => Err(RecordError::Unavailable(cause)),
            Err(BatchError::Stopped) => Err(RecordError::Stopped),
        }
    }
}
