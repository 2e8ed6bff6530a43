//! The test's side of customer-svc's queues: its RPCs called and events
//! published as order-svc would, and raw messages and queue depths through a
//! connection of the test's own. Apart from the HTTP helpers in `helpers.rs`.

use amqp::{CallOptions, Envelope, MessageMeta, RpcError};
use contract::{
    Email, Money, PersonName, ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply,
    VerifyOrCreateRequest,
};
use uuid::Uuid;

use super::{RPC_TIMEOUT, TestApp, amqp_url};

impl TestApp {
    pub async fn verify_or_create(
        &self,
        saga_id: Uuid,
        email: &str,
        name: &str,
        amount: &str,
    ) -> Result<VerifyOrCreateReply, RpcError> {
        self.verify_or_create_for(None, saga_id, email, name, amount)
            .await
    }

    /// `customer.verify_or_create` for a checkout signed in as `customer_id`
    /// (`None`: a guest).
    pub async fn verify_or_create_for(
        &self,
        customer_id: Option<Uuid>,
        saga_id: Uuid,
        email: &str,
        name: &str,
        amount: &str,
    ) -> Result<VerifyOrCreateReply, RpcError> {
        let request = VerifyOrCreateRequest {
            saga_id,
            email: Email::parse(email).expect("email"),
            name: PersonName::parse(name).expect("name"),
            amount: Money::parse(amount).expect("amount"),
            currency: contract::Currency::default(),
            customer_id,
        };
        self.verify_or_create_request(&request).await
    }

    /// `customer.verify_or_create` with exactly this request.
    pub async fn verify_or_create_request(
        &self,
        request: &VerifyOrCreateRequest,
    ) -> Result<VerifyOrCreateReply, RpcError> {
        self.rpc
            .call(
                &amqp::system::customer_rpc_queue(&self.namespace),
                contract::CUSTOMER_VERIFY_OR_CREATE,
                request,
                CallOptions::timeout(RPC_TIMEOUT),
            )
            .await
    }

    pub async fn release_credit(&self, saga_id: Uuid) -> ReleaseCreditReply {
        self.rpc
            .call(
                &amqp::system::customer_rpc_queue(&self.namespace),
                contract::CUSTOMER_RELEASE_CREDIT,
                &ReleaseCreditRequest { saga_id },
                CallOptions::timeout(RPC_TIMEOUT),
            )
            .await
            .expect("release_credit answered")
    }

    /// Publishes an event as order-svc would (same message id when redelivered).
    pub async fn publish<T: serde::Serialize>(&self, kind: &str, payload: T, message_id: Uuid) {
        let envelope =
            Envelope::new(kind, payload, MessageMeta::default()).with_message_id(message_id);
        self.events
            .publish(&envelope)
            .await
            .expect("event confirmed");
    }

    /// Publishes `body` as it is (not an envelope) straight to `queue`.
    pub async fn publish_raw(&self, queue: &str, body: &[u8]) {
        use amqp::lapin::{
            BasicProperties, Connection, ConnectionProperties, options::BasicPublishOptions,
        };
        let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
            .await
            .expect("broker reachable");
        let channel = connection.create_channel().await.expect("channel");
        channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default(),
            )
            .await
            .expect("published")
            .await
            .expect("written");
        let _ = connection.close(200, "done".into()).await;
    }

    /// Messages waiting in `queue` (a passive declare on a connection of the test's own).
    pub async fn queue_length(&self, queue: &str) -> u32 {
        use amqp::lapin::{Connection, ConnectionProperties, options::QueueDeclareOptions};
        let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
            .await
            .expect("broker reachable");
        let channel = connection.create_channel().await.expect("channel");
        let declared = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                Default::default(),
            )
            .await
            .expect("the queue exists");
        let _ = connection.close(200, "done".into()).await;
        declared.message_count()
    }
}
