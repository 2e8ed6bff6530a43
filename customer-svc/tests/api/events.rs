//! The order history, kept from events: exactly once, in any order.

use chrono::{TimeZone, Utc};
use contract::{Money, OrderCancelled, OrderConfirmed, VerifyOrCreateReply};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

struct Order {
    order_id: Uuid,
    saga_id: Uuid,
    customer_id: Uuid,
}

async fn reserved_order(app: &TestApp, email: &str, amount: &str) -> Order {
    let saga_id = Uuid::new_v4();
    let VerifyOrCreateReply::Reserved { customer_id } = app
        .verify_or_create(saga_id, email, "Shopper", amount)
        .await
        .unwrap()
    else {
        panic!("credit reserved")
    };
    Order {
        order_id: Uuid::new_v4(),
        saga_id,
        customer_id,
    }
}

fn confirmed(order: &Order, total: &str) -> OrderConfirmed {
    OrderConfirmed {
        order_id: order.order_id,
        saga_id: order.saga_id,
        customer_id: order.customer_id,
        total: Money::parse(total).unwrap(),
        currency: contract::Currency::default(),
        item_count: 3,
        placed_at: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
    }
}

fn cancelled(order: &Order, total: &str) -> OrderCancelled {
    OrderCancelled {
        order_id: order.order_id,
        saga_id: order.saga_id,
        customer_id: order.customer_id,
        total: Money::parse(total).unwrap(),
        currency: contract::Currency::default(),
        item_count: 3,
        placed_at: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        cancelled_at: Utc::now(),
    }
}

async fn history(app: &TestApp, customer_id: Uuid) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/customers/{customer_id}/orders"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn history_when(
    app: &TestApp,
    customer_id: Uuid,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    eventually(PATIENCE, what, || async {
        let body = history(app, customer_id).await;
        done(&body).then_some(body)
    })
    .await
}

#[tokio::test]
async fn a_confirmed_order_delivered_twice_is_counted_once() {
    let app = TestApp::spawn().await;
    let order = reserved_order(&app, "history@example.com", "99.90").await;
    let message_id = Uuid::new_v4();

    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "99.90"),
        message_id,
    )
    .await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "99.90"),
        message_id,
    )
    .await;
    // A later, different event: once it shows, both copies of the first were handled.
    let second = reserved_order(&app, "history@example.com", "0.10").await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&second, "0.10"),
        Uuid::new_v4(),
    )
    .await;

    let body = history_when(&app, order.customer_id, "both orders in the history", |b| {
        b["total"] == 2
    })
    .await;
    assert_eq!(body["stats"]["order_count"], 2);
    assert_eq!(body["stats"]["total_spent"], "100.00");
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let first = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["order_id"] == order.order_id.to_string())
        .unwrap();
    assert_eq!(first["status"], "confirmed");
    assert_eq!(first["total"], "99.90");
    assert_eq!(first["item_count"], 3);
    // Settled credit stays used.
    assert_eq!(app.credit_available("history@example.com").await, "4900.00");
    app.stop().await;
}

#[tokio::test]
async fn a_cancellation_takes_the_order_out_of_total_spent_and_frees_its_credit() {
    let app = TestApp::spawn().await;
    let order = reserved_order(&app, "canceller@example.com", "40.00").await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "40.00"),
        Uuid::new_v4(),
    )
    .await;
    history_when(&app, order.customer_id, "the confirmed order", |b| {
        b["total"] == 1
    })
    .await;

    let cancel_id = Uuid::new_v4();
    app.publish(
        contract::ORDER_CANCELLED,
        cancelled(&order, "40.00"),
        cancel_id,
    )
    .await;
    app.publish(
        contract::ORDER_CANCELLED,
        cancelled(&order, "40.00"),
        cancel_id,
    )
    .await;

    let body = history_when(&app, order.customer_id, "the order cancelled", |b| {
        b["items"][0]["status"] == "cancelled"
    })
    .await;
    assert_eq!(body["stats"]["total_spent"], "0.00");
    assert_eq!(body["stats"]["order_count"], 1);
    eventually(PATIENCE, "the credit back", || async {
        (app.credit_available("canceller@example.com").await == "5000.00").then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_cancellation_that_overtakes_its_confirmation_still_ends_cancelled() {
    let app = TestApp::spawn().await;
    let order = reserved_order(&app, "overtaken@example.com", "70.00").await;

    app.publish(
        contract::ORDER_CANCELLED,
        cancelled(&order, "70.00"),
        Uuid::new_v4(),
    )
    .await;
    history_when(&app, order.customer_id, "the cancellation applied", |b| {
        b["total"] == 1
    })
    .await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "70.00"),
        Uuid::new_v4(),
    )
    .await;
    // A sentinel event after the confirmation shows the confirmation was handled.
    let sentinel = reserved_order(&app, "overtaken@example.com", "1.00").await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&sentinel, "1.00"),
        Uuid::new_v4(),
    )
    .await;

    let body = history_when(&app, order.customer_id, "the sentinel order", |b| {
        b["total"] == 2
    })
    .await;
    let item = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["order_id"] == order.order_id.to_string())
        .unwrap();
    assert_eq!(item["status"], "cancelled");
    assert_eq!(body["stats"]["total_spent"], "1.00");
    assert_eq!(
        app.credit_available("overtaken@example.com").await,
        "4999.00"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_history_of_an_unknown_customer_is_a_404() {
    let app = TestApp::spawn().await;

    let (status, body) = app
        .get(&format!("/api/v1/customers/{}/orders", Uuid::new_v4()))
        .await;

    assert_eq!(status, 404, "{body}");
    let (status, body) = app.get(&format!("/api/v1/customers/{ADA}/orders")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stats"]["order_count"], 0);
    assert_eq!(body["stats"]["total_spent"], "0.00");
    app.stop().await;
}

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

#[tokio::test]
async fn a_confirmed_order_is_charged_even_past_the_limit_and_the_overdraft_shows() {
    let app = TestApp::spawn().await;
    let (status, customer) = app
        .post(
            "/api/v1/customers",
            &serde_json::json!({"email": "debtor@example.com", "name": "Debtor", "credit_limit": "10.00"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{customer}");
    // A confirmation with no reservation behind it (a restored database, a
    // reservation lapsed and spent): the order is real, so is the debt.
    let order = Order {
        order_id: Uuid::new_v4(),
        saga_id: Uuid::new_v4(),
        customer_id: Uuid::parse_str(customer["id"].as_str().unwrap()).unwrap(),
    };
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "25.00"),
        Uuid::new_v4(),
    )
    .await;
    history_when(&app, order.customer_id, "the order in the history", |b| {
        b["total"] == 1
    })
    .await;
    let (_, debtor) = app
        .get(&format!("/api/v1/customers/{}", order.customer_id))
        .await;
    assert_eq!(debtor["credit_available"], "0.00", "{debtor}");
    assert_eq!(debtor["overdraft"], "15.00", "{debtor}");
    assert!(app.counter("credit_overdrafts_total").await >= 1.0);
    // No new hold beyond the limit.
    let refused = app
        .verify_or_create(Uuid::new_v4(), "debtor@example.com", "Debtor", "1.00")
        .await
        .expect("answered");
    assert!(
        matches!(
            refused,
            VerifyOrCreateReply::Refused {
                reason: contract::RefusalReason::CreditLimitExceeded,
                ..
            }
        ),
        "{refused:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cancellation_of_a_lapsed_reservation_leaves_nothing_for_a_late_confirmation_to_charge() {
    let app =
        TestApp::spawn_with(&[("RESERVATION_TTL", "1s"), ("LEASE_SWEEP_INTERVAL", "100ms")]).await;
    let order = reserved_order(&app, "lapsed@example.com", "30.00").await;
    eventually(PATIENCE, "the reservation to lapse", || async {
        (app.credit_available("lapsed@example.com").await == "5000.00").then_some(())
    })
    .await;

    app.publish(
        contract::ORDER_CANCELLED,
        cancelled(&order, "30.00"),
        Uuid::new_v4(),
    )
    .await;
    history_when(&app, order.customer_id, "the cancellation", |b| {
        b["items"][0]["status"] == "cancelled"
    })
    .await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "30.00"),
        Uuid::new_v4(),
    )
    .await;
    // A later event for the same customer: once it shows, the confirmation was handled.
    let marker = Order {
        order_id: Uuid::new_v4(),
        saga_id: Uuid::new_v4(),
        customer_id: order.customer_id,
    };
    app.publish(
        contract::ORDER_CANCELLED,
        cancelled(&marker, "0.01"),
        Uuid::new_v4(),
    )
    .await;
    history_when(&app, order.customer_id, "the marker event", |b| {
        b["total"] == 2
    })
    .await;

    assert_eq!(
        app.credit_available("lapsed@example.com").await,
        "5000.00",
        "the cancelled order is not charged"
    );
    let (_, customer) = app
        .get(&format!("/api/v1/customers/{}", order.customer_id))
        .await;
    assert_eq!(customer["overdraft"], "0.00", "{customer}");
    app.stop().await;
}
