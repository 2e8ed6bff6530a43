//! Sagas as an operator sees them (`GET /api/v1/admin/sagas/stuck`, and the
//! answer of a repair): each with its age, its lease, whether it is past its
//! deadline, and its timeline; the stuck ones a page at a time; and those
//! old enough to be compensated automatically.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool, types::Json};
use uuid::Uuid;

use super::row::{SagaRow, seconds};
use crate::db::{self, orders::StepRow};

/// A saga with what an operator needs to judge it.
#[derive(Debug, Clone, FromRow)]
pub struct SagaReport {
    /// The saga as stored.
    #[sqlx(flatten)]
    pub saga: SagaRow,
    /// When it last moved.
    pub updated_at: DateTime<Utc>,
    /// The instance that holds it, if any.
    pub lease_owner: Option<String>,
    /// Until when it holds it (or, with no owner, when a postponed
    /// compensation is due again).
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Seconds since it started.
    pub age_seconds: f64,
    /// True when its step has a deadline and the deadline has passed.
    pub past_deadline: bool,
    /// Its timeline's latest 50 entries, oldest first (a compensation
    /// retried for a day writes hundreds).
    pub timeline: Json<Vec<StepRow>>,
}

/// The columns of a [`SagaReport`] read from `sagas s`.
const REPORT_COLUMNS: &str = "s.id, s.order_id, s.step, s.status, s.attempt, s.deadline,
    s.customer_id, s.reason, s.request_id, s.created_at, s.updated_at, s.lease_owner,
    s.lease_expires_at,
    EXTRACT(EPOCH FROM now() - s.created_at)::float8 AS age_seconds,
    coalesce(s.deadline < now(), false) AS past_deadline,
    (SELECT coalesce(json_agg(json_build_object(
               'step', t.step, 'status', t.status, 'at', t.at, 'detail', t.detail)
             ORDER BY t.id), '[]')
     FROM (SELECT * FROM saga_steps WHERE saga_id = s.id ORDER BY id DESC LIMIT 50) t)
      AS timeline";

/// Unfinished, and past its deadline or older than `$1` seconds.
const STUCK: &str = "s.step <> 'done'
    AND (s.deadline < now() OR s.created_at < now() - make_interval(secs => $1))";

/// The saga `id` as it now stands, if there is one.
pub async fn report(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<SagaReport>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REPORT_COLUMNS} FROM sagas s WHERE s.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One page of the stuck sagas (unfinished, and past their deadline or
/// started more than `stuck_after` ago), oldest first, and how many there
/// are in all: one snapshot.
pub async fn stuck(
    pool: &PgPool,
    stuck_after: Duration,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<SagaReport>, i64)> {
    let mut tx = db::snapshot(pool).await?;
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM sagas s WHERE {STUCK}"
    )))
    .bind(seconds(stuck_after))
    .fetch_one(&mut *tx)
    .await?;
    let page = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REPORT_COLUMNS} FROM sagas s WHERE {STUCK}
         ORDER BY s.created_at, s.id LIMIT $2 OFFSET $3"
    )))
    .bind(seconds(stuck_after))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((page, total))
}

/// Up to `limit` sagas, oldest first, started more than `older_than` ago
/// and still on their way to a confirmation (a compensating saga is already
/// being undone): those the recovery round compensates automatically.
/// (`step <> 'done'` lets the partial index of unfinished sagas serve the
/// query, which runs every round.)
pub async fn overdue(pool: &PgPool, older_than: Duration, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM sagas
         WHERE step <> 'done' AND step IN ('verify_customer', 'reserve_stock')
           AND created_at < now() - make_interval(secs => $1)
         ORDER BY created_at LIMIT $2",
    )
    .bind(seconds(older_than))
    .bind(limit)
    .fetch_all(pool)
    .await
}
