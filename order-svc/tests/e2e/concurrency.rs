//! Many checkouts at once, and two order-svc instances sharing the work.

use std::collections::HashMap;

use futures_util::future::join_all;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_checkouts_for_ten_units_confirm_exactly_ten() {
    let system = System::start().await;
    let scarce = system.product("5.00", 10).await;

    let checkouts = (0..50).map(|n| {
        let email = format!("buyer{n}@example.com");
        let scarce = scarce.clone();
        let system = &system;
        async move { system.checkout(&email, &[(&scarce, 1)]).await }
    });
    let outcomes = join_all(checkouts).await;

    let mut by_status: HashMap<String, usize> = HashMap::new();
    for (status, order) in &outcomes {
        assert!(matches!(status, 201 | 202), "{status}: {order}");
        *by_status
            .entry(order["status"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let ids: Vec<String> = outcomes
        .iter()
        .map(|(_, o)| o["id"].as_str().unwrap().to_owned())
        .collect();
    let mut ends: HashMap<(String, String), usize> = HashMap::new();
    for id in &ids {
        let order = system
            .order_when(id, "the saga's end", |o| o["status"] != "pending")
            .await;
        let end = (
            order["status"].as_str().unwrap_or("").to_owned(),
            order["reason"].as_str().unwrap_or("").to_owned(),
        );
        *ends.entry(end).or_default() += 1;
    }
    let expected = HashMap::from([
        (("confirmed".to_owned(), String::new()), 10),
        (("rejected".to_owned(), "insufficient_stock".to_owned()), 40),
    ]);
    assert_eq!(
        ends, expected,
        "exactly ten confirmed, every other one short of stock (first answers: {by_status:?})"
    );
    assert_eq!(system.stock_of(&scarce).await, 0, "no oversell");

    // Every rejected buyer gets its credit back.
    let pool = system.orders_db().await;
    eventually(PATIENCE, "every compensation done", || async {
        let unfinished: i64 = sqlx::query_scalar("SELECT count(*) FROM sagas WHERE step <> 'done'")
            .fetch_one(&pool)
            .await
            .unwrap();
        (unfinished == 0).then_some(())
    })
    .await;
    let mut credit: HashMap<String, usize> = HashMap::new();
    for n in 0..50 {
        let customer = system
            .customer(&format!("buyer{n}@example.com"))
            .await
            .expect("every buyer became a customer");
        let available = customer["credit_available"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        *credit.entry(available).or_default() += 1;
    }
    assert_eq!(
        credit,
        HashMap::from([("4995.00".to_owned(), 10), ("5000.00".to_owned(), 40)]),
        "the ten buyers hold their credit, the forty got theirs back"
    );
    pool.close().await;
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_load_and_every_saga_ends_exactly_once() {
    let mut system = System::start().await;
    system.start_order_svc(&[]).await;
    let product = system.product("3.00", 25).await;

    let checkouts = (0..40).map(|n| {
        let email = format!("shared{n}@example.com");
        let product = product.clone();
        let system = &system;
        async move {
            system
                .checkout_on(n % 2, &email, &[(&product, 1)], None)
                .await
        }
    });
    let outcomes = join_all(checkouts).await;
    let ids: Vec<String> = outcomes
        .iter()
        .map(|(_, o)| o["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        system
            .order_when(id, "the saga's end", |o| o["status"] != "pending")
            .await;
    }

    let pool = system.orders_db().await;
    eventually(
        PATIENCE,
        "every saga done and every event published",
        || async {
            let (unfinished, unsent): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM sagas WHERE step <> 'done'),
                    (SELECT count(*) FROM outbox WHERE sent_at IS NULL)",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            (unfinished == 0 && unsent == 0).then_some(())
        },
    )
    .await;
    let ends: Vec<(String, i64)> = sqlx::query_as(
        "SELECT g.status, count(*) FROM sagas g GROUP BY g.status ORDER BY g.status",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        ends,
        vec![("confirmed".to_owned(), 25), ("rejected".to_owned(), 15)]
    );
    let per_saga_ends: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE (step = 'confirm_order' AND status = 'completed')
                                 OR (step = 'release_credit' AND status = 'compensated'))
         FROM saga_steps GROUP BY saga_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(per_saga_ends.len(), 40);
    assert!(
        per_saga_ends.iter().all(|ends| *ends == 1),
        "each saga ended once: {per_saga_ends:?}"
    );
    let published: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE message_type = 'order.confirmed' AND sent_at IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(published, 25);
    assert_eq!(system.stock_of(&product).await, 0);
    pool.close().await;
    system.stop().await;
}
