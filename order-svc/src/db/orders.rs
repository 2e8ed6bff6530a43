//! Orders: recording a checkout (order, lines, saga, idempotency key, in one
//! transaction), reading them back with their saga timeline, and cancelling.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use messaging::contract::{self, Money, OrderCancelled};

use super::{outbox, products::ProductRow, sagas};

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
#[derive(Debug, Clone, FromRow)]
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
#[derive(Debug, Clone, FromRow)]
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

/// A line priced from the catalogue, ready to record.
#[derive(Debug, Clone)]
pub struct PricedLine {
    /// The product.
    pub product_id: Uuid,
    /// Its sku.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units.
    pub quantity: i32,
    /// Its current price.
    pub unit_price: Decimal,
}

/// Everything a new checkout records.
#[derive(Debug)]
pub struct NewCheckout<'a> {
    /// The new order's id.
    pub order_id: Uuid,
    /// The new saga's id.
    pub saga_id: Uuid,
    /// Customer email.
    pub email: &'a str,
    /// Customer name.
    pub name: &'a str,
    /// The products asked for, in the request's order.
    pub products: &'a [Uuid],
    /// `Idempotency-Key` and the request's fingerprint.
    pub idempotency: Option<(&'a str, &'a str)>,
    /// The instance that will drive the saga.
    pub lease_owner: &'a str,
    /// How long it owns the saga.
    pub lease: Duration,
    /// How long step 2 may take.
    pub step_timeout: Duration,
}

/// A checkout's lines priced from the catalogue, as the recording
/// transaction read it.
#[derive(Debug)]
pub struct Priced {
    /// The lines, in the request's order.
    pub lines: Vec<PricedLine>,
    /// Their currency.
    pub currency: String,
    /// The order's total.
    pub total: Money,
}

/// What recording a checkout found.
#[derive(Debug)]
pub enum Recorded {
    /// A new order, its saga as recorded (leased to the recording instance),
    /// and its prices.
    New(sagas::SagaRow, Priced),
    /// The `Idempotency-Key` was used before with the same request: that order.
    Existing(Uuid),
}

/// What recording a checkout can run into; `E` is why pricing refused it.
#[derive(Debug, thiserror::Error)]
pub enum RecordError<E: std::fmt::Debug> {
    /// The `Idempotency-Key` was used before with another request.
    #[error("this Idempotency-Key was used with a different request")]
    KeyReused,
    /// The lines could not be priced (unknown products, for example).
    #[error("the checkout could not be priced: {0:?}")]
    Unpriceable(E),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Step 1 of the saga, in one transaction: the products read and the lines
/// priced by `price`, then the order (`pending`), its lines, its saga state
/// and the idempotency key. A checkout `price` refuses records nothing.
pub async fn record_checkout<E: std::fmt::Debug>(
    pool: &PgPool,
    new: &NewCheckout<'_>,
    price: impl FnOnce(&[ProductRow]) -> Result<Priced, E>,
) -> Result<Recorded, RecordError<E>> {
    if let Some((key, fingerprint)) = new.idempotency
        && let Some(existing) = order_for_key(pool, key, fingerprint).await?
    {
        return Ok(Recorded::Existing(existing));
    }
    match try_record(pool, new, price).await {
        Err(RecordError::Db(error)) if super::violates(&error, "idempotency_keys_pkey") => {
            // The same key raced us and won: answer with its order.
            let (key, fingerprint) = new.idempotency.unwrap_or_default();
            match order_for_key(pool, key, fingerprint).await? {
                Some(existing) => Ok(Recorded::Existing(existing)),
                None => Err(RecordError::Db(error)),
            }
        }
        other => other,
    }
}

async fn order_for_key<E: std::fmt::Debug>(
    pool: &PgPool,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Uuid>, RecordError<E>> {
    let found: Option<(String, Uuid)> =
        sqlx::query_as("SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    match found {
        Some((hash, order_id)) if hash == fingerprint => Ok(Some(order_id)),
        Some(_) => Err(RecordError::KeyReused),
        None => Ok(None),
    }
}

async fn try_record<E: std::fmt::Debug>(
    pool: &PgPool,
    new: &NewCheckout<'_>,
    price: impl FnOnce(&[ProductRow]) -> Result<Priced, E>,
) -> Result<Recorded, RecordError<E>> {
    let mut tx = pool.begin().await?;
    let catalogue: Vec<ProductRow> =
        sqlx::query_as("SELECT * FROM products WHERE id = ANY($1) AND active")
            .bind(new.products)
            .fetch_all(&mut *tx)
            .await?;
    // Refused: the transaction is dropped, so nothing is written.
    let priced = price(&catalogue).map_err(RecordError::Unpriceable)?;
    let lines = &priced.lines;
    let currency = priced.currency.as_str();
    let total = priced.total.amount();
    sqlx::query(
        "INSERT INTO orders (id, customer_email, customer_name, status, total, currency)
         VALUES ($1, $2, $3, 'pending', $4, $5)",
    )
    .bind(new.order_id)
    .bind(new.email)
    .bind(new.name)
    .bind(total)
    .bind(currency)
    .execute(&mut *tx)
    .await?;
    let line_numbers: Vec<i32> = (1..).take(lines.len()).collect();
    sqlx::query(
        "INSERT INTO order_lines
            (order_id, line_no, product_id, sku, name, quantity, unit_price, line_total)
         SELECT $1, l.no, l.product_id, l.sku, l.name, l.quantity, l.unit_price,
                l.unit_price * l.quantity
         FROM unnest($2::int[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::numeric[])
              AS l(no, product_id, sku, name, quantity, unit_price)",
    )
    .bind(new.order_id)
    .bind(&line_numbers)
    .bind(lines.iter().map(|l| l.product_id).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.sku.clone()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.unit_price).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let saga = sagas::insert(
        &mut tx,
        new.saga_id,
        new.order_id,
        new.lease_owner,
        new.lease,
        new.step_timeout,
    )
    .await?;
    let units: i32 = lines.iter().map(|l| l.quantity).sum();
    sagas::log_step(
        &mut tx,
        new.saga_id,
        "record_order",
        "completed",
        &format!(
            "order recorded as pending: {units} unit(s), total {total:.2} {}",
            currency
        ),
    )
    .await?;
    if let Some((key, fingerprint)) = new.idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys (key, request_hash, order_id) VALUES ($1, $2, $3)",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(new.order_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Recorded::New(saga, priced))
}

/// An order with its lines and its saga's timeline.
pub async fn get(
    pool: &PgPool,
    id: Uuid,
) -> sqlx::Result<Option<(OrderRow, Vec<LineRow>, Vec<StepRow>)>> {
    let mut tx = super::snapshot(pool).await?;
    let Some(order) = sqlx::query_as::<_, OrderRow>("SELECT * FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let lines = lines_of(&mut tx, &[id]).await?;
    let steps = sqlx::query_as(
        "SELECT s.step, s.status, s.at, s.detail
         FROM saga_steps s JOIN sagas g ON g.id = s.saga_id
         WHERE g.order_id = $1 ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(Some((order, lines, steps)))
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
        customer_id: order.customer_id.unwrap_or_default(),
        total: Money::new(order.total).unwrap_or(Money::ZERO),
        currency: order.currency.clone(),
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
        "SELECT customer_email, customer_name, total, currency FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .fetch_one(pool)
    .await
}

/// An order's status, if the order exists.
pub async fn status_of(pool: &PgPool, order_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(pool)
        .await
}

/// Forgets `Idempotency-Key`s older than `ttl`; returns how many.
pub async fn forget_idempotency_keys(pool: &PgPool, ttl: Duration) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)")
        .bind(ttl.as_secs_f64())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
}
