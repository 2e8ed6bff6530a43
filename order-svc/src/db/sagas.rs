//! The checkout saga's persisted state. Every transition is decided by
//! `crate::domain::saga::transition` and written by [`apply_all`] (or
//! [`apply`] for one saga), the one compare-and-set on `(step, attempt)`,
//! committed together with the order's status and the timeline, before any
//! side effect of the next step is requested; an outcome that arrives for a
//! superseded attempt matches no row and changes nothing. Leases say which
//! instance drives a saga until when.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use contract::RejectionReason;

use crate::domain::saga::{Attempt, Deadline, Event, Lease, Phase, Step, Transition, transition};

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

pub(crate) fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// The columns of a [`SagaRow`], for `RETURNING` and `SELECT`.
pub(crate) const SAGA_COLUMNS: &str =
    "id, order_id, step, status, attempt, deadline, customer_id, reason";

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

/// Appends an entry to the saga's timeline. (Batches write theirs within
/// their own statements: [`apply_all`], recording, the outbox relay.)
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
pub(crate) fn plan(saga: &SagaRow, event: Event) -> sqlx::Result<Transition> {
    transition(saga.step, saga.attempt, event)
        .map_err(|illegal| sqlx::Error::InvalidArgument(illegal.to_string()))
}

/// Writes `transition` for `saga` inside `tx` (see [`apply_all`]). `None`,
/// with nothing written, when the saga moved on meanwhile.
pub async fn apply(
    tx: &mut PgConnection,
    saga: &SagaRow,
    transition: &Transition,
    owner: Option<&str>,
) -> sqlx::Result<Option<SagaRow>> {
    let mut moved = apply_all(tx, &[(saga, transition)], owner).await?;
    Ok(moved.pop().flatten())
}

/// Writes each `(saga, transition)` inside `tx`: one compare-and-set on every
/// saga's step and attempt (and on its lease's owner, when `owner` is
/// given), and the timeline entries of the sagas it moved; one statement
/// however many sagas (each statement is a round trip on the checkout's
/// path). Returns, in the order given, each saga as written, or `None`
/// (nothing written for it) when it moved on meanwhile. The sagas must be
/// distinct.
pub async fn apply_all(
    tx: &mut PgConnection,
    changes: &[(&SagaRow, &Transition)],
    owner: Option<&str>,
) -> sqlx::Result<Vec<Option<SagaRow>>> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut columns = TransitionColumns::default();
    for (saga, transition) in changes {
        columns.push(saga, transition);
    }
    let mut entries = TimelineColumns::default();
    for (saga, transition) in changes {
        for entry in &transition.entries {
            entries.saga_ids.push(saga.id);
            entries.steps.push(entry.step);
            entries.statuses.push(entry.status);
            entries.details.push(entry.detail.as_str());
        }
    }
    // `= ANY($1)` beside the join lets the cached generic plan find the rows by
    // index; joined to `unnest` alone it scans the table whenever the statistics
    // still see a small table (a fresh database), and that scan grows with it.
    // The timeline's insert sees the sagas the update moved through `moved`
    // (a data-modifying CTE), so entries are written for those alone.
    let moved: Vec<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH moved AS (
           UPDATE sagas s SET step = t.to_step, status = t.to_status,
             attempt = CASE WHEN t.next_attempt THEN s.attempt + 1 ELSE 1 END,
             deadline = CASE WHEN t.deadline_secs IS NULL THEN NULL
                             ELSE now() + make_interval(secs => t.deadline_secs) END,
             reason = coalesce(t.reason, s.reason), customer_id = coalesce(t.customer_id, s.customer_id),
             lease_owner = CASE WHEN t.lease = 'keep' THEN s.lease_owner END,
             lease_expires_at = CASE t.lease WHEN 'keep' THEN s.lease_expires_at
                                             WHEN 'release' THEN NULL
                                             ELSE now() + make_interval(secs => t.lease_secs) END,
             updated_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::bool[],
                       $7::float8[], $8::text[], $9::uuid[], $10::text[], $11::float8[])
                AS t(id, step, attempt, to_step, to_status, next_attempt,
                     deadline_secs, reason, customer_id, lease, lease_secs)
           WHERE s.id = ANY($1) AND s.id = t.id AND s.step = t.step AND s.attempt = t.attempt
             AND ($12::text IS NULL OR s.lease_owner = $12)
           RETURNING {}
         ), logged AS (
           INSERT INTO saga_steps (saga_id, step, status, detail)
           SELECT e.saga_id, e.step, e.status, e.detail
           FROM unnest($13::uuid[], $14::text[], $15::text[], $16::text[]) WITH ORDINALITY
                AS e(saga_id, step, status, detail, n)
           WHERE e.saga_id IN (SELECT id FROM moved)
           ORDER BY e.n
         )
         SELECT * FROM moved",
        SAGA_COLUMNS
            .split(", ")
            .map(|column| format!("s.{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(&columns.ids)
    .bind(&columns.steps)
    .bind(&columns.attempts)
    .bind(&columns.to_steps)
    .bind(&columns.to_statuses)
    .bind(&columns.next_attempts)
    .bind(&columns.deadlines)
    .bind(&columns.reasons)
    .bind(&columns.customer_ids)
    .bind(&columns.leases)
    .bind(&columns.lease_seconds)
    .bind(owner)
    .bind(&entries.saga_ids)
    .bind(&entries.steps)
    .bind(&entries.statuses)
    .bind(&entries.details)
    .fetch_all(&mut *tx)
    .await?;

    let mut moved: HashMap<Uuid, SagaRow> = moved.into_iter().map(|row| (row.id, row)).collect();
    Ok(changes
        .iter()
        .map(|(saga, _)| moved.remove(&saga.id))
        .collect())
}

/// [`apply_all`]'s timeline entries, one array per column.
#[derive(Default)]
struct TimelineColumns<'a> {
    saga_ids: Vec<Uuid>,
    steps: Vec<&'static str>,
    statuses: Vec<&'static str>,
    details: Vec<&'a str>,
}

/// [`apply_all`]'s parameters, one array per column.
#[derive(Default)]
struct TransitionColumns {
    ids: Vec<Uuid>,
    steps: Vec<&'static str>,
    attempts: Vec<i32>,
    to_steps: Vec<&'static str>,
    to_statuses: Vec<&'static str>,
    next_attempts: Vec<bool>,
    deadlines: Vec<Option<f64>>,
    reasons: Vec<Option<&'static str>>,
    customer_ids: Vec<Option<Uuid>>,
    leases: Vec<&'static str>,
    lease_seconds: Vec<Option<f64>>,
}

impl TransitionColumns {
    fn push(&mut self, saga: &SagaRow, transition: &Transition) {
        let (lease, lease_seconds) = match transition.lease {
            Lease::Keep => ("keep", None),
            Lease::Release => ("release", None),
            Lease::RetryAfter(delay) => ("retry_after", Some(seconds(delay))),
        };
        self.ids.push(saga.id);
        self.steps.push(saga.step.as_str());
        self.attempts.push(saga.attempt);
        self.to_steps.push(transition.step.as_str());
        self.to_statuses.push(transition.phase.as_str());
        self.next_attempts.push(transition.attempt == Attempt::Next);
        self.deadlines.push(match transition.deadline {
            Deadline::Clear => None,
            Deadline::In(within) => Some(seconds(within)),
        });
        self.reasons
            .push(transition.reason.map(RejectionReason::code));
        self.customer_ids.push(transition.customer_id);
        self.leases.push(lease);
        self.lease_seconds.push(lease_seconds);
    }
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

pub(crate) async fn compensate_in(
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
