//! Checkout requests refused before any saga starts: invalid bodies, a client
//! over its quota; and idempotency keys forgotten after their TTL.

use serde_json::{Value, json};

use super::order_svc_alone;
use crate::harness::*;

#[tokio::test]
async fn an_invalid_checkout_is_a_422_before_any_saga_starts() {
    let system = order_svc_alone().await;
    let mug = system.product("12.50", 10).await;
    let checkout = |body: Value| {
        let system = &system;
        async move {
            system
                .post(&system.order_url("/api/v1/orders"), &body)
                .await
        }
    };

    // Each case is wrong in exactly one field, and the answer must name that
    // field alone: a case refused for another reason fails here.
    let cases = [
        (
            "customer.email",
            json!({"customer": {"email": "not-an-email", "name": "N"}, "items": [{"product_id": mug, "quantity": 1}]}),
        ),
        (
            "customer.name",
            json!({"customer": {"email": "a@example.com", "name": " "}, "items": [{"product_id": mug, "quantity": 1}]}),
        ),
        (
            "items[0].quantity",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": mug, "quantity": 0}]}),
        ),
        (
            "items[0].quantity",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": mug, "quantity": 1001}]}),
        ),
        (
            "items[0].product_id",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": uuid::Uuid::new_v4(), "quantity": 1}]}),
        ),
        (
            "items[0].product_id",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": "not-a-uuid", "quantity": 1}]}),
        ),
        (
            "items",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": (0..51).map(|_| json!({"product_id": uuid::Uuid::new_v4(), "quantity": 1})).collect::<Vec<_>>()}),
        ),
        (
            "items",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": []}),
        ),
        (
            "customer",
            json!({"items": [{"product_id": mug, "quantity": 1}]}),
        ),
        // A price sent by the client is ignored; the second line repeats the product.
        (
            "items[1].product_id",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": mug, "quantity": 1, "price": "0.01"}, {"product_id": mug, "quantity": 1}]}),
        ),
    ];
    for (field, body) in cases {
        let (status, error) = checkout(body.clone()).await;
        assert_eq!(status, 422, "{body} -> {error}");
        assert_eq!(error["error"]["code"], "validation_failed", "{error}");
        let named: Vec<&String> = error["error"]["details"]["fields"]
            .as_object()
            .map(|fields| fields.keys().collect())
            .unwrap_or_default();
        assert_eq!(named, [field], "{body} -> {error}");
    }
    let malformed = system
        .http
        .post(system.order_url("/api/v1/orders"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let (status, error) = system
        .checkout_on(
            0,
            "a@example.com",
            &[(&mug, 1)],
            Some("bad key with spaces"),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["error"]["details"]["fields"]
            .get("Idempotency-Key")
            .is_some(),
        "{error}"
    );

    let (_, orders) = system.get(&system.order_url("/api/v1/orders")).await;
    assert_eq!(orders["total"], 0, "no order was recorded");
    assert_eq!(system.stock_of(&mug).await, 10);
    let (status, _) = system
        .get(&system.order_url(&format!("/api/v1/orders/{}", uuid::Uuid::new_v4())))
        .await;
    assert_eq!(status, 404);
    let (status, _) = system
        .get(&system.order_url("/api/v1/orders?status=lost"))
        .await;
    assert_eq!(status, 422);
    let (status, _) = system
        .get(&system.order_url("/api/v1/orders?customer_id=nope"))
        .await;
    assert_eq!(status, 422);
    system.stop().await;
}

#[tokio::test]
async fn a_client_over_its_checkout_quota_gets_a_429_with_retry_after() {
    let mut system = System::without_services().await;
    system
        .start_order_svc(&[("CHECKOUT_RATE_PER_MINUTE", "2")])
        .await;
    let invalid = json!({"items": []});

    let (first, _) = system
        .post(&system.order_url("/api/v1/orders"), &invalid)
        .await;
    let (second, _) = system
        .post(&system.order_url("/api/v1/orders"), &invalid)
        .await;
    let third = system
        .http
        .post(system.order_url("/api/v1/orders"))
        .json(&invalid)
        .send()
        .await
        .unwrap();

    assert_eq!(
        (first, second),
        (422, 422),
        "within the quota, requests are judged on their merits"
    );
    assert_eq!(third.status(), 429);
    let retry_after: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, _) = system.get(&system.order_url("/api/v1/products")).await;
    assert_eq!(status, 200, "only checkout is limited");
    system.stop().await;
}

#[tokio::test]
async fn idempotency_keys_are_forgotten_after_their_ttl() {
    let mut system = System::without_services().await;
    // No customer-svc: the orders end at the (short) RPC timeout, which is
    // not what this test is about.
    system
        .start_order_svc(&[("IDEMPOTENCY_KEY_TTL", "1s"), ("RPC_TIMEOUT_MS", "300")])
        .await;
    let mug = system.product("12.50", 10).await;
    let key = "short-lived-key";
    let (status, first) = system
        .checkout_on(0, "ttl@example.com", &[(&mug, 1)], Some(key))
        .await;
    assert!(matches!(status, 201 | 202), "{first}");
    let (status, _) = system
        .checkout_on(0, "ttl@example.com", &[(&mug, 2)], Some(key))
        .await;
    assert_eq!(
        status, 422,
        "while remembered, the key is bound to its request"
    );

    let pool = system.orders_db().await;
    eventually(PATIENCE, "the key to be forgotten", || async {
        let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        (keys == 0).then_some(())
    })
    .await;
    let (status, second) = system
        .checkout_on(0, "ttl@example.com", &[(&mug, 2)], Some(key))
        .await;
    assert!(matches!(status, 201 | 202), "{second}");
    assert_ne!(
        first["id"], second["id"],
        "a forgotten key starts a new order"
    );
    pool.close().await;
    system.stop().await;
}
