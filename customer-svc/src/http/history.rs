//! `GET /api/v1/customers/{id}/orders`: the order history customer-svc keeps
//! from events, newest first, with the customer's statistics; for the
//! customer signed in and the admin.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, reply::Response};

use edge::{
    auth::Caller,
    error::ApiError,
    openapi::{self as doc, PageParams},
    paging::Paging,
};
use utoipa::ToSchema;

use super::AppState;
use crate::{domain::Money, usecases::HistoryPage};

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    customer_id: Uuid,
    stats: StatsView,
    items: Vec<HistoryItemView>,
    page: u32,
    per_page: u32,
    total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct StatsView {
    order_count: i64,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    total_spent: Money,
    last_order_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
struct HistoryItemView {
    order_id: Uuid,
    status: String,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    total: Money,
    currency: String,
    item_count: i32,
    placed_at: DateTime<Utc>,
}

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "v1" / "customers" / String / "orders")
        .and(warp::get())
        .and(edge::routes::called_with_query(&state))
        .and_then(order_history)
}

/// The order history customer-svc keeps from events, newest first, with
/// the customer's statistics: the customer signed in, or the admin.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/orders", operation_id = "customer_order_history", tag = "customers",
    params(("id" = Uuid, Path, description = "The customer's id."), PageParams),
    security(("access_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "A page of the customer's orders, with statistics.", body = HistoryView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn order_history(
    id: String,
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    let customer_id = edge::path_id(&id)?;
    caller.require_customer(customer_id)?;
    let paging = Paging::from_query(&query)?;
    let HistoryPage { items, stats } = state.order_history.page(customer_id, paging).await?;
    let view = HistoryView {
        customer_id,
        stats: StatsView {
            order_count: stats.order_count,
            total_spent: ApiError::stored_money(stats.total_spent)?,
            last_order_at: stats.last_order_at,
        },
        items: items
            .into_iter()
            .map(|row| {
                Ok(HistoryItemView {
                    order_id: row.order_id,
                    status: row.status,
                    total: ApiError::stored_money(row.total)?,
                    currency: row.currency,
                    item_count: row.item_count,
                    placed_at: row.placed_at,
                })
            })
            .collect::<Result<_, ApiError>>()?,
        page: paging.page,
        per_page: paging.per_page,
        total: stats.order_count,
    };
    Ok(warp::reply::json(&view).into_response())
}
