//! Who may do what: each route answering each caller (the admin, the owner,
//! another customer, an order's token, expired, forged or tampered tokens,
//! anonymous) as the contract says; and production refusing default secrets.

use std::time::Duration;

use edge::tokens::AccessTokens;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::PASSWORD;
use crate::helpers::*;

/// One request of an access table: method, path, body, bearer (`None`:
/// anonymous), the status expected.
type Case<'a> = (
    Method,
    String,
    Option<serde_json::Value>,
    Option<&'a str>,
    u16,
);

fn tokens() -> AccessTokens {
    AccessTokens::new(TOKEN_SECRET.as_bytes(), Duration::from_secs(3600))
}

#[tokio::test]
async fn each_route_answers_each_caller_as_the_contract_says() {
    let app = TestApp::spawn().await;
    let (me, my_token) = app.sign_up("me@example.com", PASSWORD).await;
    let (other, _) = app.sign_up("other@example.com", PASSWORD).await;
    let order_token = tokens().for_order(Uuid::new_v4()).unwrap().token;
    let expired = tokens().expired_for_customer(
        Uuid::parse_str(&me).unwrap(),
        "me@example.com",
        Duration::from_secs(60),
    );
    let forged = AccessTokens::new(b"someone else's secret", Duration::from_secs(3600))
        .for_customer(Uuid::parse_str(&me).unwrap(), "me@example.com")
        .unwrap()
        .token;
    // One character of the claims changed: the signature no longer fits.
    let at = my_token.find('.').unwrap() + 5;
    let swapped = if &my_token[at..=at] == "x" { "y" } else { "x" };
    let tampered = format!("{}{swapped}{}", &my_token[..at], &my_token[at + 1..]);

    let rename = json!({"name": "New Name"});
    // (method, path, body, caller, expected status)
    let cases: Vec<Case> = vec![
        (Method::GET, "/api/v1/customers".into(), None, None, 401),
        (
            Method::GET,
            "/api/v1/customers".into(),
            None,
            Some(&my_token),
            403,
        ),
        (
            Method::GET,
            "/api/v1/customers".into(),
            None,
            Some(ADMIN_TOKEN),
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            None,
            401,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            Some(&my_token),
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{other}"),
            None,
            Some(&my_token),
            403,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            Some(&order_token),
            403,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{other}"),
            None,
            Some(ADMIN_TOKEN),
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            Some(&expired),
            401,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            Some(&forged),
            401,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            Some(&tampered),
            401,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}"),
            None,
            Some("garbage"),
            401,
        ),
        (
            Method::PATCH,
            format!("/api/v1/customers/{me}"),
            Some(rename.clone()),
            None,
            401,
        ),
        (
            Method::PATCH,
            format!("/api/v1/customers/{me}"),
            Some(rename.clone()),
            Some(&my_token),
            200,
        ),
        (
            Method::PATCH,
            format!("/api/v1/customers/{other}"),
            Some(rename.clone()),
            Some(&my_token),
            403,
        ),
        (
            Method::PATCH,
            format!("/api/v1/customers/{other}"),
            Some(rename.clone()),
            Some(ADMIN_TOKEN),
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}/orders"),
            None,
            None,
            401,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{me}/orders"),
            None,
            Some(&my_token),
            200,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{other}/orders"),
            None,
            Some(&my_token),
            403,
        ),
        (
            Method::GET,
            format!("/api/v1/customers/{other}/orders"),
            None,
            Some(ADMIN_TOKEN),
            200,
        ),
        (
            Method::DELETE,
            format!("/api/v1/customers/{other}"),
            None,
            None,
            401,
        ),
        (
            Method::DELETE,
            format!("/api/v1/customers/{other}"),
            None,
            Some(&my_token),
            403,
        ),
        (
            Method::DELETE,
            format!("/api/v1/customers/{me}"),
            None,
            Some(&my_token),
            403,
        ),
        (
            Method::DELETE,
            format!("/api/v1/customers/{other}"),
            None,
            Some(ADMIN_TOKEN),
            204,
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, token, expected) in cases {
        let (status, answer) = app
            .call_as(method.clone(), &path, body.as_ref(), token)
            .await;
        if status != expected {
            wrong.push(format!(
                "{method} {path} as {token:?}: {status} (expected {expected}) {answer}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    app.stop().await;
}

#[test]
fn in_production_the_binary_refuses_documented_secrets_and_says_which() {
    testkit::assert_production_refuses_documented_secrets(env!("CARGO_BIN_EXE_customer-svc"));
}
