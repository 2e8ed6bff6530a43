//! The state machine's moves, case by case: what each event does from each
//! step, the moves that are refused, and transitions written as one.

use std::time::Duration;

use uuid::Uuid;

use contract::RejectionReason;

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

#[test]
fn an_ordered_compensation_rejects_from_either_running_step_and_frees_the_lease() {
    let ordered = || Event::CompensationOrdered {
        reason: RejectionReason::CustomerServiceUnavailable,
        detail: "compensation ordered by an operator".into(),
    };
    for from in [Step::VerifyCustomer, Step::ReserveStock] {
        let t = transition(from, 2, ordered()).unwrap();
        assert_eq!(
            (t.step, t.phase, t.attempt),
            (Step::ReleaseCredit, Phase::Compensating, Attempt::Reset)
        );
        assert_eq!(t.lease, Lease::RetryAfter(Duration::ZERO));
        assert_eq!(t.reason, Some(RejectionReason::CustomerServiceUnavailable));
        assert_eq!(
            t.entries,
            vec![Entry::new(
                from.as_str(),
                "compensation_ordered",
                "compensation ordered by an operator"
            )]
        );
    }
    for ended_or_compensating in [Step::ReleaseCredit, Step::Done] {
        assert_eq!(
            transition(ended_or_compensating, 1, ordered()),
            Err(IllegalMove {
                step: ended_or_compensating,
                event: "compensation_ordered"
            })
        );
    }
}
