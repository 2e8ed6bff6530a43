//! How the saga reaches customer-svc. A trait, so that unit tests can stand
//! in a fake; production uses AMQP request/reply. Each request carries the
//! saga's request id (the HTTP request that started it), so that
//! customer-svc's lines for the checkout carry it too.

use std::time::Duration;

use futures_util::future::BoxFuture;
use uuid::Uuid;

use amqp::{CallOptions, MessageMeta, RpcClient, RpcError};
use contract::{
    ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply, VerifyOrCreateRequest,
};

/// customer-svc's side of the saga.
pub trait CustomerGateway: Send + Sync + 'static {
    /// Step 2: find or create the customer and reserve the amount.
    fn verify_or_create<'a>(
        &'a self,
        request: &'a VerifyOrCreateRequest,
        request_id: Option<&'a str>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<VerifyOrCreateReply, RpcError>>;

    /// Compensation: release whatever the saga holds.
    fn release_credit<'a>(
        &'a self,
        saga_id: Uuid,
        request_id: Option<&'a str>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<ReleaseCreditReply, RpcError>>;
}

/// The gateway over AMQP request/reply to `<ns>.customer.rpc`.
pub struct AmqpCustomerGateway {
    client: RpcClient,
    queue: String,
}

impl AmqpCustomerGateway {
    /// Calls through `client` to the customer RPC queue of `namespace`.
    pub fn new(client: RpcClient, namespace: &amqp::Namespace) -> Self {
        Self {
            client,
            queue: amqp::system::customer_rpc_queue(namespace),
        }
    }
}

fn options(saga_id: Uuid, request_id: Option<&str>, timeout: Duration) -> CallOptions {
    CallOptions {
        timeout,
        meta: MessageMeta {
            correlation_id: Some(saga_id.to_string()),
            causation_id: Some(saga_id.to_string()),
            request_id: request_id.map(str::to_owned),
        },
    }
}

impl CustomerGateway for AmqpCustomerGateway {
    fn verify_or_create<'a>(
        &'a self,
        request: &'a VerifyOrCreateRequest,
        request_id: Option<&'a str>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<VerifyOrCreateReply, RpcError>> {
        Box::pin(self.client.call(
            &self.queue,
            contract::CUSTOMER_VERIFY_OR_CREATE,
            request,
            options(request.saga_id, request_id, timeout),
        ))
    }

    fn release_credit<'a>(
        &'a self,
        saga_id: Uuid,
        request_id: Option<&'a str>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<ReleaseCreditReply, RpcError>> {
        Box::pin(async move {
            self.client
                .call(
                    &self.queue,
                    contract::CUSTOMER_RELEASE_CREDIT,
                    &ReleaseCreditRequest { saga_id },
                    options(saga_id, request_id, timeout),
                )
                .await
        })
    }
}
