//! Serves the built WASM UI (`UI_DIR`) at `/`: `index.html`, the wasm-bindgen
//! glue, the `.wasm` (as `application/wasm`) and the images; and
//! `/ui-config.json`, which tells the page where customer-svc is, so that the
//! same build runs anywhere.

use std::path::PathBuf;

use serde::Serialize;
use utoipa::ToSchema;
use warp::{Filter, Rejection, Reply, reply::Response};

/// What the page reads first.
#[derive(Serialize, ToSchema)]
pub struct UiConfig {
    /// customer-svc's base URL.
    #[schema(example = "http://127.0.0.1:3002")]
    customer_api: String,
}

/// `GET /ui-config.json`: where the page finds customer-svc.
#[utoipa::path(
    get, path = "/ui-config.json", tag = "ui",
    responses((status = 200, description = "The UI's configuration.", body = UiConfig)),
)]
pub fn config(
    customer_api_url: String,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("ui-config.json").and(warp::get()).map(move || {
        let config = UiConfig {
            customer_api: customer_api_url.clone(),
        };
        warp::reply::json(&config).into_response()
    })
}

/// The UI's files (`index.html` at `/`, the script, the `.wasm`, the
/// images): static files, outside the API document. Any path the
/// directory does not hold is left to the 404.
pub fn files(ui_dir: PathBuf) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    // A path the file system cannot even look up (a name longer than it
    // allows, a NUL, a file taken for a directory) fails to open with an
    // error warp answers with a 500; for the caller it names no file: 404.
    let file = warp::fs::dir(ui_dir)
        .or_else(|_: Rejection| async { Err::<(warp::fs::File,), _>(warp::reject::not_found()) });
    warp::get()
        .or(warp::head())
        .unify()
        .and(file)
        .map(|file: warp::fs::File| {
            warp::reply::with_header(file, "cache-control", "no-cache").into_response()
        })
}
