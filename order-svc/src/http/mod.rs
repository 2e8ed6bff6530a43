//! The REST API and the UI: one module per resource, wrapped in the edge
//! conventions shared with customer-svc (error shape, CORS, tracing, metrics,
//! health).

pub mod admin;
mod errors;
pub mod openapi;
pub mod orders;
pub mod products;
mod requests;
pub mod ui;
mod views;

use std::sync::Arc;

use amqp::Broker;
use edge::auth::Access;
use sqlx::PgPool;
use warp::{Filter, filters::BoxedFilter, reply::Response};

use crate::{Config, saga::Coordinator, usecases::UseCases};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The service's database.
    pub pool: PgPool,
    /// The broker connection (for readiness).
    pub broker: Broker,
    /// Drives checkout sagas.
    pub coordinator: Coordinator,
    /// What the handlers call.
    pub usecases: UseCases,
    /// The configuration.
    pub config: Arc<Config>,
    /// Who may do what: the admin token and the access tokens.
    pub access: Access,
    /// Checkouts per client.
    pub checkout_limit: edge::rate_limit::PerClientLimit,
}

impl edge::routes::Guarded for AppState {
    fn access(&self) -> &Access {
        &self.access
    }
}

/// Every route of the service, ready to serve.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let probe = edge::health::readiness(state.pool.clone(), state.broker.clone(), Vec::new());
    let doc = <openapi::ApiDoc as utoipa::OpenApi>::openapi();
    let documented = products::routes(state.clone())
        .or(orders::routes(state.clone()))
        .unify()
        .or(admin::routes(state.clone()))
        .unify()
        .or(edge::health::routes(probe))
        .unify()
        .or(ui::config(state.config.customer_api_url.clone()))
        .unify()
        .or(edge::openapi::document(&doc))
        .unify();
    // The document is the route table; the UI's files and the document's
    // page are not API.
    let routes = edge::openapi::served::documented_only(&doc)
        .and(documented)
        .or(edge::openapi::page())
        .unify()
        .or(ui::files(state.config.ui_dir.clone()))
        .unify();
    edge::with_conventions(routes, &state.config.service.cors_origins)
}
