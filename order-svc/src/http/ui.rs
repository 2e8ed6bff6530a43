//! Serves the built WASM UI (`UI_DIR`) at `/`: `index.html`, the wasm-bindgen
//! glue, the `.wasm` (as `application/wasm`) and the images.

use std::path::PathBuf;

use warp::{Filter, Rejection, Reply, reply::Response};

/// The UI's routes; any path the directory does not hold is left to the 404.
pub fn routes(ui_dir: PathBuf) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::get()
        .and(warp::fs::dir(ui_dir))
        .map(|file: warp::fs::File| {
            warp::reply::with_header(file, "cache-control", "no-cache").into_response()
        })
}
