//! `/api/v1/products` (public reads of active products, admin writes) and
//! `/api/v1/categories`. Each handler parses, checks the caller, calls the
//! catalogue (`crate::usecases::Catalogue`) and renders.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use edge::{
    auth::Caller,
    fields::search_text,
    openapi::{self as doc, PageParams},
    paging::{Page, Paging},
};

use super::{
    AppState,
    requests::{ProductBody, ProductChanges},
    views::ProductView,
};
use crate::{db::products::ProductFilter, domain::product::ProductPatch};

/// The categories, as listed.
#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    #[schema(example = json!(["Kitchen", "Garden"]))]
    items: Vec<String>,
}

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

/// Active products, searchable by name or sku, paged.
#[utoipa::path(
    get, path = "/api/v1/products", operation_id = "list_products", tag = "catalogue",
    params(
        PageParams,
        ("q" = Option<String>, Query, description = "Text in the name or sku.", max_length = 200),
        ("category" = Option<String>, Query, description = "Only this category.", max_length = 200),
    ),
    responses(
        (status = 200, description = "A page of products.", body = Page<ProductView>),
        (status = 400, response = doc::BadRequest),
        (status = 422, response = doc::Unprocessable),
    ),
)]
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

/// The categories of the products on sale.
#[utoipa::path(
    get, path = "/api/v1/categories", operation_id = "list_categories", tag = "catalogue",
    responses((status = 200, description = "Every category with a product on sale.", body = CategoryList)),
)]
async fn categories(state: AppState) -> Result<Response, Rejection> {
    let categories = state.usecases.catalogue.categories().await?;
    Ok(warp::reply::json(&CategoryList { items: categories }).into_response())
}

/// One product (retired ones too).
#[utoipa::path(
    get, path = "/api/v1/products/{id}", operation_id = "get_product", tag = "catalogue",
    params(("id" = Uuid, Path, description = "The product's id.")),
    responses(
        (status = 200, description = "The product.", body = ProductView),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn get(id: String, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;

    let row = state.usecases.catalogue.product(id).await?;

    Ok(warp::reply::json(&ProductView::try_from(row)?).into_response())
}

/// Creates a product (admin).
#[utoipa::path(
    post, path = "/api/v1/products", operation_id = "create_product", tag = "catalogue",
    request_body = ProductBody,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created.", body = ProductView,
            headers(("location" = String, description = "The product's URL."))),
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
    caller.require_admin()?;
    let fields = ProductPatch::parse(&body, true)?.into_fields()?;

    let row = state.usecases.catalogue.create(fields).await?;

    let location = format!("/api/v1/products/{}", row.id);
    let view = ProductView::try_from(row)?;
    Ok(edge::created_at(&location, StatusCode::CREATED, &view))
}

/// Changes any of a product's fields (admin).
#[utoipa::path(
    patch, path = "/api/v1/products/{id}", operation_id = "update_product", tag = "catalogue",
    params(("id" = Uuid, Path, description = "The product's id.")),
    request_body = ProductChanges,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The product as changed.", body = ProductView),
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
    caller.require_admin()?;
    let id = edge::path_id(&id)?;
    let patch = ProductPatch::parse(&body, false)?;

    let row = state.usecases.catalogue.update(id, patch).await?;

    Ok(warp::reply::json(&ProductView::try_from(row)?).into_response())
}

/// Retires a product (admin): no longer listed or orderable; past orders keep it.
#[utoipa::path(
    delete, path = "/api/v1/products/{id}", operation_id = "retire_product", tag = "catalogue",
    params(("id" = Uuid, Path, description = "The product's id.")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Retired."),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn retire(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;

    state.usecases.catalogue.retire(id).await?;

    Ok(StatusCode::NO_CONTENT.into_response())
}
