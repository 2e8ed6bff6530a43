//! The request bodies as the OpenAPI document shows them. The handlers
//! take any JSON object and the domain parses it (`domain::requests`),
//! naming every invalid field in one 422; these types only describe what
//! those parsers accept, for the document.
#![allow(dead_code)] // read by the document only

use utoipa::ToSchema;

/// A new customer (sign-up). With a `password` it is an account that signs
/// in; `credit_limit` needs the admin token.
#[derive(ToSchema)]
pub struct NewCustomerBody {
    /// Unique, case-insensitive.
    #[schema(format = "email", example = "ada@example.com")]
    email: String,
    #[schema(min_length = 1, max_length = 200, example = "Ada Lovelace")]
    name: String,
    /// At least 12 characters; stored only as a slow salted hash.
    #[schema(min_length = 12, max_length = 1024, format = "password")]
    password: Option<String>,
    /// Admin only; a decimal string with at most two places.
    #[schema(example = "5000.00")]
    credit_limit: Option<String>,
}

/// A change to a customer: `name` and `password` by the customer
/// themselves; `status` and `credit_limit` with the admin token only.
#[derive(ToSchema)]
pub struct CustomerChangesBody {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(min_length = 12, max_length = 1024, format = "password")]
    password: Option<String>,
    /// `active` or `blocked` (admin only).
    #[schema(example = "active")]
    status: Option<String>,
    /// Admin only; a decimal string with at most two places.
    #[schema(example = "5000.00")]
    credit_limit: Option<String>,
}

/// Sign-in credentials.
#[derive(ToSchema)]
pub struct SignInBody {
    #[schema(format = "email", example = "ada@example.com")]
    email: String,
    #[schema(format = "password")]
    password: String,
}
