//! How products and orders look in JSON: money as strings with two places,
//! RFC 3339 timestamps.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use contract::Money;
use edge::error::ApiError;

use crate::db::{
    orders::{LineRow, OrderRow, StepRow},
    products::ProductRow,
};

/// A product.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    id: Uuid,
    sku: String,
    name: String,
    description: String,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    price: Money,
    currency: String,
    stock: i32,
    category: String,
    image_url: Option<String>,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProductRow> for ProductView {
    type Error = ApiError;

    fn try_from(row: ProductRow) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.id,
            sku: row.sku,
            name: row.name,
            description: row.description,
            price: ApiError::stored_money(row.price)?,
            currency: row.currency,
            stock: row.stock,
            category: row.category,
            image_url: row.image_url,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// An order; with its saga timeline when shown alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    id: Uuid,
    customer_id: Option<Uuid>,
    customer_email: String,
    /// `pending`, `confirmed`, `rejected` or `cancelled`.
    #[schema(example = "confirmed")]
    pub status: String,
    /// Why the order was rejected (null unless rejected): e.g.
    /// `customer_blocked`, `credit_limit_exceeded`, `insufficient_stock`,
    /// `customer_service_unavailable`, `sign_in_required`.
    reason: Option<String>,
    items: Vec<ItemView>,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    total: Money,
    currency: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The saga's timeline, step by step (on a single order, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    saga: Option<Vec<StepView>>,
}

#[derive(Debug, Serialize, ToSchema)]
struct ItemView {
    product_id: Uuid,
    sku: String,
    name: String,
    quantity: i32,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    unit_price: Money,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    line_total: Money,
}

/// One entry of a saga's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct StepView {
    step: String,
    status: String,
    at: DateTime<Utc>,
    detail: Option<String>,
}

impl OrderView {
    /// An order with its lines and, when given, its saga timeline.
    pub fn new(
        order: OrderRow,
        lines: Vec<LineRow>,
        steps: Option<Vec<StepRow>>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            id: order.id,
            customer_id: order.customer_id,
            customer_email: order.customer_email,
            status: order.status,
            reason: order.reason,
            items: lines
                .into_iter()
                .map(|line| {
                    Ok(ItemView {
                        product_id: line.product_id,
                        sku: line.sku,
                        name: line.name,
                        quantity: line.quantity,
                        unit_price: ApiError::stored_money(line.unit_price)?,
                        line_total: ApiError::stored_money(line.line_total)?,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            total: ApiError::stored_money(order.total)?,
            currency: order.currency,
            created_at: order.created_at,
            updated_at: order.updated_at,
            saga: steps.map(|steps| steps.into_iter().map(StepView::from).collect()),
        })
    }

    /// The order's id.
    pub fn id(&self) -> Uuid {
        self.id
    }
}

impl From<StepRow> for StepView {
    fn from(row: StepRow) -> Self {
        Self {
            step: row.step,
            status: row.status,
            at: row.at,
            detail: row.detail,
        }
    }
}
