//! `/api/v1/products` (public reads of active products, admin writes) and
//! `/api/v1/categories`. Each handler parses, checks the caller, calls the
//! catalogue (`crate::usecases::Catalogue`) and renders.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use edge::{
    auth::Caller,
    fields::search_text,
    paging::{Page, Paging},
};

use super::{AppState, views::ProductView};
use crate::{db::products::ProductFilter, domain::product::ProductPatch};

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let collection = warp::path!("api" / "v1" / "products");
    let item = warp::path!("api" / "v1" / "products" / String);

    let list = collection
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(edge::routes::state(&state))
        .and_then(list);
    let categories = warp::path!("api" / "v1" / "categories")
        .and(warp::get())
        .and(edge::routes::state(&state))
        .and_then(categories);
    let create = collection
        .and(warp::post())
        .and(edge::routes::called_with_body(&state))
        .and_then(create);
    let get = item
        .and(warp::get())
        .and(edge::routes::state(&state))
        .and_then(get);
    let update = item
        .and(warp::patch())
        .and(edge::routes::called_with_body(&state))
        .and_then(update);
    let retire = item
        .and(warp::delete())
        .and(edge::routes::called(&state))
        .and_then(retire);
    list.or(categories)
        .unify()
        .or(create)
        .unify()
        .or(get)
        .unify()
        .or(update)
        .unify()
        .or(retire)
        .unify()
}

async fn list(query: HashMap<String, String>, state: AppState) -> Result<Response, Rejection> {
    let paging = Paging::from_query(&query)?;
    let filter = ProductFilter {
        q: search_text(&query, "q")?,
        category: search_text(&query, "category")?,
    };

    let (rows, total) = state.usecases.catalogue.page(&filter, paging).await?;

    let items = rows
        .into_iter()
        .map(ProductView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(warp::reply::json(&Page::new(items, paging, total)).into_response())
}

async fn categories(state: AppState) -> Result<Response, Rejection> {
    let categories = state.usecases.catalogue.categories().await?;
    Ok(warp::reply::json(&json!({ "items": categories })).into_response())
}

async fn get(id: String, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;

    let row = state.usecases.catalogue.product(id).await?;

    Ok(warp::reply::json(&ProductView::try_from(row)?).into_response())
}

async fn create(
    caller: Caller,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let fields = ProductPatch::parse(&body, true)?.into_fields()?;

    let row = state.usecases.catalogue.create(fields).await?;

    let location = format!("/api/v1/products/{}", row.id);
    let view = ProductView::try_from(row)?;
    Ok(edge::created_at(&location, StatusCode::CREATED, &view))
}

async fn update(
    id: String,
    caller: Caller,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;
    let patch = ProductPatch::parse(&body, false)?;

    let row = state.usecases.catalogue.update(id, patch).await?;

    Ok(warp::reply::json(&ProductView::try_from(row)?).into_response())
}

async fn retire(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;

    state.usecases.catalogue.retire(id).await?;

    Ok(StatusCode::NO_CONTENT.into_response())
}
