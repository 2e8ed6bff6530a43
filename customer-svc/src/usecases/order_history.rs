//! Reading a customer's order history (kept from order events): one page,
//! newest first, with the customer's statistics. A customer that does not
//! exist has no history, rather than an empty one.

use edge::paging::Paging;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::{
    customers,
    history::{self, HistoryRow, StatsRow},
};

/// What reading a history can run into.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// No customer has this id.
    #[error("no such customer")]
    UnknownCustomer,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One page of a customer's history.
#[derive(Debug)]
pub struct HistoryPage {
    /// The orders on this page, newest first.
    pub items: Vec<HistoryRow>,
    /// The customer's statistics over all their orders.
    pub stats: StatsRow,
}

/// The order-history use case. Cheap to clone.
#[derive(Clone)]
pub struct OrderHistory {
    pool: PgPool,
}

impl OrderHistory {
    /// Histories kept in `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The page `paging` asks for of the customer's history.
    pub async fn page(
        &self,
        customer_id: Uuid,
        paging: Paging,
    ) -> Result<HistoryPage, HistoryError> {
        customers::get(&self.pool, customer_id)
            .await?
            .ok_or(HistoryError::UnknownCustomer)?;
        let (items, stats) =
            history::page(&self.pool, customer_id, paging.limit(), paging.offset()).await?;
        Ok(HistoryPage { items, stats })
    }
}
