//! Each move of a saga outside the batch path (`crate::db::confirmation`
//! writes the batch's), in a transaction of its own: another try of step 2,
//! a refusal, the start and the end of a compensation, its postponement;
//! with what the move means for the order.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use contract::RejectionReason;

use super::{
    apply::{apply, plan},
    row::SagaRow,
};
use crate::domain::saga::Event;

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

pub(crate) async fn reject_order(
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
