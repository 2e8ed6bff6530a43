//! Size-limited JSON bodies: malformed JSON is a 400, JSON of the wrong shape a 422.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::json;
use warp::{Filter, Rejection};

use super::error::ApiError;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: u64 = 64 * 1024;

/// A JSON body of at most [`BODY_LIMIT`] bytes, decoded into `T`.
pub fn body<T: DeserializeOwned + Send>() -> impl Filter<Extract = (T,), Error = Rejection> + Clone
{
    warp::body::content_length_limit(BODY_LIMIT)
        .and(warp::body::bytes())
        .and_then(|bytes: Bytes| async move { decode(&bytes).map_err(warp::reject::custom) })
}

/// Decodes JSON, telling a syntax error (400) from a shape error (422).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => ApiError::Validation(json!({
            "body": error.to_string()
        })),
        _ => ApiError::BadRequest {
            code: "malformed_json",
            message: format!("the body is not valid JSON: {error}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        n: u32,
    }

    #[test]
    fn syntax_is_400_and_shape_is_422() {
        assert!(matches!(
            decode::<Shape>(b"{"),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            decode::<Shape>(br#"{"n":"x"}"#),
            Err(ApiError::Validation(_))
        ));
        assert!(decode::<Shape>(br#"{"n":1}"#).is_ok());
    }
}
