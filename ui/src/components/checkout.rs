//! Checkout, as a guest or as the signed-in customer (their email, their
//! token): email and name checked as the server checks them, one
//! `Idempotency-Key` per attempt (a double click or a retry of the same
//! attempt is the same order), and the result in plain language. A guest's
//! order is remembered with its token, the only key to it.

use std::time::Duration;

use contract::{Email, PersonName};
use gloo_timers::future::sleep;
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{self, ApiError, CheckoutCustomer, CheckoutItem, CheckoutRequest, Order},
    reasons,
    session::OrderToken,
    store::{OpenedOrder, Store, now_ms},
    your_orders,
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

/// One attempt: the request, and the session token it is sent with (none for
/// a guest).
#[derive(Debug, Clone, PartialEq)]
struct Attempt {
    request: CheckoutRequest,
    token: Option<String>,
}

/// The checkout form and its result.
#[component]
pub fn Checkout() -> impl IntoView {
    let store = expect_context::<Store>();
    let signed_in_email = move || store.session.with(|s| s.as_ref().map(|s| s.email.clone()));
    // What a guest typed; kept aside while someone is signed in.
    let guest_email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    // A customer who signs in gets their own name, unless one is typed already.
    Effect::new(move |_| {
        let session_name = store.session.with(|s| s.as_ref().map(|s| s.name.clone()));
        if let Some(session_name) = session_name
            && name.get_untracked().trim().is_empty()
        {
            name.set(session_name);
        }
    });
    let email_error = RwSignal::new(None::<String>);
    let name_error = RwSignal::new(None::<String>);
    let submitting = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    // The key of the attempt in flight or last failed for want of an answer,
    // with the attempt it was for: reused only for that very attempt.
    let last_attempt = StoredValue::new(None::<(String, Attempt)>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.get_untracked() {
            return;
        }
        let had_session = store.session.with_untracked(Option::is_some);
        let session = store.current_session();
        if had_session && session.is_none() {
            // Not silently a guest order instead: the shopper decides.
            email_error.set(Some(
                "your session has ended: sign in again, or check out as a guest".into(),
            ));
            return;
        }
        let raw_email = session
            .as_ref()
            .map(|s| s.email.clone())
            .unwrap_or_else(|| guest_email.get_untracked());
        let parsed_email = Email::parse(&raw_email);
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
        let attempt = Attempt {
            request: CheckoutRequest {
                customer: CheckoutCustomer {
                    email: parsed_email.as_str().to_owned(),
                    name: parsed_name.as_str().to_owned(),
                },
                items,
            },
            token: session.map(|s| s.access_token),
        };
        let key = match last_attempt.get_value() {
            Some((key, previous)) if previous == attempt => key,
            _ => new_key(),
        };
        last_attempt.set_value(Some((key.clone(), attempt.clone())));
        submitting.set(true);
        outcome.set(None);
        spawn_local(async move {
            let result = place(store, &attempt, &key).await;
            match &result {
                Outcome::Ended(order) | Outcome::StillPending(order) => {
                    last_attempt.set_value(None);
                    if order.status == "confirmed" {
                        store.cart.set(Default::default());
                        store.refresh_catalogue();
                    }
                    if order.status != "rejected" {
                        let order_id = order.id.clone();
                        spawn_local(your_orders::follow(store, order_id, |_| true));
                    }
                }
                // No answer: the same attempt may be retried with the same key.
                Outcome::Failed(error) if error.status == 0 || error.status >= 500 => {}
                Outcome::Failed(error) => {
                    last_attempt.set_value(None);
                    if let (true, Some(token)) = (error.is_unauthorized(), &attempt.token) {
                        store.session_ended(token);
                    }
                }
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
                    prop:value=move || signed_in_email().unwrap_or_else(|| guest_email.get())
                    readonly=move || signed_in_email().is_some()
                    on:input=move |ev| {
                        if signed_in_email().is_none() {
                            guest_email.set(event_target_value(&ev));
                        }
                    }
                    aria-invalid=move || email_error.get().is_some().to_string()
                />
            </label>
            <Show when=move || signed_in_email().is_some()>
                <p class="muted">"You order with your account. Sign out to order as a guest."</p>
            </Show>
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
                    "Order " <strong data-testid="order-status">{order.status.clone()}</strong> ". "
                    <span data-testid="order-reason">{reason}</span>
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
            let message = if error.is_unauthorized() {
                "your session has ended. Sign in again, or check out as a guest.".to_owned()
            } else {
                error.message.clone()
            };
            let fields: Vec<String> = error
                .fields
                .iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect();
            view! {
                <div class="bad" role="alert">
                    <p>"The order was not placed: " {message}</p>
                    <ul>{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                </div>
            }
            .into_any()
        }
    }
}

/// Places the order; remembers a guest's order with its token; opens it in
/// the order view (its timeline); and, if the server is still working on it,
/// follows it for a while.
async fn place(store: Store, attempt: &Attempt, key: &str) -> Outcome {
    let placed = match api::checkout(&attempt.request, key, attempt.token.as_deref()).await {
        Ok(placed) => placed,
        Err(error) => return Outcome::Failed(error),
    };
    let order = placed.order;
    // A guest's rejected order is not theirs to see again: the answer said why.
    if let (None, Some(order_token), false) = (
        &attempt.token,
        &placed.access_token,
        order.status == "rejected",
    ) {
        store.remember_order(OrderToken {
            order_id: order.id.clone(),
            access_token: order_token.clone(),
        });
    }
    let Some(token) = placed.access_token.or_else(|| attempt.token.clone()) else {
        return if order.status == "pending" {
            Outcome::StillPending(order)
        } else {
            Outcome::Ended(order)
        };
    };
    store.open_order(OpenedOrder {
        order_id: order.id.clone(),
        token: token.clone(),
        known: Some(order.clone()),
    });
    if order.status != "pending" {
        return Outcome::Ended(order);
    }
    let started = now_ms();
    let mut latest = order;
    while now_ms() - started < PENDING_FOLLOW.as_millis() as f64 {
        sleep(Duration::from_millis(500)).await;
        if let Ok(order) = api::order(&latest.id, &token).await {
            latest = order;
            if latest.status != "pending" {
                return Outcome::Ended(latest);
            }
        }
    }
    Outcome::StillPending(latest)
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
