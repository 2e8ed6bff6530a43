//! What order-svc does for its callers, free of HTTP: place a checkout and
//! wait for its saga ([`Checkout`]), read and cancel orders ([`Orders`]),
//! read and change the catalogue ([`Catalogue`]), list and repair stuck
//! sagas ([`Repair`]). A handler in
//! `crate::http` parses a request into these typed inputs, calls one use
//! case, and renders what it returns; each use case has an error type of its
//! own, which `crate::http::errors` turns into the API's error shape.
//! Who may call which (the admin, an order's token) is the handler's to
//! check, with `edge::auth`.

mod cancel;
mod catalogue;
mod checkout;
mod orders;
mod repair;

use edge::tokens::AccessTokens;
use sqlx::PgPool;

use crate::{config::Config, saga::Coordinator};

pub use cancel::CancelError;
pub use catalogue::{Catalogue, CatalogueError};
pub use checkout::{Checkout, CheckoutError, Placed};
pub use orders::{OrderLookupError, Orders};
pub use repair::{Repair, RepairError};

/// Every use case, ready to call. Cheap to clone.
#[derive(Clone)]
pub struct UseCases {
    /// Placing checkouts.
    pub checkout: Checkout,
    /// Reading and cancelling orders.
    pub orders: Orders,
    /// Reading and changing the catalogue.
    pub catalogue: Catalogue,
    /// Listing and repairing stuck sagas.
    pub repair: Repair,
}

impl UseCases {
    /// The use cases over `pool`, driving sagas with `coordinator`, as
    /// `config` says (how long a checkout waits for its saga, the shop's
    /// currency), signing orders' tokens with `tokens`.
    pub fn new(
        pool: PgPool,
        coordinator: Coordinator,
        tokens: AccessTokens,
        config: &Config,
    ) -> Self {
        Self {
            checkout: Checkout::new(
                pool.clone(),
                coordinator.clone(),
                tokens,
                config.checkout_wait,
            ),
            repair: Repair::new(pool.clone(), coordinator, config.saga_stuck_after),
            orders: Orders::new(pool.clone()),
            catalogue: Catalogue::new(pool, config.service.shop_currency.clone()),
        }
    }
}
