//! order-svc while PostgreSQL itself refuses its database, as a database
//! administrator closes one for maintenance (`ALLOW_CONNECTIONS false`, its
//! sessions terminated: reconnections are answered `55000`): every request
//! that needs the database is a 503 with `Retry-After` in the contract's
//! error shape, never a 500; a checkout waits for the database within its
//! own wait before it answers so; retried with its `Idempotency-Key` once
//! the database is back, it is placed once.

use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::harness::*;

/// Closes or opens the database to everyone, ending the sessions it has.
async fn allow_connections(database: &str, allowed: bool) {
    let mut admin = PgConnection::connect(&testkit::database::admin_url())
        .await
        .expect("admin connection");
    // The name is the test database's own.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        r#"ALTER DATABASE "{database}" ALLOW_CONNECTIONS {allowed}"#
    )))
    .execute(&mut admin)
    .await
    .expect("ALTER DATABASE");
    if !allowed {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .execute(&mut admin)
        .await
        .expect("sessions terminated");
    }
    admin.close().await.expect("admin connection closed");
}

/// Status, `Retry-After` and body of a request.
async fn answer(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

fn assert_unavailable(what: &str, (status, retry_after, body): &(u16, Option<String>, Value)) {
    assert_eq!(*status, 503, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
    let seconds: u64 = retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .parse()
        .expect("Retry-After in seconds");
    assert!(seconds >= 1, "{what}: Retry-After {seconds}");
}

#[tokio::test]
async fn while_its_database_is_closed_order_svc_answers_503_and_a_retried_checkout_is_placed_once()
{
    let mut system = System::without_services().await;
    system.start_customer_svc().await;
    // A short wait, so that the checkout's patience with the database ends
    // well within the test.
    system
        .start_order_svc(&[("CHECKOUT_WAIT_MS", "2000")])
        .await;
    let mug = system.product("9.50", 10).await;
    let database = system.orders_db.name().to_owned();

    allow_connections(&database, false).await;
    let products = answer(system.http.get(system.order_url("/api/v1/products"))).await;
    assert_unavailable("the catalogue", &products);
    let body = checkout_body("outage@example.com", &[(&mug, 2)]);
    let key = "outage-checkout-1";
    let checkout = || {
        system
            .http
            .post(system.order_url("/api/v1/orders"))
            .header("idempotency-key", key)
            .json(&body)
    };
    let refused = answer(checkout()).await;
    assert_unavailable("a checkout", &refused);

    allow_connections(&database, true).await;
    let (status, _, order) = answer(checkout()).await;
    assert!(status == 201 || status == 202, "{status} {order}");
    let order_id = order["id"].as_str().expect("order id").to_owned();
    let (again, _, same) = answer(checkout()).await;
    assert!(again == 201 || again == 202, "{again} {same}");
    assert_eq!(same["id"], order["id"], "the same key, the same order");
    let order = system
        .order_when(&order_id, "the checkout to end", |o| {
            o["status"] != "pending"
        })
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");

    let pool = system.orders_db().await;
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&pool)
        .await
        .expect("orders counted");
    assert_eq!(
        orders, 1,
        "the checkout refused during the outage wrote nothing"
    );
    assert_eq!(system.stock_of(&mug).await, 8, "stock taken once");
    pool.close().await;
    system.stop().await;
}
