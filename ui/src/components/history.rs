//! "Your orders": the signed-in customer's history with its statistics, or
//! the orders placed from this browser as a guest (see `your_orders`);
//! opening an order (its timeline shows in the order view); cancelling a
//! confirmed order.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    store::{OpenedOrder, Store},
    your_orders::{self, Row, Whose, YourOrders},
};

/// The history panel.
#[component]
pub fn History() -> impl IntoView {
    let store = expect_context::<Store>();
    let orders = LocalResource::new(move || {
        let _whose = your_orders::current_owner(store);
        let _reload = store.history_version.get();
        async move { your_orders::load(store).await }
    });
    // The latest answer; kept (not cleared) while a reload is in flight, but
    // shown only while it is still the orders of whoever the page is for.
    let loaded = RwSignal::new(None::<YourOrders>);
    Effect::new(move |_| match orders.get() {
        Some(Ok(orders)) => loaded.set(Some(orders)),
        Some(Err(_)) => loaded.set(None),
        None => {}
    });
    let shown = Memo::new(move |_| {
        let owner = your_orders::current_owner(store);
        loaded.get().filter(|orders| orders.owner == owner)
    });

    view! {
        {move || match (orders.get(), shown.get()) {
            (Some(Err(error)), _) => {
                view! {
                    <p class="error" role="alert">
                        "We could not load your orders: " {error.message}
                    </p>
                }
                    .into_any()
            }
            (_, Some(orders)) => summary(orders).into_any(),
            (_, None) => {
                view! { <p class="status" role="status">"Loading your orders…"</p> }.into_any()
            }
        }}
        // Apart from the summary, and keyed: a reload re-renders only the
        // rows that changed, so a row's buttons stay put while the page polls.
        <ul class="history">
            <For
                each=move || shown.get().map(|orders| orders.rows).unwrap_or_default()
                key=|row| (row.item.order_id.clone(), row.item.status.clone())
                let(row)
            >
                <HistoryRow row/>
            </For>
        </ul>
    }
}

/// The line above the rows: whose orders they are.
fn summary(orders: YourOrders) -> impl IntoView {
    let text = match orders.whose {
        Whose::Account { email, stats } => format!(
            "{email}: {} order(s), {} spent",
            stats.order_count, stats.total_spent
        ),
        Whose::Browser { unavailable: 0 } if orders.rows.is_empty() => {
            "Your orders show here after you check out.".to_owned()
        }
        Whose::Browser { unavailable: 0 } => "Orders placed from this browser.".to_owned(),
        Whose::Browser { unavailable } => {
            format!("Orders placed from this browser ({unavailable} could not be loaded just now).")
        }
    };
    view! { <p class="stats">{text}</p> }
}

/// One order of the history: opens in the order view, cancellable while
/// confirmed.
#[component]
fn HistoryRow(row: Row) -> impl IntoView {
    let store = expect_context::<Store>();
    let cancelling = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let Row { item, token } = row;
    let order_id = item.order_id.clone();
    let cancellable = item.status == "confirmed";
    let placed = item
        .placed_at
        .get(..16)
        .unwrap_or(&item.placed_at)
        .replace('T', " ");
    let summary = format!(
        "{} item(s), {} {}",
        item.item_count, item.total, item.currency
    );
    let open = {
        let (order_id, token) = (order_id.clone(), token.clone());
        move |_| {
            store.open_order(OpenedOrder {
                order_id: order_id.clone(),
                token: token.clone(),
                known: None,
            })
        }
    };
    let is_open = {
        let order_id = order_id.clone();
        Memo::new(move |_| {
            store
                .opened
                .with(|o| o.as_ref().is_some_and(|o| o.order_id == order_id))
        })
    };
    let cancel = move |_| {
        let (order_id, token) = (order_id.clone(), token.clone());
        cancelling.set(true);
        spawn_local(async move {
            match api::cancel(&order_id, &token).await {
                Ok(_) => {
                    your_orders::follow(store, order_id, |item| item.status == "cancelled").await;
                    store.refresh_catalogue();
                }
                // The token no longer opens the order: reloading forgets it
                // (or signs out).
                Err(error) if error.is_unauthorized() => store.refresh_history(),
                Err(error) => problem.set(Some(error.message)),
            }
            cancelling.set(false);
        });
    };
    view! {
        <li class="history-row" class:open=is_open data-testid="order-history-row">
            <button
                type="button"
                class="row-open"
                title="See what happened to this order"
                aria-pressed=move || is_open.get().to_string()
                data-testid="order-history-open"
                on:click=open
            >
                <span class=format!("pill {}", item.status)>{item.status.clone()}</span>
                <span>{summary}</span>
                <span class="muted">{placed}</span>
            </button>
            <Show when=move || cancellable>
                <button
                    type="button"
                    class="link"
                    data-testid="order-cancel"
                    disabled=move || cancelling.get()
                    on:click=cancel.clone()
                >
                    {move || if cancelling.get() { "Cancelling…" } else { "Cancel" }}
                </button>
            </Show>
            {move || problem.get().map(|p| view! { <span class="field-error" role="alert">{p}</span> })}
        </li>
    }
}
