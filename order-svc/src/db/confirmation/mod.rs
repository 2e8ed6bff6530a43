//! Steps 3 and 4 of the checkout saga, for many sagas in one transaction:
//! take each order's stock and confirm it with `order.confirmed` queued, or,
//! short of stock, reject it and start compensating. A saga whose step 2
//! answer has just arrived is written once for steps 2 to 4 (one composed
//! transition, `Transition::then`).
//!
//! Why many at once: every order of a popular product needs that product's
//! row, so one transaction per order queues them all on one lock and pays a
//! commit each. Here a batch locks its products once (in id order, `FOR NO
//! KEY UPDATE`, which recording a checkout's `KEY SHARE` never waits for),
//! decides every order against the stock in memory, in the order given
//! (`allocate`), and writes the outcome with a fixed number of statements
//! and one commit, however many orders. `crate::saga::confirmer` gathers the
//! batches.
//!
//! This file holds the two entry points (a batch of verified sagas, one saga
//! resumed at `reserve_stock`); `stock` locks, allocates and writes the sagas'
//! transitions, `allocation` decides in memory, `confirm` writes step 4.

mod allocation;
mod confirm;
mod stock;

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use self::stock::{Candidate, reserve_stock_in};
use crate::{
    db::{
        orders::{self, OrderRecord},
        sagas::{SAGA_COLUMNS, SagaRow, plan},
    },
    domain::saga::Event,
};

pub use self::stock::StockOutcome;

/// What steps 3 and 4 did to one saga, and its order as the transaction
/// that did it read it (for the checkout's answer) when the saga ended there.
#[derive(Debug)]
pub struct Confirmation {
    /// What happened.
    pub outcome: StockOutcome,
    /// The order after it, when `outcome` ended the checkout.
    pub record: Option<OrderRecord>,
}

/// A saga at `verify_customer` whose answer from customer-svc is in hand.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The saga as its driver last wrote it.
    pub saga: SagaRow,
    /// The customer customer-svc verified (or created) and holds credit for.
    pub customer_id: Uuid,
}

/// Step 2 succeeded for each saga of `batch`, and steps 3 and 4 follow, all
/// in one transaction: each customer is recorded on its saga and order, the
/// stock is taken and each order confirmed (or compensation started). The
/// outcomes come in the order of `batch`; a saga that moved on meanwhile, or
/// whose lease `owner` lost to another instance, is `Superseded` and left
/// as it was. The orders whose checkout ended are read back in the same
/// transaction, for their answers. The sagas must be distinct.
pub async fn verified_then_reserve_stock(
    pool: &PgPool,
    batch: &[Verified],
    owner: &str,
) -> sqlx::Result<Vec<Confirmation>> {
    let candidates = batch
        .iter()
        .map(|verified| {
            let answer = Event::Verified {
                customer_id: verified.customer_id,
            };
            Ok(Candidate {
                saga: verified.saga.clone(),
                verified: Some((plan(&verified.saga, answer)?, verified.customer_id)),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let mut tx = pool.begin().await?;
    let outcomes = reserve_stock_in(&mut tx, &candidates, Some(owner)).await?;
    let ended: Vec<Uuid> = batch
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome != StockOutcome::Superseded)
        .map(|(verified, _)| verified.saga.order_id)
        .collect();
    let mut records: HashMap<Uuid, OrderRecord> = orders::records_in(&mut tx, &ended)
        .await?
        .into_iter()
        .map(|record| (record.order.id, record))
        .collect();
    tx.commit().await?;
    Ok(batch
        .iter()
        .zip(outcomes)
        .map(|(verified, outcome)| Confirmation {
            record: records.remove(&verified.saga.order_id),
            outcome,
        })
        .collect())
}

/// Steps 3 and 4 for a saga resumed at `reserve_stock` (its driver stopped
/// after step 2 was committed, or crashed).
pub async fn reserve_stock_and_confirm(pool: &PgPool, saga_id: Uuid) -> sqlx::Result<StockOutcome> {
    let mut tx = pool.begin().await?;
    let Some(saga): Option<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SAGA_COLUMNS} FROM sagas WHERE id = $1 AND step = 'reserve_stock' FOR UPDATE"
    )))
    .bind(saga_id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(StockOutcome::Superseded);
    };
    let candidate = Candidate {
        saga,
        verified: None,
    };
    let outcome = reserve_stock_in(&mut tx, &[candidate], None).await?.pop();
    tx.commit().await?;
    Ok(outcome.unwrap_or(StockOutcome::Superseded))
}
