//! `/api/v1/orders`: checkout (runs the saga; anyone, placed for the
//! customer signed in), list (the admin, or a customer their own), get with
//! the saga's timeline and cancel (the order's token, its customer signed
//! in, or the admin).

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde_json::{Map, Value};
use tokio::time::Instant;
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, http::StatusCode, reply::Response};

use contract::VerifyOrCreateRequest;
use edge::{
    auth::Caller,
    error::ApiError,
    json,
    paging::{Page, Paging},
};

use super::{AppState, caller, views::OrderView, with_state};
use crate::{
    db::orders::{self, Cancelled, NewCheckout, OrderFilter, OrderRecord},
    domain::{checkout::CheckoutRequest, order::OrderStatus},
    saga::{RecordError, Recorded, Signal},
};

/// How often a waiting checkout looks at its order when no signal arrives
/// (its saga may be driven by another instance).
const WAIT_POLL: Duration = Duration::from_millis(250);
/// Longest `Idempotency-Key` accepted.
const MAX_KEY_LENGTH: usize = 200;

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let collection = warp::path!("api" / "v1" / "orders");
    let checkout = collection
        .and(warp::post())
        .and(
            state
                .checkout_limit
                .filter(state.config.service.access.trusted_proxies.clone()),
        )
        .and(caller(state.clone()))
        .and(warp::header::optional::<String>("idempotency-key"))
        .and(json::body::<Map<String, Value>>())
        .and(with_state(state.clone()))
        .and_then(checkout);
    let list = collection
        .and(warp::get())
        .and(caller(state.clone()))
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state.clone()))
        .and_then(list);
    let get = warp::path!("api" / "v1" / "orders" / String)
        .and(warp::get())
        .and(caller(state.clone()))
        .and(with_state(state.clone()))
        .and_then(get);
    let cancel = warp::path!("api" / "v1" / "orders" / String / "cancel")
        .and(warp::post())
        .and(caller(state.clone()))
        .and(with_state(state))
        .and_then(cancel);
    checkout.or(list).unify().or(get).unify().or(cancel).unify()
}

/// A checkout answer: the order and a token that opens it.
#[derive(serde::Serialize)]
struct CheckoutView {
    #[serde(flatten)]
    order: OrderView,
    access_token: String,
}

async fn checkout(
    caller: Caller,
    idempotency_key: Option<String>,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    let started = Instant::now();
    let signed_in = match &caller {
        Caller::Customer { id, email } => Some((*id, email.as_str())),
        _ => None,
    };
    let request = CheckoutRequest::parse_for(&body, signed_in)?;
    let key = idempotency_key.map(|k| k.trim().to_owned());
    if let Some(key) = &key {
        let printable = key.chars().all(|c| c.is_ascii_graphic());
        if key.is_empty() || key.len() > MAX_KEY_LENGTH || !printable {
            return Err(ApiError::invalid_field(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"),
            )
            .into());
        }
    }
    let order_id = Uuid::now_v7();
    let saga_id = Uuid::now_v7();
    let fingerprint = request.fingerprint();
    let new = NewCheckout {
        order_id,
        saga_id,
        email: request.email.as_str().to_owned(),
        name: request.name.as_str().to_owned(),
        customer_id: request.customer_id,
        products: request.lines.iter().map(|line| line.product_id).collect(),
        idempotency: key.map(|k| (k, fingerprint)),
    };
    let coordinator = &state.coordinator;
    let waiters = coordinator.waiters();
    let (email, name, new_customer) = (
        request.email.clone(),
        request.name.clone(),
        request.customer_id,
    );
    let (order_id, signal, fresh) = match coordinator
        .recorder()
        .record(new, request)
        .await
        .map_err(ApiError::from)?
    {
        Recorded::New(saga, priced) => {
            // Subscribed before the saga starts, so that its end cannot be missed.
            let signal = waiters.subscribe(order_id);
            let verification = VerifyOrCreateRequest {
                saga_id,
                email,
                name,
                amount: priced.total,
                currency: priced.currency,
                customer_id: new_customer,
            };
            coordinator.drive_recorded(saga, verification);
            (order_id, signal, true)
        }
        Recorded::Existing(existing) => (existing, waiters.subscribe(existing), false),
    };

    let (ended, record) = wait_for_end(&state, order_id, signal, !fresh).await?;
    let record = match record {
        // The transaction that ended the saga read the order: no second read.
        Some(record) => Arc::unwrap_or_clone(record),
        None => orders::get(&state.pool, order_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::internal("recorded order vanished"))?,
    };
    metrics::histogram!("checkout_duration_seconds").record(started.elapsed().as_secs_f64());
    let view = OrderView::new(record.order, record.lines, Some(record.steps))?;
    let location = format!("/api/v1/orders/{}", view.id());
    let status = if ended {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let access_token = state
        .access
        .tokens()
        .for_order(view.id())
        .map_err(ApiError::internal)?
        .token;
    let answer = CheckoutView {
        order: view,
        access_token,
    };
    let reply = warp::reply::with_status(warp::reply::json(&answer), status);
    Ok(warp::reply::with_header(reply, "location", location).into_response())
}

impl From<RecordError> for ApiError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::KeyReused(_) => ApiError::Unprocessable {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request".into(),
            },
            RecordError::Unpriceable(refusal) => refusal,
            RecordError::Db(cause) => ApiError::from(cause),
            RecordError::Stopped => ApiError::internal("the service is shutting down"),
        }
    }
}

/// Waits until the order's checkout has ended, at most `CHECKOUT_WAIT_MS`;
/// true when it has, with the order when the signal carried it. This instance's coordinator signals the end of the
/// sagas it drives; the database is read only when no signal came within
/// `WAIT_POLL` (another instance may drive the saga), or at once when the
/// checkout was recorded before (`look_first`: it may have ended long ago).
async fn wait_for_end(
    state: &AppState,
    order_id: Uuid,
    mut signal: tokio::sync::watch::Receiver<Signal>,
    look_first: bool,
) -> Result<(bool, Option<Arc<OrderRecord>>), ApiError> {
    let deadline = Instant::now() + state.config.checkout_wait;
    let waiters = state.coordinator.waiters();
    let mut look = look_first;
    let ended = loop {
        if look {
            let status = orders::status_of(&state.pool, order_id).await?;
            if status
                .as_deref()
                .and_then(OrderStatus::parse)
                .is_some_and(OrderStatus::is_final_for_checkout)
            {
                break (true, None);
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break (false, None);
        }
        let pause = remaining.min(WAIT_POLL);
        let waited = tokio::time::timeout(pause, signal.wait_for(Signal::has_ended))
            .await
            .map(|outcome| outcome.map(|signal| signal.clone()));
        match waited {
            Ok(Ok(Signal::Ended(record))) => break (true, record),
            // No sender any more (it signalled another waiter, or was
            // forgotten): only the database can tell.
            Ok(Ok(Signal::Pending) | Err(_)) => tokio::time::sleep(pause).await,
            Err(_) => {}
        }
        look = true;
    };
    drop(signal);
    waiters.forget(order_id);
    Ok(ended)
}

async fn list(
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    let paging = Paging::from_query(&query)?;
    let asked =
        match query.get("customer_id").filter(|v| !v.is_empty()) {
            Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
                ApiError::invalid_field("customer_id", "must be a customer id (UUID)")
            })?),
            None => None,
        };
    // A customer lists their own orders (theirs when they name no one);
    // every order, or anyone's, is the admin's.
    let customer_id = match (&caller, asked) {
        (Caller::Customer { id, .. }, None) => Some(*id),
        (Caller::Customer { id, .. }, Some(asked)) => {
            caller.require_customer(asked)?;
            Some(*id)
        }
        (_, asked) => {
            caller.require_admin()?;
            asked
        }
    };
    let status = match query.get("status").filter(|v| !v.is_empty()) {
        Some(raw) => Some(
            OrderStatus::parse(raw)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "status",
                        "must be pending, confirmed, rejected or cancelled",
                    )
                })?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let filter = OrderFilter {
        customer_id,
        status,
    };
    let (rows, total) = orders::list(&state.pool, &filter, paging.limit(), paging.offset())
        .await
        .map_err(ApiError::from)?;
    let items = rows
        .into_iter()
        .map(|(order, lines)| OrderView::new(order, lines, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(warp::reply::json(&Page::new(items, paging, total)).into_response())
}

async fn get(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_token()?;
    let record = orders::get(&state.pool, id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("order"))?;
    caller.require_order(id, record.order.customer_id)?;
    let view = OrderView::new(record.order, record.lines, Some(record.steps))?;
    Ok(warp::reply::json(&view).into_response())
}

async fn cancel(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    let id = edge::path_id(&id)?;
    caller.require_token()?;
    let owner = orders::owner_of(&state.pool, id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("order"))?;
    caller.require_order(id, owner)?;
    match orders::cancel(&state.pool, id)
        .await
        .map_err(ApiError::from)?
    {
        Cancelled::Now | Cancelled::Already => {}
        Cancelled::NotFound => return Err(ApiError::NotFound("order").into()),
        Cancelled::NotCancellable(status) => {
            return Err(ApiError::Conflict {
                code: "order_not_cancellable",
                message: format!("only a confirmed order can be cancelled; this one is {status}"),
            }
            .into());
        }
    }
    get(id.to_string(), caller, state).await
}
