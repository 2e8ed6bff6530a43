//! The OpenAPI 3 pieces both services' documents share, written once: the
//! contract's error body and the answers made of it, the paging
//! parameters, the two bearer schemes of "Who may do what", the
//! `X-Request-Id` every answer carries, the route that serves a
//! service's document at `/api-docs/openapi.json`, and the browsable page
//! of it at `/api-docs/` ([`page`]).
//!
//! A service's document is its `#[derive(OpenApi)]` over its handlers'
//! `#[utoipa::path]`s, with [`Conventions`] as modifier; [`served`] makes
//! that document the service's route table (what it does not list is not
//! served), and [`checks`] is what the tests verify it with.

pub mod checks;
mod page;
mod responses;
pub mod served;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use utoipa::{
    IntoParams, Modify, PartialSchema, ToSchema,
    openapi::{
        OpenApi, RefOr,
        header::Header,
        response::Response,
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use warp::{Filter, Rejection, Reply, reply::Response as WarpResponse};

pub use page::page;
pub use responses::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
    Unavailable, Unprocessable,
};

/// The security scheme of the admin token (`Authorization: Bearer $ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "admin_token";
/// The security scheme of a shopper's access token (an order's, or a
/// signed-in customer's).
pub const ACCESS_TOKEN: &str = "access_token";

/// The contract's error body: `{"error": {"code", "message", "details"}}`.
/// [`crate::error::ApiError`] renders through it, so the document and the
/// answers cannot differ.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A snake_case code, e.g. `validation_failed`, `not_found`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// More about it: for `validation_failed`, `fields` (each field named
    /// with what is wrong with it); for `rate_limited`, `retry_after_seconds`.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// `?page=&per_page=` of every paged list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by the document only: crate::paging parses the query
pub struct PageParams {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// Items per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// The modifier every service's document has: the security schemes, the
/// shared error answers as components, `X-Request-Id` on every answer,
/// and `503` on every `/api/` operation (its database may be down).
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            ADMIN_TOKEN,
            bearer("The admin token (ADMIN_TOKEN): may do everything."),
        );
        components.add_security_scheme(
            ACCESS_TOKEN,
            bearer(
                "A shopper's access token: a checkout's (that order) or a signed-in \
                 customer's (their own records on both services).",
            ),
        );
        let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
        ErrorBody::schemas(&mut schemas);
        components.schemas.extend(schemas);
        for (name, response) in responses::all() {
            components.responses.insert(name.to_owned(), response);
        }
        for response in components.responses.values_mut() {
            with_request_id(response);
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            for operation in served::operations_mut(item) {
                if path.starts_with("/api/") {
                    operation
                        .responses
                        .responses
                        .entry("503".to_owned())
                        .or_insert_with(responses::reference::<Unavailable>);
                }
                for response in operation.responses.responses.values_mut() {
                    with_request_id(response);
                }
            }
        }
    }
}

/// Adds the `X-Request-Id` header to a response written in place (one that
/// is a reference gets it where it is defined).
fn with_request_id(response: &mut RefOr<Response>) {
    if let RefOr::T(response) = response {
        let mut header = Header::new(ObjectBuilder::new().schema_type(Type::String));
        header.description = Some(
            "The request's id: the caller's, when it sent a usable one, else a new one; \
             the service's log lines for this request carry it."
                .to_owned(),
        );
        response
            .headers
            .insert(crate::request_id::HEADER.to_owned(), RefOr::T(header));
    }
}

/// `GET /api-docs/openapi.json`: the service's OpenAPI document (`doc`),
/// public.
#[utoipa::path(
    get,
    path = "/api-docs/openapi.json",
    tag = "operating",
    responses((status = 200, description = "This OpenAPI 3 document.", body = Object)),
)]
pub fn document(
    doc: &OpenApi,
) -> impl Filter<Extract = (WarpResponse,), Error = Rejection> + Clone + use<> {
    let json: Arc<str> = serde_json::to_string(doc)
        .unwrap_or_else(|_| "{}".to_owned())
        .into();
    warp::path!("api-docs" / "openapi.json")
        .and(warp::get())
        .map(move || {
            warp::reply::with_header(json.to_string(), "content-type", "application/json")
                .into_response()
        })
}
