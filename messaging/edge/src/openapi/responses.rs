//! The error answers every route may give, each a component of the
//! document (`#/components/responses/...`) with the contract's error body:
//! a handler's `#[utoipa::path]` names them, e.g.
//! `(status = 401, response = edge::openapi::Unauthorized)`.

use utoipa::{
    ToResponse,
    openapi::{
        Content, Ref, RefOr,
        header::Header,
        response::{Response, ResponseBuilder},
        schema::{ObjectBuilder, Type},
    },
};

/// A response component named `$name`, the error body with `$description`.
macro_rules! error_answer {
    ($(#[$doc:meta] $name:ident = $description:literal $(, $header:literal = $header_description:literal)?;)+) => {$(
        #[$doc]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                #[allow(unused_mut)]
                let mut response = error_body($description);
                $(response = response.header($header, text_header($header_description));)?
                (stringify!($name), RefOr::T(response.build()))
            }
        }
    )+

        /// Every answer above, named as the document's components.
        pub(super) fn all() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as ToResponse>::response()),+]
        }
    };
}

error_answer! {
    /// 400: a malformed request (bad JSON, a malformed id or query string).
    BadRequest = "Malformed request: the body is not JSON, an id is not a UUID, or the query string or a header is malformed.";
    /// 401: a token is needed, or the one given is not valid.
    Unauthorized = "A token is needed here, or the one given is not valid (forged, expired, malformed).",
        "www-authenticate" = "`Bearer`.";
    /// 403: the caller's token does not allow this.
    Forbidden = "The token given does not allow this (it needs the admin token, or is another customer's).";
    /// 404: nothing with that id (or nothing the caller may know of).
    NotFound = "Nothing with that id (or nothing the caller's token may see).";
    /// 409: conflicts with the current state.
    Conflict = "Conflicts with the current state (e.g. taken, not in a state that allows it).";
    /// 413: the body is too large.
    PayloadTooLarge = "The body is larger than 64 KiB.";
    /// 422: well formed but invalid.
    Unprocessable = "Well formed but invalid: `details.fields` names each field and what is wrong with it (code `validation_failed`), or the request as a whole is refused with its own code.";
    /// 429: too many requests from this client.
    TooManyRequests = "Too many requests from this client; `details.retry_after_seconds` and `Retry-After` say when to try again.",
        "retry-after" = "Seconds to wait before trying again.";
    /// 503: something the service needs (its database, the broker) is briefly unavailable.
    Unavailable = "Something the service needs (its database, the broker) is briefly unavailable (code `unavailable`); try again after `Retry-After` seconds.",
        "retry-after" = "Seconds to wait before trying again.";
}

/// A reference to the response component `R`.
pub(super) fn reference<R: for<'r> ToResponse<'r>>() -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(R::response().0))
}

fn error_body(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    )
}

fn text_header(description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::String));
    header.description = Some(description.to_owned());
    header
}
