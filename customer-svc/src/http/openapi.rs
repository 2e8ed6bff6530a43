//! customer-svc's OpenAPI 3 document, generated from the handlers'
//! `#[utoipa::path]`s, and served at `/api-docs/openapi.json`. It is also
//! the service's route table (`edge::openapi::served`): a route missing
//! here is not served. A new route is its handler's `#[utoipa::path(...)]`
//! and one line in `paths(...)` below.

use edge::openapi::Conventions;
use utoipa::OpenApi;

use super::{admin, customers, history, sessions};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "customer-svc",
        description = "Customers, their credit, their order history, and signing in. \
            Money is a decimal string with two places; errors are \
            `{\"error\": {\"code\", \"message\", \"details\"}}`; every answer carries `X-Request-Id`."
    ),
    paths(
        customers::list,
        customers::create,
        customers::get,
        customers::update,
        customers::delete,
        history::order_history,
        sessions::sign_in,
        admin::list,
        admin::replay_all,
        admin::replay_one,
        admin::discard_all,
        admin::discard_one,
        edge::health::healthz,
        edge::health::readyz,
        edge::health::metrics,
        edge::openapi::document,
    ),
    modifiers(&Conventions),
    tags(
        (name = "customers", description = "Customers and their order history."),
        (name = "sessions", description = "Signing in."),
        (name = "repair", description = "Dead-lettered messages: listed, replayed or discarded (admin only)."),
        (name = "operating", description = "Health, readiness, metrics and this document."),
    ),
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_valid_openapi_3_whose_every_reference_resolves() {
        let doc = ApiDoc::openapi();
        assert_eq!(edge::openapi::checks::problems(&doc), Vec::<String>::new());
        if let Ok(path) = std::env::var("DUMP_OPENAPI") {
            std::fs::write(path, doc.to_pretty_json().unwrap()).unwrap();
        }
    }
}
