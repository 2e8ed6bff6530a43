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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use contract::{Currency, Money, OrderConfirmed, RejectionReason};

use super::{
    orders::{self, OrderRecord},
    outbox,
    sagas::{self, SAGA_COLUMNS, SagaRow, plan},
};
use crate::domain::saga::{Event, Transition};

/// What steps 3 and 4 did to one saga, and its order as the transaction
/// that did it read it (for the checkout's answer) when the saga ended there.
#[derive(Debug)]
pub struct Confirmation {
    /// What happened.
    pub outcome: StockOutcome,
    /// The order after it, when `outcome` ended the checkout.
    pub record: Option<OrderRecord>,
}

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

/// A saga about to take steps 3 and 4: as stored, and, when step 2's answer
/// arrived just now, its transition and customer, written with steps 3 and 4
/// as one transition ([`Transition::then`]).
struct Candidate {
    saga: SagaRow,
    verified: Option<(Transition, Uuid)>,
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

/// A line of an order, as step 3 needs it.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct Line {
    order_id: Uuid,
    product_id: Uuid,
    sku: String,
    quantity: i32,
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

/// What an order's `order.confirmed` says about it besides its lines.
#[derive(Debug, Clone, FromRow)]
struct OrderFacts {
    total: Decimal,
    currency: String,
    created_at: DateTime<Utc>,
}

/// A product's stock, as locked by step 3.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stock {
    units: i32,
    active: bool,
}

/// Whether an order's lines fit in the stock.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Allocation {
    /// Every line fits; its units are taken.
    Fits,
    /// Some lines do not; nothing is taken. In words, line by line.
    Short(String),
}

/// Decides, order by order in the order given, whether all of an order's
/// lines fit in what `stock` has left, and takes their units when they do
/// (all or nothing per order). A product missing from `stock` is no longer
/// sold.
pub(crate) fn allocate(stock: &mut HashMap<Uuid, Stock>, orders: &[Vec<&Line>]) -> Vec<Allocation> {
    orders
        .iter()
        .map(|lines| {
            let mut wanted: HashMap<Uuid, i32> = HashMap::new();
            for line in lines {
                *wanted.entry(line.product_id).or_default() += line.quantity;
            }
            // One word per product, at its first line, about all its lines.
            let mut seen = HashSet::new();
            let shortages: Vec<String> = lines
                .iter()
                .filter(|line| seen.insert(line.product_id))
                .filter_map(|line| {
                    let total = wanted
                        .get(&line.product_id)
                        .copied()
                        .unwrap_or(line.quantity);
                    match stock.get(&line.product_id) {
                        Some(product) if !product.active => {
                            Some(format!("{}: no longer sold", line.sku))
                        }
                        Some(product) if product.units >= total => None,
                        Some(product) => Some(format!(
                            "{}: {total} wanted, {} in stock",
                            line.sku, product.units
                        )),
                        None => Some(format!("{}: no longer sold", line.sku)),
                    }
                })
                .collect();
            if !shortages.is_empty() {
                return Allocation::Short(shortages.join("; "));
            }
            for (product_id, units) in wanted {
                if let Some(product) = stock.get_mut(&product_id) {
                    product.units -= units;
                }
            }
            Allocation::Fits
        })
        .collect()
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
async fn reserve_stock_in(
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

/// Step 4's writes for sagas confirmed (as written) with their lines: their
/// orders are confirmed (with their customer, from the saga),
/// `order.confirmed` is queued for each, and their units leave the stock;
/// one statement.
async fn confirm_orders(
    tx: &mut PgConnection,
    confirmed: &[(&SagaRow, &Vec<&Line>)],
    facts: &HashMap<Uuid, OrderFacts>,
) -> sqlx::Result<()> {
    if confirmed.is_empty() {
        return Ok(());
    }
    let events: Vec<OrderConfirmed> = confirmed
        .iter()
        .map(|(saga, lines)| {
            let order = facts.get(&saga.order_id).ok_or_else(|| {
                super::inconsistent(format!(
                    "order {} of a confirmed saga is gone",
                    saga.order_id
                ))
            })?;
            let units: i64 = lines.iter().map(|line| i64::from(line.quantity)).sum();
            Ok(OrderConfirmed {
                order_id: saga.order_id,
                saga_id: saga.id,
                customer_id: saga.customer_id.ok_or_else(|| {
                    super::inconsistent(format!("saga {} confirmed without a customer", saga.id))
                })?,
                total: Money::new(order.total).map_err(|e| {
                    super::inconsistent(format!("order {} total: {}", saga.order_id, e.0))
                })?,
                currency: Currency::parse(&order.currency).map_err(|e| {
                    super::inconsistent(format!("order {} currency: {}", saga.order_id, e.0))
                })?,
                item_count: u32::try_from(units).unwrap_or(u32::MAX),
                placed_at: order.created_at,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    let correlations: Vec<String> = events.iter().map(|e| e.saga_id.to_string()).collect();
    let queued: Vec<_> = events
        .iter()
        .zip(&correlations)
        .map(|(event, correlation)| (event, event.saga_id, correlation.as_str()))
        .collect();
    let outbox = outbox::rows(contract::ORDER_CONFIRMED, &queued)?;
    let event_orders: Vec<Uuid> = events.iter().map(|event| event.order_id).collect();

    let order_ids: Vec<Uuid> = confirmed.iter().map(|(saga, _)| saga.order_id).collect();
    let customer_ids: Vec<Option<Uuid>> =
        confirmed.iter().map(|(saga, _)| saga.customer_id).collect();
    let mut taken: HashMap<Uuid, i32> = HashMap::new();
    for line in confirmed.iter().flat_map(|(_, lines)| lines.iter()) {
        *taken.entry(line.product_id).or_default() += line.quantity;
    }
    let (product_ids, units): (Vec<Uuid>, Vec<i32>) = taken.into_iter().unzip();
    // One round trip for the order, its event and the stock. An order no
    // longer pending (cancelled meanwhile) is not confirmed again and gets
    // no event. `= ANY(..)` beside each join: a plan-stable index lookup
    // (`sagas::apply_all`).
    sqlx::query(
        "WITH confirmed AS (
           UPDATE orders o SET status = 'confirmed',
                  customer_id = coalesce(t.customer_id, o.customer_id), updated_at = now()
           FROM unnest($1::uuid[], $2::uuid[]) AS t(id, customer_id)
           WHERE o.id = ANY($1) AND o.id = t.id AND o.status = 'pending'
           RETURNING o.id
         ), queued AS (
           INSERT INTO outbox (id, message_type, saga_id, envelope)
           SELECT e.id, $3, e.saga_id, e.envelope
           FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::jsonb[])
                AS e(id, order_id, saga_id, envelope)
           WHERE e.order_id IN (SELECT id FROM confirmed)
         )
         UPDATE products p SET stock = p.stock - t.units, updated_at = now()
         FROM unnest($8::uuid[], $9::int4[]) AS t(id, units)
         WHERE p.id = ANY($8) AND p.id = t.id",
    )
    .bind(&order_ids)
    .bind(&customer_ids)
    .bind(contract::ORDER_CONFIRMED)
    .bind(&outbox.ids)
    .bind(&event_orders)
    .bind(&outbox.saga_ids)
    .bind(&outbox.envelopes)
    .bind(&product_ids)
    .bind(&units)
    .execute(&mut *tx)
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: Uuid, sku: &str, quantity: i32) -> Line {
        Line {
            order_id: Uuid::nil(),
            product_id,
            sku: sku.to_owned(),
            quantity,
        }
    }

    fn stock_of(entries: &[(Uuid, i32, bool)]) -> HashMap<Uuid, Stock> {
        entries
            .iter()
            .map(|&(id, units, active)| (id, Stock { units, active }))
            .collect()
    }

    #[test]
    fn orders_are_served_in_the_order_given_until_the_stock_runs_out() {
        let hot = Uuid::new_v4();
        let mut stock = stock_of(&[(hot, 5, true)]);
        let (two, three, one) = (
            line(hot, "HOT", 2),
            line(hot, "HOT", 3),
            line(hot, "HOT", 1),
        );
        let outcome = allocate(&mut stock, &[vec![&two], vec![&three], vec![&one]]);
        assert_eq!(
            outcome,
            [
                Allocation::Fits,
                Allocation::Fits,
                Allocation::Short("HOT: 1 wanted, 0 in stock".to_owned())
            ]
        );
        assert_eq!(stock[&hot].units, 0);
    }

    #[test]
    fn an_order_is_all_or_nothing() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut stock = stock_of(&[(a, 10, true), (b, 1, true)]);
        let (lots_of_a, two_b) = (line(a, "A", 4), line(b, "B", 2));
        let outcome = allocate(&mut stock, &[vec![&lots_of_a, &two_b]]);
        assert_eq!(
            outcome,
            [Allocation::Short("B: 2 wanted, 1 in stock".to_owned())]
        );
        assert_eq!((stock[&a].units, stock[&b].units), (10, 1), "nothing taken");
    }

    #[test]
    fn a_product_on_two_lines_is_counted_once_in_full() {
        let a = Uuid::new_v4();
        let mut stock = stock_of(&[(a, 3, true)]);
        let (first, second) = (line(a, "A", 2), line(a, "A", 2));
        let outcome = allocate(&mut stock, &[vec![&first, &second]]);
        assert_eq!(
            outcome,
            [Allocation::Short("A: 4 wanted, 3 in stock".to_owned())]
        );
        assert_eq!(stock[&a].units, 3);
    }

    #[test]
    fn inactive_and_unknown_products_are_no_longer_sold() {
        let (retired, gone) = (Uuid::new_v4(), Uuid::new_v4());
        let mut stock = stock_of(&[(retired, 100, false)]);
        let (old, missing) = (line(retired, "OLD", 1), line(gone, "GONE", 1));
        let outcome = allocate(&mut stock, &[vec![&old, &missing]]);
        assert_eq!(
            outcome,
            [Allocation::Short(
                "OLD: no longer sold; GONE: no longer sold".to_owned()
            )]
        );
    }
}
