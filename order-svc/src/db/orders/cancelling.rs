//! Cancelling a confirmed order: its stock restored, its status changed,
//! `order.cancelled` queued and the timeline written, in one transaction.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use contract::{Currency, Money, OrderCancelled};

use super::rows::OrderRow;
use crate::db::{self, outbox, sagas};

/// What a cancellation found.
#[derive(Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// The order was confirmed and is now cancelled.
    Now,
    /// It was cancelled before: nothing changed.
    Already,
    /// It is in a status that cannot be cancelled.
    NotCancellable(String),
    /// There is no such order.
    NotFound,
}

/// Cancels a confirmed order: restores its stock, marks it cancelled, and
/// queues `order.cancelled` (customer-svc then releases the credit),
/// carrying `request_id` (the cancel request's), in one transaction.
/// Idempotent.
pub async fn cancel(pool: &PgPool, id: Uuid, request_id: Option<&str>) -> sqlx::Result<Cancelled> {
    let mut tx = pool.begin().await?;
    let Some(order) =
        sqlx::query_as::<_, OrderRow>("SELECT * FROM orders WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
    else {
        return Ok(Cancelled::NotFound);
    };
    match order.status.as_str() {
        "confirmed" => {}
        "cancelled" => return Ok(Cancelled::Already),
        other => return Ok(Cancelled::NotCancellable(other.to_owned())),
    }
    restock(&mut tx, id).await?;
    sqlx::query("UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let (saga_id, units): (Uuid, i64) = sqlx::query_as(
        "SELECT g.id, (SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE order_id = $1)
         FROM sagas g WHERE g.order_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let event = OrderCancelled {
        order_id: id,
        saga_id,
        customer_id: order
            .customer_id
            .ok_or_else(|| db::inconsistent(format!("confirmed order {id} without a customer")))?,
        total: Money::new(order.total)
            .map_err(|e| db::inconsistent(format!("order {id} total: {}", e.0)))?,
        currency: Currency::parse(&order.currency)
            .map_err(|e| db::inconsistent(format!("order {id} currency: {}", e.0)))?,
        item_count: u32::try_from(units)
            .map_err(|_| db::inconsistent(format!("order {id} has {units} units")))?,
        placed_at: order.created_at,
        cancelled_at: Utc::now(),
    };
    outbox::insert(
        &mut tx,
        contract::ORDER_CANCELLED,
        outbox::Queued {
            payload: &event,
            saga_id,
            correlation_id: &saga_id.to_string(),
            request_id,
        },
    )
    .await?;
    sagas::log_step(
        &mut tx,
        saga_id,
        "cancel_order",
        "completed",
        "order cancelled: stock restored, order.cancelled queued (customer-svc releases the credit)",
    )
    .await?;
    tx.commit().await?;
    Ok(Cancelled::Now)
}

/// Puts the order's units back, locking products in id order like every
/// stock change, so that no two transactions deadlock.
async fn restock(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT p.id FROM products p
         WHERE p.id IN (SELECT product_id FROM order_lines WHERE order_id = $1)
         ORDER BY p.id FOR UPDATE",
    )
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE products p SET stock = p.stock + l.quantity, updated_at = now()
         FROM order_lines l WHERE l.order_id = $1 AND p.id = l.product_id",
    )
    .bind(order_id)
    .execute(tx)
    .await
    .map(drop)
}
