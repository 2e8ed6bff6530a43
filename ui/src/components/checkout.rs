//! Checkout: email and name checked as the server checks them, one
//! `Idempotency-Key` per attempt (a double click or a retry of the same
//! attempt is the same order), and the result in plain language.

use std::time::Duration;

use gloo_timers::future::sleep;
use leptos::{prelude::*, task::spawn_local};
use messaging::contract::{Email, PersonName};

use crate::{
    api::{self, ApiError, CheckoutCustomer, CheckoutItem, CheckoutRequest, Order},
    reasons,
    store::{KnownCustomer, Store},
};

/// How long the page follows an order the server answered as pending.
const PENDING_FOLLOW: Duration = Duration::from_secs(30);

/// What the last attempt came to.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Ended(Order),
    StillPending(Order),
    Failed(ApiError),
}

/// The checkout form and its result.
#[component]
pub fn Checkout() -> impl IntoView {
    let store = expect_context::<Store>();
    let email = RwSignal::new(
        store
            .customer
            .get_untracked()
            .map(|c| c.email)
            .unwrap_or_default(),
    );
    let name = RwSignal::new(String::new());
    let email_error = RwSignal::new(None::<String>);
    let name_error = RwSignal::new(None::<String>);
    let submitting = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    // The key of the attempt in flight or last failed for want of an answer,
    // with the request it was for: reused only for that very request.
    let attempt = StoredValue::new(None::<(String, CheckoutRequest)>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.get_untracked() {
            return;
        }
        let parsed_email = Email::parse(&email.get_untracked());
        let parsed_name = PersonName::parse(&name.get_untracked());
        email_error.set(parsed_email.as_ref().err().map(|e| e.0.clone()));
        name_error.set(parsed_name.as_ref().err().map(|e| e.0.clone()));
        let (Ok(parsed_email), Ok(parsed_name)) = (parsed_email, parsed_name) else {
            return;
        };
        let items: Vec<CheckoutItem> = store.cart.with_untracked(|cart| {
            cart.lines
                .iter()
                .map(|l| CheckoutItem {
                    product_id: l.product_id.clone(),
                    quantity: l.quantity,
                })
                .collect()
        });
        if items.is_empty() {
            return;
        }
        let request = CheckoutRequest {
            customer: CheckoutCustomer {
                email: parsed_email.as_str().to_owned(),
                name: parsed_name.as_str().to_owned(),
            },
            items,
        };
        let key = match attempt.get_value() {
            Some((key, previous)) if previous == request => key,
            _ => new_key(),
        };
        attempt.set_value(Some((key.clone(), request.clone())));
        submitting.set(true);
        outcome.set(None);
        spawn_local(async move {
            let result = place(&request, &key).await;
            match &result {
                Outcome::Ended(order) | Outcome::StillPending(order) => {
                    attempt.set_value(None);
                    if let Some(customer_id) = &order.customer_id {
                        store.customer.set(Some(KnownCustomer {
                            id: customer_id.clone(),
                            email: order.customer_email.clone(),
                        }));
                    }
                    if order.status == "confirmed" {
                        store.cart.set(Default::default());
                        store.refresh_catalogue();
                        follow_history(store, order.id.clone());
                    }
                }
                // No answer: the same attempt may be retried with the same key.
                Outcome::Failed(error) if error.status == 0 || error.status >= 500 => {}
                Outcome::Failed(_) => attempt.set_value(None),
            }
            outcome.set(Some(result));
            submitting.set(false);
        });
    };

    view! {
        <form class="checkout" on:submit=submit novalidate>
            <label>
                "Email"
                <input
                    type="email"
                    autocomplete="email"
                    required
                    data-testid="checkout-email"
                    prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))
                    aria-invalid=move || email_error.get().is_some().to_string()
                />
            </label>
            {move || email_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <label>
                "Name"
                <input
                    type="text"
                    autocomplete="name"
                    required
                    data-testid="checkout-name"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_error.get().is_some().to_string()
                />
            </label>
            {move || name_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <button
                type="submit"
                class="primary"
                data-testid="checkout-submit"
                disabled=move || submitting.get() || store.cart.with(|cart| cart.lines.is_empty())
            >
                {move || if submitting.get() { "Placing your order…" } else { "Place order" }}
            </button>
        </form>
        <div class="result" role="status" aria-live="polite">
            {move || outcome.get().map(render_outcome)}
        </div>
    }
}

fn render_outcome(outcome: Outcome) -> AnyView {
    match outcome {
        Outcome::Ended(order) if order.status == "confirmed" => view! {
            <p class="ok">
                "Order " <strong data-testid="order-status">{order.status.clone()}</strong>
                {format!(": {} {}. Thank you!", order.total, order.currency)}
            </p>
        }
        .into_any(),
        Outcome::Ended(order) => {
            let reason = reasons::explain(order.reason.as_deref().unwrap_or_default());
            view! {
                <p class="bad">
                    "Order " <strong data-testid="order-status">{order.status.clone()}</strong> ". " {reason}
                </p>
            }
            .into_any()
        }
        Outcome::StillPending(order) => view! {
            <p class="status">
                "Order " <strong data-testid="order-status">{order.status.clone()}</strong>
                ": we are still confirming it; it will appear in your orders."
            </p>
        }
        .into_any(),
        Outcome::Failed(error) => {
            let fields: Vec<String> = error
                .fields
                .iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect();
            view! {
                <div class="bad" role="alert">
                    <p>"The order was not placed: " {error.message.clone()}</p>
                    <ul>{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                </div>
            }
            .into_any()
        }
    }
}

/// Places the order and, if the server is still working on it, follows it
/// for a while.
async fn place(request: &CheckoutRequest, key: &str) -> Outcome {
    let order = match api::checkout(request, key).await {
        Ok(order) => order,
        Err(error) => return Outcome::Failed(error),
    };
    if order.status != "pending" {
        return Outcome::Ended(order);
    }
    let started = web_time_ms();
    let mut latest = order;
    while web_time_ms() - started < PENDING_FOLLOW.as_millis() as f64 {
        sleep(Duration::from_millis(500)).await;
        if let Ok(order) = api::order(&latest.id).await {
            latest = order;
            if latest.status != "pending" {
                return Outcome::Ended(latest);
            }
        }
    }
    Outcome::StillPending(latest)
}

/// Waits until customer-svc has the new order (it learns of it from an event,
/// a moment after the checkout answered), then reloads the history once.
fn follow_history(store: Store, order_id: String) {
    spawn_local(async move {
        for delay_ms in [100, 200, 400, 800, 1600, 3200] {
            let Some(customer) = store.customer.get_untracked() else {
                return;
            };
            if let Ok(history) = api::history(&customer.id).await
                && history.items.iter().any(|item| item.order_id == order_id)
            {
                break;
            }
            sleep(Duration::from_millis(delay_ms)).await;
        }
        store.refresh_history();
    });
}

fn web_time_ms() -> f64 {
    web_sys::js_sys::Date::now()
}

/// A fresh `Idempotency-Key`: a random UUID from the browser's crypto.
fn new_key() -> String {
    let mut bytes = [0_u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}
