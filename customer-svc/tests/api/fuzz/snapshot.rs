//! What the database holds before and after the requests: every customer,
//! and how many rows only messages write.

use std::collections::HashMap;

/// Every customer as JSON text, by id; and how many rows the tables that
/// only messages write hold.
pub(super) struct Snapshot {
    pub(super) customers: HashMap<String, String>,
    pub(super) written_by_messages: i64,
}

impl Snapshot {
    pub(super) async fn take(database: &sqlx::PgPool) -> Self {
        let customers = sqlx::query_as::<_, (String, String)>(
            "SELECT id::text, to_jsonb(c)::text FROM customers c",
        )
        .fetch_all(database)
        .await
        .expect("a snapshot")
        .into_iter()
        .collect();
        let written_by_messages = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM credit_reservations)
                  + (SELECT count(*) FROM order_history)
                  + (SELECT count(*) FROM processed_messages)",
        )
        .fetch_one(database)
        .await
        .expect("counts");
        Self {
            customers,
            written_by_messages,
        }
    }
}
