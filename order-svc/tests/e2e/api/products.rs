//! The catalogue: the seeded products paged, searched and filtered, the
//! admin's writes, and the shop's one currency.

use serde_json::json;

use super::order_svc_alone;
use crate::harness::*;

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
