//! The page: the order view (when an order is open) above the catalogue,
//! beside the account, the cart, checkout and the shopper's orders.

use leptos::prelude::*;

use crate::{
    components::{
        account::Account, cart_panel::CartPanel, catalogue::Catalogue, checkout::Checkout,
        history::History, order_view::OrderView,
    },
    store::Store,
};

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let store = Store::load();
    provide_context(store);
    view! {
        <header class="top">
            <h1>"Checkout shop"</h1>
            <a href="#cart" class="cart-link">
                "Cart "
                <span class="badge" data-testid="cart-count" aria-label="items in cart">
                    {move || store.cart.with(|cart| cart.count())}
                </span>
            </a>
        </header>
        <main class="layout">
            <div class="main-column">
            <OrderView/>
            <section class="catalogue" aria-labelledby="products-title">
                <h2 id="products-title">"Products"</h2>
                <Catalogue/>
            </section>
            </div>
            <aside class="side">
                <section id="account" class="panel" aria-labelledby="account-title">
                    <h2 id="account-title">"Your account"</h2>
                    <Account/>
                </section>
                <section id="cart" class="panel" aria-labelledby="cart-title">
                    <h2 id="cart-title">"Your cart"</h2>
                    <CartPanel/>
                    <Checkout/>
                </section>
                <section class="panel" aria-labelledby="history-title">
                    <h2 id="history-title">"Your orders"</h2>
                    <History/>
                </section>
            </aside>
        </main>
    }
}
