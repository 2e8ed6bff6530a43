//! The one write of a transition, once decided ([`plan`]): a compare-and-set
//! on each saga's step and attempt, with its timeline entries, for one saga
//! or a batch in one statement; and a timeline entry on its own.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use contract::RejectionReason;

use super::row::{SAGA_COLUMNS, SagaRow, seconds};
use crate::domain::saga::{Attempt, Deadline, Event, Lease, Transition, transition};

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
