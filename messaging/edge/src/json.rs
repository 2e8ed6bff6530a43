//! Size-limited JSON bodies: malformed JSON is a 400, JSON of the wrong shape
//! a 422, more than [`BODY_LIMIT`] bytes a 413, whether the length was
//! announced (`Content-Length`) or not (`Transfer-Encoding: chunked`, counted
//! as it streams in).

use bytes::{Buf, BytesMut};
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use warp::{Filter, Rejection};

use super::error::ApiError;

pub use super::BODY_LIMIT;

/// A JSON body of at most [`BODY_LIMIT`] bytes, decoded into `T`.
pub fn body<T: DeserializeOwned + Send>() -> impl Filter<Extract = (T,), Error = Rejection> + Clone
{
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(|announced: Option<u64>, stream| async move {
            if announced.is_some_and(|length| length > BODY_LIMIT) {
                return Err(warp::reject::custom(ApiError::PayloadTooLarge));
            }
            let bytes = read_at_most(stream, BODY_LIMIT)
                .await
                .map_err(warp::reject::custom)?;
            decode(&bytes).map_err(warp::reject::custom)
        })
}

/// Reads a body, giving up with a 413 as soon as it passes `limit` bytes.
async fn read_at_most<S, B>(stream: S, limit: u64) -> Result<BytesMut, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|error| ApiError::BadRequest {
            code: "unreadable_body",
            message: format!("the body could not be read: {error}"),
        })?;
        if (body.len() + chunk.remaining()) as u64 > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            body.extend_from_slice(piece);
            let taken = piece.len();
            chunk.advance(taken);
        }
    }
    Ok(body)
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
