//! The REST API: routes assembled from one module per resource, CORS, a span
//! per request carrying its `x-request-id`, metrics, and one `recover` that
//! turns every rejection into the JSON error shape.

pub mod auth;
pub mod customers;
pub mod error;
pub mod health;
pub mod history;
pub mod json;
pub mod metrics;
pub mod paging;

use std::{convert::Infallible, sync::Arc};

use messaging::Broker;
use sqlx::PgPool;
use warp::{Filter, Rejection, Reply, filters::BoxedFilter, http::Method, reply::Response};

use crate::Config;
use auth::Caller;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The service's database.
    pub pool: PgPool,
    /// The broker connection (for readiness).
    pub broker: Broker,
    /// The configuration.
    pub config: Arc<Config>,
}

/// Passes the state to a handler.
pub fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// Who is calling, from the `Authorization` header.
pub fn caller(state: AppState) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization").and_then(move |header: Option<String>| {
        let token = state.config.admin_token.clone();
        async move { Caller::from_header(header.as_deref(), &token).map_err(warp::reject::custom) }
    })
}

/// Every route of the service, ready to serve.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let cors = warp::cors()
        .allow_origins(state.config.cors_origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            "content-type",
            "authorization",
            "x-request-id",
            "idempotency-key",
        ])
        .expose_headers(["location", "x-request-id"])
        .max_age(600);
    let api = customers::routes(state.clone())
        .or(history::routes(state.clone()))
        .unify()
        .or(health::routes(state))
        .unify()
        .recover(error::recover)
        .unify()
        .with(cors)
        .map(Reply::into_response)
        .recover(error::recover)
        .unify();
    api.with(warp::trace(|info| {
        let request_id = info
            .request_headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        tracing::info_span!("http", method = %info.method(), path = %info.path(), request_id)
    }))
    .with(warp::log::custom(metrics::record_request))
    .map(Reply::into_response)
    .boxed()
}
