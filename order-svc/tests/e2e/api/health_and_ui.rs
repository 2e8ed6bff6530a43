//! Health, readiness and metrics, and the UI's files served with the right
//! content types.

use crate::harness::*;

#[tokio::test]
async fn health_and_metrics_answer_and_the_ui_is_served_with_the_right_types() {
    let mut system = System::without_services().await;
    let ui = std::env::temp_dir().join(format!("ui-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&ui).unwrap();
    std::fs::write(ui.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    std::fs::write(ui.join("app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    system
        .start_order_svc(&[("UI_DIR", ui.to_str().unwrap())])
        .await;

    let (status, ready) = system.get(&system.order_url("/readyz")).await;
    assert_eq!(status, 200, "{ready}");
    let (status, _) = system.get(&system.order_url("/healthz")).await;
    assert_eq!(status, 200);
    let metrics = system
        .http
        .get(system.order_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");

    let page = system.http.get(system.order_url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let wasm = system
        .http
        .get(system.order_url("/app_bg.wasm"))
        .send()
        .await
        .unwrap();
    let head = system
        .http
        .head(system.order_url("/app_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200, "HEAD works on static files");
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let (status, config) = system.get(&system.order_url("/ui-config.json")).await;
    assert_eq!(status, 200);
    assert_eq!(config["customer_api"], "http://127.0.0.1:3002");
    let (status, missing) = system.get(&system.order_url("/nothing/here")).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "not_found");
    std::fs::remove_dir_all(ui).ok();
    system.stop().await;
}
