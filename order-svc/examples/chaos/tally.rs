//! After a scenario: waits until the system is quiet (every saga ended, every
//! event sent, every history caught up), then counts what is off, from the
//! invariant checker and from what the shoppers were told.

use std::{collections::HashMap, fmt, time::Duration};

use order_svc::consistency::{self, Bounds, Harm};
use tokio::time::Instant;
use uuid::Uuid;

use crate::{
    LOAD_AFTER_FAULT,
    load::{Outcomes, Told},
    system::System,
};

/// How long the system may take to settle once the load stopped: sagas
/// waiting out their lease after a crash, events waiting for the broker.
const SETTLE_WITHIN: Duration = Duration::from_secs(180);
/// Every saga ends within this of the fault's end (the load goes on for
/// `LOAD_AFTER_FAULT` after it, then the system settles).
const ENDED_WITHIN: Duration = Duration::from_secs(60);

/// One line of the table.
pub struct Row {
    scenario: &'static str,
    note: String,
    checkouts: u64,
    confirmed: u64,
    rejected: u64,
    /// Why orders were rejected: reason and count.
    reasons: Vec<(String, i64)>,
    cancelled: u64,
    settle_seconds: f64,
    unanswered: u64,
    lost: usize,
    oversold: usize,
    double_counted: usize,
    credit_off: usize,
    /// Answers 5xx other than 503.
    server_errors: u64,
    /// 503 answers (retried by the shoppers; not a harm).
    unavailable: u64,
    /// Messages in customer-svc's dead-letter queues afterwards, but for RPC
    /// requests that expired unconsumed (their callers compensated).
    dead_letters: u64,
    /// What is off, one sentence each.
    pub problems: Vec<String>,
}

impl Row {
    pub const HEADER: &str = "| scenario | fault | checkouts | confirmed / rejected / cancelled | rejected because | 503s | settled in s | unanswered | lost | oversold | double counted | credit off | 500s | dead letters |";
    pub const RULE: &str = "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    /// Nothing lost, oversold, double counted, off, or left unanswered.
    pub fn is_clean(&self) -> bool {
        self.unanswered == 0
            && self.lost == 0
            && self.oversold == 0
            && self.double_counted == 0
            && self.credit_off == 0
            && self.server_errors == 0
            && self.dead_letters == 0
            && self.problems.is_empty()
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "| {} | {} | {} | {} / {} / {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            self.scenario,
            self.note,
            self.checkouts,
            self.confirmed,
            self.rejected,
            self.cancelled,
            self.reasons
                .iter()
                .map(|(reason, count)| format!("{reason} {count}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.unavailable,
            self.settle_seconds,
            self.unanswered,
            self.lost,
            self.oversold,
            self.double_counted,
            self.credit_off,
            self.server_errors,
            self.dead_letters
        )
    }
}

/// Waits for quiet, then checks.
pub async fn settle_and_count(
    scenario: &'static str,
    system: &System,
    outcomes: Outcomes,
    note: String,
) -> anyhow::Result<Row> {
    let started = Instant::now();
    let deadline = started + SETTLE_WITHIN;
    let strict = Bounds {
        saga_grace: Duration::ZERO,
        outbox_grace: Duration::ZERO,
    };
    let report = loop {
        let (unfinished, unsent) = in_flight(system).await?;
        let report = consistency::check(
            &system.orders,
            &system.customers,
            strict,
            Some(&system.initial_stock),
        )
        .await?;
        if (unfinished == 0 && unsent == 0 && report.holds()) || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let settle_seconds = started.elapsed().as_secs_f64();

    let mut problems: Vec<String> = report.problems.iter().map(|p| p.what.clone()).collect();
    let (unfinished, unsent) = in_flight(system).await?;
    let mut lost = report.count(Harm::Lost);
    if unfinished > 0 || unsent > 0 {
        lost += usize::try_from(unfinished + unsent).unwrap_or(usize::MAX);
        problems.push(format!(
            "{unfinished} saga(s) unfinished and {unsent} event(s) unsent after {}s",
            SETTLE_WITHIN.as_secs()
        ));
    }
    let statuses = statuses(system).await?;
    for (id, told) in &outcomes.told {
        let now = statuses.get(id).map(String::as_str);
        let kept = match told {
            Told::Confirmed => now == Some("confirmed"),
            Told::Rejected => now == Some("rejected"),
            Told::Cancelled => now == Some("cancelled"),
            Told::Pending => now.is_some(),
        };
        if !kept {
            lost += 1;
            problems.push(format!(
                "order {id}: its shopper was told {told:?}, it is now {now:?}"
            ));
        }
    }
    problems.extend(outcomes.refused.iter().cloned());
    if started.elapsed() + LOAD_AFTER_FAULT > ENDED_WITHIN {
        problems.push(format!(
            "sagas ended {:.0} s after the fault healed; they must within {} s",
            (started.elapsed() + LOAD_AFTER_FAULT).as_secs_f64(),
            ENDED_WITHIN.as_secs()
        ));
    }
    // An RPC request that expired in its queue (customer-svc frozen or
    // down past the caller's deadline) is dead-lettered by the broker as
    // `expired`: its caller had given up and compensated, so it is counted
    // apart, not as harm. Anything else in a dead-letter queue is.
    let mut dead_letters = 0;
    let mut expired_requests = 0;
    for (queue, depth, reasons) in system.dead_letters().await? {
        let expired = if queue.ends_with(".customer.rpc.dlq") {
            reasons.iter().filter(|reason| *reason == "expired").count() as u64
        } else {
            0
        };
        expired_requests += expired;
        let harmful = depth.saturating_sub(expired);
        if harmful > 0 {
            dead_letters += harmful;
            problems.push(format!("{harmful} dead letter(s) in {queue}: {reasons:?}"));
        }
    }
    let note = if expired_requests > 0 {
        format!("{note}; {expired_requests} RPC request(s) expired unconsumed")
    } else {
        note
    };
    let count = |status: &str| statuses.values().filter(|s| *s == status).count() as u64;
    Ok(Row {
        scenario,
        note,
        checkouts: outcomes.checkouts,
        confirmed: count("confirmed"),
        rejected: count("rejected"),
        reasons: reasons(system).await?,
        cancelled: count("cancelled"),
        settle_seconds,
        unanswered: outcomes.unanswered,
        lost,
        oversold: report.count(Harm::Oversold),
        double_counted: report.count(Harm::DoubleCounted),
        credit_off: report.count(Harm::CreditOff),
        server_errors: outcomes.server_errors,
        unavailable: outcomes.unavailable,
        dead_letters,
        problems,
    })
}

/// Sagas not ended and events not sent.
async fn in_flight(system: &System) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM sagas WHERE step <> 'done'),
                (SELECT count(*) FROM outbox WHERE sent_at IS NULL)",
    )
    .fetch_one(&system.orders)
    .await?)
}

/// Every order's status, as order-svc has it.
async fn statuses(system: &System) -> anyhow::Result<HashMap<Uuid, String>> {
    Ok(sqlx::query_as("SELECT id, status FROM orders")
        .fetch_all(&system.orders)
        .await?
        .into_iter()
        .collect())
}

/// How many orders were rejected for each reason, the most frequent first.
async fn reasons(system: &System) -> anyhow::Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT coalesce(reason, 'none'), count(*) FROM orders WHERE status = 'rejected'
         GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .fetch_all(&system.orders)
    .await?)
}
