//! Whole requests: dressed with a caller and headers, the paths every service
//! serves besides its API, requests that wander off the routes, and every
//! route with every method.

use std::fmt;

use proptest::prelude::*;

use super::{
    Auth, Body, J, Part, Plan, any_body, auth, content_type, extra_headers, method, query,
};

/// `plan` with `auth`, `headers` added and, when it has a body, `content_type`.
pub fn dressed<S: Clone + fmt::Debug + 'static>(
    plan: impl Strategy<Value = Plan<S>>,
    tokens: Vec<S>,
) -> impl Strategy<Value = Plan<S>> {
    (plan, auth(tokens), extra_headers(), content_type()).prop_map(
        |(mut plan, auth, headers, content_type)| {
            plan.auth = auth;
            plan.headers.extend(headers);
            if !matches!(plan.body, Body::None) {
                plan.content_type = content_type;
            }
            plan
        },
    )
}

/// The paths every service serves besides its API (health, metrics, the
/// UI's, and `extra`), with hostile query strings.
pub fn misc_plan<S: Clone + fmt::Debug + 'static>(
    extra: &[&'static str],
) -> impl Strategy<Value = Plan<S>> {
    let mut paths = vec!["healthz", "readyz", "metrics"];
    paths.extend_from_slice(extra);
    paths.extend(["", "index.html", "api-docs/openapi.json"]);
    (prop::sample::select(paths), query(&["x"], &[]))
        .prop_map(|(path, query)| Plan::get(vec![Part::Lit(path)], query))
}

/// Any method on a path from `paths`, with hostile query strings and, one
/// time in three, a hostile body.
pub fn wandering_plan<S: Clone + fmt::Debug + 'static>(
    paths: impl Strategy<Value = Vec<Part<S>>>,
) -> impl Strategy<Value = Plan<S>> {
    (
        method(),
        paths,
        query(&["page", "q"], &[]),
        prop_oneof![2 => Just(Body::None), 1 => any_body()],
    )
        .prop_map(|(method, path, query, body)| Plan {
            query,
            ..Plan::call(&method, path).with_body(body)
        })
}

/// Each route with every method, as the admin and anonymous; the methods
/// that carry a body get the route's body, when it takes one.
pub fn every_method<S: Clone>(routes: &[(Vec<Part<S>>, Option<J>)]) -> Vec<Plan<S>> {
    let mut plans = Vec::new();
    for (path, body) in routes {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
            for auth in [Auth::Admin, Auth::Anonymous] {
                let body = match (method, body) {
                    ("POST" | "PUT" | "PATCH", Some(body)) => Body::Json(body.clone()),
                    _ => Body::None,
                };
                plans.push(Plan {
                    auth,
                    ..Plan::call(method, path.clone()).with_body(body)
                });
            }
        }
    }
    plans
}
