//! order-svc's REST API on its own: catalogue reads and admin writes, order
//! validation, errors, health and the UI.

use serde_json::{Value, json};

use crate::harness::*;

async fn order_svc_alone() -> System {
    let mut system = System::without_services().await;
    system.start_order_svc(&[]).await;
    system
}

#[tokio::test]
async fn the_seeded_catalogue_is_paged_searchable_and_filtered_by_category() {
    let system = order_svc_alone().await;

    let (status, page) = system
        .get(&system.order_url("/api/v1/products?per_page=5&page=2"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 14);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_eq!(page["page"], 2);
    let product = &page["items"][0];
    for field in [
        "id",
        "sku",
        "name",
        "description",
        "price",
        "currency",
        "stock",
        "category",
        "image_url",
        "active",
        "created_at",
        "updated_at",
    ] {
        assert!(product.get(field).is_some(), "{field} missing in {product}");
    }
    assert!(product["price"].is_string());

    let (_, books) = system
        .get(&system.order_url("/api/v1/products?category=Books"))
        .await;
    assert_eq!(books["total"], 3);
    let (_, found) = system
        .get(&system.order_url("/api/v1/products?q=mug"))
        .await;
    assert_eq!(found["items"][0]["sku"], "MUG-CLASSIC");
    let (_, by_sku) = system
        .get(&system.order_url("/api/v1/products?q=kbd-mech"))
        .await;
    assert_eq!(by_sku["total"], 1);
    let (_, categories) = system.get(&system.order_url("/api/v1/categories")).await;
    assert_eq!(
        categories["items"],
        json!(["Apparel", "Books", "Electronics", "Garden", "Kitchen"])
    );
    let (status, _) = system
        .get(&system.order_url("/api/v1/products?per_page=101"))
        .await;
    assert_eq!(status, 422);
    system.stop().await;
}

#[tokio::test]
async fn only_the_admin_writes_the_catalogue_and_retired_products_leave_the_shop() {
    let system = order_svc_alone().await;
    let body = json!({"sku": "NEW-1", "name": "New", "price": "1.00", "currency": "EUR", "stock": 1, "category": "Test"});

    let (status, _) = system
        .post(&system.order_url("/api/v1/products"), &body)
        .await;
    assert_eq!(status, 401);
    let (status, created) = system
        .admin(
            reqwest::Method::POST,
            &system.order_url("/api/v1/products"),
            Some(&body),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, duplicate) = system
        .admin(
            reqwest::Method::POST,
            &system.order_url("/api/v1/products"),
            Some(&body),
        )
        .await;
    assert_eq!(status, 409, "{duplicate}");
    assert_eq!(duplicate["error"]["code"], "sku_taken");
    let bad = json!({"sku": "bad sku", "price": "1.001", "currency": "euro", "stock": -1});
    let (status, invalid) = system
        .admin(
            reqwest::Method::POST,
            &system.order_url("/api/v1/products"),
            Some(&bad),
        )
        .await;
    assert_eq!(status, 422, "{invalid}");
    for field in ["sku", "name", "price", "currency", "stock", "category"] {
        assert!(
            invalid["error"]["details"]["fields"].get(field).is_some(),
            "{field}: {invalid}"
        );
    }

    let id = created["id"].as_str().unwrap();
    let path = system.order_url(&format!("/api/v1/products/{id}"));
    let (status, patched) = system
        .admin(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"price": "2.5", "stock": 7})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["price"], "2.50");
    assert_eq!(patched["stock"], 7);
    let (status, _) = system.admin(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (_, listed) = system
        .get(&system.order_url("/api/v1/products?q=NEW-1"))
        .await;
    assert_eq!(listed["total"], 0, "retired products are not listed");
    let (status, retired) = system.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(retired["active"], false);
    let (status, refused) = system.checkout("a@example.com", &[(id, 1)]).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["details"]["fields"]["items[0].product_id"].is_string(),
        "{refused}"
    );
    let (status, _) = system
        .get(&system.order_url("/api/v1/products/not-an-id"))
        .await;
    assert_eq!(status, 400);
    let (status, _) = system
        .get(&system.order_url(&format!("/api/v1/products/{}", uuid::Uuid::new_v4())))
        .await;
    assert_eq!(status, 404);
    system.stop().await;
}

#[tokio::test]
async fn an_invalid_checkout_is_a_422_before_any_saga_starts() {
    let system = order_svc_alone().await;
    let mug = system.product("12.50", 10).await;
    let checkout = |body: Value| {
        let system = &system;
        async move {
            system
                .post(&system.order_url("/api/v1/orders"), &body)
                .await
        }
    };

    // Each case is wrong in exactly one field, and the answer must name that
    // field alone: a case refused for another reason fails here.
    let cases = [
        (
            "customer.email",
            json!({"customer": {"email": "not-an-email", "name": "N"}, "items": [{"product_id": mug, "quantity": 1}]}),
        ),
        (
            "customer.name",
            json!({"customer": {"email": "a@example.com", "name": " "}, "items": [{"product_id": mug, "quantity": 1}]}),
        ),
        (
            "items[0].quantity",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": mug, "quantity": 0}]}),
        ),
        (
            "items[0].quantity",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": mug, "quantity": 1001}]}),
        ),
        (
            "items[0].product_id",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": uuid::Uuid::new_v4(), "quantity": 1}]}),
        ),
        (
            "items[0].product_id",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": "not-a-uuid", "quantity": 1}]}),
        ),
        (
            "items",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": (0..51).map(|_| json!({"product_id": uuid::Uuid::new_v4(), "quantity": 1})).collect::<Vec<_>>()}),
        ),
        (
            "items",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": []}),
        ),
        (
            "customer",
            json!({"items": [{"product_id": mug, "quantity": 1}]}),
        ),
        // A price sent by the client is ignored; the second line repeats the product.
        (
            "items[1].product_id",
            json!({"customer": {"email": "a@example.com", "name": "N"}, "items": [{"product_id": mug, "quantity": 1, "price": "0.01"}, {"product_id": mug, "quantity": 1}]}),
        ),
    ];
    for (field, body) in cases {
        let (status, error) = checkout(body.clone()).await;
        assert_eq!(status, 422, "{body} -> {error}");
        assert_eq!(error["error"]["code"], "validation_failed", "{error}");
        let named: Vec<&String> = error["error"]["details"]["fields"]
            .as_object()
            .map(|fields| fields.keys().collect())
            .unwrap_or_default();
        assert_eq!(named, [field], "{body} -> {error}");
    }
    let malformed = system
        .http
        .post(system.order_url("/api/v1/orders"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let (status, error) = system
        .checkout_on(
            0,
            "a@example.com",
            &[(&mug, 1)],
            Some("bad key with spaces"),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["error"]["details"]["fields"]
            .get("Idempotency-Key")
            .is_some(),
        "{error}"
    );

    let (_, orders) = system.get(&system.order_url("/api/v1/orders")).await;
    assert_eq!(orders["total"], 0, "no order was recorded");
    assert_eq!(system.stock_of(&mug).await, 10);
    let (status, _) = system
        .get(&system.order_url(&format!("/api/v1/orders/{}", uuid::Uuid::new_v4())))
        .await;
    assert_eq!(status, 404);
    let (status, _) = system
        .get(&system.order_url("/api/v1/orders?status=lost"))
        .await;
    assert_eq!(status, 422);
    let (status, _) = system
        .get(&system.order_url("/api/v1/orders?customer_id=nope"))
        .await;
    assert_eq!(status, 422);
    system.stop().await;
}

#[tokio::test]
async fn the_shop_sells_in_one_currency() {
    let mut system = System::without_services().await;
    system.start_order_svc(&[("SHOP_CURRENCY", "EUR")]).await;
    let products = system.order_url("/api/v1/products");
    let body = json!({"sku": "USD-1", "name": "Dollar item", "price": "1.00", "currency": "USD",
                      "stock": 5, "category": "Test"});
    let (status, refused) = system
        .admin(reqwest::Method::POST, &products, Some(&body))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["details"]["fields"]["currency"]
            .as_str()
            .is_some_and(|m| m.contains("EUR")),
        "{refused}"
    );
    let euro = system.product("2.00", 5).await;
    let (status, refused) = system
        .admin(
            reqwest::Method::PATCH,
            &system.order_url(&format!("/api/v1/products/{euro}")),
            Some(&json!({"currency": "GBP"})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let (_, listed) = system
        .get(&system.order_url("/api/v1/products?q=USD-1"))
        .await;
    assert_eq!(listed["total"], 0, "a refused product is not written");

    // A product priced in another currency before the shop chose its own
    // (written straight to the database) cannot be ordered.
    let orders = system.orders_db().await;
    let dollar = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO products (id, sku, name, description, price, currency, stock, category)
         VALUES ($1, 'OLD-USD', 'Old', '', 3.00, 'USD', 5, 'Test')",
    )
    .bind(dollar)
    .execute(&orders)
    .await
    .expect("legacy product");
    let (status, refused) = system
        .checkout("usd@example.com", &[(&euro, 1), (&dollar.to_string(), 1)])
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["details"]["fields"]["items"]
            .as_str()
            .is_some_and(|m| m.contains("USD") && m.contains("EUR")),
        "{refused}"
    );
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&orders)
        .await
        .expect("count");
    assert_eq!(recorded, 0, "a refused checkout records nothing");
    system.stop().await;
}

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

#[tokio::test]
async fn a_client_over_its_checkout_quota_gets_a_429_with_retry_after() {
    let mut system = System::without_services().await;
    system
        .start_order_svc(&[("CHECKOUT_RATE_PER_MINUTE", "2")])
        .await;
    let invalid = json!({"items": []});

    let (first, _) = system
        .post(&system.order_url("/api/v1/orders"), &invalid)
        .await;
    let (second, _) = system
        .post(&system.order_url("/api/v1/orders"), &invalid)
        .await;
    let third = system
        .http
        .post(system.order_url("/api/v1/orders"))
        .json(&invalid)
        .send()
        .await
        .unwrap();

    assert_eq!(
        (first, second),
        (422, 422),
        "within the quota, requests are judged on their merits"
    );
    assert_eq!(third.status(), 429);
    let retry_after: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, _) = system.get(&system.order_url("/api/v1/products")).await;
    assert_eq!(status, 200, "only checkout is limited");
    system.stop().await;
}

#[tokio::test]
async fn idempotency_keys_are_forgotten_after_their_ttl() {
    let mut system = System::without_services().await;
    // No customer-svc: the orders end at the (short) RPC timeout, which is
    // not what this test is about.
    system
        .start_order_svc(&[("IDEMPOTENCY_KEY_TTL", "1s"), ("RPC_TIMEOUT_MS", "300")])
        .await;
    let mug = system.product("12.50", 10).await;
    let key = "short-lived-key";
    let (status, first) = system
        .checkout_on(0, "ttl@example.com", &[(&mug, 1)], Some(key))
        .await;
    assert!(matches!(status, 201 | 202), "{first}");
    let (status, _) = system
        .checkout_on(0, "ttl@example.com", &[(&mug, 2)], Some(key))
        .await;
    assert_eq!(
        status, 422,
        "while remembered, the key is bound to its request"
    );

    let pool = system.orders_db().await;
    eventually(PATIENCE, "the key to be forgotten", || async {
        let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        (keys == 0).then_some(())
    })
    .await;
    let (status, second) = system
        .checkout_on(0, "ttl@example.com", &[(&mug, 2)], Some(key))
        .await;
    assert!(matches!(status, 201 | 202), "{second}");
    assert_ne!(
        first["id"], second["id"],
        "a forgotten key starts a new order"
    );
    pool.close().await;
    system.stop().await;
}

/// Sends a raw HTTP/1.1 request to `address` and returns the status code.
async fn raw_status(address: &str, request: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = vec![0_u8; 64];
    let read = stream.read(&mut answer).await.expect("answer");
    let head = String::from_utf8_lossy(&answer[..read]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"))
}

#[tokio::test]
async fn hostile_input_is_a_clear_4xx_and_writes_nothing() {
    let system = System::start().await;
    let mug = system.product("3.00", 10).await;
    for path in [
        "/api/v1/products?q=%00",
        "/api/v1/products?category=%00",
        "/api/v1/products?q=%1b%5b31m",
    ] {
        let (status, body) = system.get(&system.order_url(path)).await;
        assert_eq!(status, 422, "{path}: {body}");
    }
    let (status, body) = system
        .get(&system.customer_url("/api/v1/customers?q=%00"))
        .await;
    assert_eq!(status, 422, "{body}");

    // A display name around the address is not an email: one customer per mailbox.
    let (status, body) = system.checkout("Eve <eve@example.com>", &[(&mug, 1)]).await;
    assert_eq!(status, 422, "{body}");
    assert!(system.customer("eve@example.com").await.is_none());

    // A chunked body is read within the size limit; past it, a 413.
    let address = system
        .order_url("")
        .trim_start_matches("http://")
        .to_owned();
    let body = checkout_body("chunked@example.com", &[(&mug, 1)]).to_string();
    let chunked = |payload: &str| {
        format!(
            "POST /api/v1/orders HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{payload}\r\n0\r\n\r\n",
            payload.len()
        )
    };
    assert_eq!(raw_status(&address, chunked(&body)).await, 201);
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    assert_eq!(raw_status(&address, chunked(&huge)).await, 413);
    assert_eq!(
        system.stock_of(&mug).await,
        9,
        "only the chunked checkout took stock"
    );
    system.stop().await;
}
