//! Reading orders back: one with its lines and timeline, many in one
//! statement, a page of them, and the single facts the saga and the API
//! ask about (what step 2 asks customer-svc, whose an order is, its status).

use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use super::rows::{LineRow, OrderRecord, OrderRow, StepRow};
use crate::{db, domain::order::OrderStatus};

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
    pub status: Option<OrderStatus>,
}

/// One page of orders, newest first, with their lines, and how many match.
pub async fn list(
    pool: &PgPool,
    filter: &OrderFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<(OrderRow, Vec<LineRow>)>, i64)> {
    let mut tx = db::snapshot(pool).await?;
    const WHERE: &str =
        "($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)";
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM orders WHERE {WHERE}"
    )))
    .bind(filter.customer_id)
    .bind(filter.status.map(OrderStatus::as_str))
    .fetch_one(&mut *tx)
    .await?;
    let orders: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM orders WHERE {WHERE} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(filter.customer_id)
    .bind(filter.status.map(OrderStatus::as_str))
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
