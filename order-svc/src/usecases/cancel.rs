//! Cancelling a confirmed order: its stock restored and `order.cancelled`
//! queued (customer-svc then releases the credit), in one transaction;
//! cancelling it again changes nothing.

use uuid::Uuid;

use super::orders::Orders;
use crate::db::orders::{self, Cancelled, OrderRecord};

/// Why an order was not cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// There is no such order.
    #[error("no such order")]
    NotFound,
    /// Only a confirmed order can be cancelled; this one is in this status.
    #[error("only a confirmed order can be cancelled; this one is {0}")]
    NotCancellable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Orders {
    /// Cancels the order `id` (or finds it cancelled already), and answers
    /// it as it now stands, with its saga's timeline; `request_id` (the
    /// cancel request's) goes with its `order.cancelled`.
    pub async fn cancel(&self, id: Uuid, request_id: &str) -> Result<OrderRecord, CancelError> {
        match orders::cancel(&self.pool, id, Some(request_id)).await? {
            Cancelled::Now | Cancelled::Already => {}
            Cancelled::NotFound => return Err(CancelError::NotFound),
            Cancelled::NotCancellable(status) => return Err(CancelError::NotCancellable(status)),
        }
        orders::get(&self.pool, id)
            .await?
            .ok_or(CancelError::NotFound)
    }
}
