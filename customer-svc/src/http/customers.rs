//! `/api/v1/customers`: create (sign up, with a password), list and search
//! (admin), read and change (the customer signed in, or the admin), remove
//! (admin).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use edge::{
    self,
    auth::Caller,
    error::ApiError,
    fields::search_text,
    openapi::{self as doc, PageParams},
    paging::{Page, Paging},
};
use utoipa::ToSchema;

use super::{
    AppState,
    requests::{CustomerChangesBody, NewCustomerBody},
};
use crate::{
    db::customers::{CustomerFilter, CustomerRow},
    domain::{CustomerChanges, Email, Money, NewCustomer},
};

/// A customer as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    id: Uuid,
    email: String,
    name: String,
    /// `active` or `blocked`.
    #[schema(example = "active")]
    status: String,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "5000.00")]
    credit_limit: Money,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "5000.00")]
    credit_available: Money,
    /// Credit in use beyond the limit: confirmed orders whose credit was
    /// spent elsewhere before their confirmation arrived (a real debt).
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "5000.00")]
    overdraft: Money,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CustomerRow> for CustomerView {
    type Error = ApiError;

    fn try_from(row: CustomerRow) -> Result<Self, ApiError> {
        let money = ApiError::stored_money;
        Ok(Self {
            id: row.id,
            email: row.email,
            name: row.name,
            status: row.status,
            credit_limit: money(row.credit_limit)?,
            credit_available: money((row.credit_limit - row.credit_used).max(Decimal::ZERO))?,
            overdraft: money((row.credit_used - row.credit_limit).max(Decimal::ZERO))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let collection = warp::path!("api" / "v1" / "customers");
    let item = warp::path!("api" / "v1" / "customers" / String);

    let list = collection
        .and(warp::get())
        .and(edge::routes::called_with_query(&state))
        .and_then(list);
    let create = collection
        .and(warp::post())
        .and(edge::routes::called_with_body(&state))
        .and_then(create);
    let get = item
        .and(warp::get())
        .and(edge::routes::called(&state))
        .and_then(get);
    let update = item
        .and(warp::patch())
        .and(edge::routes::called_with_body(&state))
        .and_then(update);
    let delete = item
        .and(warp::delete())
        .and(edge::routes::called(&state))
        .and_then(delete);
    list.or(create)
        .unify()
        .or(get)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
}

/// Customers, searchable by name or email (admin).
#[utoipa::path(
    get, path = "/api/v1/customers", operation_id = "list_customers", tag = "customers",
    params(
        PageParams,
        ("q" = Option<String>, Query, description = "Text in the name or email.", max_length = 200),
        ("email" = Option<String>, Query, description = "Only the customer with this email."),
    ),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of customers.", body = Page<CustomerView>),
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
    caller.require_admin()?;
    let paging = Paging::from_query(&query)?;
    let email = match query.get("email").filter(|e| !e.trim().is_empty()) {
        Some(raw) => Some(Email::parse(raw).map_err(|e| ApiError::invalid_field("email", e.0))?),
        None => None,
    };
    let filter = CustomerFilter {
        q: search_text(&query, "q")?,
        email,
    };
    let (rows, total) = state.accounts.search(&filter, paging).await?;
    let items = rows
        .into_iter()
        .map(CustomerView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(warp::reply::json(&Page::new(items, paging, total)).into_response())
}

/// Signs a customer up (anyone); `credit_limit` only with the admin token.
#[utoipa::path(
    post, path = "/api/v1/customers", operation_id = "create_customer", tag = "customers",
    request_body = NewCustomerBody,
    security((), ("admin_token" = [])),
    responses(
        (status = 201, description = "Created.", body = CustomerView,
            headers(("location" = String, description = "The customer's URL."))),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 409, response = doc::Conflict),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn create(
    caller: Caller,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    let new = NewCustomer::parse(&body)?;
    if new.credit_limit.is_some() {
        caller.require_admin_for("credit_limit")?;
    }
    let row = state.accounts.sign_up(new).await?;
    let location = format!("/api/v1/customers/{}", row.id);
    let view = CustomerView::try_from(row)?;
    Ok(edge::created_at(&location, StatusCode::CREATED, &view))
}

/// One customer: the customer signed in, or the admin.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}", operation_id = "get_customer", tag = "customers",
    params(("id" = Uuid, Path, description = "The customer's id.")),
    security(("access_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The customer.", body = CustomerView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn get(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_customer(id)?;
    let row = state.accounts.find(id).await?;
    Ok(warp::reply::json(&CustomerView::try_from(row)?).into_response())
}

/// Changes a customer: `name` and `password` (the customer signed in, or
/// the admin); `status` and `credit_limit` (the admin).
#[utoipa::path(
    patch, path = "/api/v1/customers/{id}", operation_id = "update_customer", tag = "customers",
    params(("id" = Uuid, Path, description = "The customer's id.")),
    request_body = CustomerChangesBody,
    security(("access_token" = []), ("admin_token" = [])),
    responses(
        (status = 200, description = "The customer as changed.", body = CustomerView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn update(
    id: String,
    caller: Caller,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_customer(id)?;
    let changes = CustomerChanges::parse(&body)?;
    if changes.status.is_some() {
        caller.require_admin_for("status")?;
    }
    if changes.credit_limit.is_some() {
        caller.require_admin_for("credit_limit")?;
    }
    let row = state.accounts.change(id, changes).await?;
    Ok(warp::reply::json(&CustomerView::try_from(row)?).into_response())
}

/// Removes a customer (admin).
#[utoipa::path(
    delete, path = "/api/v1/customers/{id}", operation_id = "delete_customer", tag = "customers",
    params(("id" = Uuid, Path, description = "The customer's id.")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn delete(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;
    state.accounts.remove(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
