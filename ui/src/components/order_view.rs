//! The order view: one order with its saga's timeline in the buyer's words
//! (`timeline` has the words), opened by a checkout's answer or from a row of
//! "Your orders". While the saga still moves (pending, or credit still being
//! released) the view reads the order again until it settles; a cancellation
//! or a reload of the history reads it again too.

use std::time::Duration;

use gloo_timers::future::sleep;
use leptos::{html, prelude::*, task::spawn_local};
use wasm_bindgen::JsValue;
use web_sys::js_sys::{Date, Object, Reflect};

use crate::{
    api::{self, ApiError, Order},
    reasons, session,
    store::{OpenedOrder, Store},
    timeline::{self, Shown},
    your_orders::{self, FOLLOW_DELAYS_MS},
};

/// The order view, hidden while no order is open.
#[component]
pub fn OrderView() -> impl IntoView {
    let store = expect_context::<Store>();
    let shown = RwSignal::new(None::<Result<Order, ApiError>>);
    let moving = RwSignal::new(false);
    // Each opening (or reading again) gets a number; an older follower stops.
    let generation = StoredValue::new(0_u64);
    let panel = NodeRef::<html::Section>::new();

    Effect::new(move |_| {
        let opened = store.opened.get();
        let _reread = store.history_version.get();
        generation.update_value(|g| *g += 1);
        let Some(opened) = opened else {
            shown.set(None);
            moving.set(false);
            return;
        };
        let same_order =
            shown.with_untracked(|s| matches!(s, Some(Ok(order)) if order.id == opened.order_id));
        if !same_order {
            shown.set(opened.known.clone().map(Ok));
        }
        spawn_local(follow(
            opened,
            generation.get_value(),
            generation,
            shown,
            moving,
        ));
    });
    // Somebody else signed in or out: their orders are not this one's.
    Effect::new(move |previous: Option<Option<String>>| {
        let owner = your_orders::current_owner(store);
        if previous.is_some_and(|previous| previous != owner) {
            store.close_order();
        }
        owner
    });
    // Brought into sight when opened (from the history, further down), once
    // the page has shown it (a hidden panel cannot be scrolled to).
    Effect::new(move |_| {
        if store.opened.with(Option::is_some) {
            request_animation_frame(move || {
                if let Some(panel) = panel.get_untracked() {
                    panel.scroll_into_view();
                }
            });
        }
    });

    view! {
        <section
            id="order-view"
            class="panel order-view"
            node_ref=panel
            aria-labelledby="order-view-title"
            data-testid="order-view"
            hidden=move || store.opened.with(Option::is_none)
        >
            <div class="order-view-head">
                <h2 id="order-view-title">"Your order"</h2>
                <button
                    type="button"
                    class="link"
                    data-testid="order-view-close"
                    on:click=move |_| store.close_order()
                >
                    "Close"
                </button>
            </div>
            {move || match (store.opened.with(Option::is_some), shown.get()) {
                (false, _) => ().into_any(),
                (true, None) => {
                    view! { <p class="status" role="status">"Loading the order…"</p> }.into_any()
                }
                (true, Some(Err(error))) => {
                    view! {
                        <p class="error" role="alert">"We could not load this order: " {error.message}</p>
                    }
                        .into_any()
                }
                (true, Some(Ok(order))) => details(order, moving).into_any(),
            }}
        </section>
    }
}

/// Reads the opened order until its saga settles (or the waits run out), as
/// long as it is still the latest opening.
async fn follow(
    opened: OpenedOrder,
    mine: u64,
    generation: StoredValue<u64>,
    shown: RwSignal<Option<Result<Order, ApiError>>>,
    moving: RwSignal<bool>,
) {
    let current = move || generation.get_value() == mine;
    let waits = std::iter::once(0).chain(FOLLOW_DELAYS_MS);
    for wait_ms in waits {
        if wait_ms > 0 {
            sleep(Duration::from_millis(wait_ms)).await;
        }
        if !current() {
            return;
        }
        let read = api::order(&opened.order_id, &opened.token).await;
        if !current() {
            return;
        }
        match read {
            Ok(order) => {
                let settling = timeline::still_moving(&order.status, &order.saga);
                moving.set(settling);
                shown.set(Some(Ok(order)));
                if !settling {
                    return;
                }
            }
            // Refused or gone: reading again will not help.
            Err(error) if (400..500).contains(&error.status) => {
                moving.set(false);
                shown.set(Some(Err(error)));
                return;
            }
            // The network or the server: keep what is shown, try again.
            Err(error) => {
                if shown.with_untracked(|s| !matches!(s, Some(Ok(_)))) {
                    shown.set(Some(Err(error)));
                }
            }
        }
    }
    moving.set(false);
}

/// The order's summary and its timeline.
fn details(order: Order, moving: RwSignal<bool>) -> impl IntoView {
    let entries = timeline::lines(&order.saga, order.reason.as_deref());
    let items: u32 = order.items.iter().map(|l| l.quantity).sum();
    let summary = format!(
        "{items} item(s), {} {} · placed {}",
        order.total,
        order.currency,
        local_time(&order.created_at, None)
    );
    let explanation = (order.status == "rejected")
        .then(|| reasons::explain(order.reason.as_deref().unwrap_or_default()));
    let empty = entries.is_empty();
    let entries = entries
        .into_iter()
        .map(|shown| {
            let when = local_time(&shown.at, Some(&order.created_at));
            entry(shown, when)
        })
        .collect_view();
    view! {
        <p class="order-summary" data-testid="order-view-summary">
            <span class=format!("pill {}", order.status)>{order.status.clone()}</span>
            " "
            {summary}
        </p>
        {explanation.map(|e| view! { <p class="bad">{e}</p> })}
        <h3 class="timeline-title">"What happened"</h3>
        <ol class="timeline" data-testid="order-timeline">
            {entries}
        </ol>
        <Show when=move || empty>
            <p class="muted">"The steps of this order are no longer kept."</p>
        </Show>
        <Show when=move || moving.get()>
            <p class="status" role="status">"Still in progress… this list updates by itself."</p>
        </Show>
    }
}

/// One entry; `when` is its time as shown.
fn entry(shown: Shown, when: String) -> impl IntoView {
    let Shown { line, at } = shown;
    view! {
        <li class=format!("timeline-entry {}", line.tone.class()) data-testid="order-timeline-entry">
            <span class="what" data-testid="order-timeline-what">{line.title}</span>
            <time class="when" datetime=at>{when}</time>
            {line.note.map(|note| view! { <p class="note">{note}</p> })}
        </li>
    }
}

/// `at` in the browser's time zone, with its date unless it falls on the day
/// of `date_unless_on` (the order's placing); as sent when it cannot be read.
fn local_time(at: &str, date_unless_on: Option<&str>) -> String {
    let parse = |rfc3339: &str| {
        let date = Date::new(&JsValue::from_str(&session::to_millis(rfc3339)));
        date.get_time().is_finite().then_some(date)
    };
    let Some(date) = parse(at) else {
        return at.to_owned();
    };
    let time = String::from(date.to_locale_time_string("en-GB"));
    let same_day = date_unless_on
        .and_then(parse)
        .is_some_and(|day| day.to_date_string() == date.to_date_string());
    if same_day {
        return time;
    }
    let options = Object::new();
    for (key, value) in [("day", "numeric"), ("month", "short"), ("year", "numeric")] {
        let _ = Reflect::set(&options, &key.into(), &value.into());
    }
    let day = String::from(date.to_locale_date_string("en-GB", &options));
    format!("{day}, {time}")
}
