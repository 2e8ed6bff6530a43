//! Each customer's order history, applied from order events exactly once and
//! in any order: the inbox row, the history row and the credit change commit
//! together, and a cancellation that overtakes its confirmation leaves the
//! order cancelled with its credit released.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool, Postgres, Transaction};
use tracing::warn;
use uuid::Uuid;

use messaging::contract::{ORDER_CANCELLED, ORDER_CONFIRMED, OrderCancelled, OrderConfirmed};

use super::{credit, inbox};

/// What applying an event did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The event changed the history.
    Applied,
    /// The event was applied before: nothing changed.
    Duplicate,
    /// The customer no longer exists: nothing to keep.
    UnknownCustomer,
}

/// Applies `order.confirmed`.
pub async fn apply_confirmed(
    pool: &PgPool,
    message_id: &str,
    event: &OrderConfirmed,
) -> sqlx::Result<Applied> {
    let mut tx = match begin(pool, message_id, ORDER_CONFIRMED, event.customer_id).await? {
        Ok(tx) => tx,
        Err(nothing_to_do) => return Ok(nothing_to_do),
    };
    // A cancellation that arrived first already wrote the row as cancelled.
    sqlx::query(
        "INSERT INTO order_history
            (order_id, customer_id, saga_id, status, total, currency, item_count, placed_at)
         VALUES ($1, $2, $3, 'confirmed', $4, $5, $6, $7)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(event.order_id)
    .bind(event.customer_id)
    .bind(event.saga_id)
    .bind(event.total.amount())
    .bind(&event.currency)
    .bind(i32::try_from(event.item_count).unwrap_or(i32::MAX))
    .bind(event.placed_at)
    .execute(&mut *tx)
    .await?;
    credit::settle(
        &mut tx,
        event.saga_id,
        event.customer_id,
        event.total.amount(),
        &event.currency,
    )
    .await?;
    tx.commit().await?;
    Ok(Applied::Applied)
}

/// Applies `order.cancelled`.
pub async fn apply_cancelled(
    pool: &PgPool,
    message_id: &str,
    event: &OrderCancelled,
) -> sqlx::Result<Applied> {
    let mut tx = match begin(pool, message_id, ORDER_CANCELLED, event.customer_id).await? {
        Ok(tx) => tx,
        Err(nothing_to_do) => return Ok(nothing_to_do),
    };
    sqlx::query(
        "INSERT INTO order_history
            (order_id, customer_id, saga_id, status, total, currency, item_count, placed_at)
         VALUES ($1, $2, $3, 'cancelled', $4, $5, $6, $7)
         ON CONFLICT (order_id) DO UPDATE SET status = 'cancelled', updated_at = now()",
    )
    .bind(event.order_id)
    .bind(event.customer_id)
    .bind(event.saga_id)
    .bind(event.total.amount())
    .bind(&event.currency)
    .bind(i32::try_from(event.item_count).unwrap_or(i32::MAX))
    .bind(event.placed_at)
    .execute(&mut *tx)
    .await?;
    credit::release_held(&mut tx, event.saga_id, true).await?;
    tx.commit().await?;
    Ok(Applied::Applied)
}

/// Opens the transaction that applies an event and records it in the inbox;
/// or says why there is nothing to do: the event was applied before, or its
/// customer no longer exists (then the inbox row is kept, so it is not retried).
async fn begin(
    pool: &PgPool,
    message_id: &str,
    message_type: &str,
    customer_id: Uuid,
) -> sqlx::Result<Result<Transaction<'static, Postgres>, Applied>> {
    let mut tx = pool.begin().await?;
    if !inbox::first_time(&mut tx, message_id, message_type).await? {
        return Ok(Err(Applied::Duplicate));
    }
    if !customer_exists(&mut tx, customer_id).await? {
        tx.commit().await?;
        warn!(%customer_id, %message_id, message_type, "event for an unknown customer: skipped");
        return Ok(Err(Applied::UnknownCustomer));
    }
    Ok(Ok(tx))
}

async fn customer_exists(tx: &mut PgConnection, customer_id: Uuid) -> sqlx::Result<bool> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM customers WHERE id = $1 FOR SHARE")
        .bind(customer_id)
        .fetch_optional(tx)
        .await?;
    Ok(found.is_some())
}

/// One order in a customer's history.
#[derive(Debug, Clone, FromRow)]
pub struct HistoryRow {
    /// The order.
    pub order_id: Uuid,
    /// `confirmed` or `cancelled`.
    pub status: String,
    /// Its total.
    pub total: Decimal,
    /// Currency of the total.
    pub currency: String,
    /// Units ordered.
    pub item_count: i32,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
}

/// A customer's statistics.
#[derive(Debug, Clone, Default, FromRow)]
pub struct StatsRow {
    /// Orders in the history, cancelled ones included.
    pub order_count: i64,
    /// Total of the orders not cancelled.
    pub total_spent: Decimal,
    /// When the latest order was placed.
    pub last_order_at: Option<DateTime<Utc>>,
}

/// One page of a customer's history (newest first), the number of orders,
/// and the statistics.
pub async fn page(
    pool: &PgPool,
    customer_id: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<HistoryRow>, StatsRow)> {
    let mut tx = super::snapshot(pool).await?;
    let items = sqlx::query_as(
        "SELECT order_id, status, total, currency, item_count, placed_at
         FROM order_history WHERE customer_id = $1
         ORDER BY placed_at DESC, order_id DESC LIMIT $2 OFFSET $3",
    )
    .bind(customer_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let stats = sqlx::query_as(
        "SELECT order_count, total_spent, last_order_at
         FROM customer_order_stats WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_default();
    Ok((items, stats))
}
