//! The browsable page at `/api-docs/`: Swagger UI showing the service's own
//! document. Its files come from a registry package (the crate
//! `utoipa-swagger-ui-vendored`, through `utoipa-swagger-ui`'s `vendored`
//! feature) and are compiled in: nothing is downloaded at build or run
//! time, and the page loads nothing from elsewhere. Static files, like the
//! UI's, so outside the document.

use std::sync::Arc;

use utoipa_swagger_ui::{Config, serve};
use warp::{
    Filter, Rejection, Reply,
    http::{StatusCode, Uri, header},
    path::{FullPath, Tail},
    reply::Response,
};

use crate::error::ApiError;

/// `GET /api-docs/` and its files; `/api-docs` itself redirects there, so
/// that the page's relative links resolve.
pub fn page() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let config = Arc::new(Config::from("/api-docs/openapi.json"));
    warp::path("api-docs")
        .and(warp::get())
        .and(warp::path::full())
        .and(warp::path::tail())
        .and_then(move |full: FullPath, tail: Tail| {
            let config = config.clone();
            async move {
                if full.as_str() == "/api-docs" {
                    return Ok(
                        warp::redirect::see_other(Uri::from_static("/api-docs/")).into_response()
                    );
                }
                match serve(tail.as_str(), config) {
                    Ok(Some(file)) => {
                        let mut response = Response::new(file.bytes.into_owned().into());
                        if let Ok(content_type) = header::HeaderValue::from_str(&file.content_type)
                        {
                            response
                                .headers_mut()
                                .insert(header::CONTENT_TYPE, content_type);
                        }
                        if file.gzpipped {
                            response.headers_mut().insert(
                                header::CONTENT_ENCODING,
                                header::HeaderValue::from_static("gzip"),
                            );
                        }
                        *response.status_mut() = StatusCode::OK;
                        Ok(response)
                    }
                    Ok(None) => Err(warp::reject::not_found()),
                    Err(error) => Err(warp::reject::custom(ApiError::internal(error))),
                }
            }
        })
}
