//! The request bodies as the OpenAPI document shows them. The handlers
//! take any JSON object and the domain parses it (`domain::checkout`,
//! `domain::product`), naming every invalid field in one 422; these types
//! only describe what those parsers accept, for the document.
#![allow(dead_code)] // read by the document only

use utoipa::ToSchema;
use uuid::Uuid;

/// A checkout: who buys (omitted, or the email omitted, when signed in)
/// and what. Prices come from the catalogue, never from the request.
#[derive(ToSchema)]
pub struct CheckoutBody {
    customer: Option<CheckoutCustomer>,
    /// 1 to 50 lines.
    #[schema(min_items = 1, max_items = 50)]
    items: Vec<CheckoutLine>,
}

/// The buyer of a checkout.
#[derive(ToSchema)]
pub struct CheckoutCustomer {
    /// The buyer's email (the signed-in customer's when a token is sent).
    #[schema(format = "email", example = "ada@example.com")]
    email: Option<String>,
    #[schema(min_length = 1, max_length = 200, example = "Ada Lovelace")]
    name: String,
}

/// One line of a checkout.
#[derive(ToSchema)]
pub struct CheckoutLine {
    /// A product on sale.
    product_id: Uuid,
    #[schema(minimum = 1, maximum = 1000)]
    quantity: u32,
}

/// A new product: every field but `description` and `image_url` is
/// required. As a change (`PATCH`), every field is optional and
/// `image_url: null` removes the image.
#[derive(ToSchema)]
pub struct ProductBody {
    #[schema(min_length = 1, max_length = 64, example = "MUG-01")]
    sku: String,
    #[schema(min_length = 1, max_length = 200, example = "Mug")]
    name: String,
    #[schema(max_length = 2000)]
    description: Option<String>,
    /// A decimal string with at most two places.
    #[schema(example = "12.50")]
    price: String,
    /// The shop's currency.
    #[schema(example = "EUR")]
    currency: String,
    #[schema(minimum = 0, maximum = 1_000_000)]
    stock: u32,
    #[schema(min_length = 1, max_length = 100, example = "Kitchen")]
    category: String,
    /// An http(s) URL, or null for none.
    image_url: Option<String>,
}

/// A change to a product: any of its fields.
#[derive(ToSchema)]
pub struct ProductChanges {
    #[schema(min_length = 1, max_length = 64)]
    sku: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    /// A decimal string with at most two places.
    price: Option<String>,
    currency: Option<String>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    stock: Option<u32>,
    #[schema(min_length = 1, max_length = 100)]
    category: Option<String>,
    /// An http(s) URL, or null to remove the image.
    image_url: Option<String>,
}
