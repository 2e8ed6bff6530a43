//! The doors of order-svc with the real customer-svc: every route against
//! anonymous callers, another customer's token, the right token and the
//! admin; checkouts placed for the customer signed in; a guest refused an
//! account's email with `sign_in_required`.

use std::time::Duration;

use edge::tokens::AccessTokens;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::*;

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
    let system = System::start().await;
    let mug = system.product("5.00", 100).await;
    let (me, my_token) = system.sign_up("me@example.com").await;
    let (other, other_token) = system.sign_up("other@example.com").await;

    // Checkouts: signed in (placed for that customer) and as a guest; each
    // answer carries a token for its order.
    let (status, mine) = system
        .checkout_as(Some(&my_token), "me@example.com", &[(&mug, 1)])
        .await;
    assert_eq!(status, 201, "{mine}");
    assert_eq!(mine["status"], "confirmed", "{mine}");
    assert_eq!(mine["customer_id"], me.as_str());
    let (_, second) = system
        .checkout_as(Some(&my_token), "me@example.com", &[(&mug, 1)])
        .await;
    let (_, theirs) = system
        .checkout_as(Some(&other_token), "other@example.com", &[(&mug, 1)])
        .await;
    let (status, guest) = system.checkout("guest@example.com", &[(&mug, 1)]).await;
    assert_eq!(status, 201, "{guest}");
    let id = |order: &Value| order["id"].as_str().expect("id").to_owned();
    let token = |order: &Value| order["access_token"].as_str().expect("token").to_owned();
    let (my_order, my_order_token) = (id(&mine), token(&mine));
    let (their_order, guest_order, guest_token) = (id(&theirs), id(&guest), token(&guest));
    let second_order = id(&second);
    let (status, body) = system
        .checkout_as(Some(&my_token), "someone.else@example.com", &[(&mug, 1)])
        .await;
    assert_eq!(
        status, 422,
        "a signed-in checkout is for its customer: {body}"
    );

    let expired = tokens().expired_for_customer(
        Uuid::parse_str(&me).unwrap(),
        "me@example.com",
        Duration::from_secs(60),
    );
    let forged = AccessTokens::new(b"not the services' secret", Duration::from_secs(60))
        .for_customer(Uuid::parse_str(&me).unwrap(), "me@example.com")
        .unwrap()
        .token;

    let product = json!({"sku": "ACCESS-1", "name": "Door", "price": "1.00", "currency": "EUR",
                         "stock": 1, "category": "Test"});
    let rename = json!({"name": "Renamed"});
    let orders = |query: &str| format!("/api/v1/orders{query}");
    let order = |id: &str| format!("/api/v1/orders/{id}");
    let cancel = |id: &str| format!("/api/v1/orders/{id}/cancel");
    let admin = Some(ADMIN_TOKEN);
    let anyone = None;
    // (method, path, body, caller, expected status), in an order where the
    // writes do not disturb the reads after them.
    let cases: Vec<Case> = vec![
        (Method::GET, "/api/v1/products".into(), None, anyone, 200),
        (
            Method::GET,
            format!("/api/v1/products/{mug}"),
            None,
            anyone,
            200,
        ),
        (Method::GET, "/api/v1/categories".into(), None, anyone, 200),
        (
            Method::POST,
            "/api/v1/products".into(),
            Some(product.clone()),
            anyone,
            401,
        ),
        (
            Method::POST,
            "/api/v1/products".into(),
            Some(product.clone()),
            Some(&my_token),
            403,
        ),
        (
            Method::POST,
            "/api/v1/products".into(),
            Some(product.clone()),
            admin,
            201,
        ),
        (
            Method::PATCH,
            format!("/api/v1/products/{mug}"),
            Some(rename.clone()),
            anyone,
            401,
        ),
        (
            Method::PATCH,
            format!("/api/v1/products/{mug}"),
            Some(rename.clone()),
            Some(&my_token),
            403,
        ),
        (
            Method::PATCH,
            format!("/api/v1/products/{mug}"),
            Some(rename.clone()),
            admin,
            200,
        ),
        (Method::GET, orders(""), None, anyone, 401),
        (Method::GET, orders(""), None, Some(&my_token), 200),
        (
            Method::GET,
            orders(&format!("?customer_id={me}")),
            None,
            Some(&my_token),
            200,
        ),
        (
            Method::GET,
            orders(&format!("?customer_id={other}")),
            None,
            Some(&my_token),
            403,
        ),
        (Method::GET, orders(""), None, Some(&guest_token), 403),
        (Method::GET, orders(""), None, admin, 200),
        (Method::GET, order(&my_order), None, anyone, 401),
        (Method::GET, order(&my_order), None, Some(&my_token), 200),
        (
            Method::GET,
            order(&my_order),
            None,
            Some(&my_order_token),
            200,
        ),
        (Method::GET, order(&my_order), None, Some(&other_token), 404),
        (Method::GET, order(&my_order), None, Some(&guest_token), 404),
        (Method::GET, order(&my_order), None, admin, 200),
        (Method::GET, order(&my_order), None, Some(&expired), 401),
        (Method::GET, order(&my_order), None, Some(&forged), 401),
        (
            Method::GET,
            order(&my_order),
            None,
            Some("Bearer-less-garbage"),
            401,
        ),
        (
            Method::GET,
            order(&guest_order),
            None,
            Some(&guest_token),
            200,
        ),
        (Method::GET, order(&guest_order), None, Some(&my_token), 404),
        (
            Method::GET,
            order(&second_order),
            None,
            Some(&my_order_token),
            404,
        ),
        (Method::POST, cancel(&their_order), None, anyone, 401),
        (
            Method::POST,
            cancel(&their_order),
            None,
            Some(&my_token),
            404,
        ),
        (
            Method::POST,
            cancel(&their_order),
            None,
            Some(&guest_token),
            404,
        ),
        (
            Method::POST,
            cancel(&my_order),
            None,
            Some(&my_order_token),
            200,
        ),
        (
            Method::POST,
            cancel(&second_order),
            None,
            Some(&my_token),
            200,
        ),
        (
            Method::POST,
            cancel(&guest_order),
            None,
            Some(&guest_token),
            200,
        ),
        (Method::POST, cancel(&their_order), None, admin, 200),
        (
            Method::DELETE,
            format!("/api/v1/products/{mug}"),
            None,
            anyone,
            401,
        ),
        (
            Method::DELETE,
            format!("/api/v1/products/{mug}"),
            None,
            Some(&my_token),
            403,
        ),
        (
            Method::DELETE,
            format!("/api/v1/products/{mug}"),
            None,
            admin,
            204,
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, caller, expected) in cases {
        let (status, answer) = system
            .call_as(
                method.clone(),
                &system.order_url(&path),
                body.as_ref(),
                caller,
            )
            .await;
        if status != expected {
            wrong.push(format!(
                "{method} {path} as {caller:?}: {status} (expected {expected}) {answer}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // A customer's list holds their own orders only.
    let (_, listed) = system
        .get_as(&system.order_url("/api/v1/orders"), Some(&my_token))
        .await;
    let owners: Vec<&Value> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| &o["customer_id"])
        .collect();
    assert_eq!(owners.len(), 2, "{listed}");
    assert!(owners.iter().all(|owner| *owner == me.as_str()), "{listed}");
    system.stop().await;
}

#[tokio::test]
async fn a_guest_naming_an_accounts_email_is_rejected_with_sign_in_required() {
    let system = System::start().await;
    let mug = system.product("20.00", 10).await;
    let (holder, token) = system.sign_up("holder@example.com").await;
    let credit = |customer: Value| customer["credit_available"].clone();
    let before = credit(system.customer("holder@example.com").await.expect("holder"));

    let (status, refused) = system.checkout("holder@example.com", &[(&mug, 1)]).await;

    assert_eq!(status, 201, "{refused}");
    assert_eq!(refused["status"], "rejected");
    assert_eq!(refused["reason"], "sign_in_required");
    assert_eq!(
        refused["customer_id"],
        Value::Null,
        "the account is not named"
    );
    assert_eq!(system.stock_of(&mug).await, 10, "no stock taken");
    assert_eq!(
        credit(system.customer("holder@example.com").await.expect("holder")),
        before,
        "no credit held"
    );

    let (status, placed) = system
        .checkout_as(Some(&token), "holder@example.com", &[(&mug, 1)])
        .await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["status"], "confirmed", "{placed}");
    assert_eq!(placed["customer_id"], holder.as_str());
    system.stop().await;
}

#[test]
fn in_production_the_binary_refuses_documented_secrets_and_says_which() {
    testkit::assert_production_refuses_documented_secrets(env!("CARGO_BIN_EXE_order-svc"));
}
