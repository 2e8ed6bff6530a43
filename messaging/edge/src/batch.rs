//! Group commit for the services' hot writes. Callers hand a job to one
//! writer task and wait for its outcome; the writer takes every job that
//! arrived while it was writing the previous batch and writes them together,
//! in one transaction. At one caller a batch is one job and costs what a
//! single write did; under load one commit serves many callers, and a row
//! that every caller needs (a popular product's stock) is locked once per
//! batch instead of once per caller.
//!
//! A batch that fails as a whole is written again job by job, so one bad job
//! cannot sink the others; each caller gets its own job's outcome. A batch
//! that fails because the store is not there (no job's doing) is not: every
//! caller is told [`BatchError::Unavailable`] at once, instead of each job
//! waiting in turn for a database that is down.

use std::{future::Future, sync::Arc};

use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// Why a job has no outcome from the writer.
#[derive(Debug, thiserror::Error)]
pub enum BatchError<E> {
    /// Writing the job failed.
    #[error(transparent)]
    Failed(E),
    /// The batch failed for a reason that is no job's doing (the store is
    /// unavailable, as [`WriteFailure::is_unavailable`] said): the job was not
    /// written and may be submitted again later.
    #[error("the batch could not be written: {0}")]
    Unavailable(String),
    /// The writer stopped (the service is shutting down), or gave no outcome
    /// for the job.
    #[error("the batch writer stopped before writing the job")]
    Stopped,
}

type Reply<O, E> = oneshot::Sender<Result<O, BatchError<E>>>;

/// What the writer needs to know of a failed write.
pub trait WriteFailure: std::fmt::Display + Send + 'static {
    /// True when the failure is no job's doing: the store is not there now.
    fn is_unavailable(&self) -> bool;
}

/// A database that is not there now (`crate::database::Fault::Unavailable`).
impl WriteFailure for sqlx::Error {
    fn is_unavailable(&self) -> bool {
        crate::database::fault(self) == crate::database::Fault::Unavailable
    }
}

/// Hands jobs to a batch writer. Cheap to clone; the writer ends once every
/// clone is dropped, after writing what it was given.
pub struct Batcher<J, O, E> {
    jobs: mpsc::Sender<(J, Reply<O, E>)>,
}

impl<J, O, E> Clone for Batcher<J, O, E> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
        }
    }
}

impl<J, O, E> Batcher<J, O, E>
where
    J: Clone + Send + 'static,
    O: Send + 'static,
    E: WriteFailure,
{
    /// Starts a writer that calls `write` with up to `max_batch` jobs at a
    /// time. `write` returns one outcome per job, in the order given; `name`
    /// labels the batch-size histogram (`batch_size{writer}`) and warnings.
    pub fn spawn<F, Fut>(name: &'static str, max_batch: usize, write: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<O>, E>> + Send + 'static,
    {
        let max_batch = max_batch.max(1);
        let (jobs, queue) = mpsc::channel(4 * max_batch);
        tokio::spawn(run(name, max_batch, Arc::new(write), queue));
        Self { jobs }
    }

    /// Writes `job` with whatever else is waiting; returns its outcome once
    /// its batch is committed.
    pub async fn submit(&self, job: J) -> Result<O, BatchError<E>> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send((job, reply))
            .await
            .map_err(|_| BatchError::Stopped)?;
        outcome.await.map_err(|_| BatchError::Stopped)?
    }
}

async fn run<J, O, E, F, Fut>(
    name: &'static str,
    max_batch: usize,
    write: Arc<F>,
    mut queue: mpsc::Receiver<(J, Reply<O, E>)>,
) where
    J: Clone,
    E: WriteFailure,
    F: Fn(Vec<J>) -> Fut,
    Fut: Future<Output = Result<Vec<O>, E>>,
{
    let mut waiting = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut waiting, max_batch).await > 0 {
        let (jobs, replies): (Vec<J>, Vec<Reply<O, E>>) = waiting.drain(..).unzip();
        metrics::histogram!("batch_size", "writer" => name).record(jobs.len() as f64);
        let size = jobs.len();
        match write(jobs.clone()).await {
            Ok(outcomes) => answer(replies, outcomes),
            Err(error) if error.is_unavailable() => {
                warn!(writer = name, %error, jobs = size, "batch not written: the store is unavailable");
                let cause = error.to_string();
                for reply in replies {
                    let _ = reply.send(Err(BatchError::Unavailable(cause.clone())));
                }
            }
            Err(error) if size > 1 => {
                warn!(writer = name, %error, jobs = size, "batch failed: writing its jobs one by one");
                for (job, reply) in jobs.into_iter().zip(replies) {
                    let outcome = match write(vec![job]).await {
                        Ok(outcomes) => outcomes.into_iter().next().ok_or(BatchError::Stopped),
                        Err(error) if error.is_unavailable() => {
                            Err(BatchError::Unavailable(error.to_string()))
                        }
                        Err(error) => Err(BatchError::Failed(error)),
                    };
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(BatchError::Failed(error)));
                }
            }
        }
    }
}

/// Gives each caller its outcome; a caller the writer gave none gets `Stopped`.
fn answer<O, E>(replies: Vec<Reply<O, E>>, outcomes: Vec<O>) {
    let mut outcomes = outcomes.into_iter();
    for reply in replies {
        let _ = reply.send(outcomes.next().ok_or(BatchError::Stopped));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test]
    async fn jobs_that_arrive_together_are_written_together_in_order() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let batcher: Batcher<u32, u32, String> = Batcher::spawn("test", 8, move |jobs| {
            seen.lock().unwrap().push(jobs.len());
            async move { Ok(jobs.iter().map(|j| j * 10).collect()) }
        });
        let outcomes = futures_util::future::join_all((0..20).map(|n| batcher.submit(n))).await;
        let outcomes: Vec<u32> = outcomes.into_iter().map(|o| o.unwrap()).collect();
        assert_eq!(outcomes, (0..20).map(|n| n * 10).collect::<Vec<_>>());
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(sizes.iter().all(|&s| s <= 8), "{sizes:?}");
        assert!(sizes.len() < 20, "some jobs shared a batch: {sizes:?}");
    }

    #[tokio::test]
    async fn a_failed_batch_is_written_again_job_by_job() {
        let batcher: Batcher<u32, u32, String> = Batcher::spawn("test", 8, |jobs| async move {
            if jobs.contains(&3) {
                Err(format!("job 3 is bad (batch of {})", jobs.len()))
            } else {
                Ok(jobs)
            }
        });
        let outcomes = futures_util::future::join_all((0..6).map(|n| batcher.submit(n))).await;
        for (n, outcome) in outcomes.into_iter().enumerate() {
            match (n, outcome) {
                (3, Err(BatchError::Failed(error))) => {
                    assert_eq!(error, "job 3 is bad (batch of 1)")
                }
                (n, Ok(value)) => assert_eq!(value as usize, n),
                (n, other) => panic!("job {n}: {other:?}"),
            }
        }
    }

    /// A test store's failure: unavailable when it says so.
    impl WriteFailure for String {
        fn is_unavailable(&self) -> bool {
            self.starts_with("unavailable")
        }
    }

    #[tokio::test]
    async fn an_unavailable_store_fails_every_job_at_once_without_writing_them_one_by_one() {
        let writes = Arc::new(Mutex::new(0));
        let counted = writes.clone();
        let batcher: Batcher<u32, u32, String> = Batcher::spawn("test", 8, move |jobs| {
            *counted.lock().unwrap() += 1;
            async move { Err(format!("unavailable: {} jobs", jobs.len())) }
        });
        let outcomes = futures_util::future::join_all((0..6).map(|n| batcher.submit(n))).await;
        for outcome in outcomes {
            assert!(
                matches!(&outcome, Err(BatchError::Unavailable(cause)) if cause.starts_with("unavailable")),
                "{outcome:?}"
            );
        }
        let writes = *writes.lock().unwrap();
        assert!(
            writes < 6,
            "{writes} writes: each failed batch was written once"
        );
    }

    #[tokio::test]
    async fn a_job_without_an_outcome_is_told_so() {
        let batcher: Batcher<u32, u32, String> =
            Batcher::spawn("test", 8, |_jobs| async move { Ok(Vec::new()) });
        assert!(matches!(batcher.submit(1).await, Err(BatchError::Stopped)));
    }
}
