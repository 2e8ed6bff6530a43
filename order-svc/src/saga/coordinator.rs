//! Drives sagas through their steps. Each step starts from the persisted
//! state, performs its side effect, and commits the transition (a
//! compare-and-set on step and attempt) before the next step starts; so any
//! instance can pick a saga up where a crashed one left it. Here: which
//! sagas this instance drives, in which tasks, holding which leases, and
//! which step comes next; what a step does is in `steps`. Each saga runs
//! in a `saga` span with its id, its order, the step it is at, and the id
//! of the HTTP request that started it (kept with the saga, so also after
//! a restart or on another instance).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use sqlx::PgPool;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{Instrument, Span, error, field, info_span};
use uuid::Uuid;

use contract::VerifyOrCreateRequest;

use super::{
    gateway::CustomerGateway,
    recorder::Recorder,
    settings::SagaSettings,
    steps::{Next, Steps},
    waiters::OrderWaiters,
};
use crate::{
    db::sagas::{self, SagaLease, SagaRow},
    domain::saga::Step,
};

/// Drives checkout sagas. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    steps: Steps,
    recorder: Recorder,
    settings: SagaSettings,
    waiters: Arc<OrderWaiters>,
    driving: Mutex<HashSet<Uuid>>,
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Coordinator {
    /// A coordinator over `pool`, reaching customer-svc through `customers`.
    pub fn new(pool: PgPool, customers: Arc<dyn CustomerGateway>, settings: SagaSettings) -> Self {
        let waiters = Arc::new(OrderWaiters::default());
        Self {
            inner: Arc::new(Inner {
                steps: Steps::new(
                    pool.clone(),
                    customers,
                    settings.clone(),
                    Arc::clone(&waiters),
                ),
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
                settings,
                waiters,
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
        let span = info_span!(
            "saga",
            %saga_id,
            order_id = field::Empty,
            request_id = field::Empty,
            step = field::Empty,
        );
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
            in_span_of(&saga);
            let next = match saga.step {
                Step::VerifyCustomer => {
                    self.inner
                        .steps
                        .verify_customer(saga, request.take())
                        .await?
                }
                Step::ReserveStock => self.inner.steps.reserve_stock(saga).await?,
                Step::ReleaseCredit => self.inner.steps.release_credit(saga).await?,
                Step::Done => Next::Stop,
            };
            if let Next::Stop = next {
                return Ok(());
            }
        }
    }
}

/// Fills the driver's `saga` span in with what the saga's row says.
fn in_span_of(saga: &SagaRow) {
    let span = Span::current();
    span.record("order_id", field::display(saga.order_id));
    span.record("step", saga.step.as_str());
    if let Some(request_id) = &saga.request_id {
        span.record("request_id", request_id.as_str());
    }
}
