//! The shoppers: each checks out one order after another until told to stop,
//! as a careful client does: a checkout that fails on the way (no answer, a
//! 5xx, a 429) is sent again with the same `Idempotency-Key` until it is
//! answered; one confirmed order in five is cancelled (again until answered).
//! What each was told is kept, so that the tally can hold the system to it,
//! and so is every 5xx other than a 503: a service's own fault, which no
//! fault of its infrastructure excuses.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Shoppers share a small set of returning customers, so that credit runs
/// out and cancellations give it back.
const CUSTOMERS: u64 = 24;
/// How long one checkout (or cancellation) is retried before the shopper
/// gives up on an answer: far beyond the longest fault.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);
/// Pause between tries of a request that got no answer.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// What the shoppers need to shop.
#[derive(Clone)]
pub struct Shop {
    pub http: reqwest::Client,
    pub order_url: String,
    pub products: Vec<Uuid>,
}

/// What an order's shopper was last told about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Confirmed,
    Rejected,
    /// 202: the saga had not ended within the request's wait.
    Pending,
    Cancelled,
}

/// What all shoppers saw.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub checkouts: u64,
    /// Checkouts never answered within [`ANSWER_WITHIN`].
    pub unanswered: u64,
    /// Answers that were neither an order nor a retryable failure.
    pub refused: Vec<String>,
    /// 5xx answers other than 503 (sent again, but the service's own fault).
    pub server_errors: u64,
    /// 503 answers: something the service needs was briefly unavailable.
    pub unavailable: u64,
    pub told: HashMap<Uuid, Told>,
}

impl Outcomes {
    fn merge(&mut self, other: Outcomes) {
        self.checkouts += other.checkouts;
        self.unanswered += other.unanswered;
        self.refused.extend(other.refused);
        self.server_errors += other.server_errors;
        self.unavailable += other.unavailable;
        self.told.extend(other.told);
    }
}

/// Runs `clients` shoppers until `stop`; each finishes the request in hand.
pub async fn run(shop: Shop, clients: usize, stop: CancellationToken) -> anyhow::Result<Outcomes> {
    let shoppers: Vec<_> = (0..clients)
        .map(|client| tokio::spawn(shopper(shop.clone(), client as u64, stop.clone())))
        .collect();
    let mut outcomes = Outcomes::default();
    for shopper in shoppers {
        outcomes.merge(shopper.await?);
    }
    Ok(outcomes)
}

async fn shopper(shop: Shop, client: u64, stop: CancellationToken) -> Outcomes {
    let mut outcomes = Outcomes::default();
    let mut random = fastrand::Rng::with_seed(client);
    while !stop.is_cancelled() {
        let customer = random.u64(0..CUSTOMERS);
        let product = shop.products[random.usize(0..shop.products.len())];
        let body = json!({
            "customer": {"email": format!("shopper{customer}@chaos.example.com"), "name": "Chaos Shopper"},
            "items": [{"product_id": product, "quantity": random.u32(1..=3)}],
        });
        outcomes.checkouts += 1;
        let key = Uuid::new_v4().to_string();
        let url = format!("{}/api/v1/orders", shop.order_url);
        let answer = until_answered(&mut outcomes, || {
            shop.http
                .post(&url)
                .header("idempotency-key", &key)
                .json(&body)
        })
        .await;
        let Some((status, order)) = answer else {
            outcomes.unanswered += 1;
            continue;
        };
        let told = match (status, order["status"].as_str()) {
            (201, Some("confirmed")) => Told::Confirmed,
            (201, Some("rejected")) => Told::Rejected,
            (202, Some("pending")) => Told::Pending,
            _ => {
                outcomes
                    .refused
                    .push(format!("checkout answered {status}: {order}"));
                continue;
            }
        };
        let Some(id) = order["id"].as_str().and_then(|id| id.parse::<Uuid>().ok()) else {
            outcomes
                .refused
                .push(format!("an order without an id: {order}"));
            continue;
        };
        outcomes.told.insert(id, told);
        if told == Told::Confirmed && random.u8(0..5) == 0 {
            let Some(token) = order["access_token"].as_str().map(str::to_owned) else {
                outcomes
                    .refused
                    .push(format!("an order without its access token: {order}"));
                continue;
            };
            let cancel = format!("{}/api/v1/orders/{id}/cancel", shop.order_url);
            match until_answered(&mut outcomes, || {
                shop.http.post(&cancel).bearer_auth(&token)
            })
            .await
            {
                Some((200, order)) if order["status"] == "cancelled" => {
                    outcomes.told.insert(id, Told::Cancelled);
                }
                Some((status, order)) => outcomes
                    .refused
                    .push(format!("cancel answered {status}: {order}")),
                None => outcomes.unanswered += 1,
            }
        }
    }
    outcomes
}

/// Sends the request until it gets an answer that is not a failure on the
/// way (5xx, 429, or no answer at all); `None` when none came in time.
/// The 5xx answers are counted in `outcomes`.
async fn until_answered(
    outcomes: &mut Outcomes,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Option<(u16, Value)> {
    let deadline = Instant::now() + ANSWER_WITHIN;
    while Instant::now() < deadline {
        if let Ok(response) = request().timeout(Duration::from_secs(30)).send().await {
            let status = response.status().as_u16();
            if status < 500 && status != 429 {
                let body = response.json().await.unwrap_or(Value::Null);
                return Some((status, body));
            }
            if status == 503 {
                outcomes.unavailable += 1;
            } else if status >= 500 {
                outcomes.server_errors += 1;
                let body = response.text().await.unwrap_or_default();
                if outcomes.server_errors <= 3 {
                    outcomes.refused.push(format!("answered {status}: {body}"));
                }
            }
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    None
}
