//! An order's saga timeline in the buyer's words. order-svc sends each entry
//! as a step and a status named for operators (`verify_customer` /
//! `completed`, `release_credit` / `compensated`, ...); the buyer reads what
//! happened to their order ("Customer verified and credit reserved",
//! "Credit released", "Rejected: not enough stock"). Pure, so that every
//! name the server sends is unit-tested; a name this UI does not know (from
//! a newer server) still reads as words, never as a blank line.

use contract::RejectionReason;

use crate::api::SagaStep;

/// How an entry went, for its colour and mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A step forward.
    Done,
    /// The order was refused at this point.
    Refused,
    /// Something held for the order was given back.
    Undone,
    /// Still under way, or being tried again.
    Waiting,
    /// A step this UI has no words of its own for.
    Other,
}

impl Tone {
    /// Its CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Done => "done",
            Tone::Refused => "refused",
            Tone::Undone => "undone",
            Tone::Waiting => "waiting",
            Tone::Other => "other",
        }
    }
}

/// One entry as the buyer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What happened, in a few words.
    pub title: String,
    /// What it means for the buyer, when there is more to say.
    pub note: Option<&'static str>,
    pub tone: Tone,
}

impl Line {
    fn new(title: impl Into<String>, tone: Tone) -> Self {
        Self {
            title: title.into(),
            note: None,
            tone,
        }
    }

    fn noted(mut self, note: &'static str) -> Self {
        self.note = Some(note);
        self
    }
}

/// One entry of the timeline, ready to show: its words and when (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub line: Line,
    pub at: String,
}

/// The order's timeline in the buyer's words, oldest first (the server's
/// order), without the entries that mean nothing to a buyer. `reason` is
/// the order's rejection reason, which says why the refusing entry refused.
pub fn lines(steps: &[SagaStep], reason: Option<&str>) -> Vec<Shown> {
    steps
        .iter()
        .filter_map(|step| {
            describe(&step.step, &step.status, reason).map(|line| Shown {
                line,
                at: step.at.clone(),
            })
        })
        .collect()
}

/// One entry in words; `None` for bookkeeping a buyer has nothing to learn
/// from (an event handed to the message broker).
pub fn describe(step: &str, status: &str, reason: Option<&str>) -> Option<Line> {
    let rejected = || format!("Rejected: {}", why(reason));
    Some(match (step, status) {
        ("publish_event", _) => return None,
        ("record_order", "completed") => Line::new("Order recorded", Tone::Done),
        ("verify_customer", "completed") => {
            Line::new("Customer verified and credit reserved", Tone::Done)
        }
        ("verify_customer", "retried") => Line::new("Checking your account again", Tone::Waiting)
            .noted("The first check was interrupted; nothing is charged twice."),
        ("verify_customer", "refused") => Line::new(rejected(), Tone::Refused)
            .noted("Nothing was reserved, so there was nothing to undo."),
        ("verify_customer", "timed_out" | "failed") => Line::new(rejected(), Tone::Refused)
            .noted("Any credit held for this order is released."),
        ("reserve_stock", "completed") => Line::new("Stock reserved", Tone::Done),
        ("reserve_stock", "failed" | "timed_out") => Line::new(rejected(), Tone::Refused)
            .noted("No stock was taken; the credit reserved for this order is released."),
        ("confirm_order", "completed") => Line::new("Confirmed", Tone::Done),
        ("release_credit", "compensated") => {
            Line::new("Credit released", Tone::Undone).noted("Nothing is charged for this order.")
        }
        ("release_credit", "retrying") => {
            Line::new("Releasing your credit is taking longer", Tone::Waiting)
                .noted("We keep trying until it is released.")
        }
        (_, "compensation_ordered") => Line::new(rejected(), Tone::Refused)
            .noted("It could not be finished in time; any credit held for it is released."),
        (_, "resumed") => Line::new("Picked up again", Tone::Waiting)
            .noted("It was taking too long; we are finishing it now."),
        ("cancel_order", "completed") => Line::new("Cancelled", Tone::Undone)
            .noted("The items went back into stock, and your credit is released."),
        (step, status) => Line::new(fallback(step, status), Tone::Other),
    })
}

/// Why an order was refused, short enough to follow "Rejected: ".
fn why(reason: Option<&str>) -> &'static str {
    match reason.and_then(RejectionReason::parse) {
        Some(RejectionReason::CustomerBlocked) => "your account is blocked",
        Some(RejectionReason::CreditLimitExceeded) => "not enough credit",
        Some(RejectionReason::InsufficientStock) => "not enough stock",
        Some(RejectionReason::CustomerServiceUnavailable) => "we could not check your account",
        Some(RejectionReason::CustomerInvalid) => "your details were not accepted",
        Some(RejectionReason::SignInRequired) => "this email belongs to an account; sign in",
        None => "the order could not be placed",
    }
}

/// Words for an entry this UI does not know: its step as a phrase of its own
/// ("Checking your account", or the raw name in words), and its status.
fn fallback(step: &str, status: &str) -> String {
    let subject = match step {
        "record_order" => "Recording the order".to_owned(),
        "verify_customer" => "Checking your account".to_owned(),
        "reserve_stock" => "Reserving stock".to_owned(),
        "confirm_order" => "Confirming".to_owned(),
        "release_credit" => "Releasing your credit".to_owned(),
        "cancel_order" => "Cancelling".to_owned(),
        other => capitalised(&in_words(other)),
    };
    match (subject.is_empty(), in_words(status)) {
        (true, status) if status.is_empty() => "Update".to_owned(),
        (true, status) => capitalised(&status),
        (false, status) if status.is_empty() => subject,
        (false, status) => format!("{subject}: {status}"),
    }
}

/// `snake_case` as words.
fn in_words(name: &str) -> String {
    name.split(['_', '-', '.'])
        .filter(|word| !word.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether the order's saga is still moving, so that its timeline will
/// grow: a pending order, or a rejected one whose held credit is still
/// being released.
pub fn still_moving(status: &str, steps: &[SagaStep]) -> bool {
    let ended = steps.iter().any(|s| {
        matches!(
            (s.step.as_str(), s.status.as_str()),
            ("confirm_order", "completed")
                | ("verify_customer", "refused")
                | ("release_credit", "compensated")
                | ("cancel_order", "completed")
        )
    });
    match status {
        "pending" => true,
        "rejected" => !ended,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: &str, status: &str) -> SagaStep {
        SagaStep {
            step: step.into(),
            status: status.into(),
            at: "2026-12-06T14:00:00Z".into(),
            detail: Some("operator words".into()),
        }
    }

    fn titles(steps: &[SagaStep], reason: Option<&str>) -> Vec<String> {
        lines(steps, reason)
            .into_iter()
            .map(|shown| shown.line.title)
            .collect()
    }

    #[test]
    fn a_confirmed_order_tells_its_story_oldest_first_without_bookkeeping() {
        let steps = [
            step("record_order", "completed"),
            step("verify_customer", "completed"),
            step("reserve_stock", "completed"),
            step("confirm_order", "completed"),
            step("publish_event", "completed"),
        ];
        assert_eq!(
            titles(&steps, None),
            [
                "Order recorded",
                "Customer verified and credit reserved",
                "Stock reserved",
                "Confirmed"
            ]
        );
        assert!(!still_moving("confirmed", &steps));
    }

    #[test]
    fn a_refusal_says_why_and_that_nothing_was_held() {
        let steps = [
            step("record_order", "completed"),
            step("verify_customer", "refused"),
        ];
        let shown = lines(&steps, Some("credit_limit_exceeded"));
        assert_eq!(shown[1].line.title, "Rejected: not enough credit");
        assert_eq!(shown[1].line.tone, Tone::Refused);
        assert!(
            shown[1]
                .line
                .note
                .is_some_and(|n| n.contains("nothing to undo"))
        );
        assert!(!still_moving("rejected", &steps));
        assert_eq!(
            titles(&steps, Some("customer_blocked"))[1],
            "Rejected: your account is blocked"
        );
    }

    #[test]
    fn a_stock_shortage_shows_the_credit_given_back() {
        let steps = [
            step("record_order", "completed"),
            step("verify_customer", "completed"),
            step("reserve_stock", "failed"),
        ];
        assert!(still_moving("rejected", &steps), "the release is to come");
        let mut steps = steps.to_vec();
        steps.push(step("release_credit", "compensated"));
        assert_eq!(
            titles(&steps, Some("insufficient_stock")),
            [
                "Order recorded",
                "Customer verified and credit reserved",
                "Rejected: not enough stock",
                "Credit released"
            ]
        );
        assert_eq!(lines(&steps, None)[3].line.tone, Tone::Undone);
        assert!(!still_moving("rejected", &steps));
    }

    #[test]
    fn a_timeout_and_a_slow_release_read_as_words() {
        let steps = [
            step("record_order", "completed"),
            step("verify_customer", "retried"),
            step("verify_customer", "timed_out"),
            step("release_credit", "retrying"),
            step("release_credit", "compensated"),
        ];
        assert_eq!(
            titles(&steps, Some("customer_service_unavailable")),
            [
                "Order recorded",
                "Checking your account again",
                "Rejected: we could not check your account",
                "Releasing your credit is taking longer",
                "Credit released"
            ]
        );
        assert_eq!(
            describe("verify_customer", "failed", Some("customer_invalid")).map(|l| l.title),
            Some("Rejected: your details were not accepted".to_owned())
        );
        assert_eq!(
            describe("verify_customer", "refused", Some("sign_in_required")).map(|l| l.title),
            Some("Rejected: this email belongs to an account; sign in".to_owned())
        );
    }

    #[test]
    fn a_cancellation_says_what_was_given_back() {
        let steps = [
            step("record_order", "completed"),
            step("verify_customer", "completed"),
            step("reserve_stock", "completed"),
            step("confirm_order", "completed"),
            step("cancel_order", "completed"),
        ];
        let shown = lines(&steps, None);
        assert_eq!(shown[4].line.title, "Cancelled");
        assert!(
            shown[4]
                .line
                .note
                .is_some_and(|n| n.contains("back into stock"))
        );
        assert!(!still_moving("cancelled", &steps));
    }

    #[test]
    fn every_name_the_server_sends_has_words_of_its_own() {
        for (step, status) in [
            ("record_order", "completed"),
            ("verify_customer", "completed"),
            ("verify_customer", "retried"),
            ("verify_customer", "refused"),
            ("verify_customer", "timed_out"),
            ("verify_customer", "failed"),
            ("reserve_stock", "completed"),
            ("reserve_stock", "failed"),
            ("confirm_order", "completed"),
            ("release_credit", "compensated"),
            ("release_credit", "retrying"),
            ("cancel_order", "completed"),
            ("verify_customer", "compensation_ordered"),
            ("reserve_stock", "compensation_ordered"),
            ("verify_customer", "resumed"),
        ] {
            let line = describe(step, status, Some("insufficient_stock"));
            assert!(
                line.as_ref().is_some_and(|l| l.tone != Tone::Other
                    && !l.title.contains('_')
                    && !l.title.is_empty()),
                "{step}/{status}: {line:?}"
            );
        }
    }

    #[test]
    fn an_unknown_entry_still_reads_as_words_and_an_unknown_reason_too() {
        assert_eq!(
            describe("admin_resume", "completed", None).map(|l| (l.title, l.tone)),
            Some(("Admin resume: completed".to_owned(), Tone::Other))
        );
        assert_eq!(
            describe("reserve_stock", "on_hold", None).map(|l| l.title),
            Some("Reserving stock: on hold".to_owned())
        );
        assert_eq!(
            describe("", "", None).map(|l| l.title),
            Some("Update".to_owned())
        );
        assert_eq!(
            describe("__", "on_hold", None).map(|l| l.title),
            Some("On hold".to_owned())
        );
        assert_eq!(
            describe("verify_customer", "refused", Some("a_newer_reason")).map(|l| l.title),
            Some("Rejected: the order could not be placed".to_owned())
        );
    }

    #[test]
    fn a_pending_order_is_still_moving_and_an_empty_timeline_is_empty() {
        assert!(still_moving(
            "pending",
            &[step("record_order", "completed")]
        ));
        assert!(lines(&[], None).is_empty());
        assert!(!still_moving("confirmed", &[]));
    }
}
