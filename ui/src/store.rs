//! The page's shared state: the cart, the session and the guest's order
//! tokens, all kept in local storage; the order the order view shows; and
//! counters that ask the history and the catalogue to reload.

use std::time::Duration;

use gloo_storage::{LocalStorage, Storage};
use gloo_timers::future::sleep;
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::Order,
    cart::Cart,
    session::{self, OrderToken, Session},
};

const CART_KEY: &str = "checkout.cart.v1";
const SESSION_KEY: &str = "checkout.session.v1";
const ORDER_TOKENS_KEY: &str = "checkout.order-tokens.v1";
/// Where earlier versions kept the customer found by email; that look-up is
/// gone, and so is what it left behind.
const LEGACY_CUSTOMER_KEY: &str = "checkout.customer.v1";
/// The longest single wait for a session's end: browsers fire longer
/// timeouts at once.
const LONGEST_WAIT: Duration = Duration::from_secs(6 * 60 * 60);

/// The order the order view shows: its id, the token that opens it, and
/// what is known of it already (a checkout's answer), shown until it is read
/// again.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedOrder {
    pub order_id: String,
    pub token: String,
    pub known: Option<Order>,
}

/// Shared state, provided as context.
#[derive(Clone, Copy)]
pub struct Store {
    pub cart: RwSignal<Cart>,
    /// The signed-in customer, if any (never an expired session).
    pub session: RwSignal<Option<Session>>,
    /// The orders placed from this browser as a guest, newest first.
    pub order_tokens: RwSignal<Vec<OrderToken>>,
    /// Why signing up or in failed, or why the session ended early.
    pub auth_error: RwSignal<Option<String>>,
    pub history_version: RwSignal<u32>,
    pub catalogue_version: RwSignal<u32>,
    /// The order shown with its timeline, if any.
    pub opened: RwSignal<Option<OpenedOrder>>,
}

impl Store {
    /// Loads what the browser kept, and keeps it up to date from now on.
    pub fn load() -> Self {
        LocalStorage::delete(LEGACY_CUSTOMER_KEY);
        let session = LocalStorage::get::<Session>(SESSION_KEY)
            .ok()
            .filter(|s| !s.is_expired_at(now_ms()));
        let store = Self {
            cart: RwSignal::new(LocalStorage::get(CART_KEY).unwrap_or_default()),
            session: RwSignal::new(session),
            order_tokens: RwSignal::new(LocalStorage::get(ORDER_TOKENS_KEY).unwrap_or_default()),
            auth_error: RwSignal::new(None),
            history_version: RwSignal::new(0),
            catalogue_version: RwSignal::new(0),
            opened: RwSignal::new(None),
        };
        Effect::new(move |_| {
            let _ = LocalStorage::set(CART_KEY, store.cart.get());
        });
        Effect::new(move |_| {
            let _ = LocalStorage::set(ORDER_TOKENS_KEY, store.order_tokens.get());
        });
        Effect::new(move |_| match store.session.get() {
            Some(session) => {
                let _ = LocalStorage::set(SESSION_KEY, &session);
                spawn_local(sign_out_when_expired(store, session));
            }
            None => LocalStorage::delete(SESSION_KEY),
        });
        store
    }

    /// The session to send, if there is one still valid; an expired one is
    /// ended here.
    pub fn current_session(&self) -> Option<Session> {
        let session = self.session.get_untracked()?;
        if session.is_expired_at(now_ms()) {
            self.session_ended(&session.access_token);
            return None;
        }
        Some(session)
    }

    /// Forgets the session.
    pub fn sign_out(&self) {
        self.session.set(None);
    }

    /// The session of `token` ended (it expired, or a service refused it):
    /// signs out, and says so, unless another session replaced it meanwhile.
    pub fn session_ended(&self, token: &str) {
        let current = self
            .session
            .with_untracked(|s| s.as_ref().is_some_and(|s| s.access_token == token));
        if current {
            self.sign_out();
            self.auth_error
                .set(Some("Your session has ended. Please sign in again.".into()));
        }
    }

    /// Remembers an order placed here as a guest.
    pub fn remember_order(&self, token: OrderToken) {
        self.order_tokens
            .update(|tokens| *tokens = session::remembered(std::mem::take(tokens), token));
    }

    /// Forgets orders whose tokens no longer open them.
    pub fn forget_orders(&self, order_ids: &[String]) {
        if order_ids.is_empty() {
            return;
        }
        self.order_tokens
            .update(|tokens| tokens.retain(|t| !order_ids.contains(&t.order_id)));
    }

    /// Asks the history to load again.
    pub fn refresh_history(&self) {
        self.history_version.update(|v| *v += 1);
    }

    /// Shows `order` in the order view.
    pub fn open_order(&self, order: OpenedOrder) {
        self.opened.set(Some(order));
    }

    /// Closes the order view.
    pub fn close_order(&self) {
        self.opened.set(None);
    }

    /// Asks the catalogue to load again (stock changed).
    pub fn refresh_catalogue(&self) {
        self.catalogue_version.update(|v| *v += 1);
    }
}

/// Signs out when `session` expires, unless another session (or none)
/// replaced it before.
async fn sign_out_when_expired(store: Store, session: Session) {
    loop {
        let still_current = store.session.with_untracked(|s| {
            s.as_ref()
                .is_some_and(|s| s.access_token == session.access_token)
        });
        if !still_current {
            return;
        }
        let Some(expires_ms) = session
            .expires_at_ms()
            .filter(|_| !session.is_expired_at(now_ms()))
        else {
            store.session_ended(&session.access_token);
            return;
        };
        let remaining = Duration::from_millis((expires_ms - now_ms()).max(0.0) as u64);
        sleep(remaining.min(LONGEST_WAIT)).await;
    }
}

/// The browser's clock, in milliseconds since the epoch.
pub fn now_ms() -> f64 {
    web_sys::js_sys::Date::now()
}
