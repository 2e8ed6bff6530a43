//! `/api/v1/orders`: checkout (runs the saga; anyone, placed for the
//! customer signed in), list (the admin, or a customer their own), get with
//! the saga's timeline and cancel (the order's token, its customer signed
//! in, or the admin). Each handler parses, checks the caller, calls one use
//! case (`crate::usecases`) and renders.

use std::collections::HashMap;

use serde_json::{Map, Value};
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use edge::{
    auth::Caller,
    error::ApiError,
    json,
    openapi::{self as doc, PageParams},
    paging::{Page, Paging},
};

use super::{AppState, requests::CheckoutBody, views::OrderView};
use crate::{
    db::orders::OrderFilter,
    domain::{checkout::CheckoutRequest, idempotency::IdempotencyKey, order::OrderStatus},
};

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let collection = warp::path!("api" / "v1" / "orders");
    let checkout = collection
        .and(warp::post())
        .and(
            state
                .checkout_limit
                .filter(state.config.service.access.trusted_proxies.clone()),
        )
        .and(edge::auth::caller(state.access.clone()))
        .and(warp::header::optional::<String>("idempotency-key"))
        .and(json::body::<Map<String, Value>>())
        .and(edge::request_id::current())
        .and(edge::routes::state(&state))
        .and_then(checkout);
    let list = collection
        .and(warp::get())
        .and(edge::routes::called_with_query(&state))
        .and_then(list);
    let get = warp::path!("api" / "v1" / "orders" / String)
        .and(warp::get())
        .and(edge::routes::called(&state))
        .and_then(get);
    let cancel = warp::path!("api" / "v1" / "orders" / String / "cancel")
        .and(warp::post())
        .and(edge::routes::called(&state))
        .and(edge::request_id::current())
        .and_then(cancel);
    checkout.or(list).unify().or(get).unify().or(cancel).unify()
}

/// A checkout answer: the order and a token that opens it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CheckoutView {
    #[serde(flatten)]
    order: OrderView,
    /// Grants this order: `GET /api/v1/orders/{id}` and its cancel.
    access_token: String,
}

/// Checkout: runs the saga. Anyone may check out; with a signed-in
/// customer's token the order is placed for that customer.
#[utoipa::path(
    post, path = "/api/v1/orders", operation_id = "checkout", tag = "orders",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
        description = "The same key with the same body returns the same order and does the work once; with another body it is a 422.")),
    request_body = CheckoutBody,
    security((), ("access_token" = []), ("admin_token" = [])),
    responses(
        (status = 201, description = "The saga has ended: the order is `confirmed` or `rejected`.", body = CheckoutView,
            headers(("location" = String, description = "The order's URL."))),
        (status = 202, description = "The saga has not ended within the request's wait: the `pending` order; it ends on its own.", body = CheckoutView,
            headers(("location" = String, description = "The order's URL."))),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 422, response = doc::Unprocessable),
        (status = 429, response = doc::TooManyRequests),
    ),
)]
async fn checkout(
    caller: Caller,
    idempotency_key: Option<String>,
    body: Map<String, Value>,
    request_id: String,
    state: AppState,
) -> Result<Response, Rejection> {
    let signed_in = match &caller {
        Caller::Customer { id, email } => Some((*id, email.as_str())),
        _ => None,
    };
    let request = CheckoutRequest::parse_for(&body, signed_in)?;
    let key = idempotency_key
        .as_deref()
        .map(IdempotencyKey::parse)
        .transpose()?;

    let placed = state
        .usecases
        .checkout
        .place(request, key, request_id)
        .await?;

    let record = placed.order;
    let view = OrderView::new(record.order, record.lines, Some(record.steps))?;
    let location = format!("/api/v1/orders/{}", view.id());
    let status = if placed.ended {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let answer = CheckoutView {
        order: view,
        access_token: placed.access_token,
    };
    Ok(edge::created_at(&location, status, &answer))
}

/// Orders, newest first: every order (admin) or a signed-in customer's own.
#[utoipa::path(
    get, path = "/api/v1/orders", operation_id = "list_orders", tag = "orders",
    params(
        PageParams,
        ("customer_id" = Option<Uuid>, Query, description = "Only this customer's (a signed-in customer: their own id)."),
        ("status" = Option<String>, Query, description = "Only orders in this status: `pending`, `confirmed`, `rejected` or `cancelled`."),
    ),
    security(("admin_token" = []), ("access_token" = [])),
    responses(
        (status = 200, description = "A page of orders (without their timelines).", body = Page<OrderView>),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn list(
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    let paging = Paging::from_query(&query)?;
    let asked = customer_param(&query)?;
    let filter = OrderFilter {
        customer_id: listed_customer(&caller, asked)?,
        status: status_param(&query)?,
    };

    let (rows, total) = state.usecases.orders.page(&filter, paging).await?;

    let items = rows
        .into_iter()
        .map(|(order, lines)| OrderView::new(order, lines, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(warp::reply::json(&Page::new(items, paging, total)).into_response())
}

/// One order with its saga's timeline: for the order's token, its
/// customer signed in, or the admin.
#[utoipa::path(
    get, path = "/api/v1/orders/{id}", operation_id = "get_order", tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id.")),
    security(("access_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The order.", body = OrderView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn get(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_token()?;

    let record = state.usecases.orders.get(id).await?;
    caller.require_order(id, record.order.customer_id)?;

    let view = OrderView::new(record.order, record.lines, Some(record.steps))?;
    Ok(warp::reply::json(&view).into_response())
}

/// Cancels a confirmed order: restock, release credit, emit
/// `order.cancelled`. Cancelling a cancelled order again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/orders/{id}/cancel", operation_id = "cancel_order", tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id.")),
    security(("access_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The order, cancelled.", body = OrderView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
async fn cancel(
    id: String,
    caller: Caller,
    state: AppState,
    request_id: String,
) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_token()?;

    let owner = state.usecases.orders.owner_of(id).await?;
    caller.require_order(id, owner)?;
    let record = state.usecases.orders.cancel(id, &request_id).await?;

    let view = OrderView::new(record.order, record.lines, Some(record.steps))?;
    Ok(warp::reply::json(&view).into_response())
}

/// The list's `customer_id`, if given.
fn customer_param(query: &HashMap<String, String>) -> Result<Option<Uuid>, ApiError> {
    let Some(raw) = query.get("customer_id").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match Uuid::parse_str(raw) {
        Ok(id) => Ok(Some(id)),
        Err(_) => Err(ApiError::invalid_field(
            "customer_id",
            "must be a customer id (UUID)",
        )),
    }
}

/// Whose orders the caller lists: a customer their own (theirs when they
/// name no one); every order, or anyone's, is the admin's.
fn listed_customer(caller: &Caller, asked: Option<Uuid>) -> Result<Option<Uuid>, ApiError> {
    match (caller, asked) {
        (Caller::Customer { id, .. }, None) => Ok(Some(*id)),
        (Caller::Customer { id, .. }, Some(asked)) => {
            caller.require_customer(asked)?;
            Ok(Some(*id))
        }
        (_, asked) => {
            caller.require_admin()?;
            Ok(asked)
        }
    }
}

/// The list's `status`, if given.
fn status_param(query: &HashMap<String, String>) -> Result<Option<OrderStatus>, ApiError> {
    let Some(raw) = query.get("status").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match OrderStatus::parse(raw) {
        Some(status) => Ok(Some(status)),
        None => Err(ApiError::invalid_field(
            "status",
            "must be pending, confirmed, rejected or cancelled",
        )),
    }
}
