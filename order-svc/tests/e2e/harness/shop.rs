//! What a test does in the shop: products, checkouts, cancellations,
//! accounts, and reading back orders, customers and their histories.

use serde_json::{Value, json};
use uuid::Uuid;

use super::{PATIENCE, System, eventually, send};

impl System {
    /// Creates a product with `stock` units at `price`; returns its id.
    pub async fn product(&self, price: &str, stock: i64) -> String {
        let sku = format!("T-{}", &Uuid::new_v4().simple().to_string()[..12]);
        let body = json!({"sku": sku, "name": format!("Test {sku}"), "price": price, "currency": "EUR",
                          "stock": stock, "category": "Test"});
        let (status, created) = self
            .admin(
                reqwest::Method::POST,
                &self.order_url("/api/v1/products"),
                Some(&body),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().expect("id").to_owned()
    }

    pub async fn stock_of(&self, product_id: &str) -> i64 {
        let (_, product) = self
            .get(&self.order_url(&format!("/api/v1/products/{product_id}")))
            .await;
        product["stock"].as_i64().expect("stock")
    }

    /// `POST /api/v1/orders` on instance `instance`.
    pub async fn checkout_on(
        &self,
        instance: usize,
        email: &str,
        lines: &[(&str, u32)],
        key: Option<&str>,
    ) -> (u16, Value) {
        let body = checkout_body(email, lines);
        let mut request = self
            .http
            .post(format!("{}/api/v1/orders", self.orders[instance].base))
            .json(&body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        send(request).await
    }

    /// Signs up `email` at customer-svc with a password and signs in: the
    /// customer's id and access token.
    pub async fn sign_up(&self, email: &str) -> (String, String) {
        let password = "a passphrase long enough";
        let (status, created) = self
            .post(
                &self.customer_url("/api/v1/customers"),
                &json!({"email": email, "name": "Account Holder", "password": password}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let (status, session) = self
            .post(
                &self.customer_url("/api/v1/sessions"),
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{session}");
        (
            session["customer_id"].as_str().expect("id").to_owned(),
            session["access_token"].as_str().expect("token").to_owned(),
        )
    }

    /// `POST /api/v1/orders` with `token` as the bearer.
    pub async fn checkout_as(
        &self,
        token: Option<&str>,
        email: &str,
        lines: &[(&str, u32)],
    ) -> (u16, Value) {
        let body = checkout_body(email, lines);
        self.call_as(
            reqwest::Method::POST,
            &self.order_url("/api/v1/orders"),
            Some(&body),
            token,
        )
        .await
    }

    /// `POST /api/v1/orders/{id}/cancel` for a checkout's answer, with the
    /// order token it carries.
    pub async fn cancel(&self, checkout_answer: &Value) -> (u16, Value) {
        let id = checkout_answer["id"].as_str().expect("an order id");
        self.call_as(
            reqwest::Method::POST,
            &self.order_url(&format!("/api/v1/orders/{id}/cancel")),
            None,
            checkout_answer["access_token"].as_str(),
        )
        .await
    }

    pub async fn checkout(&self, email: &str, lines: &[(&str, u32)]) -> (u16, Value) {
        self.checkout_on(0, email, lines, None).await
    }

    pub async fn order(&self, id: &str) -> Value {
        let (status, order) = self
            .get(&self.order_url(&format!("/api/v1/orders/{id}")))
            .await;
        assert_eq!(status, 200, "{order}");
        order
    }

    /// Polls the order until `done` holds for it.
    pub async fn order_when(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        eventually(PATIENCE, what, || async {
            let order = self.order(id).await;
            done(&order).then_some(order)
        })
        .await
    }

    pub async fn customer(&self, email: &str) -> Option<Value> {
        let (status, list) = self
            .get(&self.customer_url(&format!("/api/v1/customers?email={email}")))
            .await;
        assert_eq!(status, 200, "{list}");
        list["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
    }

    pub async fn history(&self, customer_id: &str) -> Value {
        let (status, history) = self
            .get(&self.customer_url(&format!("/api/v1/customers/{customer_id}/orders")))
            .await;
        assert_eq!(status, 200, "{history}");
        history
    }
}

pub fn checkout_body(email: &str, lines: &[(&str, u32)]) -> Value {
    json!({
        "customer": {"email": email, "name": "Test Shopper"},
        "items": lines.iter().map(|(id, qty)| json!({"product_id": id, "quantity": qty})).collect::<Vec<_>>(),
    })
}

/// The timeline entries of an order's saga, as `step:status`.
pub fn timeline(order: &Value) -> Vec<String> {
    order["saga"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}",
                        s["step"].as_str().unwrap_or(""),
                        s["status"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
