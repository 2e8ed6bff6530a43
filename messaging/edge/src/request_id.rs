//! `X-Request-Id` on every answer (the contract's "Operating it"): the
//! caller's, when it sent a usable one, else a new one, so that whoever
//! reports a problem can quote the id its logs are found by.

use std::convert::Infallible;

use warp::{
    Filter,
    http::{HeaderMap, HeaderValue},
    reply::Response,
};

/// The header's name.
pub const HEADER: &str = "x-request-id";
/// Longest id taken from a caller.
const MAX_LENGTH: usize = 200;

/// The caller's id when it is 1 to 200 visible ASCII characters; a new one
/// otherwise (absent, empty, overlong, or anything a log should not carry).
pub fn chosen(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| (1..=MAX_LENGTH).contains(&id.len()))
        .filter(|id| id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Runs `routes` and puts the request's id on its answer, whatever it is.
/// (`routes` answer everything: their rejections are recovered already.)
pub fn echoed<F>(routes: F) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    warp::header::headers_cloned()
        .map(|headers: HeaderMap| chosen(&headers))
        .and(routes)
        .map(|id: String, mut response: Response| {
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(HEADER, value);
            }
            response
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn a_usable_id_is_kept_and_anything_else_replaced() {
        assert_eq!(chosen(&with(b"checkout-42")), "checkout-42");
        for unusable in [&b""[..], b"two words", &[b'a'; 201], b"caf\xc3\xa9"] {
            let id = chosen(&with(unusable));
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
        assert!(uuid::Uuid::parse_str(&chosen(&HeaderMap::new())).is_ok());
    }
}
