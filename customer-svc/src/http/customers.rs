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
    json,
    paging::{Page, Paging},
};

use super::{AppState, caller, with_state};
use crate::{
    db::customers::{self, CreateError, CustomerFilter, CustomerPatch, CustomerRow, UpdateError},
    domain::{CreditLimit, CustomerChanges, Email, Money, NewCustomer},
};

/// A customer as the API shows it.
#[derive(Debug, Serialize)]
pub struct CustomerView {
    id: Uuid,
    email: String,
    name: String,
    status: String,
    credit_limit: Money,
    credit_available: Money,
    /// Credit in use beyond the limit: confirmed orders whose credit was
    /// spent elsewhere before their confirmation arrived (a real debt).
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
        .and(caller(state.clone()))
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state.clone()))
        .and_then(list);
    let create = collection
        .and(warp::post())
        .and(caller(state.clone()))
        .and(json::body::<Map<String, Value>>())
        .and(with_state(state.clone()))
        .and_then(create);
    let get = item
        .and(warp::get())
        .and(caller(state.clone()))
        .and(with_state(state.clone()))
        .and_then(get);
    let update = item
        .and(warp::patch())
        .and(caller(state.clone()))
        .and(json::body::<Map<String, Value>>())
        .and(with_state(state.clone()))
        .and_then(update);
    let delete = item
        .and(warp::delete())
        .and(caller(state.clone()))
        .and(with_state(state))
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
    let (rows, total) = customers::list(&state.pool, &filter, paging.limit(), paging.offset())
        .await
        .map_err(ApiError::from)?;
    let items = rows
        .into_iter()
        .map(CustomerView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(warp::reply::json(&Page::new(items, paging, total)).into_response())
}

async fn create(
    caller: Caller,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    let NewCustomer {
        email,
        name,
        credit_limit,
        password,
    } = NewCustomer::parse(&body)?;
    let credit_limit = match credit_limit {
        Some(limit) => {
            caller.require_admin_for("credit_limit")?;
            limit
        }
        None => CreditLimit::new(state.config.default_credit_limit).map_err(ApiError::internal)?,
    };
    let password_hash = match password {
        Some(password) => Some(password.hash().await.map_err(ApiError::internal)?),
        None => None,
    };
    let row = customers::insert(
        &state.pool,
        &email,
        &name,
        credit_limit,
        password_hash.as_deref(),
    )
    .await
    .map_err(|error| match error {
        CreateError::EmailTaken => ApiError::Conflict {
            code: "email_taken",
            message: format!("a customer with email {email} already exists"),
        },
        CreateError::Db(cause) => ApiError::from(cause),
    })?;
    let location = format!("/api/v1/customers/{}", row.id);
    let reply = warp::reply::with_status(
        warp::reply::json(&CustomerView::try_from(row)?),
        StatusCode::CREATED,
    );
    Ok(warp::reply::with_header(reply, "location", location).into_response())
}

async fn get(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_customer(id)?;
    let row = customers::get(&state.pool, id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("customer"))?;
    Ok(warp::reply::json(&CustomerView::try_from(row)?).into_response())
}

async fn update(
    id: String,
    caller: Caller,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_customer(id)?;
    let CustomerChanges {
        name,
        status,
        credit_limit,
        password,
    } = CustomerChanges::parse(&body)?;
    if status.is_some() {
        caller.require_admin_for("status")?;
    }
    if credit_limit.is_some() {
        caller.require_admin_for("credit_limit")?;
    }
    let patch = CustomerPatch {
        name,
        status,
        credit_limit,
        password_hash: match password {
            Some(password) => Some(password.hash().await.map_err(ApiError::internal)?),
            None => None,
        },
    };
    let row = customers::update(&state.pool, id, &patch)
        .await
        .map_err(|error| match error {
            UpdateError::LimitBelowUsage(used) => ApiError::Conflict {
                code: "credit_limit_below_usage",
                message: format!(
                    "the credit limit cannot be lower than the credit in use ({used})"
                ),
            },
            UpdateError::Db(cause) => ApiError::from(cause),
        })?
        .ok_or(ApiError::NotFound("customer"))?;
    Ok(warp::reply::json(&CustomerView::try_from(row)?).into_response())
}

async fn delete(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;
    if !customers::delete(&state.pool, id)
        .await
        .map_err(ApiError::from)?
    {
        return Err(ApiError::NotFound("customer").into());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
