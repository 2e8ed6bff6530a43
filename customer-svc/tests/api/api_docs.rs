//! The OpenAPI document and the router agree. The document is the route
//! table (`edge::openapi::served`: a route it does not list is not served,
//! tested in edge), so what is left to show is the other direction: every
//! operation it lists is served, i.e. answered by a handler rather than by
//! the router's own 404 or 405. Each is probed on the running service,
//! with an unknown id and an empty body.

use edge::openapi::checks::{concrete_path, is_the_routers_refusal, operations, problems};
use serde_json::json;
use utoipa::openapi::OpenApi;

use crate::helpers::*;

#[tokio::test]
async fn every_operation_in_the_document_is_served() {
    let app = TestApp::spawn().await;
    let (status, served) = app.get("/api-docs/openapi.json").await;
    assert_eq!(status, 200, "{served}");
    let doc: OpenApi = serde_json::from_value(served).expect("the served document is OpenAPI");
    assert_eq!(problems(&doc), Vec::<String>::new());

    let listed = operations(&doc);
    assert!(listed.len() >= 11, "{listed:?}");
    for (method, template) in listed {
        let path = concrete_path(&template, &uuid::Uuid::new_v4().to_string());
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("a method");
        let (status, body) = app
            .call_as(method.clone(), &path, Some(&json!({})), None)
            .await;
        assert!(
            !is_the_routers_refusal(status, &body),
            "{method} {template} is documented but not served: {status} {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn what_the_document_does_not_list_is_not_served() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .call_as(reqwest::Method::PUT, "/api/v1/customers", None, None)
        .await;
    assert_eq!(status, 405, "{body}");
    let (status, body) = app.get("/api/v1/accounts").await;
    assert!(is_the_routers_refusal(status, &body), "{status} {body}");
    app.stop().await;
}

#[tokio::test]
async fn the_document_can_be_browsed_at_api_docs() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/api-docs/"))
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("swagger-ui"));
    let (status, script) = app.get("/api-docs/swagger-initializer.js").await;
    assert_eq!(status, 200);
    assert!(
        script
            .as_str()
            .is_some_and(|js| js.contains("/api-docs/openapi.json")),
        "the page shows the service's own document: {script}"
    );
    app.stop().await;
}
