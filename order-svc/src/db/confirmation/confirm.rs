//! Step 4's writes for the orders that fit: each order confirmed with its
//! customer, `order.confirmed` queued in the outbox, and the units taken
//! from the stock, in one statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use contract::{Currency, Money, OrderConfirmed};

use super::allocation::Line;
use crate::db::{self, outbox, sagas::SagaRow};

/// What an order's `order.confirmed` says about it besides its lines.
#[derive(Debug, Clone, FromRow)]
pub(super) struct OrderFacts {
    total: Decimal,
    currency: String,
    created_at: DateTime<Utc>,
}

/// Step 4's writes for sagas confirmed (as written) with their lines: their
/// orders are confirmed (with their customer, from the saga),
/// `order.confirmed` is queued for each, and their units leave the stock;
/// one statement.
pub(super) async fn confirm_orders(
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
                db::inconsistent(format!(
                    "order {} of a confirmed saga is gone",
                    saga.order_id
                ))
            })?;
            let units: i64 = lines.iter().map(|line| i64::from(line.quantity)).sum();
            Ok(OrderConfirmed {
                order_id: saga.order_id,
                saga_id: saga.id,
                customer_id: saga.customer_id.ok_or_else(|| {
                    db::inconsistent(format!("saga {} confirmed without a customer", saga.id))
                })?,
                total: Money::new(order.total).map_err(|e| {
                    db::inconsistent(format!("order {} total: {}", saga.order_id, e.0))
                })?,
                currency: Currency::parse(&order.currency).map_err(|e| {
                    db::inconsistent(format!("order {} currency: {}", saga.order_id, e.0))
                })?,
                item_count: u32::try_from(units).map_err(|_| {
                    db::inconsistent(format!("order {} has {units} units", saga.order_id))
                })?,
                placed_at: order.created_at,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    let correlations: Vec<String> = events.iter().map(|e| e.saga_id.to_string()).collect();
    let queued: Vec<_> = events
        .iter()
        .zip(&correlations)
        .zip(confirmed)
        .map(|((event, correlation), (saga, _))| outbox::Queued {
            payload: event,
            saga_id: event.saga_id,
            correlation_id: correlation.as_str(),
            request_id: saga.request_id.as_deref(),
        })
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
