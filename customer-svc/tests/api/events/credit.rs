//! What confirmations and cancellations do to credit: a confirmed order is
//! charged even past the limit; a cancelled one, once lapsed, never is.

use contract::VerifyOrCreateReply;
use uuid::Uuid;

use super::orders::{Order, cancelled, confirmed, history_when, reserved_order};
use crate::helpers::*;

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
    let metrics = app.metrics().await;
    let exported = |name| testkit::exposition::value(&metrics, name, &[]);
    assert_eq!(exported("credit_overdrafts_total"), Some(1.0));
    assert_eq!(
        exported("credit_overdraft_amount_sum"),
        Some(15.0),
        "the part of 25.00 past the limit of 10.00"
    );
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
    assert_eq!(app.counter("credit_overdrafts_total").await, 0.0);
    app.stop().await;
}
