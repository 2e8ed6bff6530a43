//! What an event does to a saga, decided without side effects: the
//! [`Transition`] it makes (step, phase, attempt, deadline, lease, what it
//! records and the timeline lines it writes), or the [`IllegalMove`] it is.

use std::time::Duration;

use uuid::Uuid;

use contract::RejectionReason;

use super::{Event, Phase, Step};

/// What happens to the attempt counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A new step starts at attempt 1.
    Reset,
    /// Another try of the same step.
    Next,
}

/// What happens to the step's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The step has none.
    Clear,
    /// The step must be done within this long from now.
    In(Duration),
}

/// What happens to the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The driver keeps it as it is.
    Keep,
    /// Nobody holds it any more (the saga ended).
    Release,
    /// Nobody holds it, and recovery takes the saga again after this long.
    RetryAfter(Duration),
}

/// One line of the saga's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The step it is about (timeline names include `confirm_order`).
    pub step: &'static str,
    /// What happened (`completed`, `refused`, `timed_out`, …).
    pub status: &'static str,
    /// In words.
    pub detail: String,
}

impl Entry {
    pub(super) fn new(step: &'static str, status: &'static str, detail: impl Into<String>) -> Self {
        Self {
            step,
            status,
            detail: detail.into(),
        }
    }
}

/// Everything a transition changes, decided without side effects.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The step it moves to.
    pub step: Step,
    /// The phase it moves to.
    pub phase: Phase,
    /// The attempt counter.
    pub attempt: Attempt,
    /// The deadline.
    pub deadline: Deadline,
    /// The lease.
    pub lease: Lease,
    /// The rejection reason it records, if any.
    pub reason: Option<RejectionReason>,
    /// The customer it records, if any.
    pub customer_id: Option<Uuid>,
    /// The timeline lines it writes.
    pub entries: Vec<Entry>,
}

impl Transition {
    /// This transition, then `next` from where it leads, written as one:
    /// the saga lands where `next` leads, with both timelines and what
    /// either records (the later one winning). Steps 2, 3 and 4 of a
    /// checkout commit together this way, one write of the saga instead of
    /// two. `None` when `next` is another try of a step (its attempt
    /// counts from the first write, which the composite skips).
    pub fn then(self, next: Transition) -> Option<Transition> {
        if next.attempt == Attempt::Next {
            return None;
        }
        let mut entries = self.entries;
        entries.extend(next.entries);
        Some(Transition {
            lease: match next.lease {
                Lease::Keep => self.lease,
                lease => lease,
            },
            reason: next.reason.or(self.reason),
            customer_id: next.customer_id.or(self.customer_id),
            entries,
            ..next
        })
    }
}

/// An event that cannot happen at the saga's step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a saga at {step} cannot take {event}")]
pub struct IllegalMove {
    /// Where the saga stands.
    pub step: Step,
    /// What was tried.
    pub event: &'static str,
}

/// What `event` does to a saga at `step` on its `attempt`-th try.
pub fn transition(step: Step, attempt: i32, event: Event) -> Result<Transition, IllegalMove> {
    let illegal = |event: &'static str| IllegalMove { step, event };
    let to = |step, phase, attempt, deadline, lease| Transition {
        step,
        phase,
        attempt,
        deadline,
        lease,
        reason: None,
        customer_id: None,
        entries: Vec::new(),
    };
    // Every end looks alike: done, no deadline, nobody holds it.
    let end = |phase| {
        to(
            Step::Done,
            phase,
            Attempt::Reset,
            Deadline::Clear,
            Lease::Release,
        )
    };
    Ok(match (step, event) {
        (Step::VerifyCustomer, Event::Retried { step_timeout, why }) => Transition {
            entries: vec![Entry::new(
                "verify_customer",
                "retried",
                format!("attempt {}: {why}", attempt + 1),
            )],
            ..to(
                Step::VerifyCustomer,
                Phase::Running,
                Attempt::Next,
                Deadline::In(step_timeout),
                Lease::Keep,
            )
        },
        // The lease is kept as it is: steps 3 and 4 follow in the same
        // transaction, and a shortage hands the saga to a driver that claims it.
        (Step::VerifyCustomer, Event::Verified { customer_id }) => Transition {
            customer_id: Some(customer_id),
            entries: vec![Entry::new(
                "verify_customer",
                "completed",
                format!("customer {customer_id} verified; credit reserved"),
            )],
            ..to(
                Step::ReserveStock,
                Phase::Running,
                Attempt::Reset,
                Deadline::Clear,
                Lease::Keep,
            )
        },
        (
            Step::VerifyCustomer,
            Event::Refused {
                reason,
                customer_id,
                detail,
            },
        ) => Transition {
            reason: Some(reason),
            customer_id,
            entries: vec![Entry::new("verify_customer", "refused", detail)],
            ..end(Phase::Rejected)
        },
        (
            from @ (Step::VerifyCustomer | Step::ReserveStock),
            Event::CompensationStarted {
                reason,
                status,
                detail,
            },
        ) => Transition {
            reason: Some(reason),
            entries: vec![Entry::new(from.as_str(), status, detail)],
            ..to(
                Step::ReleaseCredit,
                Phase::Compensating,
                Attempt::Reset,
                Deadline::Clear,
                Lease::Keep,
            )
        },
        // Ordered from outside: the lease lapses at once, so that this
        // instance (or any recovery round) takes the compensation now, even
        // from a driver that is gone or still waiting on customer-svc; that
        // driver's own answer then matches no row.
        (
            from @ (Step::VerifyCustomer | Step::ReserveStock),
            Event::CompensationOrdered { reason, detail },
        ) => Transition {
            reason: Some(reason),
            entries: vec![Entry::new(from.as_str(), "compensation_ordered", detail)],
            ..to(
                Step::ReleaseCredit,
                Phase::Compensating,
                Attempt::Reset,
                Deadline::Clear,
                Lease::RetryAfter(Duration::ZERO),
            )
        },
        (Step::ReserveStock, Event::Confirmed) => Transition {
            entries: vec![
                Entry::new(
                    "reserve_stock",
                    "completed",
                    "stock reserved for every line",
                ),
                Entry::new(
                    "confirm_order",
                    "completed",
                    "order confirmed; order.confirmed queued",
                ),
            ],
            ..end(Phase::Confirmed)
        },
        (Step::ReleaseCredit, Event::Compensated { detail }) => Transition {
            entries: vec![Entry::new("release_credit", "compensated", detail)],
            ..end(Phase::Rejected)
        },
        (Step::ReleaseCredit, Event::Postponed { delay, detail }) => Transition {
            // One timeline entry when the retries start, not one per retry.
            entries: if attempt == 1 {
                vec![Entry::new("release_credit", "retrying", detail)]
            } else {
                Vec::new()
            },
            ..to(
                Step::ReleaseCredit,
                Phase::Compensating,
                Attempt::Next,
                Deadline::Clear,
                Lease::RetryAfter(delay),
            )
        },
        (_, event) => return Err(illegal(event.name())),
    })
}
