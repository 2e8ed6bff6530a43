//! Helpers for the tests of this crate and of the services: waiting for a
//! condition with a deadline, never for a fixed time.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

/// Polls `check` every 25 ms until it returns `Some`, and returns that value;
/// panics naming `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
