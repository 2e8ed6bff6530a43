//! Who is calling: the admin (a valid bearer token) or anyone.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use warp::{Filter, Rejection};

use super::error::ApiError;

/// Who is calling, from the `Authorization` header, against `admin_token`.
pub fn caller(
    admin_token: Arc<str>,
) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization").and_then(move |header: Option<String>| {
        let token = admin_token.clone();
        async move { Caller::from_header(header.as_deref(), &token).map_err(warp::reject::custom) }
    })
}

/// The caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Presented the admin token.
    Admin,
    /// Presented no token.
    Anonymous,
}

impl Caller {
    /// Reads `Authorization`: no header is anonymous; a header with the wrong
    /// token is a 401 (a mistyped token should not silently act as anonymous).
    pub fn from_header(header: Option<&str>, admin_token: &str) -> Result<Self, ApiError> {
        let Some(header) = header else {
            return Ok(Caller::Anonymous);
        };
        let presented = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        if !presented.is_empty() && bool::from(presented.as_bytes().ct_eq(admin_token.as_bytes())) {
            Ok(Caller::Admin)
        } else {
            Err(ApiError::Unauthorized)
        }
    }

    /// A 401 unless the caller is the admin.
    pub fn require_admin(self) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Anonymous => Err(ApiError::Unauthorized),
        }
    }

    /// A 403 naming `what` unless the caller is the admin.
    pub fn require_admin_for(self, what: &str) -> Result<(), ApiError> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Anonymous => Err(ApiError::Forbidden(format!(
                "{what} can only be set with the admin token"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_must_match_exactly() {
        assert_eq!(Caller::from_header(None, "t").unwrap(), Caller::Anonymous);
        assert_eq!(
            Caller::from_header(Some("Bearer t"), "t").unwrap(),
            Caller::Admin
        );
        assert!(Caller::from_header(Some("Bearer x"), "t").is_err());
        assert!(Caller::from_header(Some("t"), "t").is_err());
        assert!(Caller::from_header(Some("Bearer "), "").is_err());
    }
}
