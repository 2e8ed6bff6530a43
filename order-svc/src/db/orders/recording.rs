//! Step 1 of the saga, as the database sees it: an `Idempotency-Key`
//! looked up, and a batch of checkouts priced and recorded (orders, lines,
//! sagas, first timeline entries, keys) in one statement and one commit.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    db::{
        products::ProductRow,
        sagas::{self, SAGA_COLUMNS, SagaLease, SagaRow},
    },
    domain::pricing::{Priced, PricedLine},
};

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
    /// The id of the HTTP request that placed it, kept with the saga.
    pub request_id: Option<String>,
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
    request_ids: Vec<Option<&'a str>>,
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
        self.request_ids.push(new.request_id.as_deref());
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
             (id, order_id, step, status, attempt, deadline, lease_owner, lease_expires_at,
              request_id)
           SELECT s.id, s.order_id, 'verify_customer', 'running', 1,
                  now() + make_interval(secs => $15), $14, now() + make_interval(secs => $16),
                  s.request_id
           FROM unnest($13::uuid[], $1::uuid[], $22::text[]) AS s(id, order_id, request_id)
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
    .bind(&columns.request_ids)
    .fetch_all(tx)
    .await?;
    Ok(sagas.into_iter().map(|saga| (saga.id, saga)).collect())
}
