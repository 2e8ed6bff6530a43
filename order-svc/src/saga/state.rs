//! The checkout saga's state machine, as types: where a saga stands
//! ([`Step`], [`Phase`]), what can happen to it ([`Event`]), and the one pure
//! function, [`transition`], that says what an event does from a step, or
//! refuses it. `crate::db::sagas::apply` is the one place a transition is
//! written (a compare-and-set on step and attempt, with its timeline entries);
//! what a transition means for the order is written beside it, in the same
//! transaction.
//!
//! ```text
//! verify_customer ──Verified──────────────▶ reserve_stock ──Confirmed──▶ done (confirmed)
//!        │ ├──Refused──────────────────────────────────────────────────▶ done (rejected)
//!        │ └──Retried (same step, next attempt)        │
//!        └──CompensationStarted──▶ release_credit ◀──CompensationStarted (short of stock)
//!                                      ├──Postponed (same step, next attempt, lease lapses later)
//!                                      └──Compensated──────────────────▶ done (rejected)
//! ```

use std::{fmt, time::Duration};

use uuid::Uuid;

use contract::RejectionReason;

/// Where a saga stands (the `step` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Step {
    /// Step 2: customer-svc verifies the customer and holds the credit.
    VerifyCustomer,
    /// Steps 3 and 4: the stock is taken and the order confirmed.
    ReserveStock,
    /// Compensation: customer-svc releases what the saga holds.
    ReleaseCredit,
    /// Ended.
    Done,
}

impl Step {
    /// Its name in the database and on the timeline.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::VerifyCustomer => "verify_customer",
            Step::ReserveStock => "reserve_stock",
            Step::ReleaseCredit => "release_credit",
            Step::Done => "done",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a saga is going (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Phase {
    /// On its way to a confirmation.
    Running,
    /// The order is rejected; what is held is being released.
    Compensating,
    /// Ended with the order confirmed.
    Confirmed,
    /// Ended with the order rejected.
    Rejected,
}

impl Phase {
    /// Its name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::Compensating => "compensating",
            Phase::Confirmed => "confirmed",
            Phase::Rejected => "rejected",
        }
    }
}

/// What happened to a saga.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Step 2 is asked again (its driver died mid-call), with a new deadline.
    Retried {
        /// How long the new try may take.
        step_timeout: Duration,
        /// In words.
        why: String,
    },
    /// customer-svc verified the customer and holds the credit.
    Verified {
        /// The customer.
        customer_id: Uuid,
    },
    /// customer-svc refused: nothing is held, nothing to compensate.
    Refused {
        /// Why.
        reason: RejectionReason,
        /// The customer, when known.
        customer_id: Option<Uuid>,
        /// In words.
        detail: String,
    },
    /// The order is rejected and what may be held must be released: step 2
    /// had no usable answer, or step 3 found too little stock.
    CompensationStarted {
        /// Why.
        reason: RejectionReason,
        /// The failed step's timeline status (`timed_out`, `failed`).
        status: &'static str,
        /// In words.
        detail: String,
    },
    /// The stock is taken and the order confirmed.
    Confirmed,
    /// customer-svc released what the saga held.
    Compensated {
        /// In words.
        detail: String,
    },
    /// The release could not be done now: try again after `delay`.
    Postponed {
        /// How long until the next try.
        delay: Duration,
        /// In words (written on the first postponement only).
        detail: String,
    },
}

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
    fn new(step: &'static str, status: &'static str, detail: impl Into<String>) -> Self {
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

impl Event {
    /// Its name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Retried { .. } => "retried",
            Event::Verified { .. } => "verified",
            Event::Refused { .. } => "refused",
            Event::CompensationStarted { .. } => "compensation_started",
            Event::Confirmed => "confirmed",
            Event::Compensated { .. } => "compensated",
            Event::Postponed { .. } => "postponed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Step 2's answer, on its `attempt`-th try.
    fn verified_on_attempt(attempt: i32) -> Transition {
        transition(
            Step::VerifyCustomer,
            attempt,
            Event::Verified {
                customer_id: customer(),
            },
        )
        .unwrap()
    }

    #[test]
    fn verified_then_confirmed_is_one_write_with_both_timelines() {
        let verified = verified_on_attempt(2);
        let confirmed = transition(Step::ReserveStock, 1, Event::Confirmed).unwrap();
        let both = verified.clone().then(confirmed.clone()).unwrap();
        assert_eq!((both.step, both.phase), (Step::Done, Phase::Confirmed));
        assert_eq!(both.attempt, Attempt::Reset);
        assert_eq!(both.lease, Lease::Release);
        assert_eq!(both.customer_id, Some(customer()));
        assert_eq!(both.reason, None);
        let steps: Vec<_> = both.entries.iter().map(|e| (e.step, e.status)).collect();
        assert_eq!(
            steps,
            [
                ("verify_customer", "completed"),
                ("reserve_stock", "completed"),
                ("confirm_order", "completed")
            ]
        );
    }

    #[test]
    fn verified_then_short_of_stock_keeps_the_lease_and_records_the_reason() {
        let verified = verified_on_attempt(1);
        let short = transition(
            Step::ReserveStock,
            1,
            Event::CompensationStarted {
                reason: RejectionReason::InsufficientStock,
                status: "failed",
                detail: "not enough".into(),
            },
        )
        .unwrap();
        let both = verified.then(short).unwrap();
        assert_eq!(
            (both.step, both.phase),
            (Step::ReleaseCredit, Phase::Compensating)
        );
        assert_eq!(both.lease, Lease::Keep);
        assert_eq!(both.reason, Some(RejectionReason::InsufficientStock));
        assert_eq!(both.customer_id, Some(customer()));
        assert_eq!(both.entries.len(), 2);
    }

    #[test]
    fn another_try_cannot_follow_in_the_same_write() {
        let verified = verified_on_attempt(1);
        let retried = transition(
            Step::VerifyCustomer,
            1,
            Event::Retried {
                step_timeout: Duration::from_secs(1),
                why: "again".into(),
            },
        )
        .unwrap();
        assert_eq!(verified.then(retried), None);
    }

    fn customer() -> Uuid {
        Uuid::from_u128(7)
    }

    #[test]
    fn a_verified_customer_moves_the_saga_to_the_stock_keeping_its_lease() {
        let t = transition(
            Step::VerifyCustomer,
            1,
            Event::Verified {
                customer_id: customer(),
            },
        )
        .unwrap();
        assert_eq!((t.step, t.phase), (Step::ReserveStock, Phase::Running));
        assert_eq!(
            (t.attempt, t.deadline, t.lease),
            (Attempt::Reset, Deadline::Clear, Lease::Keep)
        );
        assert_eq!(t.customer_id, Some(customer()));
        assert_eq!(t.entries[0].status, "completed");
    }

    #[test]
    fn a_refusal_ends_the_saga_rejected_with_nothing_to_compensate() {
        let t = transition(
            Step::VerifyCustomer,
            2,
            Event::Refused {
                reason: RejectionReason::CustomerBlocked,
                customer_id: Some(customer()),
                detail: "customer is blocked".into(),
            },
        )
        .unwrap();
        assert_eq!(
            (t.step, t.phase, t.lease),
            (Step::Done, Phase::Rejected, Lease::Release)
        );
        assert_eq!(t.reason, Some(RejectionReason::CustomerBlocked));
        assert_eq!(
            t.entries,
            vec![Entry::new(
                "verify_customer",
                "refused",
                "customer is blocked"
            )]
        );
    }

    #[test]
    fn a_retry_of_step_two_counts_the_attempt_and_sets_a_new_deadline() {
        let t = transition(
            Step::VerifyCustomer,
            1,
            Event::Retried {
                step_timeout: Duration::from_secs(3),
                why: "resumed".into(),
            },
        )
        .unwrap();
        assert_eq!((t.step, t.attempt), (Step::VerifyCustomer, Attempt::Next));
        assert_eq!(t.deadline, Deadline::In(Duration::from_secs(3)));
        assert_eq!(t.entries[0].detail, "attempt 2: resumed");
    }

    #[test]
    fn compensation_starts_from_a_timeout_or_a_shortage_and_names_the_failed_step() {
        for (from, status) in [
            (Step::VerifyCustomer, "timed_out"),
            (Step::ReserveStock, "failed"),
        ] {
            let t = transition(
                from,
                1,
                Event::CompensationStarted {
                    reason: RejectionReason::InsufficientStock,
                    status,
                    detail: "why".into(),
                },
            )
            .unwrap();
            assert_eq!(
                (t.step, t.phase),
                (Step::ReleaseCredit, Phase::Compensating)
            );
            assert_eq!(
                (t.entries[0].step, t.entries[0].status),
                (from.as_str(), status)
            );
        }
    }

    #[test]
    fn a_confirmation_ends_the_saga_and_writes_both_steps_on_the_timeline() {
        let t = transition(Step::ReserveStock, 1, Event::Confirmed).unwrap();
        assert_eq!(
            (t.step, t.phase, t.lease),
            (Step::Done, Phase::Confirmed, Lease::Release)
        );
        let steps: Vec<_> = t.entries.iter().map(|e| e.step).collect();
        assert_eq!(steps, ["reserve_stock", "confirm_order"]);
    }

    #[test]
    fn a_postponed_release_lets_the_lease_lapse_and_notes_only_the_first_time() {
        let postpone = |attempt| {
            transition(
                Step::ReleaseCredit,
                attempt,
                Event::Postponed {
                    delay: Duration::from_secs(4),
                    detail: "no answer".into(),
                },
            )
            .unwrap()
        };
        assert_eq!(postpone(1).lease, Lease::RetryAfter(Duration::from_secs(4)));
        assert_eq!(postpone(1).attempt, Attempt::Next);
        assert_eq!(postpone(1).entries.len(), 1);
        assert!(postpone(2).entries.is_empty());
        let done = transition(
            Step::ReleaseCredit,
            3,
            Event::Compensated {
                detail: "ok".into(),
            },
        )
        .unwrap();
        assert_eq!((done.step, done.phase), (Step::Done, Phase::Rejected));
    }

    #[test]
    fn moves_that_do_not_belong_to_a_step_are_refused() {
        let illegal = [
            (Step::Done, Event::Confirmed),
            (Step::VerifyCustomer, Event::Confirmed),
            (
                Step::ReserveStock,
                Event::Verified {
                    customer_id: customer(),
                },
            ),
            (
                Step::ReleaseCredit,
                Event::Verified {
                    customer_id: customer(),
                },
            ),
            (
                Step::Done,
                Event::Compensated {
                    detail: String::new(),
                },
            ),
            (
                Step::ReleaseCredit,
                Event::CompensationStarted {
                    reason: RejectionReason::InsufficientStock,
                    status: "failed",
                    detail: String::new(),
                },
            ),
        ];
        for (step, event) in illegal {
            let name = event.name();
            assert_eq!(
                transition(step, 1, event),
                Err(IllegalMove { step, event: name })
            );
        }
    }
}
