//! The HTTP edge both services implement the same way, as the contract
//! describes it: the JSON error shape and the one `recover` that produces it,
//! size-limited JSON bodies, paging, who may do what (the admin token and
//! shoppers' access tokens), the client behind trusted proxies, `/healthz`,
//! `/readyz` and `/metrics`, CORS, a span per request, and logging set-up;
//! and the skeleton both services are built on ([`service`]: shared
//! settings, process set-up, database, broker and listener, the order of
//! stopping). Each service adds only its own routes and parts.

#![warn(missing_docs)]

/// Largest request body accepted, in bytes (here, not in `json`, because
/// the error shape names it too).
pub const BODY_LIMIT: u64 = 64 * 1024;

pub mod access_config;
pub mod auth;
pub mod batch;
pub mod client;
pub mod database;
pub mod error;
pub mod fields;
pub mod health;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod paging;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod service;

/// What [`rejected_as_api_error!`] expands to, named from this crate so that
/// services need no path of their own into warp.
#[doc(hidden)]
pub mod warp_rejection {
    pub use warp::reject::{Rejection, custom};
}
pub mod telemetry;
pub mod tokens;

use warp::{Filter, Rejection, Reply, filters::BoxedFilter, http::Method, reply::Response};

/// Wraps a service's routes (health included) with the shared conventions:
/// every rejection becomes the JSON error shape, CORS for `cors_origins`, a
/// tracing span per request carrying its id as `request_id`, that id echoed
/// on every answer and handed to handlers ([`request_id::current`]), and
/// request metrics.
///
/// Browsers send `Origin` on same-origin requests too (module scripts, POSTs);
/// those are the service's own pages, so they bypass the CORS check, which
/// applies to other origins only.
pub fn with_conventions<F>(routes: F, cors_origins: &[String]) -> BoxedFilter<(Response,)>
where
    F: Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    let cors = warp::cors()
        .allow_origins(cors_origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            "content-type",
            "authorization",
            request_id::HEADER,
            request_id::TRACEPARENT,
            "idempotency-key",
        ])
        .expose_headers(["location", request_id::HEADER, "retry-after"])
        .max_age(600);
    let handled = routes.clone().recover(error::recover).unify();
    let same_origin = not_cross_origin().and(handled.clone());
    let cross_origin = handled
        .with(cors)
        .map(Reply::into_response)
        .recover(error::recover)
        .unify();
    request_id::echoed(same_origin.or(cross_origin).unify())
        // The access line is written inside the request's span, with its id.
        .with(warp::log::custom(metrics::record_request))
        .with(warp::trace(request_id::span))
        .map(Reply::into_response)
        .boxed()
}

/// Passes requests without an `Origin`, or whose `Origin` is this very host;
/// rejects the rest, which then go through CORS.
fn not_cross_origin() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("host"))
        .and_then(|origin: Option<String>, host: Option<String>| async move {
            let own = match (&origin, &host) {
                (None, _) => true,
                (Some(origin), Some(host)) => {
                    origin.split_once("://").is_some_and(|(scheme, authority)| {
                        matches!(scheme, "http" | "https") && authority == host
                    })
                }
                (Some(_), None) => false,
            };
            if own { Ok(()) } else { Err(warp::reject()) }
        })
        .untuple_one()
}

/// A service's HTTP server, running in the background until shut down.
pub struct HttpServer {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Serves `routes` on `listener`.
    pub fn spawn(listener: tokio::net::TcpListener, routes: BoxedFilter<(Response,)>) -> Self {
        let stop = tokio_util::sync::CancellationToken::new();
        let signal = stop.clone();
        let task = tokio::spawn(
            warp::serve(routes)
                .incoming(listener)
                .graceful(async move { signal.cancelled().await })
                .run(),
        );
        Self { stop, task }
    }

    /// Stops accepting connections and lets the requests in flight finish.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Parses a comma-separated list of origins as browsers send them
/// (`scheme://host[:port]`, nothing after), refusing anything else: a bad
/// origin would otherwise only fail when CORS is built.
pub fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let valid = origin.split_once("://").is_some_and(|(scheme, authority)| {
                matches!(scheme, "http" | "https")
                    && !authority.is_empty()
                    && !authority.contains(['/', '@'])
                    && authority.parse::<warp::http::uri::Authority>().is_ok()
            });
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(format!(
                    "{origin:?} is not an origin such as http://localhost:3001"
                ))
            }
        })
        .collect()
}

/// An id from the path: a malformed one is a 400 `invalid_id`.
pub fn path_id(raw: &str) -> Result<uuid::Uuid, Rejection> {
    uuid::Uuid::parse_str(raw).map_err(|_| {
        warp::reject::custom(error::ApiError::BadRequest {
            code: "invalid_id",
            message: format!("{raw:?} is not a valid id"),
        })
    })
}

/// A new resource's answer: `status` (`201 Created`, or `202 Accepted` for
/// one still being made), its `Location`, and the resource as JSON.
pub fn created_at(
    location: &str,
    status: warp::http::StatusCode,
    body: &impl serde::Serialize,
) -> Response {
    let reply = warp::reply::with_status(warp::reply::json(body), status);
    warp::reply::with_header(reply, "location", location).into_response()
}

#[cfg(test)]
mod tests {
    use super::parse_origins;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origins(" http://localhost:3001, https://shop.example ").unwrap(),
            vec!["http://localhost:3001", "https://shop.example"]
        );
        assert_eq!(parse_origins("").unwrap(), Vec::<String>::new());
        assert!(parse_origins("localhost:3001").is_err());
        assert!(parse_origins("http://shop.example/path").is_err());
        assert!(parse_origins("ftp://shop.example").is_err());
    }
}

#[cfg(test)]
mod props {
    //! Ids in paths and origins in the configuration, on hostile text.

    use proptest::prelude::*;

    use super::*;
    use testkit::hostile::{config, hostile_text};

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_path_id_is_a_uuid_or_a_400_naming_it(raw in prop_oneof![
            hostile_text(),
            "[0-9a-fA-F-]{30,40}",
            any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        ]) {
            match path_id(&raw) {
                // Every spelling the uuid crate reads (upper case, braces,
                // `urn:uuid:`, no hyphens) names the one id it parses to.
                Ok(id) => prop_assert_eq!(uuid::Uuid::parse_str(&id.to_string()).ok(), Some(id)),
                Err(rejection) => {
                    let refused = rejection.find::<error::ApiError>();
                    let is_invalid_id = matches!(refused, Some(error::ApiError::BadRequest { code: "invalid_id", .. }));
                    prop_assert!(is_invalid_id, "{:?}", refused);
                }
            }
        }

        #[test]
        fn an_accepted_origin_is_scheme_and_authority_only(raw in prop_oneof![
            hostile_text(),
            "(https?|ftp)://[a-z0-9.:@/-]{0,30}(,[ -~]{0,20})?",
        ]) {
            if let Ok(origins) = parse_origins(&raw) {
                for origin in origins {
                    let (scheme, authority) = origin.split_once("://").unwrap_or(("", ""));
                    prop_assert!(matches!(scheme, "http" | "https"), "{}", origin);
                    prop_assert!(!authority.is_empty() && !authority.contains(['/', '@']), "{}", origin);
                    prop_assert!(!origin.chars().any(char::is_control), "{:?}", origin);
                }
            }
        }
    }
}
