//! The codes an RPC error reply carries, and that an event handler's
//! failure is classified by. Callers act on a few of them (an invalid
//! request is never asked again; an unavailable server is), so those are
//! variants here, matched as types on both sides of the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A `snake_case` error code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ErrorCode {
    /// The payload does not fit the method or the event: permanent.
    InvalidRequest,
    /// No handler for the message's type.
    UnknownMethod,
    /// The server could not do it now (its database, shutting down).
    Unavailable,
    /// A fault of the handler itself.
    Internal,
    /// A code this contract does not name (a newer peer's, or a test's own).
    Other(String),
}

impl ErrorCode {
    /// The code as it travels.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnknownMethod => "unknown_method",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::Other(code) => code,
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "unknown_method" => Self::UnknownMethod,
            "unavailable" => Self::Unavailable,
            "internal" => Self::Internal,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> Self {
        Self::from(code.as_str())
    }
}

impl From<ErrorCode> for String {
    fn from(code: ErrorCode) -> Self {
        code.as_str().to_owned()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn named_codes_round_trip_and_others_are_kept() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::UnknownMethod,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
            ErrorCode::Other("too_big".into()),
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        assert_eq!(
            ErrorCode::from("other_code"),
            ErrorCode::Other("other_code".into())
        );
    }
}
