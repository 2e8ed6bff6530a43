//! `/healthz` (the process runs), `/readyz` (database and broker reachable),
//! `/metrics` (Prometheus text format).

use std::time::Duration;

use serde_json::json;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use super::{AppState, metrics, with_state};

/// Longest a readiness probe waits for the database.
const DB_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({"status": "ok"})).into_response());
    let readyz = warp::path!("readyz")
        .and(warp::get())
        .and(with_state(state))
        .then(readyz);
    let metrics = warp::path!("metrics").and(warp::get()).map(|| {
        warp::reply::with_header(
            metrics::render(),
            "content-type",
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .into_response()
    });
    healthz.or(readyz).unify().or(metrics).unify()
}

async fn readyz(state: AppState) -> Response {
    let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool);
    let database = matches!(
        tokio::time::timeout(DB_PROBE_TIMEOUT, probe).await,
        Ok(Ok(1))
    );
    let broker = state.broker.is_ready();
    let ready = database && broker;
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {
            "database": if database { "ok" } else { "unreachable" },
            "broker": if broker { "ok" } else { "unreachable" },
        }
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}
