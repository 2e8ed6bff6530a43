//! Sign-in attempts limited per account and per client, each forwarded
//! client behind a trusted proxy with its own allowance.

use serde_json::json;

use super::PASSWORD;
use crate::helpers::*;

#[tokio::test]
async fn repeated_failures_for_one_account_or_from_one_client_meet_a_429() {
    let app = TestApp::spawn().await;
    app.sign_up("target@example.com", PASSWORD).await;
    // One account: a burst of five attempts, then a 429 with Retry-After
    // (even for the right password: the account is cooling down).
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _) = app
            .post(
                "/api/v1/sessions",
                &json!({"email": "target@example.com", "password": "guessing the password"}),
                false,
            )
            .await;
        statuses.push(status);
    }
    let limited = app
        .http
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": "target@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    // sign_up signed in once already: that was the first of the burst.
    assert_eq!(statuses, [401, 401, 401, 401, 429], "one account's burst");
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    // One client, many accounts: twenty attempts, then 429.
    let mut last = 0;
    for n in 0..30 {
        let (status, _) = app
            .post(
                "/api/v1/sessions",
                &json!({"email": format!("spray{n}@example.com"), "password": PASSWORD}),
                false,
            )
            .await;
        last = status;
        if status == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "one client's attempts are limited too");
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let attempt = |client: &'static str, n: usize| {
        let request = app
            .http
            .post(app.url("/api/v1/sessions"))
            .header("x-forwarded-for", client)
            .json(&json!({"email": format!("p{n}-{client}@example.com"), "password": PASSWORD}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let mut first = Vec::new();
    for n in 0..21 {
        first.push(attempt("198.51.100.1", n).await);
    }
    assert_eq!(first.last(), Some(&429), "{first:?}");
    // Another client behind the same proxy is not punished for the first.
    assert_eq!(attempt("198.51.100.2", 0).await, 401);

    // A client writing its own X-Forwarded-For line, the proxy adding a
    // second: the proxy's line is believed, so faking does not escape.
    let mut lines = Vec::new();
    for n in 0..21 {
        let status = app
            .http
            .post(app.url("/api/v1/sessions"))
            .header("x-forwarded-for", format!("10.9.8.{n}"))
            .header("x-forwarded-for", "198.51.100.3")
            .json(&json!({"email": format!("fake{n}@example.com"), "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        lines.push(status);
    }
    assert_eq!(lines.last(), Some(&429), "{lines:?}");
    app.stop().await;
}
