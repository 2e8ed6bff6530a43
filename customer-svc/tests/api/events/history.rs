//! The history kept from events: an order counted once however often it is
//! delivered, a cancellation applied in either order, an unknown customer's.

use uuid::Uuid;

use super::orders::{cancelled, confirmed, history_when, reserved_order};
use crate::helpers::*;

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
