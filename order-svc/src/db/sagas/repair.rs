//! An operator's (or the recovery round's) repairs of one saga, each safe
//! against the saga's driver and other instances: `resume` frees the lease
//! and the postponement so that the saga is taken again now (it changes no
//! step, so it cannot double-apply one); `order_compensation` moves the saga
//! through the state machine with the same compare-and-set on step and
//! attempt as every other move, and rejects its order in that transaction.

use sqlx::PgPool;
use uuid::Uuid;

use contract::RejectionReason;

use super::{
    apply::{apply, log_step},
    moves::reject_order,
    row::{SAGA_COLUMNS, SagaRow},
};
use crate::domain::saga::{Event, IllegalMove, transition};

/// How often a compensation is planned again when the saga moved meanwhile
/// (a driver's next attempt, say) before the caller is told it is busy. A
/// saga makes only a few moves, so this is generous.
const TRIES: usize = 8;

/// What resuming a saga found.
#[derive(Debug)]
pub enum Resumed {
    /// Its lease and postponement are gone: it is free to be taken now.
    Now(SagaRow),
    /// It has ended.
    Finished(SagaRow),
    /// There is no such saga.
    NotFound,
}

/// What ordering a compensation found.
#[derive(Debug)]
pub enum Ordered {
    /// The saga moved to its compensation; its order is rejected.
    Now(SagaRow),
    /// Its state machine refuses (it has ended, or compensates already).
    Refused(SagaRow, IllegalMove),
    /// There is no such saga.
    NotFound,
    /// It kept moving under our feet; try again.
    Busy,
}

/// The saga `id` as stored.
async fn find(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<SagaRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SAGA_COLUMNS} FROM sagas WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Frees the lease of the unfinished saga `id` (and so a compensation's
/// backoff), noting `detail` on its timeline, so that the next driver to
/// claim it (a kick here, or any instance's recovery round) runs its step
/// again now.
pub async fn resume(pool: &PgPool, id: Uuid, detail: &str) -> sqlx::Result<Resumed> {
    let mut tx = pool.begin().await?;
    let freed: Option<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE sagas SET lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND step <> 'done'
         RETURNING {SAGA_COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(saga) = freed else {
        tx.rollback().await?;
        return Ok(match find(pool, id).await? {
            Some(saga) => Resumed::Finished(saga),
            None => Resumed::NotFound,
        });
    };
    log_step(&mut tx, saga.id, saga.step.as_str(), "resumed", detail).await?;
    tx.commit().await?;
    Ok(Resumed::Now(saga))
}

/// Orders the compensation of the saga `id` (the state machine's
/// `CompensationOrdered`), rejecting its order with `reason`; `detail` says
/// on the timeline who ordered it and why. A saga that moved meanwhile is
/// read and planned again; one whose step refuses the move is left alone.
pub async fn order_compensation(
    pool: &PgPool,
    id: Uuid,
    reason: RejectionReason,
    detail: &str,
) -> sqlx::Result<Ordered> {
    for _ in 0..TRIES {
        let Some(saga) = find(pool, id).await? else {
            return Ok(Ordered::NotFound);
        };
        let ordered = Event::CompensationOrdered {
            reason,
            detail: detail.to_owned(),
        };
        let planned = match transition(saga.step, saga.attempt, ordered) {
            Ok(planned) => planned,
            Err(illegal) => return Ok(Ordered::Refused(saga, illegal)),
        };
        let mut tx = pool.begin().await?;
        if let Some(moved) = apply(&mut tx, &saga, &planned, None).await? {
            reject_order(&mut tx, saga.order_id, reason, saga.customer_id).await?;
            tx.commit().await?;
            return Ok(Ordered::Now(moved));
        }
        tx.rollback().await?;
    }
    Ok(Ordered::Busy)
}
