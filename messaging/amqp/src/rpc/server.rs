//! The serving side of request/reply.
//!
//! For each request: decode the envelope, drop it if its caller's deadline has
//! passed, run the handler its `type` names, publish the reply to `reply_to`
//! with the same `correlation_id` (confirmed), and only then acknowledge. A
//! handler error becomes an error reply; a message that cannot be decoded (or
//! has nowhere to reply) is rejected without requeue, so the broker
//! dead-letters it. A request whose reply cannot be published is returned to
//! the queue; the queue's delivery limit bounds how often that can happen.

use std::{
    collections::HashMap, future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc,
    time::Duration,
};

use contract::ErrorCode;
use futures_util::FutureExt;
use lapin::message::Delivery;
use serde::{Serialize, de::DeserializeOwned};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::reply::{REPLY_KIND, RemoteError, RpcReply};
use crate::{
    connection::Broker,
    consumer::{ConsumerHandle, ConsumerSpec, ack, dead_letter, requeue, spawn_consumer},
    delivery_counts::{DeliveryCounts, PoisonReason, RPC_REQUESTS},
    envelope::{DeliveryMeta, Envelope, MessageMeta},
    error::{HandlerError, MessagingError},
    publisher::Publisher,
};

/// What a handler knows about the request besides its payload.
#[derive(Debug, Clone)]
pub struct RpcContext {
    /// The delivery's properties and headers.
    pub meta: DeliveryMeta,
    /// The request's envelope id.
    pub message_id: String,
    /// The conversation the request belongs to (the envelope's correlation id).
    pub conversation_id: String,
}

type HandlerResult = Result<serde_json::Value, HandlerError>;
type Route = Arc<
    dyn Fn(RpcContext, serde_json::Value) -> Pin<Box<dyn Future<Output = HandlerResult> + Send>>
        + Send
        + Sync,
>;

/// Maps a request's `type` to its handler.
#[derive(Clone, Default)]
pub struct RpcRouter {
    routes: HashMap<String, Route>,
}

impl RpcRouter {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `method` with `handler`: the payload is decoded into `Req` (an
    /// `invalid_request` error reply when it does not fit) and the handler's
    /// `Resp` is the reply's result.
    pub fn route<Req, Resp, F, Fut>(mut self, method: &str, handler: F) -> Self
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + 'static,
        F: Fn(RpcContext, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let route: Route = Arc::new(move |context, payload| {
            let handler = handler.clone();
            Box::pin(async move {
                let request: Req = decode_payload(payload)?;
                let response = handler(context, request).await?;
                serde_json::to_value(response).map_err(HandlerError::internal)
            })
        });
        self.routes.insert(method.to_owned(), route);
        self
    }
}

/// A request's body: its envelope, the payload left as JSON for its route.
fn decode_request(data: &[u8]) -> Result<Envelope<serde_json::Value>, serde_json::Error> {
    serde_json::from_slice(data)
}

/// A request's payload as its route's type: an `invalid_request` error when
/// it does not fit.
fn decode_payload<Req: DeserializeOwned>(payload: serde_json::Value) -> Result<Req, HandlerError> {
    serde_json::from_value(payload).map_err(|e| HandlerError::invalid_request(e.to_string()))
}

/// Serves an RPC queue.
pub struct RpcServer;

impl RpcServer {
    /// Starts consuming `queue` with at most `prefetch` requests in flight.
    pub fn spawn(broker: &Broker, queue: &str, prefetch: u16, router: RpcRouter) -> ConsumerHandle {
        let state = Arc::new(ServerState {
            publisher: Publisher::new(broker),
            router,
            app_id: broker.settings().app_id.clone(),
            answer_timeout: broker.settings().answer_timeout,
            counts: DeliveryCounts::register(&RPC_REQUESTS, queue),
        });
        let handler = Arc::new(move |delivery: Delivery, stop: CancellationToken| {
            let state = state.clone();
            Box::pin(state.serve(delivery, stop)) as crate::consumer::BoxFuture
        });
        spawn_consumer(
            broker,
            ConsumerSpec {
                queue: queue.to_owned(),
                prefetch,
                no_ack: false,
                declare_exclusive: false,
            },
            handler,
        )
    }
}

/// Pause before trying a transiently failed request again: doubling from
/// 100 ms, at most 2 s (the caller waits seconds, not minutes).
fn transient_backoff(tries: u32) -> Duration {
    Duration::from_millis(100)
        .saturating_mul(2_u32.saturating_pow(tries.min(16)))
        .min(Duration::from_secs(2))
}

struct ServerState {
    publisher: Publisher,
    router: RpcRouter,
    app_id: String,
    answer_timeout: Duration,
    counts: DeliveryCounts,
}

impl ServerState {
    async fn serve(self: Arc<Self>, delivery: Delivery, stop: CancellationToken) {
        let meta = DeliveryMeta::from_delivery(&delivery.properties, delivery.redelivered);
        self.counts.received(delivery.redelivered);
        let span = info_span!(
            "rpc.request",
            method = meta.kind.as_deref().unwrap_or(""),
            correlation_id = meta.correlation_id.as_deref().unwrap_or(""),
            request_id = meta.request_id.as_deref().unwrap_or(""),
            message_id = meta.message_id.as_deref().unwrap_or(""),
            delivery_count = meta.delivery_count,
        );
        self.serve_in_span(delivery, meta, stop)
            .instrument(span)
            .await;
    }

    async fn serve_in_span(&self, delivery: Delivery, meta: DeliveryMeta, stop: CancellationToken) {
        let envelope = match decode_request(&delivery.data) {
            Ok(envelope) => envelope,
            Err(error) => {
                warn!(%error, "undecodable request: dead-lettering");
                self.counts.dead_lettered(PoisonReason::Undecodable);
                return dead_letter(&delivery, self.answer_timeout).await;
            }
        };
        let (Some(reply_to), Some(call_id)) = (meta.reply_to.clone(), meta.correlation_id.clone())
        else {
            warn!("request without reply_to or correlation_id: dead-lettering");
            self.counts.dead_lettered(PoisonReason::NoReplyTo);
            return dead_letter(&delivery, self.answer_timeout).await;
        };
        if meta.is_expired() {
            info!("request past its caller's deadline: dropped unprocessed");
            metrics::counter!("rpc_server_expired_total").increment(1);
            return ack(&delivery, self.answer_timeout).await;
        }

        let method = envelope.kind.clone();
        let context = RpcContext {
            meta,
            message_id: envelope.message_id.to_string(),
            conversation_id: envelope.correlation_id.clone(),
        };
        let outcome = match self.router.routes.get(&method) {
            None => Err(HandlerError::new(
                ErrorCode::UnknownMethod,
                format!("no handler for {method:?}"),
            )),
            Some(route) => {
                // A transient failure (the handler's database away) is waited
                // out while the caller still waits: tried again with backoff
                // until it succeeds or the caller's deadline passes. Past it,
                // nobody waits for the answer: dropped, as an expired request.
                let mut tries = 0_u32;
                let mut first_failure: Option<tokio::time::Instant> = None;
                loop {
                    let attempt =
                        AssertUnwindSafe(route(context.clone(), envelope.payload.clone()))
                            .catch_unwind()
                            .await
                            .unwrap_or_else(|_| {
                                error!("handler panicked");
                                Err(HandlerError::internal("the handler failed"))
                            });
                    match attempt {
                        Err(error) if error.transient => {
                            tries += 1;
                            let waited = first_failure
                                .get_or_insert_with(tokio::time::Instant::now)
                                .elapsed()
                                .as_secs_f64();
                            metrics::counter!("rpc_server_transient_retries_total").increment(1);
                            if tries == 1 || tries.is_multiple_of(10) {
                                warn!(code = %error.code, message = %error.message, tries, waited_seconds = waited, "handler failed transiently: waiting it out");
                            }
                            tokio::select! {
                                _ = tokio::time::sleep(transient_backoff(tries)) => {}
                                // Stopping: the channel's close gives the request back.
                                _ = stop.cancelled() => return,
                            }
                            if context.meta.is_expired() {
                                info!(
                                    tries,
                                    "request past its caller's deadline while waiting out a failure: dropped"
                                );
                                metrics::counter!("rpc_server_expired_total").increment(1);
                                return ack(&delivery, self.answer_timeout).await;
                            }
                        }
                        other => {
                            if let Some(since) = first_failure {
                                metrics::histogram!("rpc_server_waited_out_seconds")
                                    .record(since.elapsed().as_secs_f64());
                            }
                            break other;
                        }
                    }
                }
            }
        };
        let reply = match outcome {
            Ok(result) => RpcReply::Ok { result },
            Err(error) => {
                debug!(code = %error.code, message = %error.message, "handler answered an error");
                RpcReply::Error {
                    error: RemoteError {
                        code: error.code,
                        message: error.message,
                    },
                }
            }
        };
        metrics::counter!("rpc_server_requests_total", "method" => method.clone()).increment(1);

        let reply = Envelope::new(
            REPLY_KIND,
            reply,
            MessageMeta {
                correlation_id: Some(envelope.correlation_id),
                causation_id: Some(envelope.message_id.to_string()),
                request_id: envelope.request_id,
            },
        );
        let body = match serde_json::to_vec(&reply) {
            Ok(body) => body,
            Err(error) => {
                error!(%error, "cannot encode reply");
                self.counts.dead_lettered(PoisonReason::UnencodableReply);
                return dead_letter(&delivery, self.answer_timeout).await;
            }
        };
        let properties = reply
            .properties(&self.app_id, false)
            .with_correlation_id(call_id.as_str().into());
        match self
            .publisher
            .publish("", &reply_to, &body, properties)
            .await
        {
            Ok(()) => ack(&delivery, self.answer_timeout).await,
            Err(MessagingError::Unroutable { .. }) => {
                info!(%reply_to, "caller's reply queue is gone: reply dropped");
                ack(&delivery, self.answer_timeout).await;
            }
            Err(error) => {
                warn!(%error, "reply not published: returning the request to the queue");
                requeue(&delivery, self.answer_timeout).await;
            }
        }
    }
}

#[cfg(test)]
mod props {
    //! The request decoder on hostile bodies: refused with an error, never a
    //! panic, whatever the bytes.

    use std::fmt::Debug;

    use proptest::{prop_assert_eq, test_runner::TestCaseError};
    use serde::Serialize;
    use uuid::Uuid;

    use super::*;
    use contract::{
        CUSTOMER_RELEASE_CREDIT, CUSTOMER_VERIFY_OR_CREATE, Email, Money, PersonName,
        ReleaseCreditRequest, VerifyOrCreateRequest,
    };
    use testkit::hostile::{DecoderUnderTest, check_decoder};

    const ENVELOPE: [&str; 5] = [
        "/message_id",
        "/type",
        "/schema_version",
        "/correlation_id",
        "/timestamp",
    ];

    /// What the server does with a body: the envelope, then the route's payload.
    fn decode<Req: DeserializeOwned>(
        data: &[u8],
    ) -> Result<(Envelope<serde_json::Value>, Req), String> {
        let envelope = decode_request(data).map_err(|e| e.to_string())?;
        let request = decode_payload(envelope.payload.clone()).map_err(|e| e.message)?;
        Ok((envelope, request))
    }

    /// An accepted request encodes back to itself.
    fn round_trips<Req: Serialize + DeserializeOwned + PartialEq + Debug>(
        (envelope, request): &(Envelope<serde_json::Value>, Req),
    ) -> Result<(), TestCaseError> {
        let bytes = serde_json::to_vec(envelope).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = decode_request(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, envelope);
        let payload =
            serde_json::to_value(request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again: Req = decode_payload(payload).map_err(|e| TestCaseError::fail(e.message))?;
        prop_assert_eq!(&again, request);
        Ok(())
    }

    fn meta() -> MessageMeta {
        MessageMeta {
            correlation_id: Some(Uuid::from_u128(1).to_string()),
            causation_id: Some("cause".into()),
            request_id: Some("request".into()),
        }
    }

    #[test]
    fn hostile_verify_or_create_requests_are_refused_never_panic() {
        let request = VerifyOrCreateRequest {
            saga_id: Uuid::from_u128(7),
            email: Email::parse("ada@example.com").unwrap(),
            name: PersonName::parse("Ada Lovelace").unwrap(),
            amount: Money::parse("19.90").unwrap(),
            currency: contract::Currency::default(),
            customer_id: Some(Uuid::from_u128(8)),
        };
        let valid = Envelope::new(CUSTOMER_VERIFY_OR_CREATE, request, meta());
        let required = [
            &ENVELOPE[..],
            &[
                "/payload",
                "/payload/saga_id",
                "/payload/email",
                "/payload/name",
                "/payload/amount",
                "/payload/currency",
            ],
        ]
        .concat();
        check_decoder(DecoderUnderTest {
            valid: serde_json::to_value(valid).unwrap(),
            required: &required,
            values: &["/payload/email", "/payload/name", "/payload/amount"],
            decode: &decode::<VerifyOrCreateRequest>,
            accepted: &round_trips::<VerifyOrCreateRequest>,
        });
    }

    #[test]
    fn hostile_release_credit_requests_are_refused_never_panic() {
        let request = ReleaseCreditRequest {
            saga_id: Uuid::from_u128(7),
        };
        let valid = Envelope::new(CUSTOMER_RELEASE_CREDIT, request, meta());
        let required = [&ENVELOPE[..], &["/payload", "/payload/saga_id"]].concat();
        check_decoder(DecoderUnderTest {
            valid: serde_json::to_value(valid).unwrap(),
            required: &required,
            values: &[],
            decode: &decode::<ReleaseCreditRequest>,
            accepted: &round_trips::<ReleaseCreditRequest>,
        });
    }
}
