//! An order as stored: its row, its lines, its saga's timeline, and the
//! record they make up together (what the API shows of one order).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::FromRow;
use uuid::Uuid;

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
