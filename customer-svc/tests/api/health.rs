//! Health, readiness, metrics, CORS, and TLS to the database.

use crate::helpers::*;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;

    let (status, body) = app.get("/healthz").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["broker"], "ok");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");

    let (status, body) = app.get("/no/such/thing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}

#[tokio::test]
async fn browsers_from_allowed_origins_only() {
    let app = TestApp::spawn().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/customers"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight("http://localhost:3001").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3001"
    );
    let refused = preflight("http://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn sslmode_in_database_url_puts_the_services_connections_on_tls() {
    // PostgreSQL must offer TLS for this (Debian's packages do, with their
    // snakeoil certificate); `sslmode=require` encrypts without verifying.
    let app = TestApp::spawn_configured(&[], |url| with_params(url, "sslmode=require")).await;
    let (status, _) = app.get("/api/v1/customers").await;
    assert_eq!(status, 200, "the service works over TLS");
    let observer = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let database = app.database_url.rsplit('/').next().unwrap().to_owned();
    let (tls, plain): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
         WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
    )
    .bind(&database)
    .fetch_one(&observer)
    .await
    .unwrap();
    assert!(tls >= 1, "the service's connections use TLS");
    assert_eq!(plain, 0, "no plain connection from the service");
    app.stop().await;
}
