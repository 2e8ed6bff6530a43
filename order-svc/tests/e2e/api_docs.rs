//! The OpenAPI document and the router agree. The document is the route
//! table (`edge::openapi::served`: a route it does not list is not served,
//! tested in edge), so what is left to show is the other direction: every
//! operation it lists is served, i.e. answered by a handler rather than by
//! the router's own 404 or 405. Each is probed on the running service,
//! with an unknown id and an empty body.

use edge::openapi::checks::{concrete_path, is_the_routers_refusal, operations, problems};
use serde_json::json;
use utoipa::openapi::OpenApi;

use crate::harness::*;

#[tokio::test]
async fn every_operation_in_the_document_is_served() {
    let system = System::start().await;
    let (status, served) = send(system.http.get(system.order_url("/api-docs/openapi.json"))).await;
    assert_eq!(status, 200, "{served}");
    let doc: OpenApi = serde_json::from_value(served).expect("the served document is OpenAPI");
    assert_eq!(problems(&doc), Vec::<String>::new());

    let listed = operations(&doc);
    assert!(listed.len() >= 15, "{listed:?}");
    for (method, template) in listed {
        let path = concrete_path(&template, &uuid::Uuid::new_v4().to_string());
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("a method");
        let request = system.http.request(method.clone(), system.order_url(&path));
        let (status, body) = send(request.json(&json!({}))).await;
        assert!(
            !is_the_routers_refusal(status, &body),
            "{method} {template} is documented but not served: {status} {body}"
        );
    }
    system.stop().await;
}

#[tokio::test]
async fn what_the_document_does_not_list_is_not_served() {
    let system = System::start().await;
    let (status, body) = send(system.http.put(system.order_url("/api/v1/products"))).await;
    assert_eq!(status, 405, "{body}");
    let (status, body) = send(system.http.get(system.order_url("/api/v1/warehouses"))).await;
    assert!(is_the_routers_refusal(status, &body), "{status} {body}");
    system.stop().await;
}

#[tokio::test]
async fn the_document_can_be_browsed_at_api_docs() {
    let system = System::start().await;
    let page = system
        .http
        .get(system.order_url("/api-docs"))
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status(), 200, "redirected to /api-docs/");
    assert!(page.text().await.expect("html").contains("swagger-ui"));
    let (status, script) = send(
        system
            .http
            .get(system.order_url("/api-docs/swagger-initializer.js")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        script
            .as_str()
            .is_some_and(|js| js.contains("/api-docs/openapi.json")),
        "the page shows the service's own document: {script}"
    );
    system.stop().await;
}
