//! The checkout saga's persisted state machine. Every transition is a
//! compare-and-set on `(step, attempt)` committed together with the order's
//! status and a timeline entry, before any side effect of the next step is
//! requested; an outcome that arrives for a superseded attempt matches no row
//! and changes nothing. Leases say which instance drives a saga until when.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use messaging::contract::{self, Money, OrderConfirmed};

use super::outbox;
use crate::domain::order::RejectionReason;

/// A saga as stored.
#[derive(Debug, Clone, FromRow)]
pub struct SagaRow {
    /// The saga (and idempotency key of every step).
    pub id: Uuid,
    /// Its order.
    pub order_id: Uuid,
    /// `verify_customer`, `reserve_stock`, `release_credit` or `done`.
    pub step: String,
    /// `running`, `compensating`, `confirmed` or `rejected`.
    pub status: String,
    /// Tries of the current step.
    pub attempt: i32,
    /// When the current try of the step gives up.
    pub deadline: Option<DateTime<Utc>>,
    /// The customer, once verified.
    pub customer_id: Option<Uuid>,
    /// The rejection reason, once rejected.
    pub reason: Option<String>,
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Inserts a new saga at step `verify_customer`, leased to `owner`.
pub(crate) async fn insert(
    tx: &mut PgConnection,
    saga_id: Uuid,
    order_id: Uuid,
    owner: &str,
    lease: Duration,
    step_timeout: Duration,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sagas (id, order_id, step, status, attempt, deadline, lease_owner, lease_expires_at)
         VALUES ($1, $2, 'verify_customer', 'running', 1,
                 now() + make_interval(secs => $4), $3, now() + make_interval(secs => $5))",
    )
    .bind(saga_id)
    .bind(order_id)
    .bind(owner)
    .bind(seconds(step_timeout))
    .bind(seconds(lease))
    .execute(tx)
    .await
    .map(drop)
}

/// Appends an entry to the saga's timeline.
pub async fn log_step(
    tx: &mut PgConnection,
    saga_id: Uuid,
    step: &str,
    status: &str,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO saga_steps (saga_id, step, status, detail) VALUES ($1, $2, $3, $4)")
        .bind(saga_id)
        .bind(step)
        .bind(status)
        .bind(detail)
        .execute(tx)
        .await
        .map(drop)
}

/// Takes (or renews) the lease of an unfinished saga for `owner`; `None` when
/// it is finished or another instance's lease still runs.
pub async fn claim(
    pool: &PgPool,
    id: Uuid,
    owner: &str,
    lease: Duration,
) -> sqlx::Result<Option<SagaRow>> {
    sqlx::query_as(
        "UPDATE sagas SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1 AND step <> 'done'
           AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < now())
         RETURNING id, order_id, step, status, attempt, deadline, customer_id, reason",
    )
    .bind(id)
    .bind(owner)
    .bind(seconds(lease))
    .fetch_optional(pool)
    .await
}

/// Leases up to `limit` unfinished sagas nobody drives (their lease ran out,
/// for example because their instance crashed) to `owner`. `SKIP LOCKED`
/// keeps two instances from taking the same saga.
pub async fn claim_orphans(
    pool: &PgPool,
    owner: &str,
    lease: Duration,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "UPDATE sagas SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2)
         WHERE id IN (
            SELECT id FROM sagas
            WHERE step <> 'done' AND (lease_expires_at IS NULL OR lease_expires_at < now())
            ORDER BY updated_at LIMIT $3
            FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(owner)
    .bind(seconds(lease))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Starts a new try of the current step, with a new deadline. `None` when
/// the saga moved on meanwhile.
pub async fn next_attempt(
    pool: &PgPool,
    saga: &SagaRow,
    step_timeout: Duration,
    why: &str,
) -> sqlx::Result<Option<SagaRow>> {
    let mut tx = pool.begin().await?;
    let row: Option<SagaRow> = sqlx::query_as(
        "UPDATE sagas SET attempt = attempt + 1, deadline = now() + make_interval(secs => $4),
                          updated_at = now()
         WHERE id = $1 AND step = $2 AND attempt = $3
         RETURNING id, order_id, step, status, attempt, deadline, customer_id, reason",
    )
    .bind(saga.id)
    .bind(&saga.step)
    .bind(saga.attempt)
    .bind(seconds(step_timeout))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = &row {
        log_step(
            &mut tx,
            saga.id,
            &saga.step,
            "retried",
            &format!("attempt {}: {why}", row.attempt),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Step 2 succeeded: the customer is known and its credit reserved.
pub async fn customer_verified(
    pool: &PgPool,
    saga: &SagaRow,
    customer_id: Uuid,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE sagas SET step = 'reserve_stock', attempt = 1, deadline = NULL, customer_id = $3,
                          updated_at = now()
         WHERE id = $1 AND step = 'verify_customer' AND attempt = $2",
    )
    .bind(saga.id)
    .bind(saga.attempt)
    .bind(customer_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if moved {
        sqlx::query("UPDATE orders SET customer_id = $2, updated_at = now() WHERE id = $1")
            .bind(saga.order_id)
            .bind(customer_id)
            .execute(&mut *tx)
            .await?;
        log_step(
            &mut tx,
            saga.id,
            "verify_customer",
            "completed",
            &format!("customer {customer_id} verified; credit reserved"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(moved)
}

/// Step 2 refused: the order is rejected and there is nothing to compensate.
pub async fn refused(
    pool: &PgPool,
    saga: &SagaRow,
    reason: RejectionReason,
    customer_id: Option<Uuid>,
    detail: &str,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE sagas SET step = 'done', status = 'rejected', reason = $3, customer_id = $4,
                          deadline = NULL, lease_owner = NULL, lease_expires_at = NULL,
                          updated_at = now()
         WHERE id = $1 AND step = 'verify_customer' AND attempt = $2",
    )
    .bind(saga.id)
    .bind(saga.attempt)
    .bind(reason.code())
    .bind(customer_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if moved {
        reject_order(&mut tx, saga.order_id, reason, customer_id).await?;
        log_step(&mut tx, saga.id, "verify_customer", "refused", detail).await?;
    }
    tx.commit().await?;
    Ok(moved)
}

/// Step 2 timed out, or step 3 found too little stock: the order is rejected
/// now, and the saga moves to `release_credit` to compensate.
pub async fn start_compensation(
    pool: &PgPool,
    saga: &SagaRow,
    reason: RejectionReason,
    step_status: &str,
    detail: &str,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let moved = compensate_in(&mut tx, saga, reason, step_status, detail).await?;
    tx.commit().await?;
    Ok(moved)
}

async fn compensate_in(
    tx: &mut PgConnection,
    saga: &SagaRow,
    reason: RejectionReason,
    step_status: &str,
    detail: &str,
) -> sqlx::Result<bool> {
    let moved = sqlx::query(
        "UPDATE sagas SET step = 'release_credit', status = 'compensating', attempt = 1,
                          reason = $4, deadline = NULL, updated_at = now()
         WHERE id = $1 AND step = $2 AND attempt = $3",
    )
    .bind(saga.id)
    .bind(&saga.step)
    .bind(saga.attempt)
    .bind(reason.code())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if moved {
        reject_order(tx, saga.order_id, reason, saga.customer_id).await?;
        log_step(tx, saga.id, &saga.step, step_status, detail).await?;
    }
    Ok(moved)
}

async fn reject_order(
    tx: &mut PgConnection,
    order_id: Uuid,
    reason: RejectionReason,
    customer_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE orders SET status = 'rejected', reason = $2,
                           customer_id = coalesce($3, customer_id), updated_at = now()
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(order_id)
    .bind(reason.code())
    .bind(customer_id)
    .execute(tx)
    .await
    .map(drop)
}

/// What step 3 found.
#[derive(Debug, PartialEq, Eq)]
pub enum StockOutcome {
    /// Stock reserved and the order confirmed, with `order.confirmed` queued.
    Confirmed,
    /// Too little stock: the order is rejected and compensation started.
    Short,
    /// The saga was no longer at this step.
    Superseded,
}

/// Steps 3 and 4 in one transaction: reserve the stock of every line (all or
/// nothing, products locked in id order so that concurrent checkouts cannot
/// deadlock or oversell), confirm the order, and queue `order.confirmed`.
pub async fn reserve_stock_and_confirm(pool: &PgPool, saga_id: Uuid) -> sqlx::Result<StockOutcome> {
    let mut tx = pool.begin().await?;
    let Some(saga): Option<SagaRow> = sqlx::query_as(
        "SELECT id, order_id, step, status, attempt, deadline, customer_id, reason
         FROM sagas WHERE id = $1 AND step = 'reserve_stock' FOR UPDATE",
    )
    .bind(saga_id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(StockOutcome::Superseded);
    };
    let shortages: Vec<(String, i32, i32, bool)> = sqlx::query_as(
        "WITH locked AS (
            SELECT id, sku, stock, active FROM products
            WHERE id IN (SELECT product_id FROM order_lines WHERE order_id = $1)
            ORDER BY id FOR UPDATE)
         SELECT l.sku, p.stock, l.quantity, p.active
         FROM order_lines l JOIN locked p ON p.id = l.product_id
         WHERE l.order_id = $1 AND (NOT p.active OR p.stock < l.quantity)
         ORDER BY l.line_no",
    )
    .bind(saga.order_id)
    .fetch_all(&mut *tx)
    .await?;

    if !shortages.is_empty() {
        let detail = shortages
            .iter()
            .map(|(sku, stock, wanted, active)| {
                if *active {
                    format!("{sku}: {wanted} wanted, {stock} in stock")
                } else {
                    format!("{sku}: no longer sold")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        compensate_in(
            &mut tx,
            &saga,
            RejectionReason::InsufficientStock,
            "failed",
            &format!("not enough stock ({detail}); releasing the credit"),
        )
        .await?;
        tx.commit().await?;
        return Ok(StockOutcome::Short);
    }

    sqlx::query(
        "UPDATE products p SET stock = p.stock - l.quantity, updated_at = now()
         FROM order_lines l WHERE l.order_id = $1 AND p.id = l.product_id",
    )
    .bind(saga.order_id)
    .execute(&mut *tx)
    .await?;
    log_step(
        &mut tx,
        saga.id,
        "reserve_stock",
        "completed",
        "stock reserved for every line",
    )
    .await?;
    let (total, currency, placed_at, units): (rust_decimal::Decimal, String, DateTime<Utc>, i64) =
        sqlx::query_as(
            "UPDATE orders SET status = 'confirmed', updated_at = now()
             WHERE id = $1 AND status = 'pending'
             RETURNING total, currency, created_at,
                       (SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE order_id = $1)",
        )
        .bind(saga.order_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE sagas SET step = 'done', status = 'confirmed', deadline = NULL,
                          lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(saga.id)
    .execute(&mut *tx)
    .await?;
    let event = OrderConfirmed {
        order_id: saga.order_id,
        saga_id: saga.id,
        customer_id: saga.customer_id.unwrap_or_default(),
        total: Money::new(total).unwrap_or(Money::ZERO),
        currency,
        item_count: u32::try_from(units).unwrap_or(u32::MAX),
        placed_at,
    };
    outbox::insert(
        &mut tx,
        contract::ORDER_CONFIRMED,
        &event,
        saga.id,
        &saga.id.to_string(),
    )
    .await?;
    log_step(
        &mut tx,
        saga.id,
        "confirm_order",
        "completed",
        "order confirmed; order.confirmed queued",
    )
    .await?;
    tx.commit().await?;
    Ok(StockOutcome::Confirmed)
}

/// The compensation is done: customer-svc released the saga's credit.
pub async fn compensated(pool: &PgPool, saga: &SagaRow, detail: &str) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE sagas SET step = 'done', status = 'rejected', deadline = NULL,
                          lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND step = 'release_credit' AND attempt = $2",
    )
    .bind(saga.id)
    .bind(saga.attempt)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if moved {
        log_step(&mut tx, saga.id, "release_credit", "compensated", detail).await?;
    }
    tx.commit().await?;
    Ok(moved)
}

/// The compensation could not complete now: try again after `delay` (the
/// lease lapses then, and recovery, here or in another instance, takes it).
pub async fn postpone(
    pool: &PgPool,
    saga: &SagaRow,
    delay: Duration,
    detail: &str,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query(
        "UPDATE sagas SET attempt = attempt + 1, lease_owner = NULL,
                          lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
         WHERE id = $1 AND attempt = $2 AND step = 'release_credit'",
    )
    .bind(saga.id)
    .bind(saga.attempt)
    .bind(seconds(delay))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    // One timeline entry when the retries start, not one per retry.
    if moved && saga.attempt == 1 {
        log_step(&mut tx, saga.id, "release_credit", "retrying", detail).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Gives up this instance's lease (on shutdown), so that the next instance
/// resumes the saga at once instead of waiting for the lease to run out.
pub async fn release_lease(pool: &PgPool, id: Uuid, owner: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sagas SET lease_owner = NULL, lease_expires_at = NULL
         WHERE id = $1 AND lease_owner = $2 AND step <> 'done'",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await
    .map(drop)
}
