//! The page's shared state: the cart and the known customer, both kept in
//! local storage, and counters that ask the history and the catalogue to reload.

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cart::Cart;

const CART_KEY: &str = "checkout.cart.v1";
const CUSTOMER_KEY: &str = "checkout.customer.v1";

/// The customer whose history the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownCustomer {
    pub id: String,
    pub email: String,
}

/// Shared state, provided as context.
#[derive(Clone, Copy)]
pub struct Store {
    pub cart: RwSignal<Cart>,
    pub customer: RwSignal<Option<KnownCustomer>>,
    pub history_version: RwSignal<u32>,
    pub catalogue_version: RwSignal<u32>,
}

impl Store {
    /// Loads what the browser kept, and keeps it up to date from now on.
    pub fn load() -> Self {
        let store = Self {
            cart: RwSignal::new(LocalStorage::get(CART_KEY).unwrap_or_default()),
            customer: RwSignal::new(LocalStorage::get(CUSTOMER_KEY).ok()),
            history_version: RwSignal::new(0),
            catalogue_version: RwSignal::new(0),
        };
        Effect::new(move |_| {
            let _ = LocalStorage::set(CART_KEY, store.cart.get());
        });
        Effect::new(move |_| match store.customer.get() {
            Some(customer) => {
                let _ = LocalStorage::set(CUSTOMER_KEY, customer);
            }
            None => LocalStorage::delete(CUSTOMER_KEY),
        });
        store
    }

    /// Asks the history to load again.
    pub fn refresh_history(&self) {
        self.history_version.update(|v| *v += 1);
    }

    /// Asks the catalogue to load again (stock changed).
    pub fn refresh_catalogue(&self) {
        self.catalogue_version.update(|v| *v += 1);
    }
}
