//! What the services' tests check a document with: that it is OpenAPI 3
//! whose every `$ref` resolves, and which operations it lists (to probe
//! each on the running service).

use serde_json::Value;
use utoipa::openapi::OpenApi;
use warp::http::Method;

/// What is wrong with `doc` as an OpenAPI 3 document, in words (nothing,
/// for a good one): it must read back as OpenAPI (utoipa's model of it) at
/// version 3, every `$ref` must resolve, every `{parameter}` of a path
/// must be a documented path parameter, and every operation must have an
/// id (unique) and a success answer.
pub fn problems(doc: &OpenApi) -> Vec<String> {
    let json = match serde_json::to_value(doc) {
        Ok(json) => json,
        Err(error) => return vec![format!("does not serialise: {error}")],
    };
    let mut problems = Vec::new();
    if let Err(error) = serde_json::from_value::<OpenApi>(json.clone()) {
        problems.push(format!("does not read back as OpenAPI: {error}"));
    }
    if !json["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3."))
    {
        problems.push(format!("version {} is not OpenAPI 3", json["openapi"]));
    }
    problems.extend(
        unresolved_refs(&json)
            .into_iter()
            .map(|r| format!("$ref {r} resolves to nothing")),
    );
    let mut ids = std::collections::HashSet::new();
    for (path, item) in &doc.paths.paths {
        for (method, operation) in super::served::operations(item) {
            let at = format!("{method} {path}");
            match &operation.operation_id {
                Some(id) if !ids.insert(id.clone()) => {
                    problems.push(format!("{at}: operation id {id} used twice"))
                }
                Some(_) => {}
                None => problems.push(format!("{at}: no operation id")),
            }
            if !operation
                .responses
                .responses
                .keys()
                .any(|status| status.starts_with('2'))
            {
                problems.push(format!("{at}: no success answer"));
            }
            let documented: Vec<&str> = operation
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    utoipa::openapi::RefOr::T(p) => Some(p),
                    utoipa::openapi::RefOr::Ref(_) => None,
                })
                .filter(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path)
                .map(|p| p.name.as_str())
                .collect();
            for segment in path.split('/') {
                if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                    && !documented.contains(&name)
                {
                    problems.push(format!("{at}: path parameter {name} undocumented"));
                }
            }
        }
    }
    problems
}

/// Every local `$ref` (`#/...`) in `doc` that points at nothing.
pub fn unresolved_refs(doc: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    refs.into_iter()
        .filter(|reference| match reference.strip_prefix('#') {
            Some(pointer) => doc.pointer(pointer).is_none(),
            None => true,
        })
        .collect()
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => refs.push(reference.clone()),
                    _ => collect_refs(inner, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

/// Every operation `doc` lists: its method and path template.
pub fn operations(doc: &OpenApi) -> Vec<(Method, String)> {
    doc.paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            super::served::operations(item)
                .into_iter()
                .map(move |(method, _)| (method, path.clone()))
        })
        .collect()
}

/// `template` with every `{parameter}` replaced by `value`.
pub fn concrete_path(template: &str, value: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                value
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether an answer is the router's own "no such route" (404 `not_found`,
/// "no such endpoint") or "wrong method" (405), rather than a handler's.
pub fn is_the_routers_refusal(status: u16, body: &Value) -> bool {
    status == 405 || (status == 404 && body["error"]["message"] == crate::error::NO_SUCH_ENDPOINT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_ref_to_nothing_is_reported() {
        let doc = json!({
            "components": {"schemas": {"A": {"type": "string"}}},
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
                      "/b": {"get": {"responses": {"200": {"$ref": "#/components/responses/B"}}}}},
        });
        assert_eq!(unresolved_refs(&doc), vec!["#/components/responses/B"]);
    }

    #[test]
    fn parameters_are_filled_in() {
        assert_eq!(
            concrete_path("/api/v1/orders/{id}/cancel", "x"),
            "/api/v1/orders/x/cancel"
        );
    }
}
