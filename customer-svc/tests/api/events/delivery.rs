//! Events under delivery faults and over time: a database outage waited out,
//! never dead-lettered; processed message ids forgotten after their retention.

use uuid::Uuid;

use super::orders::{confirmed, history_when, reserved_order};
use crate::helpers::*;

#[tokio::test]
async fn an_event_waits_out_a_database_outage_and_is_never_dead_lettered() {
    // The service reaches its database through a proxy the test can close.
    let (app, proxy) = TestApp::spawn_behind_database_proxy().await;
    let order = reserved_order(&app, "outage@example.com", "40.00").await;

    proxy.refuse();
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "40.00"),
        Uuid::new_v4(),
    )
    .await;
    // More tries than the queue's delivery limit (5) would have allowed.
    // Each try waits out the pool's 5 s acquire timeout: a long outage.
    eventually(
        3 * PATIENCE,
        "the event tried through the outage",
        || async { (app.counter("events_transient_retries_total").await >= 6.0).then_some(()) },
    )
    .await;
    let (status, ready) = app.get("/readyz").await;
    assert_eq!(status, 503, "not ready while the database is away");
    assert_eq!(ready["checks"]["order_events"], "waiting_out", "{ready}");
    proxy.accept_again();
    eventually(
        PATIENCE,
        "ready again once the event is applied",
        || async {
            let (status, ready) = app.get("/readyz").await;
            (status == 200 && ready["checks"]["order_events"] == "ok").then_some(())
        },
    )
    .await;

    let body = history_when(&app, order.customer_id, "the order in the history", |b| {
        b["total"] == 1
    })
    .await;
    assert_eq!(body["stats"]["total_spent"], "40.00");
    let dlq = format!(
        "{}.dlq",
        amqp::system::customer_order_events_queue(&app.namespace)
    );
    assert_eq!(app.queue_length(&dlq).await, 0, "nothing dead-lettered");
    assert_eq!(app.credit_available("outage@example.com").await, "4960.00");
    app.stop().await;
}

#[tokio::test]
async fn a_poison_event_is_dead_lettered_at_once_and_counted() {
    let app = TestApp::spawn().await;
    let queue = amqp::system::customer_order_events_queue(&app.namespace);
    let dlq = format!("{queue}.dlq");

    app.publish_raw(&queue, br#"{"not":"an order event"}"#)
        .await;

    eventually(PATIENCE, "the poison event dead-lettered", || async {
        (app.queue_length(&dlq).await == 1).then_some(())
    })
    .await;
    let metrics = app.metrics().await;
    let dead_lettered = |reason| {
        testkit::exposition::value(
            &metrics,
            "events_dead_lettered_total",
            &[("queue", &queue), ("reason", reason)],
        )
    };
    assert_eq!(dead_lettered("undecodable"), Some(1.0), "{metrics}");
    assert_eq!(dead_lettered("invalid"), Some(0.0));
    let consumed =
        testkit::exposition::value(&metrics, "events_consumed_total", &[("queue", &queue)]);
    assert_eq!(consumed, Some(1.0));
    app.stop().await;
}

#[tokio::test]
async fn processed_message_ids_are_forgotten_after_their_retention() {
    let app = TestApp::spawn().await;
    let order = reserved_order(&app, "inbox@example.com", "1.00").await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "1.00"),
        Uuid::new_v4(),
    )
    .await;
    history_when(&app, order.customer_id, "the order in the history", |b| {
        b["total"] == 1
    })
    .await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let retention = std::time::Duration::from_secs(30 * 24 * 3600);
    let forget = || customer_svc::db::inbox::forget_older_than(&pool, retention);
    assert_eq!(forget().await.unwrap(), 0, "nothing is old yet");
    sqlx::query("UPDATE processed_messages SET processed_at = now() - interval '31 days'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(forget().await.unwrap(), 1);
    app.stop().await;
}
