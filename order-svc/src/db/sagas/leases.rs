//! Leases: which instance drives a saga until when. The recording instance
//! holds the sagas it records; a driver claims a saga before each step;
//! recovery takes the sagas whose lease ran out; shutdown gives leases up.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::row::{SAGA_COLUMNS, SagaRow, seconds};

/// How the recording instance holds the sagas it records: it drives them
/// without claiming them.
#[derive(Debug, Clone)]
pub struct SagaLease {
    /// The instance that will drive the sagas.
    pub owner: String,
    /// How long it owns them.
    pub lease: Duration,
    /// How long step 2 may take.
    pub step_timeout: Duration,
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
