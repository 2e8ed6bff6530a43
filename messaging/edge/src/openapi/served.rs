//! The document as the route table: [`documented_only`] lets through only
//! the requests whose method and path the document lists, so that a route
//! added to a service without its `#[utoipa::path]` in the document is
//! never served (its own tests fail with a 404), and the document cannot
//! list less than the service serves. The other direction (every listed
//! operation is served) is each service's probing test.

use std::sync::Arc;

use utoipa::openapi::{
    OpenApi,
    path::{Operation, PathItem},
};
use warp::{Filter, Rejection, http::Method, path::FullPath};

use crate::error::ApiError;

/// Every operation of a path item, with its method.
pub fn operations(item: &PathItem) -> Vec<(Method, &Operation)> {
    [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::PATCH, &item.patch),
        (Method::HEAD, &item.head),
        (Method::OPTIONS, &item.options),
        (Method::TRACE, &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation.as_ref()?)))
    .collect()
}

/// Every operation of a path item, to change.
pub(super) fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// One documented path: its segments (`None` for a `{parameter}`) and the
/// methods it answers.
struct Documented {
    segments: Vec<Option<String>>,
    methods: Vec<Method>,
}

impl Documented {
    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(documented, given)| {
                    documented
                        .as_deref()
                        .is_none_or(|literal| literal == *given)
                })
    }
}

/// The segments of a path (empty ones dropped: the routes themselves decide
/// about doubled or trailing slashes).
fn segments(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .collect()
}

/// Passes a request whose path and method `doc` lists. Any other path is
/// not found (left to the routes after, such as the UI's files); a listed
/// path with a method it does not list is a 405.
pub fn documented_only(
    doc: &OpenApi,
) -> impl Filter<Extract = (), Error = Rejection> + Clone + use<> {
    let table: Arc<Vec<Documented>> = Arc::new(
        doc.paths
            .paths
            .iter()
            .map(|(path, item)| Documented {
                segments: segments(path)
                    .into_iter()
                    .map(|segment| (!segment.starts_with('{')).then(|| segment.to_owned()))
                    .collect(),
                methods: operations(item)
                    .into_iter()
                    .map(|(method, _)| method)
                    .collect(),
            })
            .collect(),
    );
    warp::method()
        .and(warp::path::full())
        .and_then(move |method: Method, path: FullPath| {
            let table = table.clone();
            async move {
                let given = segments(path.as_str());
                let mut listed = table
                    .iter()
                    .filter(|route| route.matches(&given))
                    .peekable();
                if listed.peek().is_none() {
                    return Err(warp::reject::not_found());
                }
                if listed.any(|route| route.methods.contains(&method)) {
                    Ok(())
                } else {
                    Err(warp::reject::custom(ApiError::MethodNotAllowed))
                }
            }
        })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::{
        HttpMethod, OpenApiBuilder, PathsBuilder,
        path::{OperationBuilder, PathItem},
    };
    use warp::{Filter, Reply};

    use super::documented_only;

    #[tokio::test]
    async fn a_route_the_document_does_not_list_is_not_served() {
        let doc = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path(
                "/things/{id}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            ))
            .build();
        let thing = warp::path!("things" / String).map(|id: String| id.into_response());
        let hidden = warp::path!("hidden").map(|| "hidden".into_response());
        let routes = documented_only(&doc)
            .and(thing.or(hidden).unify())
            .recover(crate::error::recover);
        let answer = |method: &str, path: &str| {
            warp::test::request()
                .method(method)
                .path(path)
                .reply(&routes)
        };

        assert_eq!(answer("GET", "/things/7").await.status(), 200);
        let hidden = answer("GET", "/hidden").await;
        assert_eq!(hidden.status(), 404, "served although not documented");
        assert_eq!(answer("DELETE", "/things/7").await.status(), 405);
        assert_eq!(answer("GET", "/things").await.status(), 404);
    }
}
