//! The customer's order history and statistics, from customer-svc; look-up by
//! email on a later visit; cancelling a confirmed order.

use std::time::Duration;

use gloo_timers::future::sleep;
use leptos::{prelude::*, task::spawn_local};
use messaging::contract::Email;

use crate::{
    api::{self, HistoryItem},
    store::{KnownCustomer, Store},
};

/// The history panel.
#[component]
pub fn History() -> impl IntoView {
    let store = expect_context::<Store>();
    let history = LocalResource::new(move || {
        let customer = store.customer.get();
        let _reload = store.history_version.get();
        async move {
            match customer {
                Some(customer) => api::history(&customer.id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    // The rows of the latest answer; kept (not cleared) while a reload is in flight.
    let rows = RwSignal::new(Vec::<HistoryItem>::new());
    Effect::new(move |_| match history.get() {
        Some(Ok(Some(history))) => rows.set(history.items),
        Some(Ok(None)) | Some(Err(_)) => rows.set(Vec::new()),
        None => {}
    });
    let lookup = RwSignal::new(String::new());
    let lookup_message = RwSignal::new(None::<String>);

    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let email = match Email::parse(&lookup.get_untracked()) {
            Ok(email) => email,
            Err(error) => {
                lookup_message.set(Some(error.0));
                return;
            }
        };
        spawn_local(async move {
            match api::customer_by_email(email.as_str()).await {
                Ok(Some(customer)) => {
                    lookup_message.set(None);
                    store.customer.set(Some(KnownCustomer {
                        id: customer.id,
                        email: customer.email,
                    }));
                }
                Ok(None) => lookup_message.set(Some("No orders for that email yet.".into())),
                Err(error) => lookup_message.set(Some(error.message)),
            }
        });
    };

    view! {
        <form class="lookup" on:submit=find>
            <label>
                "Show the orders of"
                <input
                    type="email"
                    placeholder="you@example.com"
                    prop:value=move || lookup.get()
                    on:input=move |ev| lookup.set(event_target_value(&ev))
                />
            </label>
            <button type="submit">"Show"</button>
        </form>
        {move || lookup_message.get().map(|m| view! { <p class="status" role="status">{m}</p> })}
        <Transition fallback=|| view! { <p class="status" role="status">"Loading your orders…"</p> }>
            {move || {
                history
                    .get()
                    .map(|result| match result {
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    "We could not load your orders: " {error.message}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(None) => {
                            view! { <p class="status">"Your orders show here after you check out."</p> }
                                .into_any()
                        }
                        Ok(Some(history)) => {
                            let email = store.customer.get().map(|c| c.email).unwrap_or_default();
                            view! {
                                <p class="stats">
                                    {format!(
                                        "{email}: {} order(s), {} spent",
                                        history.stats.order_count,
                                        history.stats.total_spent,
                                    )}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
        // Outside the reloading part, and keyed: a reload re-renders only the
        // rows that changed, so a row's buttons stay put while the page polls.
        <ul class="history">
            <For
                each=move || rows.get()
                key=|item| (item.order_id.clone(), item.status.clone())
                let(item)
            >
                <HistoryRow item/>
            </For>
        </ul>
    }
}

/// One order of the history, cancellable while confirmed.
#[component]
fn HistoryRow(item: HistoryItem) -> impl IntoView {
    let store = expect_context::<Store>();
    let cancelling = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
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
    let cancel = move |_| {
        let order_id = order_id.clone();
        cancelling.set(true);
        spawn_local(async move {
            match api::cancel(&order_id).await {
                Ok(_) => follow_cancellation(store, order_id).await,
                Err(error) => problem.set(Some(error.message)),
            }
            cancelling.set(false);
        });
    };
    view! {
        <li class="history-row" data-testid="order-history-row">
            <span class=format!("pill {}", item.status)>{item.status.clone()}</span>
            <span>{summary}</span>
            <span class="muted">{placed}</span>
            <Show when=move || cancellable>
                <button type="button" class="link" disabled=move || cancelling.get() on:click=cancel.clone()>
                    {move || if cancelling.get() { "Cancelling…" } else { "Cancel" }}
                </button>
            </Show>
            {move || problem.get().map(|p| view! { <span class="field-error" role="alert">{p}</span> })}
        </li>
    }
}

/// Reloads the history until the cancellation shows in it.
async fn follow_cancellation(store: Store, order_id: String) {
    for delay_ms in [150, 300, 600, 1200, 2400] {
        sleep(Duration::from_millis(delay_ms)).await;
        let Some(customer) = store.customer.get_untracked() else {
            return;
        };
        if let Ok(history) = api::history(&customer.id).await
            && history
                .items
                .iter()
                .any(|i| i.order_id == order_id && i.status == "cancelled")
        {
            break;
        }
    }
    store.refresh_history();
    store.refresh_catalogue();
}
