//! order-svc's OpenAPI 3 document, generated from the handlers'
//! `#[utoipa::path]`s, and served at `/api-docs/openapi.json`. It is also
//! the service's route table (`edge::openapi::served`): a route missing
//! here is not served. A new route is its handler's `#[utoipa::path(...)]`
//! and one line in `paths(...)` below.

use edge::openapi::Conventions;
use utoipa::OpenApi;

use super::{admin, orders, products, ui};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "order-svc",
        description = "Catalogue, stock and orders; runs the checkout saga. \
            Money is a decimal string with two places; errors are \
            `{\"error\": {\"code\", \"message\", \"details\"}}`; every answer carries `X-Request-Id`."
    ),
    paths(
        products::list,
        products::categories,
        products::create,
        products::get,
        products::update,
        products::retire,
        orders::checkout,
        orders::list,
        orders::get,
        orders::cancel,
        admin::stuck,
        admin::resume,
        admin::compensate,
        ui::config,
        edge::health::healthz,
        edge::health::readyz,
        edge::health::metrics,
        edge::openapi::document,
    ),
    modifiers(&Conventions),
    tags(
        (name = "catalogue", description = "Products and categories: anyone reads, the admin writes."),
        (name = "orders", description = "Checkout and orders."),
        (name = "repair", description = "The operator's repairs of stuck sagas (admin only)."),
        (name = "operating", description = "Health, readiness, metrics and this document."),
        (name = "ui", description = "What the browser UI reads."),
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
