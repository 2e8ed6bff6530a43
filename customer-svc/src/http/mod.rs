//! The REST API: one module per resource, wrapped in the edge conventions
//! shared with order-svc (error shape, CORS, tracing, metrics, health).

pub mod admin;
pub mod customers;
mod errors;
pub mod history;
pub mod openapi;
mod requests;
pub mod sessions;
pub mod sign_in_guard;

use std::sync::Arc;

use amqp::Broker;
use edge::auth::Access;
use sqlx::PgPool;
use warp::{Filter, filters::BoxedFilter, reply::Response};

use crate::{
    Config,
    usecases::{Accounts, DeadLetterDesk, OrderHistory, Sessions},
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The service's database.
    pub pool: PgPool,
    /// The broker connection (for readiness).
    pub broker: Broker,
    /// The configuration.
    pub config: Arc<Config>,
    /// Who may do what: the admin token and the access tokens.
    pub access: Access,
    /// Sign-in attempts per account and per client.
    pub sign_in: sign_in_guard::SignInGuard,
    /// Signing up, reading, searching, changing and removing customers.
    pub accounts: Accounts,
    /// Signing in.
    pub sessions: Sessions,
    /// Reading a customer's order history.
    pub order_history: OrderHistory,
    /// Order events waiting out a failure (for `/readyz`).
    pub order_events_waiting: amqp::WaitingOut,
    /// Listing, replaying and discarding dead letters.
    pub dead_letters: DeadLetterDesk,
}

impl edge::routes::Guarded for AppState {
    fn access(&self) -> &Access {
        &self.access
    }
}

/// Every route of the service, ready to serve.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let probe = edge::health::readiness(
        state.pool.clone(),
        state.broker.clone(),
        vec![("order_events", state.order_events_waiting.clone())],
    );
    let doc = <openapi::ApiDoc as utoipa::OpenApi>::openapi();
    let routes = customers::routes(state.clone())
        .or(history::routes(state.clone()))
        .unify()
        .or(sessions::routes(state.clone()))
        .unify()
        .or(admin::routes(state.clone()))
        .unify()
        .or(edge::health::routes(probe))
        .unify()
        .or(edge::openapi::document(&doc))
        .unify();
    // The document is the route table; its page is not API.
    let routes = edge::openapi::served::documented_only(&doc)
        .and(routes)
        .or(edge::openapi::page())
        .unify();
    edge::with_conventions(routes, &state.config.service.cors_origins)
}
