//! Each customer's order history, applied from order events exactly once and
//! in any order: the inbox row, the history row and the credit change commit
//! together, and a cancellation that overtakes its confirmation leaves the
//! order cancelled with its credit released.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use tracing::warn;
use uuid::Uuid;

use contract::{ORDER_CANCELLED, ORDER_CONFIRMED, OrderCancelled, OrderConfirmed};

use super::{credit, inbox};

/// Attempts of a transaction that lost a race (deadlock, serialization)
/// before giving up.
const RACE_ATTEMPTS: u32 = 5;

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event changed the history.
    Applied,
    /// The event was applied before: nothing changed.
    Duplicate,
    /// The customer no longer exists: nothing to keep.
    UnknownCustomer,
}

/// An order event to apply, with its message id (the inbox key).
#[derive(Debug, Clone)]
pub struct OrderEvent {
    /// The message id the inbox deduplicates by.
    pub message_id: String,
    /// What happened.
    pub change: OrderChange,
}

/// The order events customer-svc keeps the history from.
#[derive(Debug, Clone)]
pub enum OrderChange {
    /// `order.confirmed`.
    Confirmed(OrderConfirmed),
    /// `order.cancelled`.
    Cancelled(OrderCancelled),
}

impl OrderChange {
    fn kind(&self) -> &'static str {
        match self {
            Self::Confirmed(_) => ORDER_CONFIRMED,
            Self::Cancelled(_) => ORDER_CANCELLED,
        }
    }

    fn customer_id(&self) -> Uuid {
        match self {
            Self::Confirmed(e) => e.customer_id,
            Self::Cancelled(e) => e.customer_id,
        }
    }

    fn saga_id(&self) -> Uuid {
        match self {
            Self::Confirmed(e) => e.saga_id,
            Self::Cancelled(e) => e.saga_id,
        }
    }
}

/// Applies a batch of order events in one transaction, each exactly once:
/// the inbox rows, the history rows and the credit changes commit together.
/// Outcomes come in the order given. Confirmations are written set-based;
/// cancellations (rare) one by one after them, so a cancellation in the same
/// batch as its confirmation ends the order cancelled, as in any order.
pub async fn apply_all(pool: &PgPool, events: &[OrderEvent]) -> sqlx::Result<Vec<Applied>> {
    let mut attempt = 1;
    loop {
        match try_apply_all(pool, events).await {
            Err(error) if attempt < RACE_ATTEMPTS && super::lost_a_race(&error) => attempt += 1,
            outcome => return outcome,
        }
    }
}

async fn try_apply_all(pool: &PgPool, events: &[OrderEvent]) -> sqlx::Result<Vec<Applied>> {
    let mut tx = pool.begin().await?;
    let mut outcomes = vec![Applied::Duplicate; events.len()];

    // The inbox: the first delivery of each message id, once even within the batch.
    let mut seen = HashSet::new();
    let firsts: Vec<usize> = (0..events.len())
        .filter(|&i| seen.insert(events[i].message_id.as_str()))
        .collect();
    let messages: Vec<(&str, &str)> = firsts
        .iter()
        .map(|&i| (events[i].message_id.as_str(), events[i].change.kind()))
        .collect();
    let fresh = inbox::first_times(&mut tx, &messages).await?;
    let to_apply: Vec<usize> = firsts
        .into_iter()
        .filter(|&i| fresh.contains(&events[i].message_id))
        .collect();

    // Every lock this batch needs, up front and in the service's one order
    // (reservations by saga, then customers by id). An event for a customer
    // that no longer exists keeps its inbox row, so that it is not retried,
    // and changes nothing else.
    let sagas: Vec<Uuid> = to_apply
        .iter()
        .map(|&i| events[i].change.saga_id())
        .collect();
    let customers: Vec<Uuid> = to_apply
        .iter()
        .map(|&i| events[i].change.customer_id())
        .collect();
    let known = credit::lock_in_order(&mut tx, &sagas, &customers).await?;
    let mut confirmed = Vec::new();
    let mut cancelled = Vec::new();
    for i in to_apply {
        let event = &events[i];
        if !known.contains(&event.change.customer_id()) {
            warn!(customer_id = %event.change.customer_id(), message_id = %event.message_id,
                  message_type = event.change.kind(), "event for an unknown customer: skipped");
            outcomes[i] = Applied::UnknownCustomer;
            continue;
        }
        outcomes[i] = Applied::Applied;
        match &event.change {
            OrderChange::Confirmed(e) => confirmed.push(e),
            OrderChange::Cancelled(e) => cancelled.push(e),
        }
    }

    let mut overdrafts = credit::Overdrafts::default();
    if !confirmed.is_empty() {
        add_confirmed(&mut tx, &confirmed).await?;
        overdrafts = credit::settle_all(&mut tx, &confirmed).await?;
    }
    // Their locks are held already; in a set order all the same.
    cancelled.sort_by_key(|event| (event.customer_id, event.saga_id));
    for event in cancelled {
        add_cancelled(&mut tx, event).await?;
        credit::release_held(&mut tx, event.saga_id, true).await?;
    }
    tx.commit().await?;
    overdrafts.record();
    Ok(outcomes)
}

/// History rows for confirmed orders; a cancellation that arrived first
/// already wrote its row as cancelled, and keeps it.
async fn add_confirmed(tx: &mut PgConnection, events: &[&OrderConfirmed]) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO order_history
            (order_id, customer_id, saga_id, status, total, currency, item_count, placed_at)
         SELECT h.order_id, h.customer_id, h.saga_id, 'confirmed', h.total, h.currency,
                h.item_count, h.placed_at
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::numeric[], $5::text[],
                     $6::int[], $7::timestamptz[])
              AS h(order_id, customer_id, saga_id, total, currency, item_count, placed_at)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(events.iter().map(|e| e.order_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.customer_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.saga_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.total.amount()).collect::<Vec<_>>())
    .bind(
        events
            .iter()
            .map(|e| e.currency.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        events
            .iter()
            .map(|e| stored_item_count(e.item_count))
            .collect::<sqlx::Result<Vec<_>>>()?,
    )
    .bind(events.iter().map(|e| e.placed_at).collect::<Vec<_>>())
    .execute(tx)
    .await
    .map(drop)
}

/// The history row of a cancelled order (written cancelled when the
/// cancellation overtook the confirmation).
async fn add_cancelled(tx: &mut PgConnection, event: &OrderCancelled) -> sqlx::Result<()> {
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
    .bind(event.currency.as_str())
    .bind(stored_item_count(event.item_count)?)
    .bind(event.placed_at)
    .execute(tx)
    .await
    .map(drop)
}

/// An event's unit count as the history stores it (an `integer`). A count
/// beyond that is refused, never written as a smaller one.
fn stored_item_count(item_count: u32) -> sqlx::Result<i32> {
    i32::try_from(item_count).map_err(|_| {
        sqlx::Error::Encode(
            format!("item_count {item_count} is more than the history can hold").into(),
        )
    })
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
