//! Placing a checkout: the order priced and recorded with its saga (or the
//! order its `Idempotency-Key` recorded before), the saga started, and the
//! answer given once the saga has ended or the wait (`CHECKOUT_WAIT_MS`) is
//! over, with a token that opens the order.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::{sync::watch, time::Instant};
use uuid::Uuid;

use contract::VerifyOrCreateRequest;
use edge::{
    database::Fault,
    tokens::{AccessTokens, Refused},
};

use crate::{
    db::orders::{self, KeyReused, NewCheckout, OrderRecord},
    domain::{
        checkout::CheckoutRequest, idempotency::IdempotencyKey, order::OrderStatus,
        pricing::PricingError,
    },
    saga::{Coordinator, RecordError, Recorded, Signal},
};

/// How often a waiting checkout looks at its order when no signal arrives
/// (its saga may be driven by another instance).
const WAIT_POLL: Duration = Duration::from_millis(250);
/// First pause before recording again while the database is not there;
/// doubling to [`UNAVAILABLE_LONGEST_PAUSE`].
const UNAVAILABLE_FIRST_PAUSE: Duration = Duration::from_millis(100);
const UNAVAILABLE_LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// Places checkouts. Cheap to clone.
#[derive(Clone)]
pub struct Checkout {
    pool: PgPool,
    coordinator: Coordinator,
    tokens: AccessTokens,
    wait: Duration,
}

/// A checkout placed.
#[derive(Debug)]
pub struct Placed {
    /// The order, with its lines and its saga's timeline.
    pub order: OrderRecord,
    /// True when its saga ended within the wait; else the order is pending.
    pub ended: bool,
    /// A token that opens the order.
    pub access_token: String,
}

/// Why a checkout was not placed.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The `Idempotency-Key` was used before with another request.
    #[error(transparent)]
    KeyReused(#[from] KeyReused),
    /// The lines could not be priced.
    #[error(transparent)]
    Unpriceable(#[from] PricingError),
    /// The order was recorded, and then could not be read back.
    #[error("the recorded order {0} vanished")]
    Vanished(Uuid),
    /// No token could be issued for the order.
    #[error("no token for the order: {0}")]
    Token(#[from] Refused),
    /// The service is shutting down.
    #[error("the checkout writer has stopped")]
    Stopped,
    /// The database was not there for the whole of the checkout's wait:
    /// nothing was recorded; the same request may be sent again.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<RecordError> for CheckoutError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::KeyReused(reused) => Self::KeyReused(reused),
            RecordError::Unpriceable(refusal) => Self::Unpriceable(refusal),
            RecordError::Db(cause) => Self::Db(cause),
            RecordError::Unavailable(cause) => Self::Unavailable(cause),
            RecordError::Stopped => Self::Stopped,
        }
    }
}

impl Checkout {
    /// Places checkouts recorded in `pool` and driven by `coordinator`,
    /// answering each with a token from `tokens` after waiting at most
    /// `wait` for its saga.
    pub fn new(
        pool: PgPool,
        coordinator: Coordinator,
        tokens: AccessTokens,
        wait: Duration,
    ) -> Self {
        Self {
            pool,
            coordinator,
            tokens,
            wait,
        }
    }

    /// Places `request`: records it (or finds the order `key` recorded
    /// before for the same request), starts its saga, and waits for the
    /// saga's end. The saga keeps `request_id` (the HTTP request's), and
    /// everything it does carries it.
    pub async fn place(
        &self,
        request: CheckoutRequest,
        key: Option<IdempotencyKey>,
        request_id: String,
    ) -> Result<Placed, CheckoutError> {
        let started = Instant::now();
        let deadline = started + self.wait;
        let (order_id, signal, recorded_before) = self
            .record_and_start(request, key, request_id, deadline)
            .await?;
        let (ended, signalled) = self
            .wait_for_end(order_id, signal, recorded_before, deadline)
            .await?;
        let order = match signalled {
            // The transaction that ended the saga read the order: no second read.
            Some(record) => Arc::unwrap_or_clone(record),
            None => orders::get(&self.pool, order_id)
                .await?
                .ok_or(CheckoutError::Vanished(order_id))?,
        };
        metrics::histogram!("checkout_duration_seconds").record(started.elapsed().as_secs_f64());
        let access_token = self.tokens.for_order(order.order.id)?.token;
        Ok(Placed {
            order,
            ended,
            access_token,
        })
    }

    /// Step 1, and the saga's start: records `request` and starts its saga,
    /// or finds the order `key` recorded before for the same request. The
    /// order, a receiver of its end (subscribed before its saga started, so
    /// that the end cannot be missed), and whether it was recorded before.
    /// A database that is not there is waited for until `deadline`.
    async fn record_and_start(
        &self,
        request: CheckoutRequest,
        key: Option<IdempotencyKey>,
        request_id: String,
        deadline: Instant,
    ) -> Result<(Uuid, watch::Receiver<Signal>, bool), CheckoutError> {
        let order_id = Uuid::now_v7();
        let saga_id = Uuid::now_v7();
        let fingerprint = request.fingerprint();
        let new = NewCheckout {
            order_id,
            saga_id,
            email: request.email.as_str().to_owned(),
            name: request.name.as_str().to_owned(),
            customer_id: request.customer_id,
            products: request.lines.iter().map(|line| line.product_id).collect(),
            idempotency: key.map(|key| (key.as_str().to_owned(), fingerprint)),
            request_id: Some(request_id),
        };
        let (email, name, customer_id) = (
            request.email.clone(),
            request.name.clone(),
            request.customer_id,
        );
        let waiters = self.coordinator.waiters();
        Ok(match self.record_patiently(new, request, deadline).await? {
            Recorded::New(saga, priced) => {
                let signal = waiters.subscribe(order_id);
                let verification = VerifyOrCreateRequest {
                    saga_id,
                    email,
                    name,
                    amount: priced.total,
                    currency: priced.currency,
                    customer_id,
                };
                self.coordinator.drive_recorded(saga, verification);
                (order_id, signal, false)
            }
            Recorded::Existing(existing) => (existing, waiters.subscribe(existing), true),
        })
    }

    /// Records the checkout, trying again while the database is not there
    /// (nothing was recorded then) until `deadline`; past it, the checkout
    /// is answered 503 and its client may send it again. A try after one
    /// whose commit was lost on the way may find its own order recorded.
    async fn record_patiently(
        &self,
        new: NewCheckout,
        request: CheckoutRequest,
        deadline: Instant,
    ) -> Result<Recorded, RecordError> {
        let recorder = self.coordinator.recorder();
        let mut pause = UNAVAILABLE_FIRST_PAUSE;
        let mut tried_before = false;
        loop {
            let unavailable = match recorder.record(new.clone(), request.clone()).await {
                Err(RecordError::Unavailable(cause)) => RecordError::Unavailable(cause),
                Err(RecordError::Db(error))
                    if edge::database::fault(&error) == Fault::Unavailable =>
                {
                    RecordError::Db(error)
                }
                Err(RecordError::Db(error))
                    if tried_before && crate::db::violates(&error, "orders_pkey") =>
                {
                    return Ok(Recorded::Existing(new.order_id));
                }
                other => return other,
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < pause {
                return Err(unavailable);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(UNAVAILABLE_LONGEST_PAUSE);
            tried_before = true;
        }
    }

    /// Waits until the order's checkout has ended, at most until `deadline`; true
    /// when it has, with the order when the signal carried it. This
    /// instance's coordinator signals the end of the sagas it drives; the
    /// database is read only when no signal came within `WAIT_POLL` (another
    /// instance may drive the saga), or at once when the checkout was
    /// recorded before (`look_first`: it may have ended long ago).
    async fn wait_for_end(
        &self,
        order_id: Uuid,
        mut signal: watch::Receiver<Signal>,
        look_first: bool,
        deadline: Instant,
    ) -> Result<(bool, Option<Arc<OrderRecord>>), sqlx::Error> {
        let waiters = self.coordinator.waiters();
        let mut look = look_first;
        let ended = loop {
            if look {
                let status = orders::status_of(&self.pool, order_id).await?;
                if status
                    .as_deref()
                    .and_then(OrderStatus::parse)
                    .is_some_and(OrderStatus::is_final_for_checkout)
                {
                    break (true, None);
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break (false, None);
            }
            let pause = remaining.min(WAIT_POLL);
            let waited = tokio::time::timeout(pause, signal.wait_for(Signal::has_ended))
                .await
                .map(|outcome| outcome.map(|signal| signal.clone()));
            match waited {
                Ok(Ok(Signal::Ended(record))) => break (true, record),
                // No sender any more (it signalled another waiter, or was
                // forgotten): only the database can tell.
                Ok(Ok(Signal::Pending) | Err(_)) => tokio::time::sleep(pause).await,
                Err(_) => {}
            }
            look = true;
        };
        drop(signal);
        waiters.forget(order_id);
        Ok(ended)
    }
}
