//! Where "Your orders" come from. A signed-in customer sees their account's
//! whole history, from customer-svc, with their token. A guest sees the
//! orders placed from this browser, each opened on order-svc with its own
//! token; an order whose token no longer opens it is forgotten. Both become
//! the same rows, each carrying the token that may cancel it.

use std::time::Duration;

use gloo_timers::future::sleep;
use leptos::prelude::*;

use crate::{
    api::{self, ApiError, HISTORY_PAGE, HistoryItem, Stats},
    session::Session,
    store::Store,
};

/// Waits between looks while following an order into the history: the
/// account's history learns of an order from an event, a moment later (and,
/// on a busy system, several seconds later: about half a minute in all).
pub const FOLLOW_DELAYS_MS: [u64; 10] = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 10_000];

/// One order of "Your orders".
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub item: HistoryItem,
    /// The bearer that may open and cancel the order.
    pub token: String,
}

/// Whose orders a list holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Whose {
    /// The signed-in customer's account, with its statistics.
    Account { email: String, stats: Stats },
    /// This browser's guest orders; `unavailable` could not be loaded just
    /// now (they are kept for the next time).
    Browser { unavailable: usize },
}

/// "Your orders" as last loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct YourOrders {
    /// The signed-in customer's id when loaded, `None` for a guest: rows
    /// loaded for someone else are never shown.
    pub owner: Option<String>,
    pub whose: Whose,
    pub rows: Vec<Row>,
}

/// The id of whoever's orders the page shows now (tracked).
pub fn current_owner(store: Store) -> Option<String> {
    store
        .session
        .with(|s| s.as_ref().map(|s| s.customer_id.clone()))
}

/// Loads the orders of whoever the page shows now.
pub async fn load(store: Store) -> Result<YourOrders, ApiError> {
    match store.current_session() {
        Some(session) => account(store, session).await,
        None => Ok(browser(store).await),
    }
}

async fn account(store: Store, session: Session) -> Result<YourOrders, ApiError> {
    let history = match api::history(&session.customer_id, &session.access_token).await {
        Ok(history) => history,
        Err(error) => {
            if error.is_unauthorized() {
                store.session_ended(&session.access_token);
            }
            return Err(error);
        }
    };
    let rows = history
        .items
        .into_iter()
        .map(|item| Row {
            item,
            token: session.access_token.clone(),
        })
        .collect();
    Ok(YourOrders {
        owner: Some(session.customer_id),
        whose: Whose::Account {
            email: session.email,
            stats: history.stats,
        },
        rows,
    })
}

async fn browser(store: Store) -> YourOrders {
    let tokens = store.order_tokens.get_untracked();
    let mut rows = Vec::new();
    let mut gone = Vec::new();
    let mut unavailable = 0;
    for token in tokens.into_iter().take(HISTORY_PAGE as usize) {
        match api::order(&token.order_id, &token.access_token).await {
            Ok(order) => rows.push(Row {
                item: order.to_history_item(),
                token: token.access_token,
            }),
            // The token expired, or the order is not there: nothing will
            // ever open it again from here.
            Err(error) if matches!(error.status, 401 | 403 | 404) => gone.push(token.order_id),
            Err(_) => unavailable += 1,
        }
    }
    store.forget_orders(&gone);
    YourOrders {
        owner: None,
        whose: Whose::Browser { unavailable },
        rows,
    }
}

/// Looks at the orders until `order_id` shows as `done` accepts (or a few
/// seconds passed), then asks the page to reload them.
pub async fn follow(store: Store, order_id: String, done: impl Fn(&HistoryItem) -> bool) {
    for delay_ms in FOLLOW_DELAYS_MS {
        if let Ok(orders) = load(store).await
            && orders
                .rows
                .iter()
                .any(|row| row.item.order_id == order_id && done(&row.item))
        {
            break;
        }
        sleep(Duration::from_millis(delay_ms)).await;
    }
    store.refresh_history();
}
