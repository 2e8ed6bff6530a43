//! A typed client for the two services' REST APIs, over `fetch`. order-svc is
//! the page's own origin; customer-svc's base URL comes from
//! `/ui-config.json`, which order-svc serves from its configuration. Calls
//! that need a shopper's token take it as an argument: this module keeps none.

use std::{cell::RefCell, collections::BTreeMap, fmt};

use contract::Currency;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// A product on sale.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub currency: Currency,
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
    #[serde(default)]
    pub items: Vec<OrderLine>,
    pub total: String,
    pub currency: Currency,
    #[serde(default)]
    pub created_at: String,
    /// Its saga's timeline, oldest first (what `GET /api/v1/orders/{id}`
    /// and a checkout answer carry).
    #[serde(default)]
    pub saga: Vec<SagaStep>,
}

/// One entry of an order's saga timeline, named as order-svc names it (see
/// `timeline` for the buyer's words).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SagaStep {
    pub step: String,
    pub status: String,
    /// RFC 3339.
    pub at: String,
    /// The server's words, for operators.
    #[serde(default)]
    pub detail: Option<String>,
}

impl Order {
    /// The order as a line of the history.
    pub fn to_history_item(&self) -> HistoryItem {
        HistoryItem {
            order_id: self.id.clone(),
            status: self.status.clone(),
            total: self.total.clone(),
            currency: self.currency.clone(),
            item_count: self.items.iter().map(|l| l.quantity).sum(),
            placed_at: self.created_at.clone(),
        }
    }
}

/// One line of an order (only what the page shows of it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderLine {
    pub quantity: u32,
}

/// The answer to a checkout: the order, and the token that opens it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlacedOrder {
    #[serde(flatten)]
    pub order: Order,
    pub access_token: Option<String>,
}

/// A customer as customer-svc shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
}

/// What `POST /api/v1/sessions` grants.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Grant {
    pub access_token: String,
    pub customer_id: String,
    pub expires_at: String,
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
    pub currency: Currency,
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

/// Most orders "Your orders" shows.
pub const HISTORY_PAGE: u32 = 20;

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
    /// Seconds to wait before trying again, when the answer said
    /// (`Retry-After` on a 429).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn network(error: impl fmt::Display) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: format!("the shop could not be reached ({error})"),
            fields: BTreeMap::new(),
            retry_after_secs: None,
        }
    }

    /// Whether the token sent was refused as missing, forged or expired.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
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
    // Readable cross-origin only if customer-svc exposes it (CORS).
    let retry_after_secs = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse().ok());
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
            retry_after_secs,
        },
        Err(_) => ApiError {
            status,
            code: "unexpected".into(),
            message: format!("the shop answered {status}"),
            fields: BTreeMap::new(),
            retry_after_secs,
        },
    })
}

/// The request, carrying `token` as its bearer when there is one.
fn bearing(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.header("authorization", &format!("Bearer {token}")),
        None => request,
    }
}

async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiError> {
    read(request.send().await.map_err(ApiError::network)?).await
}

async fn send_json<T: DeserializeOwned>(
    request: RequestBuilder,
    body: &impl Serialize,
) -> Result<T, ApiError> {
    let request = request.json(body).map_err(ApiError::network)?;
    read(request.send().await.map_err(ApiError::network)?).await
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    send(Request::get(url)).await
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

/// A value made safe for a query string or a path segment.
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

/// Places an order, as a guest (`token` none) or for the signed-in customer
/// whose token it is. `key` makes a retry of the same attempt the same order.
pub async fn checkout(
    request: &CheckoutRequest,
    key: &str,
    token: Option<&str>,
) -> Result<PlacedOrder, ApiError> {
    let builder = Request::post("/api/v1/orders").header("idempotency-key", key);
    send_json(bearing(builder, token), request).await
}

/// One order, opened with its own token or its customer's.
pub async fn order(id: &str, token: &str) -> Result<Order, ApiError> {
    let url = format!("/api/v1/orders/{}", query_value(id));
    send(bearing(Request::get(&url), Some(token))).await
}

/// Cancels a confirmed order, with its own token or its customer's.
pub async fn cancel(id: &str, token: &str) -> Result<Order, ApiError> {
    let url = format!("/api/v1/orders/{}/cancel", query_value(id));
    send(bearing(Request::post(&url), Some(token))).await
}

/// Creates an account that signs in with `password`.
pub async fn sign_up(email: &str, name: &str, password: &str) -> Result<Customer, ApiError> {
    #[derive(Serialize)]
    struct SignUp<'a> {
        email: &'a str,
        name: &'a str,
        password: &'a str,
    }
    let base = customer_api().await?;
    let url = format!("{base}/api/v1/customers");
    send_json(
        Request::post(&url),
        &SignUp {
            email,
            name,
            password,
        },
    )
    .await
}

/// Signs in: a token for the customer's own records.
pub async fn sign_in(email: &str, password: &str) -> Result<Grant, ApiError> {
    #[derive(Serialize)]
    struct SignIn<'a> {
        email: &'a str,
        password: &'a str,
    }
    let base = customer_api().await?;
    let url = format!("{base}/api/v1/sessions");
    send_json(Request::post(&url), &SignIn { email, password }).await
}

/// The signed-in customer's own record.
pub async fn customer(customer_id: &str, token: &str) -> Result<Customer, ApiError> {
    let base = customer_api().await?;
    let url = format!("{base}/api/v1/customers/{}", query_value(customer_id));
    send(bearing(Request::get(&url), Some(token))).await
}

/// The signed-in customer's order history, newest first.
pub async fn history(customer_id: &str, token: &str) -> Result<History, ApiError> {
    let base = customer_api().await?;
    let url = format!(
        "{base}/api/v1/customers/{}/orders?per_page={HISTORY_PAGE}",
        query_value(customer_id)
    );
    send(bearing(Request::get(&url), Some(token))).await
}
