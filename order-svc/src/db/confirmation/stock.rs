//! Steps 3 and 4 inside one transaction: the products of a batch's orders
//! locked with their stock, every order allocated, every saga's transition
//! written in one statement, the orders that fit confirmed and those short
//! of stock rejected.

use std::collections::HashMap;

use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use contract::RejectionReason;

use super::{
    allocation::{Allocation, Line, Stock, allocate},
    confirm::{OrderFacts, confirm_orders},
};
use crate::{
    db::sagas::{self, SagaRow, plan},
    domain::saga::{Event, Transition},
};

/// What steps 3 and 4 did to one saga.
#[derive(Debug, PartialEq, Eq)]
pub enum StockOutcome {
    /// Stock reserved and the order confirmed, with `order.confirmed` queued.
    Confirmed,
    /// Too little stock: the order is rejected and compensation started.
    Short,
    /// The saga was no longer at this step (or its driver lost the lease).
    Superseded,
}

/// A saga about to take steps 3 and 4: as stored, and, when step 2's answer
/// arrived just now, its transition and customer, written with steps 3 and 4
/// as one transition ([`Transition::then`]).
pub(super) struct Candidate {
    pub(super) saga: SagaRow,
    pub(super) verified: Option<(Transition, Uuid)>,
}

impl Candidate {
    /// The saga as it stands at `reserve_stock`: stored there, or as step 2's
    /// answer leaves it (a new step, so its first attempt, with no deadline:
    /// what `sagas::apply_all` would write for that transition).
    fn at_reserve_stock(&self) -> SagaRow {
        match &self.verified {
            None => self.saga.clone(),
            Some((verified, customer_id)) => SagaRow {
                step: verified.step,
                status: verified.phase,
                attempt: 1,
                deadline: None,
                customer_id: Some(*customer_id),
                ..self.saga.clone()
            },
        }
    }

    /// What to write for it, given what steps 3 and 4 decided.
    fn transition(&self, event: Event) -> sqlx::Result<Transition> {
        let stock = plan(&self.at_reserve_stock(), event)?;
        match &self.verified {
            None => Ok(stock),
            Some((verified, _)) => verified.clone().then(stock).ok_or_else(|| {
                sqlx::Error::InvalidArgument("steps 2 to 4 cannot be one write".into())
            }),
        }
    }
}

/// A line with its order's facts and its product's stock as locked by step
/// 3 (none when the product is gone).
#[derive(FromRow)]
struct LineInStock {
    #[sqlx(flatten)]
    line: Line,
    #[sqlx(flatten)]
    order: OrderFacts,
    stock: Option<i32>,
    active: Option<bool>,
}

/// Steps 3 and 4 inside `tx` for `candidates` (distinct sagas): lock their
/// products, allocate, write every saga's transition in one statement
/// (compare-and-set on the stored step, attempt and, when given, the lease's
/// `owner`), then confirm the orders that fit (order, `order.confirmed`,
/// stock) and reject those that do not (their compensation started).
///
/// A saga that moved on meanwhile is `Superseded` and takes no stock. When
/// that happens in a batch where some order fell short, the shortage may be
/// owed to the superseded saga's units: the batch fails, and the batch
/// writer writes its sagas one by one (`Batcher`), where allocation is exact.
pub(super) async fn reserve_stock_in(
    tx: &mut PgConnection,
    candidates: &[Candidate],
    owner: Option<&str>,
) -> sqlx::Result<Vec<StockOutcome>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let order_ids: Vec<Uuid> = candidates.iter().map(|c| c.saga.order_id).collect();
    // The lines with what their order's event needs, and their products
    // locked in id order (`FOR NO KEY UPDATE` in a materialised CTE locks as
    // its `ORDER BY` reads) with the stock as the lock found it: one round trip.
    let rows: Vec<LineInStock> = sqlx::query_as(
        "WITH wanted AS (
           SELECT l.order_id, l.line_no, l.product_id, l.sku, l.quantity,
                  o.total, o.currency, o.created_at
           FROM order_lines l JOIN orders o ON o.id = l.order_id
           WHERE l.order_id = ANY($1) AND o.id = ANY($1)
         ), locked AS MATERIALIZED (
           SELECT id, stock, active FROM products
           WHERE id IN (SELECT product_id FROM wanted)
           ORDER BY id FOR NO KEY UPDATE
         )
         SELECT w.order_id, w.product_id, w.sku, w.quantity, w.total, w.currency,
                w.created_at, p.stock, p.active
         FROM wanted w LEFT JOIN locked p ON p.id = w.product_id
         ORDER BY w.order_id, w.line_no",
    )
    .bind(&order_ids)
    .fetch_all(&mut *tx)
    .await?;
    let mut stock: HashMap<Uuid, Stock> = HashMap::new();
    let mut facts: HashMap<Uuid, OrderFacts> = HashMap::new();
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        if let (Some(units), Some(active)) = (row.stock, row.active) {
            stock.insert(row.line.product_id, Stock { units, active });
        }
        facts.entry(row.line.order_id).or_insert(row.order);
        lines.push(row.line);
    }
    let mut lines_of: HashMap<Uuid, Vec<&Line>> = HashMap::new();
    for line in &lines {
        lines_of.entry(line.order_id).or_default().push(line);
    }
    let orders: Vec<Vec<&Line>> = candidates
        .iter()
        .map(|c| lines_of.get(&c.saga.order_id).cloned().unwrap_or_default())
        .collect();
    let allocations = allocate(&mut stock, &orders);

    let transitions = candidates
        .iter()
        .zip(&allocations)
        .map(|(candidate, allocation)| {
            candidate.transition(match allocation {
                Allocation::Fits => Event::Confirmed,
                Allocation::Short(detail) => Event::CompensationStarted {
                    reason: RejectionReason::InsufficientStock,
                    status: "failed",
                    detail: format!("not enough stock ({detail}); releasing the credit"),
                },
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let changes: Vec<_> = candidates
        .iter()
        .zip(&transitions)
        .map(|(candidate, transition)| (&candidate.saga, transition))
        .collect();
    let moved = sagas::apply_all(&mut *tx, &changes, owner).await?;
    let superseded = moved.iter().any(Option::is_none);
    let short = allocations.iter().any(|a| *a != Allocation::Fits);
    if superseded && short && candidates.len() > 1 {
        return Err(sqlx::Error::Protocol(
            "a saga of the batch moved on while another fell short of stock".into(),
        ));
    }

    let confirmed: Vec<(&SagaRow, &Vec<&Line>)> = moved
        .iter()
        .zip(&orders)
        .zip(&allocations)
        .filter_map(|((row, lines), allocation)| match (row, allocation) {
            (Some(row), Allocation::Fits) => Some((row, lines)),
            _ => None,
        })
        .collect();
    confirm_orders(tx, &confirmed, &facts).await?;
    let mut outcomes = Vec::with_capacity(candidates.len());
    for (row, allocation) in moved.iter().zip(&allocations) {
        outcomes.push(match (row, allocation) {
            (None, _) => StockOutcome::Superseded,
            (Some(_), Allocation::Fits) => StockOutcome::Confirmed,
            (Some(row), Allocation::Short(_)) => {
                sagas::reject_order(
                    tx,
                    row.order_id,
                    RejectionReason::InsufficientStock,
                    row.customer_id,
                )
                .await?;
                StockOutcome::Short
            }
        });
    }
    Ok(outcomes)
}
