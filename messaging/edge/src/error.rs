//! The one JSON error shape, and the one place where every rejection becomes it:
//! `{"error": {"code", "message", "details"}}`. Causes of 5xx are logged, never sent.

use std::convert::Infallible;

use serde_json::{Value, json};
use tracing::{error, warn};

use crate::openapi::{ErrorBody, ErrorDetail};
use warp::{
    Rejection, Reply,
    http::{StatusCode, header},
    reject::Reject,
    reply::Response,
};

/// The message of the 503 while the service's database is not there.
pub const DATABASE_UNAVAILABLE: &str = "the database is unavailable; try again shortly";
/// What a 503's `Retry-After` says, in seconds: soon enough that a client
/// that honours it barely notices a brief outage.
pub const RETRY_UNAVAILABLE_AFTER_SECONDS: u64 = 2;

/// The message of the 404 for a path no route serves.
pub const NO_SUCH_ENDPOINT: &str = "no such endpoint";
const METHOD_NOT_ALLOWED: &str = "this method is not allowed here";

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, bad id).
    BadRequest {
        /// Code.
        code: &'static str,
        /// Sentence.
        message: String,
    },
    /// 401: a token is needed, or the one given is not valid (forged, expired, mangled).
    Unauthorized,
    /// 401 with its own code: credentials that do not sign in.
    Unauthenticated {
        /// Code.
        code: &'static str,
        /// Sentence.
        message: String,
    },
    /// 403: the caller's token does not allow this.
    Forbidden(String),
    /// 404: nothing here.
    NotFound(&'static str),
    /// 409: conflicts with the current state.
    Conflict {
        /// Code.
        code: &'static str,
        /// Sentence.
        message: String,
    },
    /// 405: the path exists, but not with this method.
    MethodNotAllowed,
    /// 413: the body is larger than [`super::BODY_LIMIT`].
    PayloadTooLarge,
    /// 422: well formed but invalid; `details.fields` says what and why.
    Validation(Value),
    /// 422 with its own code, for a request that is invalid as a whole.
    Unprocessable {
        /// Code.
        code: &'static str,
        /// Sentence.
        message: String,
    },
    /// 429: this client sent too many requests; try again after the delay.
    RateLimited {
        /// When the next request will be accepted.
        retry_after: std::time::Duration,
    },
    /// 503 with `Retry-After`: something it needs (its database, the broker)
    /// is briefly unavailable.
    Unavailable(String),
    /// 500: our fault; the cause is logged.
    Internal(String),
}

impl Reject for ApiError {}

/// Lets a warp handler (whose error is a `Rejection`) use `?` on the
/// service's own errors: for each type named, `From<ThatError> for
/// Rejection` carries the error through its one `From<ThatError> for
/// ApiError` into the rejection [`recover`] answers. Plumbing, not a mapping.
#[macro_export]
macro_rules! rejected_as_api_error {
    ($($error:ty),+ $(,)?) => {$(
        impl From<$error> for $crate::warp_rejection::Rejection {
            fn from(error: $error) -> Self {
                $crate::warp_rejection::custom($crate::error::ApiError::from(error))
            }
        }
    )+};
}

impl ApiError {
    /// A stored amount as money. One that is not (negative, more than two
    /// places) is a broken row: a 500 that is logged, never shown as zero.
    pub fn stored_money(amount: rust_decimal::Decimal) -> Result<contract::Money, Self> {
        contract::Money::new(amount)
            .map_err(|e| Self::internal(format!("stored amount {amount}: {}", e.0)))
    }

    /// A 422 for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(json!({ field: message.into() }))
    }

    /// A 500 whose cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Value) {
        match self {
            ApiError::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, code, message.clone(), json!({}))
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid token is required (Authorization: Bearer <token>)".into(),
                json!({}),
            ),
            ApiError::Unauthenticated { code, message } => {
                (StatusCode::UNAUTHORIZED, code, message.clone(), json!({}))
            }
            ApiError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                message.clone(),
                json!({}),
            ),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
                json!({}),
            ),
            ApiError::Conflict { code, message } => {
                (StatusCode::CONFLICT, code, message.clone(), json!({}))
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                METHOD_NOT_ALLOWED.to_owned(),
                json!({}),
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body must be at most {} bytes", super::BODY_LIMIT),
                json!({}),
            ),
            ApiError::Validation(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "the request is not valid".into(),
                json!({ "fields": fields }),
            ),
            ApiError::Unprocessable { code, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message.clone(),
                json!({}),
            ),
            ApiError::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests from this client; try again in {} s",
                    retry_after.as_secs().max(1)
                ),
                json!({ "retry_after_seconds": retry_after.as_secs().max(1) }),
            ),
            ApiError::Unavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                message.clone(),
                json!({}),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on our side".into(),
                json!({}),
            ),
        }
    }

    /// The response for this error.
    pub fn response(&self) -> Response {
        if let ApiError::Internal(cause) = self {
            error!(%cause, "request failed");
        }
        let (status, code, message, details) = self.parts();
        let mut response = error_response(status, code, message, details);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        let retry_after = match self {
            ApiError::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
            ApiError::Unavailable(_) => Some(RETRY_UNAVAILABLE_AFTER_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// A database that is not there now (`crate::database::Fault::Unavailable`:
/// unreachable, restarting, closed for maintenance, out of connections,
/// read-only after a failover) is a 503 with `Retry-After`; anything else
/// that reaches here is a 500 whose cause is logged (the violations a use
/// case expects are its 4xx answers before they get here).
impl From<sqlx::Error> for ApiError {
    fn from(cause: sqlx::Error) -> Self {
        match crate::database::fault(&cause) {
            crate::database::Fault::Unavailable => {
                warn!(%cause, "database unavailable");
                ApiError::Unavailable(DATABASE_UNAVAILABLE.into())
            }
            crate::database::Fault::Input | crate::database::Fault::Unknown => {
                ApiError::internal(cause)
            }
        }
    }
}

/// Turns every rejection into the JSON error shape.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    if let Some(error) = rejection.find::<ApiError>() {
        return Ok(error.response());
    }
    // `find` searches every branch a request was tried against, so the
    // specific rejections come first and "wrong method" / "no route" last.
    let (status, code, message) = if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body must be at most {} bytes", super::BODY_LIMIT),
        )
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "a Content-Length header is required".to_owned(),
        )
    } else if rejection
        .find::<warp::reject::UnsupportedMediaType>()
        .is_some()
    {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json".to_owned(),
        )
    } else if let Some(cors) = rejection.find::<warp::cors::CorsForbidden>() {
        (StatusCode::FORBIDDEN, "cors_forbidden", cors.to_string())
    } else if rejection.find::<warp::reject::InvalidQuery>().is_some() {
        (
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "the query string is malformed".to_owned(),
        )
    } else if let Some(header) = rejection.find::<warp::reject::InvalidHeader>() {
        (
            StatusCode::BAD_REQUEST,
            "invalid_header",
            header.to_string(),
        )
    } else if let Some(header) = rejection.find::<warp::reject::MissingHeader>() {
        (
            StatusCode::BAD_REQUEST,
            "missing_header",
            header.to_string(),
        )
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            METHOD_NOT_ALLOWED.to_owned(),
        )
    } else if rejection.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            "not_found",
            NO_SUCH_ENDPOINT.to_owned(),
        )
    } else {
        error!(?rejection, "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side".to_owned(),
        )
    };
    Ok(error_response(status, code, message, json!({})))
}

/// The contract's error body (as the OpenAPI document describes it) with `status`.
fn error_response(status: StatusCode, code: &str, message: String, details: Value) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
            details,
        },
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}
