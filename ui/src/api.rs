//! A typed client for the two services' REST APIs, over `fetch`. order-svc is
//! the page's own origin; customer-svc's base URL comes from
//! `/ui-config.json`, which order-svc serves from its configuration.

use std::{cell::RefCell, collections::BTreeMap, fmt};

use gloo_net::http::{Request, Response};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// A product on sale.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub currency: String,
    pub stock: i64,
    pub category: String,
    pub image_url: Option<String>,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// An order as order-svc shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    pub id: String,
    pub customer_id: Option<String>,
    pub customer_email: String,
    pub status: String,
    pub reason: Option<String>,
    pub total: String,
    pub currency: String,
}

/// A customer as customer-svc shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Customer {
    pub id: String,
    pub email: String,
}

/// A customer's order history and statistics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct History {
    pub stats: Stats,
    pub items: Vec<HistoryItem>,
}

/// A customer's statistics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Stats {
    pub order_count: u64,
    pub total_spent: String,
    pub last_order_at: Option<String>,
}

/// One order in the history.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryItem {
    pub order_id: String,
    pub status: String,
    pub total: String,
    pub currency: String,
    pub item_count: u32,
    pub placed_at: String,
}

/// The checkout request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckoutRequest {
    pub customer: CheckoutCustomer,
    pub items: Vec<CheckoutItem>,
}

/// Who is buying.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckoutCustomer {
    pub email: String,
    pub name: String,
}

/// One line of the checkout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckoutItem {
    pub product_id: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Deserialize)]
struct UiConfig {
    customer_api: String,
}

/// Why a call failed: the contract's error body, or the network.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status, 0 when the request never got an answer.
    pub status: u16,
    /// The contract's error code.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// Invalid fields and why, for a 422.
    pub fields: BTreeMap<String, String>,
}

impl ApiError {
    fn network(error: impl fmt::Display) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: format!("the shop could not be reached ({error})"),
            fields: BTreeMap::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    details: serde_json::Value,
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    if (200..300).contains(&status) {
        return response.json::<T>().await.map_err(ApiError::network);
    }
    let text = response.text().await.unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
            fields: body.error.details["fields"]
                .as_object()
                .map(|fields| {
                    fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        },
        Err(_) => ApiError {
            status,
            code: "unexpected".into(),
            message: format!("the shop answered {status}"),
            fields: BTreeMap::new(),
        },
    })
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    read(Request::get(url).send().await.map_err(ApiError::network)?).await
}

thread_local! {
    static CUSTOMER_API: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// customer-svc's base URL, read once from `/ui-config.json`.
async fn customer_api() -> Result<String, ApiError> {
    if let Some(base) = CUSTOMER_API.with(|c| c.borrow().clone()) {
        return Ok(base);
    }
    let config: UiConfig = get("/ui-config.json").await?;
    let base = config.customer_api.trim_end_matches('/').to_owned();
    CUSTOMER_API.with(|c| *c.borrow_mut() = Some(base.clone()));
    Ok(base)
}

/// A value made safe for a query string.
fn query_value(value: &str) -> String {
    String::from(web_sys::js_sys::encode_uri_component(value))
}

/// One page of products.
pub async fn products(
    q: &str,
    category: &str,
    page: u32,
    per_page: u32,
) -> Result<Page<Product>, ApiError> {
    get(&format!(
        "/api/v1/products?q={}&category={}&page={page}&per_page={per_page}",
        query_value(q),
        query_value(category)
    ))
    .await
}

/// The categories on sale.
pub async fn categories() -> Result<Vec<String>, ApiError> {
    #[derive(Deserialize)]
    struct Categories {
        items: Vec<String>,
    }
    Ok(get::<Categories>("/api/v1/categories").await?.items)
}

/// Places an order. `key` makes a retry of the same attempt the same order.
pub async fn checkout(request: &CheckoutRequest, key: &str) -> Result<Order, ApiError> {
    let request = Request::post("/api/v1/orders")
        .header("idempotency-key", key)
        .json(request)
        .map_err(ApiError::network)?;
    read(request.send().await.map_err(ApiError::network)?).await
}

/// One order.
pub async fn order(id: &str) -> Result<Order, ApiError> {
    get(&format!("/api/v1/orders/{id}")).await
}

/// Cancels a confirmed order.
pub async fn cancel(id: &str) -> Result<Order, ApiError> {
    let response = Request::post(&format!("/api/v1/orders/{id}/cancel"))
        .send()
        .await
        .map_err(ApiError::network)?;
    read(response).await
}

/// The customer with this email, if there is one.
pub async fn customer_by_email(email: &str) -> Result<Option<Customer>, ApiError> {
    let base = customer_api().await?;
    let page: Page<Customer> = get(&format!(
        "{base}/api/v1/customers?email={}",
        query_value(email)
    ))
    .await?;
    Ok(page.items.into_iter().next())
}

/// A customer's order history.
pub async fn history(customer_id: &str) -> Result<History, ApiError> {
    let base = customer_api().await?;
    get(&format!(
        "{base}/api/v1/customers/{customer_id}/orders?per_page=20"
    ))
    .await
}
