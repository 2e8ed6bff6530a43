//! Repairing sagas without a database shell (the contract's "Operating
//! it"): the stuck ones a page at a time, and one resumed or compensated.
//! The moves themselves, and their safety against the saga's driver and
//! other instances, are `crate::saga::repair`'s.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use edge::paging::Paging;

use crate::{
    db::sagas::{self, Ordered, Resumed, SagaReport},
    domain::saga::{Phase, Step},
    saga::{
        Coordinator,
        repair::{self, OrderedBy},
    },
};

/// Lists, resumes and compensates sagas. Cheap to clone.
#[derive(Clone)]
pub struct Repair {
    pool: PgPool,
    coordinator: Coordinator,
    stuck_after: Duration,
}

/// Why a repair was not done.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// There is no such saga.
    #[error("no such saga")]
    NotFound,
    /// The saga has ended, in this phase.
    #[error("the saga has ended ({})", .0.as_str())]
    Finished(Phase),
    /// The saga is being compensated already.
    #[error("the saga is being compensated already")]
    Compensating,
    /// The saga kept moving while the compensation was being ordered.
    #[error("the saga kept moving; try again")]
    Busy,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Repair {
    /// Repairs of the sagas in `pool`, driven by `coordinator`; a saga
    /// started more than `stuck_after` ago and not finished is stuck.
    pub fn new(pool: PgPool, coordinator: Coordinator, stuck_after: Duration) -> Self {
        Self {
            pool,
            coordinator,
            stuck_after,
        }
    }

    /// From what age an unfinished saga is stuck (`SAGA_STUCK_AFTER`).
    pub fn stuck_after(&self) -> Duration {
        self.stuck_after
    }

    /// One page of the stuck sagas, oldest first, and how many there are.
    pub async fn stuck(&self, paging: Paging) -> Result<(Vec<SagaReport>, i64), RepairError> {
        Ok(sagas::stuck(
            &self.pool,
            self.stuck_after,
            paging.limit(),
            paging.offset(),
        )
        .await?)
    }

    /// Runs the saga `id` again now; answers it as it then stands.
    pub async fn resume(&self, id: Uuid) -> Result<SagaReport, RepairError> {
        match repair::resume(&self.coordinator, &self.pool, id).await? {
            Resumed::Now(_) => self.report(id).await,
            Resumed::Finished(saga) => Err(RepairError::Finished(saga.status)),
            Resumed::NotFound => Err(RepairError::NotFound),
        }
    }

    /// Starts the compensation of the saga `id`, as an operator; answers it
    /// as it then stands.
    pub async fn compensate(&self, id: Uuid) -> Result<SagaReport, RepairError> {
        match repair::compensate(&self.coordinator, &self.pool, id, OrderedBy::Operator).await? {
            Ordered::Now(_) => self.report(id).await,
            Ordered::Refused(saga, _) if saga.step == Step::Done => {
                Err(RepairError::Finished(saga.status))
            }
            Ordered::Refused(..) => Err(RepairError::Compensating),
            Ordered::NotFound => Err(RepairError::NotFound),
            Ordered::Busy => Err(RepairError::Busy),
        }
    }

    async fn report(&self, id: Uuid) -> Result<SagaReport, RepairError> {
        sagas::report(&self.pool, id)
            .await?
            .ok_or(RepairError::NotFound)
    }
}
