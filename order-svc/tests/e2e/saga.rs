//! The checkout saga's paths, end to end with the real customer-svc.

use crate::harness::*;

#[tokio::test]
async fn a_checkout_is_confirmed_and_lands_in_the_customers_history() {
    let system = System::start().await;
    let mug = system.product("12.50", 10).await;
    let pan = system.product("54.00", 5).await;

    let (status, order) = system
        .checkout("happy@example.com", &[(&mug, 2), (&pan, 1)])
        .await;

    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["reason"], serde_json::Value::Null);
    assert_eq!(order["total"], "79.00");
    assert_eq!(order["items"][0]["unit_price"], "12.50");
    assert_eq!(order["items"][0]["line_total"], "25.00");
    assert_eq!(
        timeline(&order)[..4],
        [
            "record_order:completed",
            "verify_customer:completed",
            "reserve_stock:completed",
            "confirm_order:completed"
        ]
    );
    assert_eq!(system.stock_of(&mug).await, 8);
    assert_eq!(system.stock_of(&pan).await, 4);

    let id = order["id"].as_str().unwrap();
    let order = system
        .order_when(id, "order.confirmed published", |o| {
            timeline(o).contains(&"publish_event:completed".to_owned())
        })
        .await;
    let customer_id = order["customer_id"].as_str().unwrap();
    let history = eventually(PATIENCE, "the order in the customer's history", || async {
        let history = system.history(customer_id).await;
        (history["total"] == 1).then_some(history)
    })
    .await;
    assert_eq!(history["items"][0]["order_id"], id);
    assert_eq!(history["items"][0]["status"], "confirmed");
    assert_eq!(history["items"][0]["item_count"], 3);
    assert_eq!(history["stats"]["order_count"], 1);
    assert_eq!(history["stats"]["total_spent"], "79.00");
    let customer = system.customer("happy@example.com").await.unwrap();
    assert_eq!(customer["credit_available"], "4921.00");
    system.stop().await;
}

#[tokio::test]
async fn a_blocked_customer_is_rejected_and_no_stock_moves() {
    let system = System::start().await;
    let mug = system.product("12.50", 10).await;

    let (status, order) = system.checkout("blocked@example.com", &[(&mug, 1)]).await;

    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "rejected");
    assert_eq!(order["reason"], "customer_blocked");
    assert!(
        timeline(&order).contains(&"verify_customer:refused".to_owned()),
        "{order}"
    );
    assert_eq!(system.stock_of(&mug).await, 10);
    system.stop().await;
}

#[tokio::test]
async fn a_total_over_the_credit_limit_is_rejected() {
    let system = System::start().await;
    let kettle = system.product("39.90", 10).await;

    let (status, order) = system
        .checkout("lowcredit@example.com", &[(&kettle, 2)])
        .await;

    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "rejected");
    assert_eq!(order["reason"], "credit_limit_exceeded");
    assert_eq!(system.stock_of(&kettle).await, 10);
    let customer = system.customer("lowcredit@example.com").await.unwrap();
    assert_eq!(customer["credit_available"], "50.00");
    system.stop().await;
}

#[tokio::test]
async fn too_little_stock_rejects_the_order_and_releases_the_reserved_credit() {
    let system = System::start().await;
    let plenty = system.product("10.00", 100).await;
    let scarce = system.product("20.00", 1).await;

    let (status, order) = system
        .checkout("short@example.com", &[(&plenty, 3), (&scarce, 2)])
        .await;

    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "rejected");
    assert_eq!(order["reason"], "insufficient_stock");
    assert_eq!(system.stock_of(&plenty).await, 100, "all or nothing");
    assert_eq!(system.stock_of(&scarce).await, 1);
    let id = order["id"].as_str().unwrap();
    let order = system
        .order_when(id, "the credit released", |o| {
            timeline(o).contains(&"release_credit:compensated".to_owned())
        })
        .await;
    assert!(
        timeline(&order).contains(&"reserve_stock:failed".to_owned()),
        "{order}"
    );
    let customer = system.customer("short@example.com").await.unwrap();
    assert_eq!(customer["credit_available"], "5000.00", "no credit held");
    system.stop().await;
}

#[tokio::test]
async fn without_customer_svc_the_order_is_rejected_and_no_credit_stays_held_once_it_is_back() {
    let mut system = System::without_services().await;
    // This test is about the RPC timeout: a short one of its own.
    system.start_order_svc(&[("RPC_TIMEOUT_MS", "1000")]).await;
    let mug = system.product("12.50", 10).await;

    let (status, order) = system.checkout("absent@example.com", &[(&mug, 1)]).await;

    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "rejected");
    assert_eq!(order["reason"], "customer_service_unavailable");
    assert!(
        timeline(&order).contains(&"verify_customer:timed_out".to_owned()),
        "{order}"
    );
    assert_eq!(system.stock_of(&mug).await, 10);

    system.start_customer_svc().await;
    let id = order["id"].as_str().unwrap();
    system
        .order_when(id, "the compensation to complete", |o| {
            timeline(o).contains(&"release_credit:compensated".to_owned())
        })
        .await;
    // The release fenced the saga before customer-svc ever served its
    // verification (which expired unanswered): nobody was created, nothing held.
    assert_eq!(
        system.customer("absent@example.com").await,
        None,
        "the timed-out verification created no customer"
    );
    let order = system.order(id).await;
    assert_eq!(order["status"], "rejected", "a late answer changed nothing");
    system.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_order_and_orders_once() {
    let system = System::start().await;
    let mug = system.product("12.50", 10).await;
    let key = format!("key-{}", uuid::Uuid::new_v4());

    let lines = [(mug.as_str(), 2)];
    let ((s1, first), (s2, second)) = tokio::join!(
        system.checkout_on(0, "twice@example.com", &lines, Some(&key)),
        system.checkout_on(0, "twice@example.com", &lines, Some(&key)),
    );
    let (s3, third) = system
        .checkout_on(0, "twice@example.com", &[(&mug, 2)], Some(&key))
        .await;

    assert!(
        matches!(s1, 201 | 202) && matches!(s2, 201 | 202) && s3 == 201,
        "{s1} {s2} {s3}"
    );
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["id"], third["id"]);
    assert_eq!(third["status"], "confirmed");
    assert_eq!(system.stock_of(&mug).await, 8, "ordered once");

    let (status, body) = system
        .checkout_on(0, "twice@example.com", &[(&mug, 3)], Some(&key))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_key_reused");
    system.stop().await;
}

#[tokio::test]
async fn cancelling_restores_stock_releases_credit_and_updates_the_history() {
    let system = System::start().await;
    let mug = system.product("12.50", 10).await;
    let (_, order) = system.checkout("cancel@example.com", &[(&mug, 4)]).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let customer_id = order["customer_id"].as_str().unwrap().to_owned();
    eventually(PATIENCE, "the confirmed order in the history", || async {
        (system.history(&customer_id).await["total"] == 1).then_some(())
    })
    .await;

    // The checkout's own token cancels it.
    let (status, cancelled) = system.cancel(&order).await;
    let (again, _) = system.cancel(&order).await;

    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(again, 200, "cancelling twice is harmless");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(system.stock_of(&mug).await, 10);
    let history = eventually(PATIENCE, "the cancellation in the history", || async {
        let history = system.history(&customer_id).await;
        (history["items"][0]["status"] == "cancelled").then_some(history)
    })
    .await;
    assert_eq!(history["stats"]["total_spent"], "0.00");
    let customer = system.customer("cancel@example.com").await.unwrap();
    assert_eq!(customer["credit_available"], "5000.00");

    let (_, rejected) = system.checkout("blocked@example.com", &[(&mug, 1)]).await;
    let (status, body) = system.cancel(&rejected).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "order_not_cancellable");
    system.stop().await;
}
