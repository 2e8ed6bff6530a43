//! The shopper's account: sign up (and be signed in at once), sign in, sign
//! out, and who is signed in. Email, name and password are checked as
//! customer-svc checks them before anything is sent; the session goes to the
//! store, which keeps it in local storage.

use contract::{Email, PersonName};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{self, ApiError},
    session::{Session, password_problem},
    store::Store,
};

/// The account panel: the forms while signed out, who is signed in after.
#[component]
pub fn Account() -> impl IntoView {
    let store = expect_context::<Store>();
    view! {
        <Show
            when=move || store.session.with(Option::is_some)
            fallback=|| view! { <SignIn/> <SignUp/> }
        >
            <SignedIn/>
        </Show>
        {move || {
            store
                .auth_error
                .get()
                .map(|e| view! { <p class="error" role="alert" data-testid="auth-error">{e}</p> })
        }}
    }
}

/// Who is signed in, and the way out.
#[component]
fn SignedIn() -> impl IntoView {
    let store = expect_context::<Store>();
    let email = move || store.session.with(|s| s.as_ref().map(|s| s.email.clone()));
    view! {
        <div class="signed-in">
            <p>"Signed in as " <strong data-testid="signed-in-as">{email}</strong></p>
            <button
                type="button"
                data-testid="signout"
                on:click=move |_| {
                    store.auth_error.set(None);
                    store.sign_out();
                }
            >
                "Sign out"
            </button>
        </div>
    }
}

/// Signing in with email and password.
#[component]
fn SignIn() -> impl IntoView {
    let store = expect_context::<Store>();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let submitting = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.get_untracked() {
            return;
        }
        let parsed_email = Email::parse(&email.get_untracked());
        let typed_password = password.get_untracked();
        email_error.set(parsed_email.as_ref().err().map(|e| e.0.clone()));
        password_error.set(
            typed_password
                .is_empty()
                .then(|| "enter your password".to_owned()),
        );
        let (Ok(parsed_email), false) = (parsed_email, typed_password.is_empty()) else {
            return;
        };
        store.auth_error.set(None);
        submitting.set(true);
        spawn_local(async move {
            match open_session(&parsed_email, &typed_password).await {
                Ok(session) => {
                    password.set(String::new());
                    store.session.set(Some(session));
                }
                Err(error) => store.auth_error.set(Some(explain(&error))),
            }
            submitting.set(false);
        });
    };

    view! {
        <form class="account" on:submit=submit novalidate aria-labelledby="signin-title">
            <h3 id="signin-title">"Sign in"</h3>
            <label>
                "Email"
                <input
                    type="email"
                    autocomplete="username"
                    required
                    data-testid="signin-email"
                    prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))
                    aria-invalid=move || email_error.get().is_some().to_string()
                />
            </label>
            <FieldError error=email_error/>
            <label>
                "Password"
                <input
                    type="password"
                    autocomplete="current-password"
                    required
                    data-testid="signin-password"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                    aria-invalid=move || password_error.get().is_some().to_string()
                />
            </label>
            <FieldError error=password_error/>
            <button type="submit" data-testid="signin-submit" disabled=move || submitting.get()>
                {move || if submitting.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}

/// Creating an account, then signing in with it.
#[component]
fn SignUp() -> impl IntoView {
    let store = expect_context::<Store>();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email_error = RwSignal::new(None::<String>);
    let name_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let submitting = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if submitting.get_untracked() {
            return;
        }
        let parsed_email = Email::parse(&email.get_untracked());
        let parsed_name = PersonName::parse(&name.get_untracked());
        let typed_password = password.get_untracked();
        let problem = password_problem(&typed_password);
        email_error.set(parsed_email.as_ref().err().map(|e| e.0.clone()));
        name_error.set(parsed_name.as_ref().err().map(|e| e.0.clone()));
        password_error.set(problem.clone());
        let (Ok(parsed_email), Ok(parsed_name), None) = (parsed_email, parsed_name, problem) else {
            return;
        };
        store.auth_error.set(None);
        submitting.set(true);
        spawn_local(async move {
            let created =
                api::sign_up(parsed_email.as_str(), parsed_name.as_str(), &typed_password).await;
            match created {
                Ok(_) => match open_session(&parsed_email, &typed_password).await {
                    Ok(session) => {
                        password.set(String::new());
                        store.session.set(Some(session));
                    }
                    Err(error) => store.auth_error.set(Some(format!(
                        "Your account is ready, but signing in failed: {} Please sign in.",
                        explain(&error)
                    ))),
                },
                Err(error) => store.auth_error.set(Some(explain(&error))),
            }
            submitting.set(false);
        });
    };

    view! {
        <form class="account" on:submit=submit novalidate aria-labelledby="signup-title">
            <h3 id="signup-title">"New here? Create an account"</h3>
            <label>
                "Email"
                <input
                    type="email"
                    autocomplete="email"
                    required
                    data-testid="signup-email"
                    prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))
                    aria-invalid=move || email_error.get().is_some().to_string()
                />
            </label>
            <FieldError error=email_error/>
            <label>
                "Name"
                <input
                    type="text"
                    autocomplete="name"
                    required
                    data-testid="signup-name"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_error.get().is_some().to_string()
                />
            </label>
            <FieldError error=name_error/>
            <label>
                "Password (at least 12 characters)"
                <input
                    type="password"
                    autocomplete="new-password"
                    required
                    minlength="12"
                    data-testid="signup-password"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                    aria-invalid=move || password_error.get().is_some().to_string()
                />
            </label>
            <FieldError error=password_error/>
            <button type="submit" data-testid="signup-submit" disabled=move || submitting.get()>
                {move || if submitting.get() { "Creating your account…" } else { "Create account" }}
            </button>
        </form>
    }
}

/// A field's problem, under it.
#[component]
fn FieldError(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="field-error" role="alert">{e}</p> })
    }
}

/// Signs in, and asks customer-svc who that is (for the name the checkout
/// starts with); a failure of that second question only costs the name.
async fn open_session(email: &Email, password: &str) -> Result<Session, ApiError> {
    let grant = api::sign_in(email.as_str(), password).await?;
    let customer = api::customer(&grant.customer_id, &grant.access_token)
        .await
        .ok();
    Ok(Session {
        email: customer
            .as_ref()
            .map_or_else(|| email.as_str().to_owned(), |c| c.email.clone()),
        name: customer.map(|c| c.name).unwrap_or_default(),
        access_token: grant.access_token,
        customer_id: grant.customer_id,
        expires_at: grant.expires_at,
    })
}

/// A failed sign-up or sign-in, in words.
fn explain(error: &ApiError) -> String {
    match (error.status, error.code.as_str()) {
        (401, _) => "That email and password do not match an account.".to_owned(),
        (429, _) => match error.retry_after_secs {
            Some(secs) => format!("Too many attempts. Please try again in {secs} seconds."),
            None => "Too many attempts. Please wait a minute and try again.".to_owned(),
        },
        (_, "email_taken") => {
            "An account with this email already exists. Sign in instead.".to_owned()
        }
        (422, _) if !error.fields.is_empty() => {
            let fields: Vec<String> = error
                .fields
                .iter()
                .map(|(field, why)| format!("{field}: {why}"))
                .collect();
            format!("{} ({})", error.message, fields.join("; "))
        }
        _ => error.message.clone(),
    }
}
