//! The orders the tests publish events about (credit reserved for each), the
//! events themselves, and reading a customer's history back.

use chrono::{TimeZone, Utc};
use contract::{Money, OrderCancelled, OrderConfirmed, VerifyOrCreateReply};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

pub(crate) struct Order {
    pub(crate) order_id: Uuid,
    pub(crate) saga_id: Uuid,
    pub(crate) customer_id: Uuid,
}

pub(crate) async fn reserved_order(app: &TestApp, email: &str, amount: &str) -> Order {
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

pub(crate) fn confirmed(order: &Order, total: &str) -> OrderConfirmed {
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

pub(crate) fn cancelled(order: &Order, total: &str) -> OrderCancelled {
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

pub(crate) async fn history_when(
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
