//! The invariant checker on a real system: everything holds after
//! confirmations, rejections, a compensation and a cancellation; and each
//! kind of drift, put there by hand, is reported.

use std::collections::HashMap;

use order_svc::consistency::{self, Bounds, Report};
use uuid::Uuid;

use crate::harness::*;

async fn report(system: &System, initial: &HashMap<Uuid, i64>) -> Report {
    consistency::check(
        &system.orders_db().await,
        &system.customers_db().await,
        Bounds::default(),
        Some(initial),
    )
    .await
    .expect("checked")
}

#[tokio::test]
async fn every_invariant_holds_after_a_mixed_day_and_drift_is_reported() {
    let system = System::start().await;
    let mug = system.product("10.00", 5).await;
    let initial = HashMap::from([(Uuid::parse_str(&mug).unwrap(), 5)]);

    let (_, first) = system.checkout("first@example.com", &[(&mug, 2)]).await;
    let (_, second) = system.checkout("second@example.com", &[(&mug, 1)]).await;
    let (_, blocked) = system.checkout("blocked@example.com", &[(&mug, 1)]).await;
    let (_, too_many) = system.checkout("greedy@example.com", &[(&mug, 10)]).await;
    assert_eq!(first["status"], "confirmed", "{first}");
    assert_eq!(second["status"], "confirmed", "{second}");
    assert_eq!(blocked["status"], "rejected", "{blocked}");
    assert_eq!(too_many["reason"], "insufficient_stock", "{too_many}");
    let (status, cancelled) = system.cancel(&second).await;
    assert_eq!(status, 200, "{cancelled}");

    let quiet = eventually(PATIENCE, "every invariant to hold", || async {
        let found = report(&system, &initial).await;
        found.holds().then_some(found)
    })
    .await;
    let looked_at: HashMap<&str, usize> = quiet.checked.iter().copied().collect();
    assert_eq!(looked_at["histories"], 2, "{quiet}");
    assert_eq!(looked_at["orders' credit"], 4, "{quiet}");
    assert_eq!(looked_at["products' stock"], 1, "{quiet}");

    // Drift of each kind, by hand: the checker names each.
    let customers = system.customers_db().await;
    sqlx::query(
        "UPDATE customers SET credit_used = credit_used + 1 WHERE email = 'first@example.com'",
    )
    .execute(&customers)
    .await
    .unwrap();
    sqlx::query("DELETE FROM order_history WHERE order_id = $1")
        .bind(Uuid::parse_str(first["id"].as_str().unwrap()).unwrap())
        .execute(&customers)
        .await
        .unwrap();
    sqlx::query("UPDATE products SET stock = stock + 1 WHERE id = $1")
        .bind(Uuid::parse_str(&mug).unwrap())
        .execute(&system.orders_db().await)
        .await
        .unwrap();
    let drifted = report(&system, &initial).await;
    let said = drifted.to_string();
    assert!(!drifted.holds(), "{said}");
    for expected in [
        "credit_used",
        "missing from its customer's history",
        "started with 5",
    ] {
        assert!(said.contains(expected), "{expected:?} in {said}");
    }
    system.stop().await;
}

#[tokio::test]
async fn what_outlived_its_retention_is_swept_and_the_orders_stay() {
    use order_svc::db::retention::{self, Retention, Swept};

    let system = System::start().await;
    let mug = system.product("2.00", 10).await;
    let (_, order) = system
        .checkout_on(0, "kept@example.com", &[(&mug, 1)], Some("kept-key"))
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    let pool = system.orders_db().await;
    eventually(PATIENCE, "the event sent", || async {
        let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
        (unsent == 0).then_some(())
    })
    .await;
    let retention = Retention {
        idempotency_keys: std::time::Duration::from_secs(24 * 3600),
        sent_events: std::time::Duration::from_secs(7 * 24 * 3600),
        finished_timelines: std::time::Duration::from_secs(90 * 24 * 3600),
    };
    assert_eq!(
        retention::sweep(&pool, &retention).await.unwrap(),
        Swept::default(),
        "nothing is old yet"
    );

    for aging in [
        "UPDATE idempotency_keys SET created_at = now() - interval '2 days'",
        "UPDATE outbox SET sent_at = now() - interval '8 days'",
        "UPDATE sagas SET updated_at = now() - interval '91 days'",
    ] {
        sqlx::query(aging).execute(&pool).await.unwrap();
    }
    // The service's own sweep may get there first; either way they go.
    retention::sweep(&pool, &retention).await.unwrap();
    for (table, left) in [
        ("idempotency_keys", "SELECT count(*) FROM idempotency_keys"),
        ("outbox", "SELECT count(*) FROM outbox"),
        ("saga_steps", "SELECT count(*) FROM saga_steps"),
    ] {
        let count: i64 = sqlx::query_scalar(left).fetch_one(&pool).await.unwrap();
        assert_eq!(count, 0, "{table} swept");
    }
    let (status, kept) = system
        .get(&system.order_url(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap())))
        .await;
    assert_eq!(status, 200, "the order itself is kept");
    assert_eq!(kept["status"], "confirmed");
    assert_eq!(
        kept["saga"],
        serde_json::json!([]),
        "its old timeline is gone"
    );
    system.stop().await;
}
