//! The saga participant: serves `customer.verify_or_create` and
//! `customer.release_credit` on the customer RPC queue. Requests whose caller
//! gave up are dropped by the messaging layer before they reach these handlers.
//! Verifications that arrive together are decided in one transaction (a
//! [`Batcher`]): one commit for every request that came in while the previous
//! batch was written.

use std::{sync::Arc, time::Duration};

use amqp::{Broker, ConsumerHandle, HandlerError, RpcRouter, RpcServer};
use contract::{
    Currency, Money, ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply,
    VerifyOrCreateRequest,
};
use edge::{
    batch::{BatchError, Batcher},
    database,
};
use sqlx::PgPool;
use tracing::{error, info};

use crate::db;

/// The most verifications decided in one transaction.
const MAX_BATCH: usize = 64;

/// What the handlers need.
#[derive(Clone)]
pub struct CreditDesk {
    pool: PgPool,
    currency: Currency,
    verifications: Batcher<VerifyOrCreateRequest, VerifyOrCreateReply, sqlx::Error>,
}

impl CreditDesk {
    /// Handlers over `pool`, creating customers with `default_limit` and
    /// holding credit for `lease`, in `currency` only. Starts the
    /// verification writer.
    pub fn new(pool: PgPool, default_limit: Money, lease: Duration, currency: Currency) -> Self {
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

    async fn verify_or_create(
        &self,
        request: VerifyOrCreateRequest,
    ) -> Result<VerifyOrCreateReply, HandlerError> {
        let (saga_id, amount) = (request.saga_id, request.amount);
        if request.currency != self.currency {
            // Credit is kept in the shop's currency: adding another would
            // make it meaningless. Permanent, so the saga compensates.
            return Err(HandlerError::invalid_request(format!(
                "credit is kept in {}; this order is in {}",
                self.currency, request.currency
            )));
        }
        let reply = self
            .verifications
            .submit(request)
            .await
            .map_err(|error| match error {
                BatchError::Failed(cause) => internal(cause),
                BatchError::Stopped => {
                    HandlerError::unavailable("the customer service is shutting down")
                }
            })?;
        info!(%saga_id, %amount, ?reply, "verify_or_create answered");
        Ok(reply)
    }

    async fn release_credit(
        &self,
        request: ReleaseCreditRequest,
    ) -> Result<ReleaseCreditReply, HandlerError> {
        let released = db::credit::release(&self.pool, request.saga_id)
            .await
            .map_err(internal)?;
        info!(saga_id = %request.saga_id, %released, "release_credit answered");
        Ok(ReleaseCreditReply { released })
    }
}

/// A database failure as the RPC server sees it: transient (waited out
/// while the caller waits) when the database is briefly away or a race was
/// lost; otherwise an `unavailable` reply.
fn internal(cause: sqlx::Error) -> HandlerError {
    if database::is_transient(&cause) {
        return HandlerError::transient(cause);
    }
    error!(error = %cause, "credit operation failed");
    HandlerError::unavailable("the customer service could not complete the request")
}

/// The RPC routes.
pub fn router(desk: CreditDesk) -> RpcRouter {
    let desk = Arc::new(desk);
    let verify = desk.clone();
    RpcRouter::new()
        .route(contract::CUSTOMER_VERIFY_OR_CREATE, move |_ctx, request| {
            let desk = verify.clone();
            async move { desk.verify_or_create(request).await }
        })
        .route(contract::CUSTOMER_RELEASE_CREDIT, move |_ctx, request| {
            let desk = desk.clone();
            async move { desk.release_credit(request).await }
        })
}

/// Starts serving the customer RPC queue.
pub fn serve(broker: &Broker, desk: CreditDesk, prefetch: u16) -> ConsumerHandle {
    let queue = amqp::system::customer_rpc_queue(&broker.settings().namespace);
    RpcServer::spawn(broker, &queue, prefetch, router(desk))
}
