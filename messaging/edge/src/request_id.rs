//! The request id (the contract's "Operating it"): chosen once per request,
//! carried by the request's `http` span, echoed as `X-Request-Id` on every
//! answer, and handed to the handlers ([`current`]) so that the work the
//! request causes (a checkout's saga, its messages) carries it too. Whoever
//! reports a problem quotes the id; the logs of both services are found by it.
//!
//! Chosen as: the caller's `X-Request-Id` when usable; else the trace-id of
//! a valid W3C `traceparent`; else a new UUID.

use std::convert::Infallible;

use tracing::Span;
use tracing_subscriber::{Registry, registry::LookupSpan};
use warp::{
    Filter,
    http::{HeaderMap, HeaderValue},
    reply::Response,
};

/// The header's name.
pub const HEADER: &str = "x-request-id";
/// The W3C Trace Context header whose trace-id is the id when the caller
/// sent no usable `X-Request-Id`.
pub const TRACEPARENT: &str = "traceparent";
/// Longest id taken from a caller.
const MAX_LENGTH: usize = 200;

/// The id as the request's span keeps it (a span extension), for the
/// filters and handlers that run inside the span.
#[derive(Debug, Clone)]
struct Chosen(String);

/// The id for a request with `headers`: the caller's `X-Request-Id` when it
/// is 1 to 200 visible ASCII characters; else the trace-id of a valid
/// `traceparent`; else a new UUID.
pub fn chosen(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| (1..=MAX_LENGTH).contains(&id.len()))
        .filter(|id| id.bytes().all(|b| b.is_ascii_graphic()))
        .or_else(|| {
            headers
                .get(TRACEPARENT)
                .and_then(|value| value.to_str().ok())
                .and_then(trace_id)
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The trace-id of a `traceparent` of version `00`
/// (`00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, lowercase,
/// neither id all zeros); `None` for anything else.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zeros = |part: &str| part.bytes().all(|b| b == b'0');
    let valid = parts.next().is_none()
        && version == "00"
        && hex(trace, 32)
        && !zeros(trace)
        && hex(parent, 16)
        && !zeros(parent)
        && hex(flags, 2);
    valid.then_some(trace)
}

/// The request's `http` span, carrying its id as `request_id` (and keeping
/// it for [`current`]). `warp::trace` makes it, so that everything the
/// request runs, the access line included, is inside it. It is an
/// error-level span so that no log level leaves it out: the id echoed, the
/// id in the logs and the id the saga keeps are then one and the same.
pub fn span(info: warp::trace::Info<'_>) -> Span {
    let id = chosen(info.request_headers());
    let span = tracing::error_span!("http", request_id = %id);
    span.with_subscriber(|(span_id, dispatch)| {
        if let Some(span) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(span_id))
        {
            span.extensions_mut().replace(Chosen(id));
        }
    });
    span
}

/// The id of the request being served: the one its span carries, the one
/// echoed. (Only a `RUST_LOG` that turns `edge` off altogether leaves the
/// span out; the id is then chosen here again from the headers: the same
/// one unless it is new.)
pub fn current() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::header::headers_cloned()
        .map(|headers: HeaderMap| from_span().unwrap_or_else(|| chosen(&headers)))
}

fn from_span() -> Option<String> {
    Span::current()
        .with_subscriber(|(span_id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(span_id)?;
            span.scope()
                .find_map(|span| span.extensions().get::<Chosen>().map(|c| c.0.clone()))
        })
        .flatten()
}

/// Runs `routes` and puts the request's id on its answer, whatever it is.
/// (`routes` answer everything: their rejections are recovered already.)
pub fn echoed<F>(routes: F) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    current()
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

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn with(name: &'static str, value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn a_usable_id_is_kept_and_anything_else_replaced() {
        assert_eq!(chosen(&with(HEADER, b"checkout-42")), "checkout-42");
        for unusable in [&b""[..], b"two words", &[b'a'; 201], b"caf\xc3\xa9"] {
            let id = chosen(&with(HEADER, unusable));
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
        assert!(uuid::Uuid::parse_str(&chosen(&HeaderMap::new())).is_ok());
    }

    #[test]
    fn a_valid_traceparent_gives_its_trace_id() {
        assert_eq!(
            trace_id(&format!("00-{TRACE}-00f067aa0ba902b7-01")),
            Some(TRACE)
        );
        assert_eq!(
            trace_id(&format!("00-{TRACE}-00f067aa0ba902b7-00")),
            Some(TRACE)
        );
    }

    #[test]
    fn an_invalid_traceparent_gives_nothing() {
        for invalid in [
            String::new(),
            "00".to_owned(),
            format!("01-{TRACE}-00f067aa0ba902b7-01"),
            format!("ff-{TRACE}-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", TRACE.to_uppercase()),
            format!("00-{}-00f067aa0ba902b7-01", &TRACE[1..]),
            format!("00-{TRACE}0-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            format!("00-{TRACE}-{}-01", "0".repeat(16)),
            format!("00-{TRACE}-00f067aa0ba902b-01"),
            format!("00-{TRACE}-00f067aa0ba902bz-01"),
            format!("00-{TRACE}-00f067aa0ba902b7-1"),
            format!("00-{TRACE}-00f067aa0ba902b7-0g"),
            format!("00-{TRACE}-00f067aa0ba902b7-01-extra"),
            format!("00_{TRACE}_00f067aa0ba902b7_01"),
            format!("00-{}-00f067aa0ba902b7-01", "g".repeat(32)),
        ] {
            assert_eq!(trace_id(&invalid), None, "{invalid}");
        }
    }

    #[test]
    fn the_callers_id_comes_before_the_traceparent_and_that_before_a_new_one() {
        let mut headers = with(
            TRACEPARENT,
            format!("00-{TRACE}-00f067aa0ba902b7-01").as_bytes(),
        );
        assert_eq!(chosen(&headers), TRACE);
        headers.insert(HEADER, HeaderValue::from_static("checkout-42"));
        assert_eq!(chosen(&headers), "checkout-42");
        headers.insert(HEADER, HeaderValue::from_static("two words"));
        assert_eq!(chosen(&headers), TRACE, "an unusable id falls to the trace");
        let broken = with(TRACEPARENT, b"00-nonsense");
        assert!(uuid::Uuid::parse_str(&chosen(&broken)).is_ok());
    }

    #[tokio::test]
    async fn the_id_a_handler_gets_is_the_one_echoed_and_in_the_span() {
        let log = testkit::logs::JsonLog::new();
        let _guard =
            tracing::subscriber::set_default(crate::telemetry::json_subscriber(log.writer()));
        let handler = current().map(|id: String| {
            tracing::info!("handled");
            warp::reply::Reply::into_response(id)
        });
        let routes = echoed(handler).with(warp::trace(span));

        let response = warp::test::request().reply(&routes).await;

        let echoed = response.headers()[HEADER].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "{echoed}");
        assert_eq!(response.body(), echoed.as_bytes(), "the handler's id");
        let handled: Vec<_> = log
            .carrying(&echoed)
            .into_iter()
            .filter(|line| line["message"] == "handled")
            .collect();
        assert_eq!(handled.len(), 1, "{:?}", log.lines());
    }
}
