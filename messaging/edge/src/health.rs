//! `/healthz` (the process runs), `/readyz` (its dependencies answer),
//! `/metrics` (Prometheus text format).

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use super::metrics;

/// Longest a readiness probe waits for the database.
const DB_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Named checks, each `"ok"` or what is wrong.
pub type ReadinessProbe = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Vec<(&'static str, &'static str)>> + Send>>
        + Send
        + Sync,
>;

/// A service's readiness: its database answers, its broker connection is
/// up (each `"unreachable"` when not), and none of `consumers` is waiting out
/// a transient failure (`"waiting_out"`: it takes no new work meanwhile).
pub fn readiness(
    pool: sqlx::PgPool,
    broker: amqp::Broker,
    consumers: Vec<(&'static str, amqp::WaitingOut)>,
) -> ReadinessProbe {
    Arc::new(move || {
        let (pool, broker, consumers) = (pool.clone(), broker.clone(), consumers.clone());
        Box::pin(async move {
            let reachable = |ok: bool| if ok { "ok" } else { "unreachable" };
            let mut checks = vec![
                ("database", reachable(database_answers(&pool).await)),
                ("broker", reachable(broker.is_ready())),
            ];
            checks.extend(consumers.iter().map(|(name, waiting)| {
                (
                    *name,
                    if waiting.is_waiting() {
                        "waiting_out"
                    } else {
                        "ok"
                    },
                )
            }));
            checks
        })
    })
}

/// The health routes, with readiness decided by `probe`.
pub fn routes(
    probe: ReadinessProbe,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let healthz = warp::path!("healthz").and(warp::get()).map(healthz);
    let readyz = warp::path!("readyz").and(warp::get()).then(move || {
        let probe = probe.clone();
        async move { readyz(probe().await) }
    });
    let metrics = warp::path!("metrics").and(warp::get()).map(metrics);
    healthz.or(readyz).unify().or(metrics).unify()
}

/// How `/readyz` answers.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `not_ready` when any check is not `ok`.
    #[schema(example = "ready")]
    status: &'static str,
    /// Each dependency's state: `ok`, `unreachable`, or (a consumer)
    /// `waiting_out` a transient failure.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    checks: Map<String, Value>,
}

/// `GET /healthz`: 200 while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operating",
    responses((status = 200, description = "The process runs.", body = Object, example = json!({"status": "ok"}))),
)]
pub fn healthz() -> Response {
    warp::reply::json(&json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 when the service's database and broker answer (and
/// no consumer is waiting out a failure), 503 otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operating",
    responses(
        (status = 200, description = "Ready: every check is `ok`.", body = Readiness),
        (status = 503, description = "Not ready: the checks say what is not.", body = Readiness),
    ),
)]
pub fn readyz(checks: Vec<(&'static str, &'static str)>) -> Response {
    let ready = checks.iter().all(|(_, state)| *state == "ok");
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        checks: checks
            .into_iter()
            .map(|(name, state)| (name.to_owned(), json!(state)))
            .collect(),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// `GET /metrics`: the Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operating",
    responses((status = 200, description = "Metrics in Prometheus text format.", body = String, content_type = "text/plain")),
)]
pub fn metrics() -> Response {
    warp::reply::with_header(
        metrics::render(),
        "content-type",
        "text/plain; version=0.0.4; charset=utf-8",
    )
    .into_response()
}

/// The health check a container runs (`<binary> healthcheck`): true when the
/// service at `address` answers `GET /healthz` with 200 within two seconds.
/// Plain `std` networking, so that the runtime image needs no curl.
pub fn answers_locally(address: std::net::SocketAddr) -> bool {
    use std::io::{Read, Write};
    let mut address = address;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let timeout = Duration::from_secs(2);
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&address, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status_line = [0_u8; 12];
    stream.read_exact(&mut status_line).is_ok() && status_line.ends_with(b" 200")
}

/// True when the database answers `SELECT 1` within two seconds.
pub async fn database_answers(pool: &sqlx::PgPool) -> bool {
    let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool);
    matches!(
        tokio::time::timeout(DB_PROBE_TIMEOUT, probe).await,
        Ok(Ok(1))
    )
}
