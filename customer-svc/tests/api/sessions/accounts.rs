//! Accounts: a password stored only as a hash, sign-in with one answer for
//! every failure, a changed password, and an account's email refused to a guest.

use contract::{RefusalReason, VerifyOrCreateReply};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::PASSWORD;
use crate::helpers::*;

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
