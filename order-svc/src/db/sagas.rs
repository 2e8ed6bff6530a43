//! The checkout saga's persisted state. Every transition is decided by
//! `crate::saga::state::transition` and written by [`apply`], the one
//! compare-and-set on `(step, attempt)`, committed together with the order's
//! status and the timeline, before any side effect of the next step is
//! requested; an outcome that arrives for a superseded attempt matches no row
//! and changes nothing. Leases say which instance drives a saga until when.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use messaging::contract::{self, Money, OrderConfirmed};

use super::outbox;
use crate::{
    domain::order::RejectionReason,
    saga::state::{Attempt, Deadline, Event, Lease, Phase, Step, Transition, transition},
};

/// A saga as stored.
#[derive(Debug, Clone, FromRow)]
pub struct SagaRow {
    /// The saga (and idempotency key of every step).
    pub id: Uuid,
    /// Its order.
    pub order_id: Uuid,
    /// Where it stands.
    pub step: Step,
    /// How it is going.
    pub status: Phase,
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

/// The columns of a [`SagaRow`], for `RETURNING` and `SELECT`.
const SAGA_COLUMNS: &str = "id, order_id, step, status, attempt, deadline, customer_id, reason";

/// Inserts a new saga at step `verify_customer`, leased to `owner`: the
/// instance that records a checkout drives its saga without claiming it.
pub(crate) async fn insert(
    tx: &mut PgConnection,
    saga_id: Uuid,
    order_id: Uuid,
    owner: &str,
    lease: Duration,
    step_timeout: Duration,
) -> sqlx::Result<SagaRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sagas (id, order_id, step, status, attempt, deadline, lease_owner, lease_expires_at)
         VALUES ($1, $2, 'verify_customer', 'running', 1,
                 now() + make_interval(secs => $4), $3, now() + make_interval(secs => $5))
         RETURNING {SAGA_COLUMNS}"
    )))
    .bind(saga_id)
    .bind(order_id)
    .bind(owner)
    .bind(seconds(step_timeout))
    .bind(seconds(lease))
    .fetch_one(tx)
    .await
}

/// Appends an entry to the saga's timeline.
pub async fn log_step(
    tx: &mut PgConnection,
    saga_id: Uuid,
    step: &str,
    status: &str,
    detail: &str,
) -> sqlx::Result<()> {
    log_steps(tx, &[(saga_id, step, status, detail)]).await
}

/// Appends entries `(saga, step, status, detail)` to sagas' timelines, in
/// the order given: one statement however many.
pub async fn log_steps(
    tx: &mut PgConnection,
    entries: &[(Uuid, &str, &str, &str)],
) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (sagas, steps, statuses, details): (Vec<Uuid>, Vec<&str>, Vec<&str>, Vec<&str>) =
        entries.iter().copied().collect();
    sqlx::query(
        "INSERT INTO saga_steps (saga_id, step, status, detail)
         SELECT e.saga_id, e.step, e.status, e.detail
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
              AS e(saga_id, step, status, detail, n)
         ORDER BY e.n",
    )
    .bind(&sagas)
    .bind(&steps)
    .bind(&statuses)
    .bind(&details)
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
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE sagas SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1 AND step <> 'done'
           AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < now())
         RETURNING {SAGA_COLUMNS}"
    )))
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

/// Decides what `event` does to `saga`. An event its step cannot take is a
/// bug in the driver, reported as an error (nothing is written).
fn plan(saga: &SagaRow, event: Event) -> sqlx::Result<Transition> {
    transition(saga.step, saga.attempt, event)
        .map_err(|illegal| sqlx::Error::InvalidArgument(illegal.to_string()))
}

/// Writes `transition` for `saga` inside `tx`: one compare-and-set on the
/// saga's step and attempt (and on its lease's owner, when `owner` is given),
/// with the transition's timeline entries. `None`, with nothing written, when
/// the saga moved on meanwhile.
pub async fn apply(
    tx: &mut PgConnection,
    saga: &SagaRow,
    transition: &Transition,
    owner: Option<&str>,
) -> sqlx::Result<Option<SagaRow>> {
    let deadline = match transition.deadline {
        Deadline::Clear => None,
        Deadline::In(within) => Some(seconds(within)),
    };
    let (lease, lease_seconds) = match transition.lease {
        Lease::Keep => ("keep", None),
        Lease::Release => ("release", None),
        Lease::RetryAfter(delay) => ("retry_after", Some(seconds(delay))),
    };
    let moved: Option<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE sagas SET step = $4, status = $5,
            attempt = CASE WHEN $6 THEN attempt + 1 ELSE 1 END,
            deadline = CASE WHEN $7::float8 IS NULL THEN NULL
                            ELSE now() + make_interval(secs => $7::float8) END,
            reason = coalesce($8, reason), customer_id = coalesce($9, customer_id),
            lease_owner = CASE WHEN $10 = 'keep' THEN lease_owner END,
            lease_expires_at = CASE $10 WHEN 'keep' THEN lease_expires_at
                                        WHEN 'release' THEN NULL
                                        ELSE now() + make_interval(secs => $11::float8) END,
            updated_at = now()
         WHERE id = $1 AND step = $2 AND attempt = $3 AND ($12::text IS NULL OR lease_owner = $12)
         RETURNING {SAGA_COLUMNS}"
    )))
    .bind(saga.id)
    .bind(saga.step)
    .bind(saga.attempt)
    .bind(transition.step)
    .bind(transition.phase)
    .bind(transition.attempt == Attempt::Next)
    .bind(deadline)
    .bind(transition.reason.map(RejectionReason::code))
    .bind(transition.customer_id)
    .bind(lease)
    .bind(lease_seconds)
    .bind(owner)
    .fetch_optional(&mut *tx)
    .await?;
    if moved.is_some() {
        let entries: Vec<_> = transition
            .entries
            .iter()
            .map(|entry| (saga.id, entry.step, entry.status, entry.detail.as_str()))
            .collect();
        log_steps(tx, &entries).await?;
    }
    Ok(moved)
}

/// Starts a new try of step 2, with a new deadline. `None` when the saga
/// moved on meanwhile.
pub async fn next_attempt(
    pool: &PgPool,
    saga: &SagaRow,
    step_timeout: Duration,
    why: &str,
) -> sqlx::Result<Option<SagaRow>> {
    let retried = plan(
        saga,
        Event::Retried {
            step_timeout,
            why: why.to_owned(),
        },
    )?;
    let mut tx = pool.begin().await?;
    let row = apply(&mut tx, saga, &retried, None).await?;
    tx.commit().await?;
    Ok(row)
}

/// Step 2 succeeded, and steps 3 and 4 follow in the same transaction: the
/// customer is recorded on the saga and the order, then the stock is
/// reserved and the order confirmed (or compensation started). One commit
/// for the whole happy path after customer-svc's answer. Nothing changes
/// (`Superseded`) when the saga moved on meanwhile or `owner` lost its lease
/// to another instance, which then drives it.
pub async fn verified_then_reserve_stock(
    pool: &PgPool,
    saga: &SagaRow,
    customer_id: Uuid,
    owner: &str,
) -> sqlx::Result<StockOutcome> {
    let verified = plan(saga, Event::Verified { customer_id })?;
    let mut tx = pool.begin().await?;
    let Some(saga) = apply(&mut tx, saga, &verified, Some(owner)).await? else {
        return Ok(StockOutcome::Superseded);
    };
    sqlx::query("UPDATE orders SET customer_id = $2, updated_at = now() WHERE id = $1")
        .bind(saga.order_id)
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
    let outcome = reserve_stock_in(&mut tx, &saga).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Step 2 refused: the order is rejected and there is nothing to compensate.
pub async fn refused(
    pool: &PgPool,
    saga: &SagaRow,
    reason: RejectionReason,
    customer_id: Option<Uuid>,
    detail: &str,
) -> sqlx::Result<bool> {
    let refusal = plan(
        saga,
        Event::Refused {
            reason,
            customer_id,
            detail: detail.to_owned(),
        },
    )?;
    let mut tx = pool.begin().await?;
    let moved = apply(&mut tx, saga, &refusal, None).await?.is_some();
    if moved {
        reject_order(&mut tx, saga.order_id, reason, customer_id).await?;
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
    step_status: &'static str,
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
    step_status: &'static str,
    detail: &str,
) -> sqlx::Result<bool> {
    let compensation = plan(
        saga,
        Event::CompensationStarted {
            reason,
            status: step_status,
            detail: detail.to_owned(),
        },
    )?;
    let moved = apply(tx, saga, &compensation, None).await?.is_some();
    if moved {
        reject_order(tx, saga.order_id, reason, saga.customer_id).await?;
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

/// Steps 3 and 4 for a saga resumed at `reserve_stock` (its driver stopped
/// after step 2 was committed by an earlier version, or crashed).
pub async fn reserve_stock_and_confirm(pool: &PgPool, saga_id: Uuid) -> sqlx::Result<StockOutcome> {
    let mut tx = pool.begin().await?;
    let Some(saga): Option<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SAGA_COLUMNS} FROM sagas WHERE id = $1 AND step = 'reserve_stock' FOR UPDATE"
    )))
    .bind(saga_id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(StockOutcome::Superseded);
    };
    let outcome = reserve_stock_in(&mut tx, &saga).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Steps 3 and 4 inside `tx`, for a saga at `reserve_stock` whose row `tx`
/// holds: confirm the order, queue `order.confirmed` and reserve the stock of
/// every line (all or nothing); or, short of stock, undo the confirmation,
/// reject the order and start compensating.
///
/// The products are the contended rows (every order of a popular item waits
/// on one), so they are touched last: the confirmation is written first, and
/// the products stay locked for two statements and the commit only. They are
/// locked in id order (concurrent checkouts cannot deadlock or oversell) and
/// `FOR NO KEY UPDATE`, which is all a stock update needs: new orders' lines
/// only take `KEY SHARE` on their products (the foreign key), so recording a
/// checkout never waits behind this lock.
async fn reserve_stock_in(tx: &mut PgConnection, saga: &SagaRow) -> sqlx::Result<StockOutcome> {
    sqlx::query("SAVEPOINT before_confirmation")
        .execute(&mut *tx)
        .await?;
    let confirmed = plan(saga, Event::Confirmed)?;
    if apply(&mut *tx, saga, &confirmed, None).await?.is_none() {
        return Ok(StockOutcome::Superseded);
    }
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
        &mut *tx,
        contract::ORDER_CONFIRMED,
        &event,
        saga.id,
        &saga.id.to_string(),
    )
    .await?;

    let shortages: Vec<(String, i32, i32, bool)> = sqlx::query_as(
        "WITH locked AS (
            SELECT id, sku, stock, active FROM products
            WHERE id IN (SELECT product_id FROM order_lines WHERE order_id = $1)
            ORDER BY id FOR NO KEY UPDATE)
         SELECT l.sku, p.stock, l.quantity, p.active
         FROM order_lines l JOIN locked p ON p.id = l.product_id
         WHERE l.order_id = $1 AND (NOT p.active OR p.stock < l.quantity)
         ORDER BY l.line_no",
    )
    .bind(saga.order_id)
    .fetch_all(&mut *tx)
    .await?;
    if shortages.is_empty() {
        sqlx::query(
            "UPDATE products p SET stock = p.stock - l.quantity, updated_at = now()
             FROM order_lines l WHERE l.order_id = $1 AND p.id = l.product_id",
        )
        .bind(saga.order_id)
        .execute(&mut *tx)
        .await?;
        return Ok(StockOutcome::Confirmed);
    }

    // Short: none of the confirmation stands (its event included).
    sqlx::query("ROLLBACK TO SAVEPOINT before_confirmation")
        .execute(&mut *tx)
        .await?;
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
    let moved = compensate_in(
        tx,
        saga,
        RejectionReason::InsufficientStock,
        "failed",
        &format!("not enough stock ({detail}); releasing the credit"),
    )
    .await?;
    Ok(if moved {
        StockOutcome::Short
    } else {
        StockOutcome::Superseded
    })
}

/// The compensation is done: customer-svc released the saga's credit.
pub async fn compensated(pool: &PgPool, saga: &SagaRow, detail: &str) -> sqlx::Result<bool> {
    let compensated = plan(
        saga,
        Event::Compensated {
            detail: detail.to_owned(),
        },
    )?;
    let mut tx = pool.begin().await?;
    let moved = apply(&mut tx, saga, &compensated, None).await?.is_some();
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
    let postponed = plan(
        saga,
        Event::Postponed {
            delay,
            detail: detail.to_owned(),
        },
    )?;
    let mut tx = pool.begin().await?;
    apply(&mut tx, saga, &postponed, None).await?;
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
