//! Drives sagas through their steps. Each step starts from the persisted
//! state, performs its side effect, and commits the transition (a
//! compare-and-set on step and attempt) before the next step starts; so any
//! instance can pick a saga up where a crashed one left it.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use sqlx::PgPool;
use tokio_retry::strategy::{ExponentialBackoff, jitter};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{Instrument, error, info, info_span, warn};
use uuid::Uuid;

use contract::{Currency, Email, Money, PersonName, VerifyOrCreateRequest};

use super::{
    confirmer::Confirmer,
    decisions::{VerifyDecision, decide_verification},
    gateway::CustomerGateway,
    recorder::Recorder,
    waiters::OrderWaiters,
};
use crate::{
    db::{
        confirmation::{self, StockOutcome, Verified},
        orders::{self, OrderRecord},
        sagas::{self, SagaLease, SagaRow},
    },
    domain::saga::Step,
};

/// Tries of step 2 after crashes before the saga gives up and compensates.
const MAX_VERIFY_ATTEMPTS: i32 = 3;
/// Longest pause between tries of a compensation.
const MAX_COMPENSATION_BACKOFF: Duration = Duration::from_secs(60);

/// How the saga behaves.
#[derive(Debug, Clone)]
pub struct SagaSettings {
    /// How long step 2 waits for customer-svc.
    pub rpc_timeout: Duration,
    /// How long this instance owns a saga it drives.
    pub lease: Duration,
    /// This instance's name in leases.
    pub instance_id: String,
    /// Fault injection for tests: abort the process after committing this step.
    pub crash_after: Option<String>,
    /// The shop's currency: an order in any other is refused.
    pub currency: Currency,
}

/// Drives checkout sagas. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    customers: Arc<dyn CustomerGateway>,
    confirmer: Confirmer,
    recorder: Recorder,
    settings: SagaSettings,
    waiters: OrderWaiters,
    driving: Mutex<HashSet<Uuid>>,
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Coordinator {
    /// A coordinator over `pool`, reaching customer-svc through `customers`.
    pub fn new(pool: PgPool, customers: Arc<dyn CustomerGateway>, settings: SagaSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                confirmer: Confirmer::spawn(pool.clone(), settings.instance_id.clone()),
                recorder: Recorder::spawn(
                    pool.clone(),
                    SagaLease {
                        owner: settings.instance_id.clone(),
                        lease: settings.lease,
                        step_timeout: settings.rpc_timeout,
                    },
                    settings.currency.clone(),
                ),
                pool,
                customers,
                settings,
                waiters: OrderWaiters::default(),
                driving: Mutex::default(),
                tracker: TaskTracker::new(),
                stop: CancellationToken::new(),
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &SagaSettings {
        &self.inner.settings
    }

    /// Step 1: records checkouts, with those that arrive together.
    pub fn recorder(&self) -> &Recorder {
        &self.inner.recorder
    }

    /// Where checkout requests wait for their order's end.
    pub fn waiters(&self) -> &OrderWaiters {
        &self.inner.waiters
    }

    /// Drives a saga found by recovery in a background task (claiming it
    /// first), unless this instance already does.
    pub fn drive_in_background(&self, saga_id: Uuid) {
        self.spawn_driver(saga_id, None);
    }

    /// Drives a saga this instance has just recorded: it holds the lease
    /// already and knows what to ask customer-svc, so the first step starts
    /// without a round trip to the database.
    pub fn drive_recorded(&self, saga: SagaRow, request: VerifyOrCreateRequest) {
        let saga_id = saga.id;
        self.spawn_driver(saga_id, Some((saga, request)));
    }

    fn spawn_driver(&self, saga_id: Uuid, recorded: Option<(SagaRow, VerifyOrCreateRequest)>) {
        if self.inner.stop.is_cancelled() || !self.lock_driving().insert(saga_id) {
            return;
        }
        let this = self.clone();
        let span = info_span!("saga", %saga_id);
        self.inner.tracker.spawn(
            async move {
                if let Err(error) = this.drive(saga_id, recorded).await {
                    error!(%error, "saga stopped on an error; recovery will resume it");
                }
                this.lock_driving().remove(&saga_id);
            }
            .instrument(span),
        );
    }

    /// Stops starting steps, and waits for the steps in flight to commit; the
    /// sagas they belong to are resumed by whichever instance runs next.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }

    fn lock_driving(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        self.inner
            .driving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs the saga from its persisted state until it is done, must wait
    /// (a compensation to retry later), or another instance owns it. A saga
    /// this instance has just recorded is held already: its happy path
    /// (verification, then stock and confirmation in one transaction) never
    /// claims it.
    async fn drive(
        &self,
        saga_id: Uuid,
        recorded: Option<(SagaRow, VerifyOrCreateRequest)>,
    ) -> anyhow::Result<()> {
        let settings = &self.inner.settings;
        let pool = &self.inner.pool;
        let (mut held, mut request) = match recorded {
            Some((saga, request)) => (Some(saga), Some(request)),
            None => (None, None),
        };
        loop {
            if self.inner.stop.is_cancelled() {
                sagas::release_lease(pool, saga_id, &settings.instance_id).await?;
                return Ok(());
            }
            let saga = match held.take() {
                Some(saga) => saga,
                None => match sagas::claim(pool, saga_id, &settings.instance_id, settings.lease)
                    .await?
                {
                    Some(saga) => saga,
                    None => return Ok(()),
                },
            };
            let next = match saga.step {
                Step::VerifyCustomer => self.verify_customer(saga, request.take()).await?,
                Step::ReserveStock => self.reserve_stock(saga).await?,
                Step::ReleaseCredit => self.release_credit(saga).await?,
                Step::Done => Next::Stop,
            };
            if let Next::Stop = next {
                return Ok(());
            }
        }
    }

    /// Step 2: ask customer-svc, retrying a request that may not have left
    /// within the step's deadline, and commit what the answer means.
    /// `prefetched` is the request when the caller has it at hand (the
    /// instance that recorded the checkout); otherwise it is read back.
    async fn verify_customer(
        &self,
        saga: SagaRow,
        prefetched: Option<VerifyOrCreateRequest>,
    ) -> anyhow::Result<Next> {
        let pool = &self.inner.pool;
        let settings = &self.inner.settings;
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
                        self.inner.waiters.ended(saga.order_id);
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
                self.inner
                    .customers
                    .verify_or_create(&request, remaining)
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
                let confirmation = self.inner.confirmer.confirm(verified).await?;
                self.stock_reserved(&saga, confirmation.outcome, confirmation.record)
            }
            VerifyDecision::Refuse {
                reason,
                customer_id,
                detail,
            } => {
                if sagas::refused(pool, &saga, reason, customer_id, &detail).await? {
                    metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => reason.code()).increment(1);
                    self.inner.waiters.ended(saga.order_id);
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
                    self.inner.waiters.ended(saga.order_id);
                }
                Next::Reclaim
            }
            VerifyDecision::Retry => Next::Reclaim,
        })
    }

    async fn verification_request(&self, saga: &SagaRow) -> anyhow::Result<VerifyOrCreateRequest> {
        let details = orders::checkout_details(&self.inner.pool, saga.order_id).await?;
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
    async fn reserve_stock(&self, saga: SagaRow) -> anyhow::Result<Next> {
        let outcome = confirmation::reserve_stock_and_confirm(&self.inner.pool, saga.id).await?;
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
                info!(order_id = %saga.order_id, "order confirmed");
                self.inner.waiters.ended_with(saga.order_id, record);
                Next::Stop
            }
            StockOutcome::Short => {
                metrics::counter!("sagas_ended_total", "outcome" => "rejected", "reason" => contract::RejectionReason::InsufficientStock.code()).increment(1);
                info!(order_id = %saga.order_id, "not enough stock: compensating");
                self.inner.waiters.ended_with(saga.order_id, record);
                Next::Reclaim
            }
            StockOutcome::Superseded => Next::Reclaim,
        }
    }

    /// Compensation: release the saga's credit. When customer-svc does not
    /// answer, the saga is postponed and retried with backoff.
    async fn release_credit(&self, saga: SagaRow) -> anyhow::Result<Next> {
        let pool = &self.inner.pool;
        match self
            .inner
            .customers
            .release_credit(saga.id, self.inner.settings.rpc_timeout)
            .await
        {
            Ok(reply) => {
                sagas::compensated(
                    pool,
                    &saga,
                    &format!("credit released ({})", reply.released),
                )
                .await?;
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
        if self.inner.settings.crash_after.as_deref() == Some(step) {
            error!(
                step,
                "FAULT_CRASH_AFTER: aborting the process now, as a crash would"
            );
            std::process::abort();
        }
    }
}

/// Where the driver goes after a step.
enum Next {
    /// Read the saga again (claiming it) before going on.
    Reclaim,
    /// Nothing more to do now: the saga ended, waits for a retry, or moved
    /// on elsewhere.
    Stop,
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
