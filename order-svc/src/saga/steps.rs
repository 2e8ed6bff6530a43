//! What each step of the saga does, once the coordinator has the saga in
//! hand: its side effect (asking customer-svc, writing steps 3 and 4 with
//! the batch, releasing the credit), the transition it commits, and what
//! that means for the checkout waiting on the order. Which step runs, and
//! who holds the saga meanwhile, is the coordinator's business.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use sqlx::PgPool;
use tokio_retry::strategy::{ExponentialBackoff, jitter};
use tracing::{error, info, warn};

use contract::{Currency, Email, Money, PersonName, VerifyOrCreateRequest};

use super::{
    confirmer::Confirmer,
    decisions::{VerifyDecision, decide_verification},
    duration::{self, Ending},
    gateway::CustomerGateway,
    settings::SagaSettings,
    waiters::OrderWaiters,
};
use crate::db::{
    confirmation::{self, StockOutcome, Verified},
    orders::{self, OrderRecord},
    sagas::{self, SagaRow},
};

/// Tries of step 2 after crashes before the saga gives up and compensates.
pub(crate) const MAX_VERIFY_ATTEMPTS: i32 = 3;
/// Longest pause between tries of a compensation.
const MAX_COMPENSATION_BACKOFF: Duration = Duration::from_secs(60);

/// Where the driver goes after a step.
pub(super) enum Next {
    /// Read the saga again (claiming it) before going on.
    Reclaim,
    /// Nothing more to do now: the saga ended, waits for a retry, or moved
    /// on elsewhere.
    Stop,
}

/// The steps, with what they need to run.
pub(super) struct Steps {
    pool: PgPool,
    customers: Arc<dyn CustomerGateway>,
    confirmer: Confirmer,
    settings: SagaSettings,
    waiters: Arc<OrderWaiters>,
}

impl Steps {
    /// Steps over `pool`, reaching customer-svc through `customers`, and
    /// signalling the end of each order's checkout to `waiters`.
    pub(super) fn new(
        pool: PgPool,
        customers: Arc<dyn CustomerGateway>,
        settings: SagaSettings,
        waiters: Arc<OrderWaiters>,
    ) -> Self {
        duration::register();
        Self {
            confirmer: Confirmer::spawn(pool.clone(), settings.instance_id.clone()),
            pool,
            customers,
            settings,
            waiters,
        }
    }

    /// Step 2: ask customer-svc, retrying a request that may not have left
    /// within the step's deadline, and commit what the answer means.
    /// `prefetched` is the request when the caller has it at hand (the
    /// instance that recorded the checkout); otherwise it is read back.
    pub(super) async fn verify_customer(
        &self,
        saga: SagaRow,
        prefetched: Option<VerifyOrCreateRequest>,
    ) -> anyhow::Result<Next> {
        let pool = &self.pool;
        let settings = &self.settings;
        let saga = match saga.deadline {
            Some(deadline) if deadline <= Utc::now() => {
                // A driver died mid-call. customer-svc answers a saga
                // idempotently, so asking again is safe; after a few tries, give up.
                if saga.attempt >= MAX_VERIFY_ATTEMPTS {
                    let reason = contract::RejectionReason::CustomerServiceUnavailable;
                    let detail = format!(
                        "no answer after {} attempts; releasing the credit",
                        saga.attempt
                    );
                    if sagas::start_compensation(pool, &saga, reason, "timed_out", &detail).await? {
                        metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => reason.code()).increment(1);
                        self.waiters.ended(saga.order_id);
                    }
                    return Ok(Next::Reclaim);
                }
                match sagas::next_attempt(
                    pool,
                    &saga,
                    settings.rpc_timeout,
                    "resumed after an interruption",
                )
                .await?
                {
                    Some(saga) => saga,
                    None => return Ok(Next::Reclaim),
                }
            }
            _ => saga,
        };
        let request = match prefetched {
            Some(request) => request,
            None => self.verification_request(&saga).await?,
        };
        let deadline = tokio::time::Instant::now()
            + saga
                .deadline
                .and_then(|d| (d - Utc::now()).to_std().ok())
                .unwrap_or(settings.rpc_timeout);
        let mut backoff = ExponentialBackoff::from_millis(2)
            .factor(50)
            .max_delay(Duration::from_secs(1))
            .map(jitter);
        let decision = loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let outcome = if remaining.is_zero() {
                Err(amqp::RpcError::Timeout(settings.rpc_timeout))
            } else {
                self.customers
                    .verify_or_create(&request, saga.request_id.as_deref(), remaining)
                    .await
            };
            match decide_verification(outcome) {
                VerifyDecision::Retry => {
                    let pause = backoff.next().unwrap_or(Duration::from_secs(1));
                    tokio::time::sleep(
                        pause.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
                    )
                    .await;
                }
                decision => break decision,
            }
        };
        info!(
            attempt = saga.attempt,
            ?decision,
            "customer verification decided"
        );
        Ok(match decision {
            VerifyDecision::Verified(customer_id) => {
                // The answer is in hand but not yet committed: the moment a
                // crash costs the most (customer-svc asked again on restart).
                self.crash_point("verify_customer");
                let verified = Verified {
                    saga: saga.clone(),
                    customer_id,
                };
                let confirmation = self.confirmer.confirm(verified).await?;
                self.stock_reserved(&saga, confirmation.outcome, confirmation.record)
            }
            VerifyDecision::Refuse {
                reason,
                customer_id,
                detail,
            } => {
                if sagas::refused(pool, &saga, reason, customer_id, &detail).await? {
                    metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => reason.code()).increment(1);
                    duration::record(&saga, Ending::Rejected);
                    self.waiters.ended(saga.order_id);
                    Next::Stop
                } else {
                    Next::Reclaim
                }
            }
            VerifyDecision::Compensate {
                reason,
                status,
                detail,
            } => {
                if sagas::start_compensation(pool, &saga, reason, status, &detail).await? {
                    metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => reason.code()).increment(1);
                    self.waiters.ended(saga.order_id);
                }
                Next::Reclaim
            }
            VerifyDecision::Retry => Next::Reclaim,
        })
    }

    async fn verification_request(&self, saga: &SagaRow) -> anyhow::Result<VerifyOrCreateRequest> {
        let details = orders::checkout_details(&self.pool, saga.order_id).await?;
        Ok(VerifyOrCreateRequest {
            saga_id: saga.id,
            email: Email::parse(&details.customer_email)?,
            name: PersonName::parse(&details.customer_name)?,
            amount: Money::new(details.total)?,
            currency: Currency::parse(&details.currency)?,
            customer_id: details.customer_id,
        })
    }

    /// Steps 3 and 4 of a saga resumed there: reserve the stock and confirm,
    /// or start compensating.
    pub(super) async fn reserve_stock(&self, saga: SagaRow) -> anyhow::Result<Next> {
        let outcome = confirmation::reserve_stock_and_confirm(&self.pool, saga.id).await?;
        Ok(self.stock_reserved(&saga, outcome, None))
    }

    /// What steps 3 and 4 committed means for the checkout and the driver;
    /// `record` is the order as that transaction left it, for the answer.
    fn stock_reserved(
        &self,
        saga: &SagaRow,
        outcome: StockOutcome,
        record: Option<OrderRecord>,
    ) -> Next {
        match outcome {
            StockOutcome::Confirmed => {
                metrics::counter!("sagas_ended_total", "outcome" => "confirmed", "reason" => "")
                    .increment(1);
                duration::record(saga, Ending::Confirmed);
                info!(order_id = %saga.order_id, "order confirmed");
                self.waiters.ended_with(saga.order_id, record);
                Next::Stop
            }
            StockOutcome::Short => {
                metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => contract::RejectionReason::InsufficientStock.code()).increment(1);
                info!(order_id = %saga.order_id, "not enough stock: compensating");
                self.waiters.ended_with(saga.order_id, record);
                Next::Reclaim
            }
            StockOutcome::Superseded => Next::Reclaim,
        }
    }

    /// Compensation: release the saga's credit. When customer-svc does not
    /// answer, the saga is postponed and retried with backoff.
    pub(super) async fn release_credit(&self, saga: SagaRow) -> anyhow::Result<Next> {
        let pool = &self.pool;
        match self
            .customers
            .release_credit(
                saga.id,
                saga.request_id.as_deref(),
                self.settings.rpc_timeout,
            )
            .await
        {
            Ok(reply) => {
                let ended = sagas::compensated(
                    pool,
                    &saga,
                    &format!("credit released ({})", reply.released),
                )
                .await?;
                if ended {
                    duration::record(&saga, Ending::Compensated);
                }
                info!(released = %reply.released, "compensation done");
                Ok(Next::Stop)
            }
            Err(error) => {
                let delay = compensation_backoff(saga.attempt);
                warn!(%error, attempt = saga.attempt, ?delay, "credit release failed; will retry");
                let detail =
                    format!("customer-svc did not answer ({error}); retrying with backoff");
                sagas::postpone(pool, &saga, delay, &detail).await?;
                Ok(Next::Stop)
            }
        }
    }

    fn crash_point(&self, step: &str) {
        if self.settings.crash_after.as_deref() == Some(step) {
            error!(
                step,
                "FAULT_CRASH_AFTER: aborting the process now, as a crash would"
            );
            std::process::abort();
        }
    }
}

/// 1 s, 2 s, 4 s, … up to a minute.
fn compensation_backoff(attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 16) - 1).unwrap_or(0);
    Duration::from_secs(1)
        .saturating_mul(2_u32.saturating_pow(exponent))
        .min(MAX_COMPENSATION_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensation_backs_off_up_to_a_minute() {
        assert_eq!(compensation_backoff(1), Duration::from_secs(1));
        assert_eq!(compensation_backoff(3), Duration::from_secs(4));
        assert_eq!(compensation_backoff(30), MAX_COMPENSATION_BACKOFF);
    }
}
