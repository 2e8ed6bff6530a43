//! Serves the built WASM UI (`UI_DIR`) at `/`: `index.html`, the wasm-bindgen
//! glue, the `.wasm` (as `application/wasm`) and the images; and
//! `/ui-config.json`, which tells the page where customer-svc is, so that the
//! same build runs anywhere.

use std::path::PathBuf;

use serde_json::json;
use warp::{Filter, Rejection, Reply, reply::Response};

/// The UI's routes; any path the directory does not hold is left to the 404.
pub fn routes(
    ui_dir: PathBuf,
    customer_api_url: String,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let config = warp::path!("ui-config.json").and(warp::get()).map(move || {
        warp::reply::json(&json!({ "customer_api": customer_api_url })).into_response()
    });
    // A path the file system cannot even look up (a name longer than it
    // allows, a NUL, a file taken for a directory) fails to open with an
    // error warp answers with a 500; for the caller it names no file: 404.
    let file = warp::fs::dir(ui_dir)
        .or_else(|_: Rejection| async { Err::<(warp::fs::File,), _>(warp::reject::not_found()) });
    let files = warp::get()
        .or(warp::head())
        .unify()
        .and(file)
        .map(|file: warp::fs::File| {
            warp::reply::with_header(file, "cache-control", "no-cache").into_response()
        });
    config.or(files).unify()
}
