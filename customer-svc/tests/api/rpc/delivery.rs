//! Requests under delivery faults: one past its deadline dropped without side
//! effects, one waiting out a database outage while its caller waits.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amqp::lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::BasicPublishOptions,
    types::{AMQPValue, FieldTable},
};
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_request_past_its_deadline_is_dropped_without_side_effects() {
    let app = TestApp::spawn_with(&[("RPC_PREFETCH", "1")]).await;
    let connection = Connection::connect(
        &std::env::var("AMQP_URL").unwrap_or_else(|_| amqp::AmqpSettings::DEFAULT_URL.into()),
        ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let expired_at = SystemTime::now() - Duration::from_secs(5);
    let mut headers = FieldTable::default();
    headers.insert(
        "x-deadline-ms".into(),
        AMQPValue::LongLongInt(expired_at.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64),
    );
    let stale = serde_json::json!({
        "message_id": Uuid::new_v4(), "type": contract::CUSTOMER_VERIFY_OR_CREATE, "schema_version": 1,
        "correlation_id": "stale", "causation_id": null, "timestamp": "2026-01-01T00:00:00Z",
        "payload": {"saga_id": Uuid::new_v4(), "email": "stale@example.com", "name": "Stale",
                    "amount": "10.00", "currency": "EUR"}
    });

    channel
        .basic_publish(
            "".into(),
            amqp::system::customer_rpc_queue(&app.namespace)
                .as_str()
                .into(),
            BasicPublishOptions::default(),
            stale.to_string().as_bytes(),
            BasicProperties::default()
                .with_reply_to(app.rpc.reply_queue().into())
                .with_correlation_id("stale-call".into())
                .with_type(contract::CUSTOMER_VERIFY_OR_CREATE.into())
                .with_headers(headers),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // With one request at a time, this call is served after the stale one was settled.
    app.verify_or_create(Uuid::new_v4(), "fresh2@example.com", "Fresh", "1.00")
        .await
        .unwrap();

    assert!(
        app.customer_by_email("stale@example.com").await.is_none(),
        "the stale request created nothing"
    );
    let _ = connection.close(200, "done".into()).await;
    app.stop().await;
}

#[tokio::test]
async fn a_request_waits_out_a_database_outage_while_its_caller_waits() {
    // The service reaches its database through a proxy the test can close.
    let (app, proxy) = TestApp::spawn_behind_database_proxy().await;

    proxy.refuse();
    let saga_id = uuid::Uuid::new_v4();
    let (answer, ()) = tokio::join!(
        app.verify_or_create(saga_id, "patient@example.com", "Patient", "12.00"),
        async {
            eventually(
                3 * PATIENCE,
                "the request tried through the outage",
                || async {
                    (app.counter("rpc_server_transient_retries_total").await >= 3.0).then_some(())
                },
            )
            .await;
            proxy.accept_again();
        }
    );

    assert!(
        matches!(answer, Ok(contract::VerifyOrCreateReply::Reserved { .. })),
        "answered once the database was back: {answer:?}"
    );
    assert_eq!(app.credit_available("patient@example.com").await, "4988.00");
    app.stop().await;
}
