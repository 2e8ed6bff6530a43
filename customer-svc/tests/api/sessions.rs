//! Accounts, sign-in and the doors of customer-svc: who may read, change and
//! list customers, on the real service.

use std::time::Duration;

use contract::{RefusalReason, VerifyOrCreateReply};
use edge::tokens::AccessTokens;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

const PASSWORD: &str = "correct horse battery staple";

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
async fn a_password_makes_an_account_that_signs_in_and_is_never_shown() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "Account@Example.com", "name": "Ada", "password": PASSWORD}),
            false,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        !created.to_string().contains(PASSWORD) && created.get("password").is_none(),
        "{created}"
    );
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM customers WHERE id = $1")
        .bind(Uuid::parse_str(created["id"].as_str().unwrap()).unwrap())
        .fetch_one(&sqlx::PgPool::connect(&app.database_url).await.unwrap())
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains(PASSWORD));

    let (status, session) = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "account@example.com", "password": PASSWORD}),
            false,
        )
        .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["customer_id"], created["id"]);
    assert!(session["expires_at"].as_str().is_some(), "{session}");
    let token = session["access_token"].as_str().unwrap();
    let (status, me) = app
        .get_as(
            &format!("/api/v1/customers/{}", created["id"].as_str().unwrap()),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "account@example.com");

    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "short@example.com", "name": "S", "password": "too short"}),
            false,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["details"]["fields"]["password"].is_string(),
        "{body}"
    );
    assert!(!body.to_string().contains("too short"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.sign_up("known@example.com", PASSWORD).await;
    // A guest (no password) cannot sign in either.
    app.create_customer("guest@example.com", "Guest").await;
    let mut answers = Vec::new();
    for (email, password) in [
        ("known@example.com", "not the password at all"),
        ("nobody@example.com", PASSWORD),
        ("guest@example.com", PASSWORD),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/sessions",
                &json!({"email": email, "password": password}),
                false,
            )
            .await;
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, 401, "{}", answers[0].1);
    assert_eq!(answers[0].1["error"]["code"], "invalid_credentials");
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    app.stop().await;
}

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

#[tokio::test]
async fn a_password_changed_by_its_owner_is_the_one_that_signs_in() {
    let app = TestApp::spawn().await;
    let (me, token) = app.sign_up("changer@example.com", PASSWORD).await;
    let (status, body) = app
        .call_as(
            Method::PATCH,
            &format!("/api/v1/customers/{me}"),
            Some(&json!({"password": "a brand new passphrase"})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut answers = Vec::new();
    for password in [PASSWORD, "a brand new passphrase"] {
        let body = json!({"email": "changer@example.com", "password": password});
        answers.push(app.post("/api/v1/sessions", &body, false).await.0);
    }
    assert_eq!(answers, [401, 200], "the old password no longer signs in");
    app.stop().await;
}

#[tokio::test]
async fn a_guest_naming_an_accounts_email_is_refused_and_nothing_is_held() {
    let app = TestApp::spawn().await;
    let (me, _) = app.sign_up("holder@example.com", PASSWORD).await;
    let before = app.credit_available("holder@example.com").await;

    let guest = app
        .verify_or_create(Uuid::now_v7(), "holder@example.com", "Impostor", "10.00")
        .await
        .expect("answered");
    assert_eq!(
        guest,
        VerifyOrCreateReply::Refused {
            customer_id: None,
            reason: RefusalReason::SignInRequired,
        }
    );
    // Signed in as someone else: refused the same way.
    let stranger = app
        .verify_or_create_for(
            Some(Uuid::now_v7()),
            Uuid::now_v7(),
            "holder@example.com",
            "Impostor",
            "10.00",
        )
        .await
        .expect("answered");
    assert!(
        matches!(
            stranger,
            VerifyOrCreateReply::Refused {
                reason: RefusalReason::SignInRequired,
                ..
            }
        ),
        "{stranger:?}"
    );
    assert_eq!(app.credit_available("holder@example.com").await, before);

    // The owner, signed in, buys.
    let owner = app
        .verify_or_create_for(
            Some(Uuid::parse_str(&me).unwrap()),
            Uuid::now_v7(),
            "holder@example.com",
            "Holder",
            "10.00",
        )
        .await
        .expect("answered");
    assert_eq!(
        owner,
        VerifyOrCreateReply::Reserved {
            customer_id: Uuid::parse_str(&me).unwrap()
        }
    );
    app.stop().await;
}

#[test]
fn in_production_the_binary_refuses_documented_secrets_and_says_which() {
    testkit::assert_production_refuses_documented_secrets(env!("CARGO_BIN_EXE_customer-svc"));
}
