//! What step 2's outcome means for the saga, decided without side effects so
//! that every case is unit-tested.

use uuid::Uuid;

use amqp::RpcError;
use contract::{RefusalReason, VerifyOrCreateReply};

use contract::RejectionReason;

/// The saga's next move after `customer.verify_or_create`.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyDecision {
    /// Credit reserved: go on to the stock.
    Verified(Uuid),
    /// Refused: reject the order; nothing is held, nothing to compensate.
    Refuse {
        /// Why.
        reason: RejectionReason,
        /// The customer, when known.
        customer_id: Option<Uuid>,
        /// In words, for the timeline.
        detail: String,
    },
    /// No usable answer: reject the order and release whatever may be held
    /// (the request may still be processed late).
    Compensate {
        /// Why.
        reason: RejectionReason,
        /// The timeline status of step 2 (`timed_out`, `failed`).
        status: &'static str,
        /// In words.
        detail: String,
    },
    /// The request may not have left (broker reconnecting): try again within
    /// the step's deadline.
    Retry,
}

/// Classifies an outcome of `customer.verify_or_create`.
pub fn decide_verification(outcome: Result<VerifyOrCreateReply, RpcError>) -> VerifyDecision {
    match outcome {
        Ok(VerifyOrCreateReply::Reserved { customer_id }) => VerifyDecision::Verified(customer_id),
        Ok(VerifyOrCreateReply::Refused {
            customer_id,
            reason,
        }) => {
            let (reason, detail) = match reason {
                RefusalReason::CustomerBlocked => {
                    (RejectionReason::CustomerBlocked, "customer is blocked")
                }
                RefusalReason::CreditLimitExceeded => (
                    RejectionReason::CreditLimitExceeded,
                    "total exceeds the customer's available credit",
                ),
                RefusalReason::SignInRequired => (
                    RejectionReason::SignInRequired,
                    "the email belongs to an account: its owner must sign in to order with it",
                ),
                // customer-svc already holds a release for this saga: nothing is reserved.
                RefusalReason::SagaReleased => (
                    RejectionReason::CustomerServiceUnavailable,
                    "the saga's credit was already released",
                ),
            };
            VerifyDecision::Refuse {
                reason,
                customer_id,
                detail: detail.to_owned(),
            }
        }
        Err(error) if error.is_transient() => VerifyDecision::Retry,
        Err(RpcError::Timeout(after)) => VerifyDecision::Compensate {
            reason: RejectionReason::CustomerServiceUnavailable,
            status: "timed_out",
            detail: format!(
                "no answer from customer-svc within {} ms; releasing the credit",
                after.as_millis()
            ),
        },
        Err(error) if error.is_invalid_request() => VerifyDecision::Compensate {
            reason: RejectionReason::CustomerInvalid,
            status: "failed",
            detail: format!("customer-svc refused the request as invalid ({error})"),
        },
        Err(error) => VerifyDecision::Compensate {
            reason: RejectionReason::CustomerServiceUnavailable,
            status: "failed",
            detail: format!("customer-svc could not answer ({error}); releasing the credit"),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use amqp::MessagingError;

    use super::*;

    #[test]
    fn a_reservation_goes_on() {
        let id = Uuid::new_v4();
        assert_eq!(
            decide_verification(Ok(VerifyOrCreateReply::Reserved { customer_id: id })),
            VerifyDecision::Verified(id)
        );
    }

    #[test]
    fn refusals_reject_without_compensation() {
        for (refusal, reason) in [
            (
                RefusalReason::CustomerBlocked,
                RejectionReason::CustomerBlocked,
            ),
            (
                RefusalReason::CreditLimitExceeded,
                RejectionReason::CreditLimitExceeded,
            ),
            (
                RefusalReason::SagaReleased,
                RejectionReason::CustomerServiceUnavailable,
            ),
        ] {
            let decision = decide_verification(Ok(VerifyOrCreateReply::Refused {
                customer_id: None,
                reason: refusal,
            }));
            assert!(
                matches!(decision, VerifyDecision::Refuse { reason: r, .. } if r == reason),
                "{decision:?}"
            );
        }
    }

    #[test]
    fn a_timeout_compensates_and_a_lost_connection_retries() {
        let timeout = decide_verification(Err(RpcError::Timeout(Duration::from_secs(3))));
        assert!(matches!(
            timeout,
            VerifyDecision::Compensate {
                reason: RejectionReason::CustomerServiceUnavailable,
                status: "timed_out",
                ..
            }
        ));
        let disconnected =
            decide_verification(Err(RpcError::Transport(MessagingError::NotConnected {
                waited: Duration::from_secs(1),
            })));
        assert_eq!(disconnected, VerifyDecision::Retry);
        let invalid = decide_verification(Err(RpcError::Remote {
            code: contract::ErrorCode::InvalidRequest,
            message: "bad email".into(),
        }));
        assert!(matches!(
            invalid,
            VerifyDecision::Compensate {
                reason: RejectionReason::CustomerInvalid,
                ..
            }
        ));
        let broken = decide_verification(Err(RpcError::Remote {
            code: contract::ErrorCode::Unavailable,
            message: "db".into(),
        }));
        assert!(matches!(
            broken,
            VerifyDecision::Compensate {
                reason: RejectionReason::CustomerServiceUnavailable,
                ..
            }
        ));
    }
}
