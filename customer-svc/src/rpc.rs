//! The saga participant: serves `customer.verify_or_create` and
//! `customer.release_credit` on the customer RPC queue. Requests whose caller
//! gave up are dropped by the messaging layer before they reach these handlers.

use std::{sync::Arc, time::Duration};

use messaging::{
    Broker, ConsumerHandle, HandlerError, RpcRouter, RpcServer,
    contract::{
        self, Money, ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply,
        VerifyOrCreateRequest,
    },
};
use sqlx::PgPool;
use tracing::{error, info};

use crate::db;

/// What the handlers need.
#[derive(Clone)]
pub struct CreditDesk {
    pool: PgPool,
    default_limit: Money,
    lease: Duration,
}

impl CreditDesk {
    /// Handlers over `pool`, creating customers with `default_limit` and
    /// holding credit for `lease`.
    pub fn new(pool: PgPool, default_limit: Money, lease: Duration) -> Self {
        Self {
            pool,
            default_limit,
            lease,
        }
    }

    async fn verify_or_create(
        &self,
        request: VerifyOrCreateRequest,
    ) -> Result<VerifyOrCreateReply, HandlerError> {
        let reply =
            db::credit::verify_or_create(&self.pool, &request, self.default_limit, self.lease)
                .await
                .map_err(internal)?;
        info!(saga_id = %request.saga_id, amount = %request.amount, ?reply, "verify_or_create answered");
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

fn internal(cause: sqlx::Error) -> HandlerError {
    error!(error = %cause, "credit operation failed");
    HandlerError::new(
        "unavailable",
        "the customer service could not complete the request",
    )
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
    let queue = contract::customer_rpc_queue(&broker.settings().namespace);
    RpcServer::spawn(broker, &queue, prefetch, router(desk))
}
