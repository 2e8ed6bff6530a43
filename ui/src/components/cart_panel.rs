//! The cart's lines: change quantities, remove, see the total.

use leptos::prelude::*;

use crate::{cart::MAX_QUANTITY, store::Store};

/// The cart's contents.
#[component]
pub fn CartPanel() -> impl IntoView {
    let store = expect_context::<Store>();
    view! {
        <Show
            when=move || store.cart.with(|cart| !cart.lines.is_empty())
            fallback=|| view! { <p class="status">"Your cart is empty."</p> }
        >
            <ul class="cart-lines">
                <For
                    each=move || store.cart.get().lines
                    key=|line| (line.product_id.clone(), line.quantity)
                    let(line)
                >
                    {
                        let id = line.product_id.clone();
                        let remove_id = id.clone();
                        let label = format!("Quantity of {}", line.name);
                        view! {
                            <li class="cart-line">
                                <span class="name">{line.name.clone()}</span>
                                <span class="muted">{format!("{} {}", line.unit_price, line.currency)}</span>
                                <input
                                    type="number"
                                    min="1"
                                    max=MAX_QUANTITY.to_string()
                                    aria-label=label
                                    data-testid="cart-quantity"
                                    prop:value=line.quantity.to_string()
                                    on:change=move |ev| {
                                        let quantity = event_target_value(&ev).parse().unwrap_or(1);
                                        store.cart.update(|cart| cart.set_quantity(&id, quantity));
                                    }
                                />
                                <button
                                    type="button"
                                    class="link"
                                    on:click=move |_| store.cart.update(|cart| cart.remove(&remove_id))
                                >
                                    "Remove"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <p class="total">
                "Total: " {move || store.cart.with(|cart| format!("{} {}", cart.total(), cart.currency().map(|c| c.to_string()).unwrap_or_default()))}
            </p>
        </Show>
    }
}
