//! Reading orders: a page of them, one with its saga's timeline, and whose
//! one is (what deciding who may open or cancel it needs).

use sqlx::PgPool;
use uuid::Uuid;

use edge::paging::Paging;

use crate::db::orders::{self, LineRow, OrderFilter, OrderRecord, OrderRow};

/// Reads and cancels orders. Cheap to clone.
#[derive(Clone)]
pub struct Orders {
    pub(super) pool: PgPool,
}

/// Why an order could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OrderLookupError {
    /// There is no such order.
    #[error("no such order")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Orders {
    /// Orders in `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// One page of the orders `filter` lets through, newest first, with
    /// their lines; and how many there are in all.
    pub async fn page(
        &self,
        filter: &OrderFilter,
        paging: Paging,
    ) -> Result<(Vec<(OrderRow, Vec<LineRow>)>, i64), OrderLookupError> {
        Ok(orders::list(&self.pool, filter, paging.limit(), paging.offset()).await?)
    }

    /// The order `id`, with its lines and its saga's timeline.
    pub async fn get(&self, id: Uuid) -> Result<OrderRecord, OrderLookupError> {
        orders::get(&self.pool, id)
            .await?
            .ok_or(OrderLookupError::NotFound)
    }

    /// The customer the order `id` is for (`None` for a guest's order
    /// before its saga named the customer).
    pub async fn owner_of(&self, id: Uuid) -> Result<Option<Uuid>, OrderLookupError> {
        orders::owner_of(&self.pool, id)
            .await?
            .ok_or(OrderLookupError::NotFound)
    }
}
