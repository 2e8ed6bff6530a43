//! The customers REST API: behaviour and bad input.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn creating_a_customer_normalises_the_email_and_applies_the_default_credit() {
    let app = TestApp::spawn().await;

    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "  New.Person@Example.COM ", "name": "  New Person "}),
            false,
        )
        .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], "new.person@example.com");
    assert_eq!(body["name"], "New Person");
    assert_eq!(body["status"], "active");
    assert_eq!(body["credit_limit"], "5000.00");
    assert_eq!(body["credit_available"], "5000.00");
    let (status, fetched) = app
        .get(&format!(
            "/api/v1/customers/{}",
            body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(fetched, body);
    app.stop().await;
}

#[tokio::test]
async fn an_email_is_registered_once_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.create_customer("twin@example.com", "First").await;

    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "TWIN@example.com", "name": "Second"}),
            false,
        )
        .await;

    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "email_taken");
    app.stop().await;
}

#[tokio::test]
async fn invalid_input_is_a_422_naming_every_bad_field_and_writes_nothing() {
    let app = TestApp::spawn().await;

    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "not-an-email", "name": "Bad\u{0007}Name"}),
            false,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(
        body["error"]["details"]["fields"]["email"].is_string(),
        "{body}"
    );
    assert!(
        body["error"]["details"]["fields"]["name"].is_string(),
        "{body}"
    );

    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "x@example.com", "name": " "}),
            false,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .post("/api/v1/customers", &json!({"name": "No Email"}), false)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["fields"]["email"], "is required");
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "x@example.com", "name": "N", "credit_limit": "1.005"}),
            true,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &json!({"email": "x@example.com", "name": "N", "credit_limit": "1000000.01"}),
            true,
        )
        .await;
    assert_eq!(status, 422, "{body}");

    let malformed = app
        .http
        .post(app.url("/api/v1/customers"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");

    let huge = json!({"email": "big@example.com", "name": "x".repeat(70_000)});
    let (status, body) = app.post("/api/v1/customers", &huge, false).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");

    assert!(
        app.customer_by_email("x@example.com").await.is_none(),
        "nothing was written"
    );
    app.stop().await;
}

#[tokio::test]
async fn only_the_admin_sets_credit_limits_statuses_and_deletes() {
    let app = TestApp::spawn().await;

    let with_limit = json!({"email": "vip@example.com", "name": "Vip", "credit_limit": "20000.00"});
    let (status, body) = app.post("/api/v1/customers", &with_limit, false).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app.post("/api/v1/customers", &with_limit, true).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["credit_limit"], "20000.00");
    let path = format!("/api/v1/customers/{}", body["id"].as_str().unwrap());

    let wrong_token = app
        .http
        .post(app.url("/api/v1/customers"))
        .bearer_auth("guess")
        .json(&json!({"email": "w@example.com", "name": "W"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 401);

    let (status, _) = app
        .patch(&path, &json!({"name": "Very Important"}), false)
        .await;
    assert_eq!(status, 401, "anonymous callers change no one");
    let (status, _) = app
        .patch(&path, &json!({"name": "Very Important"}), true)
        .await;
    assert_eq!(status, 200);

    // A customer signed in changes their own name, not their status or limit.
    let (own_id, own_token) = app
        .sign_up("limits-account@example.com", "a long enough password")
        .await;
    let own_path = format!("/api/v1/customers/{own_id}");
    for (body, expected) in [
        (json!({"name": "Renamed Myself"}), 200),
        (json!({"status": "blocked"}), 403),
        (json!({"credit_limit": "99999"}), 403),
    ] {
        let (status, answer) = app
            .call_as(
                reqwest::Method::PATCH,
                &own_path,
                Some(&body),
                Some(&own_token),
            )
            .await;
        assert_eq!(status, expected, "{body} → {answer}");
    }
    let (status, body) = app
        .patch(
            &path,
            &json!({"status": "blocked", "credit_limit": "100"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "blocked");
    assert_eq!(body["credit_limit"], "100.00");
    assert_eq!(body["name"], "Very Important");
    let (status, body) = app.patch(&path, &json!({"status": "asleep"}), true).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .patch(&path, &json!({"email": "new@example.com"}), true)
        .await;
    assert_eq!(status, 422, "{body}");

    let (status, _) = send_delete(&app, &path, false).await;
    assert_eq!(status, 401);
    let (status, _) = send_delete(&app, &path, true).await;
    assert_eq!(status, 204);
    let (status, body) = app.get(&path).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = send_delete(&app, &path, true).await;
    assert_eq!(status, 404);
    app.stop().await;
}

async fn send_delete(app: &TestApp, path: &str, admin: bool) -> (u16, serde_json::Value) {
    let mut request = app.http.delete(app.url(path));
    if admin {
        request = request.bearer_auth(ADMIN_TOKEN);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn lowering_a_limit_below_the_credit_in_use_is_a_conflict() {
    let app = TestApp::spawn().await;
    let saga = uuid::Uuid::new_v4();
    app.verify_or_create(saga, "spender@example.com", "Spender", "300.00")
        .await
        .unwrap();
    let customer = app.customer_by_email("spender@example.com").await.unwrap();
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());

    let (status, body) = app
        .patch(&path, &json!({"credit_limit": "299.99"}), true)
        .await;

    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "credit_limit_below_usage");
    let (status, body) = app
        .patch(&path, &json!({"credit_limit": "300.00"}), true)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["credit_available"], "0.00");
    app.stop().await;
}

#[tokio::test]
async fn customers_are_paged_and_searchable_by_name_and_email() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        app.create_customer(
            &format!("searchable{n}@example.com"),
            &format!("Zebediah {n}"),
        )
        .await;
    }

    let (status, body) = app.get("/api/v1/customers?q=zebed&per_page=2&page=2").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 5);
    assert_eq!(body["page"], 2);
    assert_eq!(body["per_page"], 2);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);

    let (_, body) = app.get("/api/v1/customers?q=SEARCHABLE3").await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["email"], "searchable3@example.com");
    let (_, body) = app
        .get("/api/v1/customers?email=Searchable4@Example.com")
        .await;
    assert_eq!(body["total"], 1);
    let (_, body) = app.get("/api/v1/customers?q=100%25_").await;
    assert_eq!(body["total"], 0, "LIKE wildcards are literal");

    let (status, body) = app.get("/api/v1/customers?per_page=101").await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app.get("/api/v1/customers?page=0").await;
    assert_eq!(status, 422);
    let (status, body) = app.get("/api/v1/customers/not-a-uuid").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_id");
    let (status, _) = app
        .get(&format!("/api/v1/customers/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn seed_data_has_a_blocked_and_a_low_credit_customer() {
    let app = TestApp::spawn().await;

    let blocked = app.customer_by_email(BLOCKED_EMAIL).await.expect("seeded");
    let low = app
        .customer_by_email(LOW_CREDIT_EMAIL)
        .await
        .expect("seeded");

    assert_eq!(blocked["status"], "blocked");
    assert_eq!(low["credit_limit"], "50.00");
    app.stop().await;
}
