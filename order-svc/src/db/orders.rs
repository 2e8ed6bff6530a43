//! Orders: recording checkouts (orders, lines, sagas, idempotency keys, a
//! batch of checkouts in one statement), reading them back with their saga
//! timeline, and cancelling.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use contract::{Currency, Money, OrderCancelled};

use super::{
    outbox,
    products::ProductRow,
    sagas::{self, SAGA_COLUMNS, SagaLease, SagaRow},
};
use crate::domain::checkout::{Priced, PricedLine};

/// An order as stored.
#[derive(Debug, Clone, FromRow)]
pub struct OrderRow {
    /// Id.
    pub id: Uuid,
    /// The customer, once customer-svc found or created it.
    pub customer_id: Option<Uuid>,
    /// The email given at checkout.
    pub customer_email: String,
    /// The name given at checkout.
    pub customer_name: String,
    /// `pending`, `confirmed`, `rejected` or `cancelled`.
    pub status: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// Sum of the lines.
    pub total: Decimal,
    /// Currency of the total.
    pub currency: String,
    /// Placed.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A line, with the price at the time of sale.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct LineRow {
    /// The order.
    pub order_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// Its sku then.
    pub sku: String,
    /// Its name then.
    pub name: String,
    /// Units.
    pub quantity: i32,
    /// Price of one unit then.
    pub unit_price: Decimal,
    /// `quantity * unit_price`.
    pub line_total: Decimal,
}

/// One entry of a saga's timeline.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct StepRow {
    /// The step.
    pub step: String,
    /// What happened.
    pub status: String,
    /// When.
    pub at: DateTime<Utc>,
    /// In words.
    pub detail: Option<String>,
}

/// Everything a new checkout records.
#[derive(Debug, Clone)]
pub struct NewCheckout {
    /// The new order's id.
    pub order_id: Uuid,
    /// The new saga's id.
    pub saga_id: Uuid,
    /// Customer email.
    pub email: String,
    /// Customer name.
    pub name: String,
    /// The signed-in customer the checkout is for; `None` for a guest.
    pub customer_id: Option<Uuid>,
    /// The products asked for, in the request's order.
    pub products: Vec<Uuid>,
    /// `Idempotency-Key` and the request's fingerprint.
    pub idempotency: Option<(String, String)>,
}

/// The `Idempotency-Key` was used before with another request.
#[derive(Debug, thiserror::Error)]
#[error("this Idempotency-Key was used with a different request")]
pub struct KeyReused;

/// The order an `Idempotency-Key` recorded, if the key was used before with
/// the same request (`fingerprint`).
pub async fn order_for_key(
    pool: &PgPool,
    key: &str,
    fingerprint: &str,
) -> sqlx::Result<Result<Option<Uuid>, KeyReused>> {
    let found: Option<(String, Uuid)> =
        sqlx::query_as("SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    Ok(match found {
        Some((hash, order_id)) if hash == fingerprint => Ok(Some(order_id)),
        Some(_) => Err(KeyReused),
        None => Ok(None),
    })
}

/// Step 1 of the saga for a batch of checkouts: their products read once and
/// each checkout priced by `price` (`T` is what pricing needs), then, in one
/// statement (each is a round trip on the checkout's path), the orders
/// (`pending`), their lines, their sagas (leased as `lease` says), the first
/// timeline entries and the idempotency keys; one transaction, one commit. A
/// checkout `price` refuses records nothing; the outcomes come in the order
/// given.
pub async fn record_checkouts<T, E>(
    pool: &PgPool,
    lease: &SagaLease,
    batch: &[(NewCheckout, T)],
    price: impl Fn(&T, &[ProductRow]) -> Result<Priced, E>,
) -> sqlx::Result<Vec<Result<(SagaRow, Priced), E>>> {
    let mut wanted: Vec<Uuid> = batch
        .iter()
        .flat_map(|(new, _)| new.products.iter().copied())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut tx = pool.begin().await?;
    let catalogue: Vec<ProductRow> =
        sqlx::query_as("SELECT * FROM products WHERE id = ANY($1) AND active")
            .bind(&wanted)
            .fetch_all(&mut *tx)
            .await?;
    let outcomes: Vec<Result<Priced, E>> = batch
        .iter()
        .map(|(new, request)| {
            let mine: Vec<ProductRow> = catalogue
                .iter()
                .filter(|p| new.products.contains(&p.id))
                .cloned()
                .collect();
            price(request, &mine)
        })
        .collect();
    let priced: Vec<(&NewCheckout, &Priced)> = batch
        .iter()
        .zip(&outcomes)
        .filter_map(|((new, _), outcome)| outcome.as_ref().ok().map(|p| (new, p)))
        .collect();
    let mut sagas = insert_checkouts(&mut tx, lease, &priced).await?;
    // Refused checkouts alone: the transaction wrote nothing, nothing to commit.
    if !priced.is_empty() {
        tx.commit().await?;
    }
    batch
        .iter()
        .zip(outcomes)
        .map(|((new, _), outcome)| match outcome {
            Ok(priced) => sagas
                .remove(&new.saga_id)
                .map(|saga| Ok((saga, priced)))
                .ok_or_else(|| sqlx::Error::Protocol(format!("saga {} not recorded", new.saga_id))),
            Err(refusal) => Ok(Err(refusal)),
        })
        .collect()
}

/// [`insert_checkouts`]'s parameters, one array per column.
#[derive(Default)]
struct CheckoutColumns<'a> {
    order_ids: Vec<Uuid>,
    emails: Vec<&'a str>,
    names: Vec<&'a str>,
    customer_ids: Vec<Option<Uuid>>,
    totals: Vec<Decimal>,
    currencies: Vec<&'a str>,
    saga_ids: Vec<Uuid>,
    details: Vec<String>,
    line_orders: Vec<Uuid>,
    line_numbers: Vec<i32>,
    line_products: Vec<Uuid>,
    line_skus: Vec<&'a str>,
    line_names: Vec<&'a str>,
    line_quantities: Vec<i32>,
    line_prices: Vec<Decimal>,
    keys: Vec<&'a str>,
    fingerprints: Vec<&'a str>,
    keyed_orders: Vec<Uuid>,
}

impl<'a> CheckoutColumns<'a> {
    fn push(&mut self, new: &'a NewCheckout, priced: &'a Priced) {
        self.order_ids.push(new.order_id);
        self.emails.push(&new.email);
        self.names.push(&new.name);
        self.customer_ids.push(new.customer_id);
        self.totals.push(priced.total.amount());
        self.currencies.push(priced.currency.as_str());
        self.saga_ids.push(new.saga_id);
        let units: i32 = priced.lines.iter().map(|l| l.quantity).sum();
        self.details.push(format!(
            "order recorded as pending: {units} unit(s), total {:.2} {}",
            priced.total.amount(),
            priced.currency
        ));
        for (no, line) in (1..).zip(&priced.lines) {
            self.push_line(new.order_id, no, line);
        }
        if let Some((key, fingerprint)) = &new.idempotency {
            self.keys.push(key);
            self.fingerprints.push(fingerprint);
            self.keyed_orders.push(new.order_id);
        }
    }

    fn push_line(&mut self, order_id: Uuid, no: i32, line: &'a PricedLine) {
        self.line_orders.push(order_id);
        self.line_numbers.push(no);
        self.line_products.push(line.product_id);
        self.line_skus.push(&line.sku);
        self.line_names.push(&line.name);
        self.line_quantities.push(line.quantity);
        self.line_prices.push(line.unit_price);
    }
}

/// Writes priced checkouts inside `tx`, in one statement: orders, lines, sagas (at
/// `verify_customer`, leased as `lease` says), their first timeline entries
/// and idempotency keys. The foreign keys between them are checked at the
/// statement's end, when all are written. Returns the sagas by id.
async fn insert_checkouts(
    tx: &mut PgConnection,
    lease: &SagaLease,
    checkouts: &[(&NewCheckout, &Priced)],
) -> sqlx::Result<HashMap<Uuid, SagaRow>> {
    if checkouts.is_empty() {
        return Ok(HashMap::new());
    }
    let mut columns = CheckoutColumns::default();
    for (new, priced) in checkouts {
        columns.push(new, priced);
    }
    let sagas: Vec<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH new_orders AS (
           INSERT INTO orders
             (id, customer_email, customer_name, customer_id, status, total, currency)
           SELECT o.id, o.email, o.name, o.customer_id, 'pending', o.total, o.currency
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::text[],
                       $21::uuid[])
                AS o(id, email, name, total, currency, customer_id)
         ), new_lines AS (
           INSERT INTO order_lines
             (order_id, line_no, product_id, sku, name, quantity, unit_price, line_total)
           SELECT l.order_id, l.no, l.product_id, l.sku, l.name, l.quantity, l.unit_price,
                  l.unit_price * l.quantity
           FROM unnest($6::uuid[], $7::int[], $8::uuid[], $9::text[], $10::text[], $11::int[],
                       $12::numeric[])
                AS l(order_id, no, product_id, sku, name, quantity, unit_price)
         ), new_sagas AS (
           INSERT INTO sagas
             (id, order_id, step, status, attempt, deadline, lease_owner, lease_expires_at)
           SELECT s.id, s.order_id, 'verify_customer', 'running', 1,
                  now() + make_interval(secs => $15), $14, now() + make_interval(secs => $16)
           FROM unnest($13::uuid[], $1::uuid[]) AS s(id, order_id)
           RETURNING {SAGA_COLUMNS}
         ), first_steps AS (
           INSERT INTO saga_steps (saga_id, step, status, detail)
           SELECT e.saga_id, 'record_order', 'completed', e.detail
           FROM unnest($13::uuid[], $17::text[]) WITH ORDINALITY AS e(saga_id, detail, n)
           ORDER BY e.n
         ), keys AS (
           INSERT INTO idempotency_keys (key, request_hash, order_id)
           SELECT * FROM unnest($18::text[], $19::text[], $20::uuid[])
         )
         SELECT * FROM new_sagas"
    )))
    .bind(&columns.order_ids)
    .bind(&columns.emails)
    .bind(&columns.names)
    .bind(&columns.totals)
    .bind(&columns.currencies)
    .bind(&columns.line_orders)
    .bind(&columns.line_numbers)
    .bind(&columns.line_products)
    .bind(&columns.line_skus)
    .bind(&columns.line_names)
    .bind(&columns.line_quantities)
    .bind(&columns.line_prices)
    .bind(&columns.saga_ids)
    .bind(&lease.owner)
    .bind(sagas::seconds(lease.step_timeout))
    .bind(sagas::seconds(lease.lease))
    .bind(&columns.details)
    .bind(&columns.keys)
    .bind(&columns.fingerprints)
    .bind(&columns.keyed_orders)
    .bind(&columns.customer_ids)
    .fetch_all(tx)
    .await?;
    Ok(sagas.into_iter().map(|saga| (saga.id, saga)).collect())
}

/// An order with its lines and its saga's timeline: what `GET
/// /api/v1/orders/{id}` and a checkout answer.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    /// The order.
    pub order: OrderRow,
    /// Its lines, in the order of the request.
    pub lines: Vec<LineRow>,
    /// Its saga's timeline, oldest first.
    pub steps: Vec<StepRow>,
}

/// An order with its lines and its saga's timeline: one statement, so one
/// snapshot, with no transaction around it.
pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<OrderRecord>> {
    let mut connection = pool.acquire().await?;
    Ok(records_in(&mut connection, &[id]).await?.pop())
}

/// The orders `ids` that exist, with their lines and timelines, as `tx`
/// sees them: one statement however many.
pub async fn records_in(tx: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<OrderRecord>> {
    // One round trip: each order with its lines and timeline gathered as JSON
    // (amounts as text, so no float comes near them). The correlated
    // subqueries read each order's lines and its saga's steps by index (the
    // saga's id found first, so no plan can join the whole steps table).
    let rows: Vec<OrderWithParts> = sqlx::query_as(
        "SELECT o.*,
           (SELECT coalesce(json_agg(json_build_object(
                      'order_id', l.order_id, 'product_id', l.product_id, 'sku', l.sku,
                      'name', l.name, 'quantity', l.quantity,
                      'unit_price', l.unit_price::text, 'line_total', l.line_total::text)
                    ORDER BY l.line_no), '[]')
            FROM order_lines l WHERE l.order_id = o.id) AS lines,
           (SELECT coalesce(json_agg(json_build_object(
                      'step', s.step, 'status', s.status, 'at', s.at, 'detail', s.detail)
                    ORDER BY s.id), '[]')
            FROM saga_steps s
            WHERE s.saga_id = (SELECT g.id FROM sagas g WHERE g.order_id = o.id)) AS steps
         FROM orders o WHERE o.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| OrderRecord {
            order: row.order,
            lines: row.lines.0,
            steps: row.steps.0,
        })
        .collect())
}

#[derive(FromRow)]
struct OrderWithParts {
    #[sqlx(flatten)]
    order: OrderRow,
    lines: sqlx::types::Json<Vec<LineRow>>,
    steps: sqlx::types::Json<Vec<StepRow>>,
}

async fn lines_of(tx: &mut PgConnection, orders: &[Uuid]) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as(
        "SELECT order_id, product_id, sku, name, quantity, unit_price, line_total
         FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no",
    )
    .bind(orders)
    .fetch_all(tx)
    .await
}

/// Filters of the order list.
#[derive(Debug, Default)]
pub struct OrderFilter {
    /// Only this customer's.
    pub customer_id: Option<Uuid>,
    /// Only in this status.
    pub status: Option<String>,
}

/// One page of orders, newest first, with their lines, and how many match.
pub async fn list(
    pool: &PgPool,
    filter: &OrderFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<(OrderRow, Vec<LineRow>)>, i64)> {
    let mut tx = super::snapshot(pool).await?;
    const WHERE: &str =
        "($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)";
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM orders WHERE {WHERE}"
    )))
    .bind(filter.customer_id)
    .bind(&filter.status)
    .fetch_one(&mut *tx)
    .await?;
    let orders: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM orders WHERE {WHERE} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(filter.customer_id)
    .bind(&filter.status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
    let mut lines = lines_of(&mut tx, &ids).await?;
    let page = orders
        .into_iter()
        .map(|order| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                lines.drain(..).partition(|l| l.order_id == order.id);
            lines = rest;
            (order, mine)
        })
        .collect();
    Ok((page, total))
}

/// What a cancellation found.
#[derive(Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// The order was confirmed and is now cancelled.
    Now,
    /// It was cancelled before: nothing changed.
    Already,
    /// It is in a status that cannot be cancelled.
    NotCancellable(String),
    /// There is no such order.
    NotFound,
}

/// Cancels a confirmed order: restores its stock, marks it cancelled, and
/// queues `order.cancelled` (customer-svc then releases the credit), in one
/// transaction. Idempotent.
pub async fn cancel(pool: &PgPool, id: Uuid) -> sqlx::Result<Cancelled> {
    let mut tx = pool.begin().await?;
    let Some(order) =
        sqlx::query_as::<_, OrderRow>("SELECT * FROM orders WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
    else {
        return Ok(Cancelled::NotFound);
    };
    match order.status.as_str() {
        "confirmed" => {}
        "cancelled" => return Ok(Cancelled::Already),
        other => return Ok(Cancelled::NotCancellable(other.to_owned())),
    }
    restock(&mut tx, id).await?;
    sqlx::query("UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let (saga_id, units): (Uuid, i64) = sqlx::query_as(
        "SELECT g.id, (SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE order_id = $1)
         FROM sagas g WHERE g.order_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let event = OrderCancelled {
        order_id: id,
        saga_id,
        customer_id: order.customer_id.ok_or_else(|| {
            super::inconsistent(format!("confirmed order {id} without a customer"))
        })?,
        total: Money::new(order.total)
            .map_err(|e| super::inconsistent(format!("order {id} total: {}", e.0)))?,
        currency: Currency::parse(&order.currency)
            .map_err(|e| super::inconsistent(format!("order {id} currency: {}", e.0)))?,
        item_count: u32::try_from(units).unwrap_or(u32::MAX),
        placed_at: order.created_at,
        cancelled_at: Utc::now(),
    };
    outbox::insert(
        &mut tx,
        contract::ORDER_CANCELLED,
        &event,
        saga_id,
        &saga_id.to_string(),
    )
    .await?;
    sagas::log_step(
        &mut tx,
        saga_id,
        "cancel_order",
        "completed",
        "order cancelled: stock restored, order.cancelled queued (customer-svc releases the credit)",
    )
    .await?;
    tx.commit().await?;
    Ok(Cancelled::Now)
}

/// Puts the order's units back, locking products in id order like every
/// stock change, so that no two transactions deadlock.
async fn restock(tx: &mut PgConnection, order_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT p.id FROM products p
         WHERE p.id IN (SELECT product_id FROM order_lines WHERE order_id = $1)
         ORDER BY p.id FOR UPDATE",
    )
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE products p SET stock = p.stock + l.quantity, updated_at = now()
         FROM order_lines l WHERE l.order_id = $1 AND p.id = l.product_id",
    )
    .bind(order_id)
    .execute(tx)
    .await
    .map(drop)
}

/// What step 2 asks customer-svc about: the customer and the amount.
#[derive(Debug, Clone, FromRow)]
pub struct CheckoutDetails {
    /// The signed-in customer it was placed for (before step 2 has run, a
    /// guest's order has none).
    pub customer_id: Option<Uuid>,
    /// Email given at checkout.
    pub customer_email: String,
    /// Name given at checkout.
    pub customer_name: String,
    /// Order total.
    pub total: Decimal,
    /// Its currency.
    pub currency: String,
}

/// The checkout details of an order.
pub async fn checkout_details(pool: &PgPool, order_id: Uuid) -> sqlx::Result<CheckoutDetails> {
    sqlx::query_as(
        "SELECT customer_id, customer_email, customer_name, total, currency
         FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .fetch_one(pool)
    .await
}

/// Whose an order is: `None` when there is no such order, `Some(None)` for
/// a guest's order before step 2 named its customer.
pub async fn owner_of(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<Option<Uuid>>> {
    sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(pool)
        .await
}

/// An order's status, if the order exists.
pub async fn status_of(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(pool)
        .await
}
