//! The saga participant's wire: serves `customer.verify_or_create` and
//! `customer.release_credit` on the customer RPC queue by calling the credit
//! use cases ([`CreditDesk`]), and answers each [`CreditError`] the one way
//! it is answered over RPC. Requests whose caller gave up are dropped by the
//! messaging layer before they reach these handlers.

use std::sync::Arc;

use amqp::{Broker, ConsumerHandle, HandlerError, RpcRouter, RpcServer};
use contract::{
    ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply, VerifyOrCreateRequest,
};
use edge::database;
use tracing::{error, info};

use crate::usecases::{CreditDesk, CreditError};

/// A credit use case's failure as the RPC server answers it. Any database
/// failure that is not the request's own doing (`edge::database::Fault`) is
/// transient: waited out while the caller waits, then dropped unanswered
/// (the caller has compensated). One whose data the schema refuses is an
/// `unavailable` reply, its cause logged.
impl From<CreditError> for HandlerError {
    fn from(error: CreditError) -> Self {
        match error {
            // Permanent, so the saga compensates.
            CreditError::ForeignCurrency { .. } => HandlerError::invalid_request(error.to_string()),
            CreditError::ShuttingDown => HandlerError::unavailable(error.to_string()),
            CreditError::Unavailable(cause) => HandlerError::transient(cause),
            CreditError::Db(cause) if database::fault(&cause).is_waited_out() => {
                HandlerError::transient(cause)
            }
            CreditError::Db(cause) => {
                error!(error = %cause, "credit operation failed: its data is refused");
                HandlerError::unavailable("the customer service could not complete the request")
            }
        }
    }
}

async fn verify_or_create(
    desk: &CreditDesk,
    request: VerifyOrCreateRequest,
) -> Result<VerifyOrCreateReply, HandlerError> {
    let (saga_id, amount) = (request.saga_id, request.amount);
    let reply = desk.verify_or_create(request).await?;
    info!(%saga_id, %amount, ?reply, "verify_or_create answered");
    Ok(reply)
}

async fn release_credit(
    desk: &CreditDesk,
    request: ReleaseCreditRequest,
) -> Result<ReleaseCreditReply, HandlerError> {
    let released = desk.release_credit(request.saga_id).await?;
    info!(saga_id = %request.saga_id, %released, "release_credit answered");
    Ok(ReleaseCreditReply { released })
}

/// The RPC routes.
pub fn router(desk: CreditDesk) -> RpcRouter {
    let desk = Arc::new(desk);
    let verify = desk.clone();
    RpcRouter::new()
        .route(contract::CUSTOMER_VERIFY_OR_CREATE, move |_ctx, request| {
            let desk = verify.clone();
            async move { verify_or_create(&desk, request).await }
        })
        .route(contract::CUSTOMER_RELEASE_CREDIT, move |_ctx, request| {
            let desk = desk.clone();
            async move { release_credit(&desk, request).await }
        })
}

/// Starts serving the customer RPC queue.
pub fn serve(broker: &Broker, desk: CreditDesk, prefetch: u16) -> ConsumerHandle {
    let queue = amqp::system::customer_rpc_queue(&broker.settings().namespace);
    RpcServer::spawn(broker, &queue, prefetch, router(desk))
}
