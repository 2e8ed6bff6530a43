//! What the databases hold before and after the requests: every row of the
//! tables the routes write.

use std::collections::HashMap;

use crate::harness::System;

/// Every row of the tables the routes write, as JSON text, by key.
pub(super) struct Snapshot {
    pub(super) products: HashMap<String, String>,
    pub(super) orders: HashMap<String, String>,
    pub(super) order_lines: usize,
    pub(super) idempotency_keys: usize,
    pub(super) customers: HashMap<String, String>,
}

impl Snapshot {
    pub(super) async fn take(system: &System) -> Self {
        let orders_db = system.orders_db().await;
        let customers_db = system.customers_db().await;
        let snapshot = Self {
            products: rows(
                &orders_db,
                "SELECT id::text, to_jsonb(p)::text FROM products p",
            )
            .await,
            orders: rows(
                &orders_db,
                "SELECT id::text, to_jsonb(o)::text FROM orders o",
            )
            .await,
            order_lines: count(&orders_db, "SELECT count(*) FROM order_lines").await,
            idempotency_keys: count(&orders_db, "SELECT count(*) FROM idempotency_keys").await,
            customers: rows(
                &customers_db,
                "SELECT email, to_jsonb(c)::text FROM customers c",
            )
            .await,
        };
        orders_db.close().await;
        customers_db.close().await;
        snapshot
    }
}

async fn rows(pool: &sqlx::PgPool, sql: &'static str) -> HashMap<String, String> {
    sqlx::query_as::<_, (String, String)>(sql)
        .fetch_all(pool)
        .await
        .expect("a snapshot")
        .into_iter()
        .collect()
}

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> usize {
    let n: i64 = sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a count");
    usize::try_from(n).unwrap_or(0)
}
